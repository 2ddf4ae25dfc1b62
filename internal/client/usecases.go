package client

import (
	"time"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/api"
	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/policy"
	"github.com/deskctl/deskctl/internal/store"
)

// The compiler keeps this list complete: a use case added to app.UseCases
// and missing here fails the build.
var _ app.UseCases = (*Client)(nil)

func (c *Client) AddUser(in app.UserInput) (app.UserView, error) {
	return call1[app.UserView](c, "AddUser", in)
}
func (c *Client) UpdateUser(in app.UserInput) (app.UserView, error) {
	return call1[app.UserView](c, "UpdateUser", in)
}
func (c *Client) SetUserActive(login string, active bool) (app.UserView, error) {
	return call1[app.UserView](c, "SetUserActive", login, active)
}
func (c *Client) RemoveUser(login string) error      { return call0(c, "RemoveUser", login) }
func (c *Client) ListUsers() ([]app.UserView, error) { return call1[[]app.UserView](c, "ListUsers") }
func (c *Client) ShowUser(login string) (app.UserDetail, error) {
	return call1[app.UserDetail](c, "ShowUser", login)
}
func (c *Client) AddGroup(name, description string) (app.GroupView, error) {
	return call1[app.GroupView](c, "AddGroup", name, description)
}
func (c *Client) RemoveGroup(name string) error { return call0(c, "RemoveGroup", name) }
func (c *Client) SetGroupMember(group, member string, add bool) (app.GroupView, error) {
	return call1[app.GroupView](c, "SetGroupMember", group, member, add)
}
func (c *Client) ListGroups() ([]app.GroupView, error) {
	return call1[[]app.GroupView](c, "ListGroups")
}
func (c *Client) ShowGroup(name string) (app.GroupDetail, error) {
	return call1[app.GroupDetail](c, "ShowGroup", name)
}
func (c *Client) AddResource(name, parent, description string) (app.ResourceView, error) {
	return call1[app.ResourceView](c, "AddResource", name, parent, description)
}
func (c *Client) RemoveResource(name string) error { return call0(c, "RemoveResource", name) }
func (c *Client) SetResourceMember(resource, login string, acc helpdesk.Access, add bool) (app.ResourceView, error) {
	return call1[app.ResourceView](c, "SetResourceMember", resource, login, acc, add)
}
func (c *Client) ListResources() ([]app.ResourceView, error) {
	return call1[[]app.ResourceView](c, "ListResources")
}
func (c *Client) ShowResource(name string) (app.ResourceDetail, error) {
	return call1[app.ResourceDetail](c, "ShowResource", name)
}
func (c *Client) ShowResourceApproval(resource string) (app.ResourceApprovalView, error) {
	return call1[app.ResourceApprovalView](c, "ShowResourceApproval", resource)
}
func (c *Client) SetResourceApproval(resource string, tpl helpdesk.ApprovalTemplate) (app.ResourceApprovalView, error) {
	return call1[app.ResourceApprovalView](c, "SetResourceApproval", resource, tpl)
}
func (c *Client) ClearResourceApproval(resource string) (app.ResourceApprovalView, error) {
	return call1[app.ResourceApprovalView](c, "ClearResourceApproval", resource)
}

