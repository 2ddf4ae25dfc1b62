package app

import (
	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/policy"
	"github.com/deskctl/deskctl/internal/store"
)

// UseCases is every use case a command can run, wherever it runs: *Service
// runs them on the database file, the remote client sends them to
// `deskctl serve`, whose API dispatches exactly the methods listed here.
// Commands hold a UseCases and never learn which one they got.
//
// Commands that act on the server's file itself (init, db backup, db
// restore, serve) are not use cases here: they need the local *Service.
type UseCases interface {
	// Directory.
	AddUser(in UserInput) (UserView, error)
	UpdateUser(in UserInput) (UserView, error)
	SetUserActive(login string, active bool) (UserView, error)
	RemoveUser(login string) error
	ListUsers() ([]UserView, error)
	ShowUser(login string) (UserDetail, error)
	AddGroup(name, description string) (GroupView, error)
	RemoveGroup(name string) error
	SetGroupMember(group, member string, add bool) (GroupView, error)
	ListGroups() ([]GroupView, error)
	ShowGroup(name string) (GroupDetail, error)
	AddResource(name, parent, description string) (ResourceView, error)
	RemoveResource(name string) error
	SetResourceMember(resource, login string, acc helpdesk.Access, add bool) (ResourceView, error)
	ListResources() ([]ResourceView, error)
	ShowResource(name string) (ResourceDetail, error)
	ShowResourceApproval(resource string) (ResourceApprovalView, error)
	SetResourceApproval(resource string, tpl helpdesk.ApprovalTemplate) (ResourceApprovalView, error)
	ClearResourceApproval(resource string) (ResourceApprovalView, error)

	// Rights, grants and access queries.
	Grant(subject string, rights []string) (GrantResult, error)
	Revoke(subject string, rights []string) (GrantResult, error)
	Explain(in ExplainInput) (ExplainResult, error)
	Can(login, right string, ticket int) (access.Check, error)
	WhoCan(right string, ticket int) ([]access.Holder, error)
	Matrix(users, rights []string) (access.Matrix, error)
	Diff(a, b string) (access.DiffResult, error)
	ListRights() ([]helpdesk.Right, error)
	ShowRight(name string) (helpdesk.Right, []string, error)
	PutAction(r helpdesk.Right, create bool) (helpdesk.Right, error)
	RemoveAction(name string) error

	// Tickets.
	CreateTicket(in CreateTicketInput) (TicketView, error)
	ListTickets(q TicketQuery) ([]TicketView, error)
	ShowTicket(n int) (TicketDetail, error)
	TicketLog(n int) ([]EntryView, error)
	DoAction(reqs ...ActionRequest) (ActionResult, error)
	ImportTickets(file File, format string, batchSize int, progress func(status string)) (ImportResult, error)

	// Approvals.
	RequestApproval(ticket int, approver, note string) (ApprovalView, Delivery, error)
	RequestApprovals(ticket int, stages []helpdesk.StageSpec, note string) (ApprovalView, Delivery, error)
	RequestApprovalWith(in ApprovalRequestInput) (ApprovalView, Delivery, error)
	SweepApprovals() (SweepResult, Delivery, error)
	CancelApproval(ticket int) (ApprovalView, Delivery, error)
	RemindApproval(ticket int) (ApprovalView, Delivery, error)
	Decide(ticket int, approve bool, comment string) (ApprovalView, Delivery, error)
	DecideByToken(token string, approve bool, comment string) (ApprovalView, Delivery, error)
	ShowApproval(ticket int) (ApprovalView, error)
	ListApprovals(q ApprovalQuery) ([]ApprovalView, error)
	SetDelegation(in DelegationInput) (DelegationView, error)
	ClearDelegation(login string) (DelegationView, error)
	ListDelegations() ([]DelegationView, error)

	// Policy as code.
	ExportPolicy(format string) ([]byte, error)
	PlanPolicy(src PolicySource, prune bool) (Plan, []policy.Finding, error)
	ApplyPolicy(src PolicySource, prune, dryRun bool, confirmed []Change, progress func(status string)) (Plan, []policy.Finding, error)

	// Settings, mail, audit and the database.
	ListSettings() ([]SettingView, error)
	GetSetting(key string) (SettingView, error)
	SetSetting(key, value string) (SettingView, error)
	MailQueue(all bool) ([]MailView, error)
	FlushMail(force bool) (FlushResult, error)
	TestMail(to string) error
	AuditLog(q AuditQuery) ([]AuditEntry, error)
	VerifyAudit(anchors ...string) (AuditVerification, error)
	CheckDB() (CheckResult, error)
	StatsDB() (store.Stats, error)

	// Identity and API tokens.
	WhoAmI() (AuthStatus, error)
	CreateToken(in TokenInput) (NewToken, error)
	ListTokens() ([]TokenView, error)
	RevokeToken(ref string) (TokenView, error)

	// Complete returns shell completion candidates; it never fails.
	Complete(kind, prefix string) []string
}

var _ UseCases = (*Service)(nil)