func (c *Client) Grant(subject string, rights []string) (app.GrantResult, error) {
	return call1[app.GrantResult](c, "Grant", subject, rights)
}
func (c *Client) Revoke(subject string, rights []string) (app.GrantResult, error) {
	return call1[app.GrantResult](c, "Revoke", subject, rights)
}
func (c *Client) Explain(in app.ExplainInput) (app.ExplainResult, error) {
	return call1[app.ExplainResult](c, "Explain", in)
}
func (c *Client) Can(login, right string, ticket int) (access.Check, error) {
	return call1[access.Check](c, "Can", login, right, ticket)
}
func (c *Client) WhoCan(right string, ticket int) ([]access.Holder, error) {
	return call1[[]access.Holder](c, "WhoCan", right, ticket)
}
func (c *Client) Matrix(users, rights []string) (access.Matrix, error) {
	return call1[access.Matrix](c, "Matrix", users, rights)
}
func (c *Client) Diff(a, b string) (access.DiffResult, error) {
	return call1[access.DiffResult](c, "Diff", a, b)
}
func (c *Client) ListRights() ([]helpdesk.Right, error) {
	return call1[[]helpdesk.Right](c, "ListRights")
}
func (c *Client) ShowRight(name string) (helpdesk.Right, []string, error) {
	return call2[helpdesk.Right, []string](c, "ShowRight", name)
}
func (c *Client) PutAction(r helpdesk.Right, create bool) (helpdesk.Right, error) {
	return call1[helpdesk.Right](c, "PutAction", r, create)
}
func (c *Client) RemoveAction(name string) error { return call0(c, "RemoveAction", name) }

func (c *Client) CreateTicket(in app.CreateTicketInput) (app.TicketView, error) {
	return call1[app.TicketView](c, "CreateTicket", in)
}
func (c *Client) ListTickets(q app.TicketQuery) ([]app.TicketView, error) {
	return call1[[]app.TicketView](c, "ListTickets", q)
}
func (c *Client) ShowTicket(n int) (app.TicketDetail, error) {
	return call1[app.TicketDetail](c, "ShowTicket", n)
}
func (c *Client) TicketLog(n int) ([]app.EntryView, error) {
	return call1[[]app.EntryView](c, "TicketLog", n)
}
func (c *Client) DoAction(reqs ...app.ActionRequest) (app.ActionResult, error) {
	return call1[app.ActionResult](c, "DoAction", reqs)
}

// ImportTickets sends the file's contents: the server never opens a path.
// Progress is not reported remotely.
func (c *Client) ImportTickets(file app.File, format string, batchSize int, _ func(status string)) (app.ImportResult, error) {
	f, err := file.Load(api.MaxFile)
	if err != nil {
		return app.ImportResult{}, err
	}
	return call1[app.ImportResult](c, "ImportTickets", f, format, batchSize, nil)
}

func (c *Client) RequestApproval(ticket int, approver, note string) (app.ApprovalView, app.Delivery, error) {
	return call2[app.ApprovalView, app.Delivery](c, "RequestApproval", ticket, approver, note)
}
func (c *Client) RequestApprovals(ticket int, stages []helpdesk.StageSpec, note string) (app.ApprovalView, app.Delivery, error) {
	return call2[app.ApprovalView, app.Delivery](c, "RequestApprovals", ticket, stages, note)
}
func (c *Client) RequestApprovalWith(in app.ApprovalRequestInput) (app.ApprovalView, app.Delivery, error) {
	return call2[app.ApprovalView, app.Delivery](c, "RequestApprovalWith", in)
}
func (c *Client) SweepApprovals() (app.SweepResult, app.Delivery, error) {
	return call2[app.SweepResult, app.Delivery](c, "SweepApprovals")
}
func (c *Client) CancelApproval(ticket int) (app.ApprovalView, app.Delivery, error) {
	return call2[app.ApprovalView, app.Delivery](c, "CancelApproval", ticket)
}
func (c *Client) RemindApproval(ticket int) (app.ApprovalView, app.Delivery, error) {
	return call2[app.ApprovalView, app.Delivery](c, "RemindApproval", ticket)
}
func (c *Client) Decide(ticket int, approve bool, comment string) (app.ApprovalView, app.Delivery, error) {
	return call2[app.ApprovalView, app.Delivery](c, "Decide", ticket, approve, comment)
}
func (c *Client) DecideByToken(token string, approve bool, comment string) (app.ApprovalView, app.Delivery, error) {
	return call2[app.ApprovalView, app.Delivery](c, "DecideByToken", token, approve, comment)
}
func (c *Client) ShowApproval(ticket int) (app.ApprovalView, error) {
	return call1[app.ApprovalView](c, "ShowApproval", ticket)
}
func (c *Client) ListApprovals(q app.ApprovalQuery) ([]app.ApprovalView, error) {
	return call1[[]app.ApprovalView](c, "ListApprovals", q)
}
func (c *Client) SetDelegation(in app.DelegationInput) (app.DelegationView, error) {
	return call1[app.DelegationView](c, "SetDelegation", in)
}
func (c *Client) ClearDelegation(login string) (app.DelegationView, error) {
	return call1[app.DelegationView](c, "ClearDelegation", login)
}
func (c *Client) ListDelegations() ([]app.DelegationView, error) {
	return call1[[]app.DelegationView](c, "ListDelegations")
}

func (c *Client) ExportPolicy(format string) ([]byte, error) {
	return call1[[]byte](c, "ExportPolicy", format)
}
func (c *Client) PlanPolicy(src app.PolicySource, prune bool) (app.Plan, []policy.Finding, error) {
	return call2[app.Plan, []policy.Finding](c, "PlanPolicy", src, prune)
}

// ApplyPolicy applies on the server; progress is not reported remotely.
func (c *Client) ApplyPolicy(src app.PolicySource, prune, dryRun bool, confirmed []app.Change, _ func(status string)) (app.Plan, []policy.Finding, error) {
	return call2[app.Plan, []policy.Finding](c, "ApplyPolicy", src, prune, dryRun, confirmed, nil)
}

func (c *Client) ListSettings() ([]app.SettingView, error) {
	return call1[[]app.SettingView](c, "ListSettings")
}
func (c *Client) GetSetting(key string) (app.SettingView, error) {
	return call1[app.SettingView](c, "GetSetting", key)
}
func (c *Client) SetSetting(key, value string) (app.SettingView, error) {
	return call1[app.SettingView](c, "SetSetting", key, value)
}
func (c *Client) MailQueue(all bool) ([]app.MailView, error) {
	return call1[[]app.MailView](c, "MailQueue", all)
}
func (c *Client) FlushMail(force bool) (app.FlushResult, error) {
	return call1[app.FlushResult](c, "FlushMail", force)
}
func (c *Client) TestMail(to string) error { return call0(c, "TestMail", to) }
func (c *Client) AuditLog(q app.AuditQuery) ([]app.AuditEntry, error) {
	return call1[[]app.AuditEntry](c, "AuditLog", q)
}
func (c *Client) VerifyAudit(anchors ...string) (app.AuditVerification, error) {
	return call1[app.AuditVerification](c, "VerifyAudit", anchors)
}
func (c *Client) CheckDB() (app.CheckResult, error) { return call1[app.CheckResult](c, "CheckDB") }
func (c *Client) StatsDB() (store.Stats, error)     { return call1[store.Stats](c, "StatsDB") }
func (c *Client) WhoAmI() (app.AuthStatus, error)   { return call1[app.AuthStatus](c, "WhoAmI") }
func (c *Client) ListTokens() ([]app.TokenView, error) {
	return call1[[]app.TokenView](c, "ListTokens")
}
func (c *Client) CreateToken(in app.TokenInput) (app.NewToken, error) {
	return call1[app.NewToken](c, "CreateToken", in)
}
func (c *Client) RevokeToken(ref string) (app.TokenView, error) {
	return call1[app.TokenView](c, "RevokeToken", ref)
}

// Complete asks the server for completion candidates with a short timeout;
// like the local one it never fails: no answer means no candidates.
func (c *Client) Complete(kind, prefix string) []string {
	if c.token == "" && c.base != socketBase {
		return nil // no credentials: asking would only count as a failed login
	}
	quick := *c
	hc := *c.http
	hc.Timeout = 2 * time.Second
	quick.http = &hc
	var out []string
	if quick.call("Complete", []any{kind, prefix}, &out) != nil {
		return nil
	}
	return out
}
