package access

import (
	"fmt"
	"slices"
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Condition is the stable code of the first availability condition that
// fails, or "available".
type Condition string

const (
	CondAvailable     Condition = "available"
	CondUserDisabled  Condition = "user-disabled"
	CondNoRole        Condition = "no-role"
	CondRole          Condition = "role"
	CondRequesterOnly Condition = "requester-only"
	CondReadOnly      Condition = "read-only"
	CondState         Condition = "state"
	CondApprovalsOff  Condition = "approvals-off"
	CondNotGranted    Condition = "not-granted"
	// An action listed in approvals.gate-actions waits for the ticket's approval.
	CondApprovalPending  Condition = "approval-pending"
	CondApprovalRejected Condition = "approval-rejected"
)

// Check is the answer to "may this user take this action on this ticket
// now?" (or, from Can without a ticket, "does this user hold this right?").
type Check struct {
	Action    string    `json:"action"`
	Ticket    int       `json:"ticket"`
	Available bool      `json:"available"`
	Condition Condition `json:"condition"`
	// Reason is one sentence for people, e.g. "ticket is closed; close applies to new, in-progress, waiting".
	Reason string `json:"reason"`
	// Fix is a concrete next step, usually a deskctl command line; empty when there is none.
	Fix string `json:"fix"`
	// Granted and Paths say whether and how the user holds the action,
	// whatever the outcome of the other conditions.
	Granted bool   `json:"granted"`
	Paths   []Path `json:"paths"`
}

// Available decides whether action is available to login on t. The
// conditions are checked in this order and the first that fails is reported:
// the user is active; the user has a role on t; the action's category admits
// that role (all-users admits every role, supporter/edit/organizational admit
// Resource Members and Dispatchers, requester-only actions admit only the
// requester); the user is not read-only on t (a read-only member who is also
// the requester keeps the all-users actions); t's state is one the action
// applies to; the user holds the action; for request-approval, approvals
// are turned on (approvals.enabled); for an action listed in
// approvals.gate-actions, while approvals are on, the ticket's approval is
// neither pending nor rejected.
//
// Unknown users and rights give not-found errors; a permission gives a usage error.
func (e *Engine) Available(login string, t *helpdesk.Ticket, action string) (Check, error) {
	r, idx, err := e.right(action)
	if err != nil {
		return Check{}, err
	}
	if r.Kind != helpdesk.KindAction {
		return Check{}, notAction(r)
	}
	n, err := e.user(login)
	if err != nil {
		return Check{}, err
	}
	if !n.u.Active {
		return disabledCheck(Check{Action: r.Name, Ticket: t.Number}, n), nil
	}
	role, err := e.role(n, t)
	if err != nil {
		return Check{}, err
	}
	return e.available(n, t, role, r, idx)
}

func (e *Engine) available(n *userNode, t *helpdesk.Ticket, role RoleInfo, r helpdesk.Right, idx int) (Check, error) {
	c := Check{Action: r.Name, Ticket: t.Number}
	if !n.u.Active {
		return disabledCheck(c, n), nil
	}
	var err error
	if c.Paths, err = e.paths(n, idx); err != nil {
		return Check{}, err
	}
	c.Granted = len(c.Paths) > 0
	login := n.u.Login
	fail := func(cond Condition, fix, format string, a ...any) (Check, error) {
		c.Condition, c.Fix, c.Reason = cond, fix, fmt.Sprintf(format, a...)
		return c, nil
	}
	if role.Role == RoleNone {
		return fail(CondNoRole, e.roleFix(n, t), "%s has no role on #%d: %s", login, t.Number, role.Reason)
	}
	if r.RequesterOnly && !role.Requester {
		fix := "" // supporters close instead, where close applies
		if cl, ok := e.rightIdx[helpdesk.ActClose]; ok && e.catalog[cl].AppliesIn(t.State) && e.mayRun(n, role, helpdesk.ActClose) {
			fix = fmt.Sprintf("deskctl ticket do %d %s", t.Number, helpdesk.ActClose)
		}
		return fail(CondRequesterOnly, fix, "%s is only for the requester of #%d (%s)", r.Name, t.Number, t.Requester)
	}
	if r.Category != helpdesk.CatAllUsers && role.Role == RoleEndUser {
		need := "a Resource Member or Dispatcher"
		if t.Resource == "" {
			need = "a Dispatcher"
		}
		article := "a"
		if strings.ContainsRune("aeiou", rune(r.Category[0])) {
			article = "an"
		}
		return fail(CondRole, e.roleFix(n, t), "%s is %s %s action; %s is End User on #%d and needs to be %s",
			r.Name, article, r.Category, login, t.Number, need)
	}
	if role.ReadOnly && !(role.Requester && r.Category == helpdesk.CatAllUsers) {
		if role.Permission != "" {
			// edit-all-tickets goes where read-all-tickets comes from: it
			// may only be granted to a subject that holds that too.
			fix := grantFix(helpdesk.PermEditAllTickets, n)
			if _, idx, err := e.right(helpdesk.PermReadAllTickets); err == nil {
				if s, ok := e.nearestGrant(n, idx); ok {
					fix = fmt.Sprintf("deskctl access grant %s --to %s", helpdesk.PermEditAllTickets, s)
				}
			}
			return fail(CondReadOnly, fix,
				"%s sees #%d through read-all-tickets without edit-all-tickets, so no action applies", login, t.Number)
		}
		return fail(CondReadOnly, fmt.Sprintf("deskctl resource add-member %s %s --access write", role.Resource, login),
			"%s has read access to %s only, so no action applies on #%d", login, role.Resource, t.Number)
	}
	if !r.AppliesIn(t.State) {
		return fail(CondState, e.stateFix(n, role, t, r), "ticket is %s; %s applies to %s", t.State, r.Name, joinStates(r.FromStates))
	}
	if !c.Granted {
		return fail(CondNotGranted, grantFix(r.Name, n), "%s does not hold %s", login, r.Name)
	}
	if r.Name == helpdesk.ActRequestApproval && !e.approvalsEnabled() {
		return fail(CondApprovalsOff, "deskctl settings set "+helpdesk.SettingApprovalsEnabled+" true",
			"approvals are turned off in this helpdesk (%s is false)", helpdesk.SettingApprovalsEnabled)
	}
	if a, gated, from, err := e.gate(t, r.Name); err != nil {
		return Check{}, err
	} else if gated {
		who := a.Approver
		// why names what holds the action back: the setting, or the
		// template of the resource the ticket is in (or an ancestor's).
		why, again := helpdesk.SettingGateActions, fmt.Sprintf("ask again: deskctl approval request %d --approver %s", t.Number, who)
		if from != "" {
			why = "gate of the approval template of resource " + from
			again = fmt.Sprintf("ask again: deskctl approval request %d", t.Number)
		}
		if a.State == helpdesk.ApprovalPending {
			fix := fmt.Sprintf("wait for the decision, or ask an administrator to cancel it: deskctl approval cancel %d", t.Number)
			if admin, _ := e.holdsName(n, helpdesk.PermAdmin); admin {
				fix = fmt.Sprintf("wait for the decision, or cancel it: deskctl approval cancel %d", t.Number)
			}
			return fail(CondApprovalPending, fix, "approval of #%d is pending (asked of %s); %s waits for the decision (%s)",
				t.Number, who, r.Name, why)
		}
		return fail(CondApprovalRejected, again,
			"approval of #%d was rejected by %s; %s needs it approved (%s)", t.Number, who, r.Name, why)
	}
	c.Available, c.Condition = true, CondAvailable
	c.Reason = fmt.Sprintf("%s may %s #%d as %s (%s)", login, r.Name, t.Number, role.Role.Title(), viaText(c.Paths))
	return c, nil
}

// ApprovalsEnabled reports whether approvals.enabled is on.
func (e *Engine) ApprovalsEnabled() bool { return e.approvalsEnabled() }

// approvalsEnabled reads approvals.enabled once per engine.
func (e *Engine) approvalsEnabled() bool {
	if e.approvals == nil {
		v, _ := e.src.Setting(helpdesk.SettingApprovalsEnabled)
		on := helpdesk.ApprovalsEnabled(map[string]string{helpdesk.SettingApprovalsEnabled: v})
		e.approvals = &on
	}
	return *e.approvals
}

// gate reports whether action waits for t's approval: it is listed in
// approvals.gate-actions or among the gates of the approval template that
// applies to t's resource (from names that template's resource), approvals
// are on, and the approval is pending or rejected. With approvals off
// nothing waits for them, since no request can then be decided or asked
// again.
func (e *Engine) gate(t *helpdesk.Ticket, action string) (a helpdesk.Approval, held bool, from string, err error) {
	if t.Number == 0 {
		return helpdesk.Approval{}, false, "", nil
	}
	gated, from, err := e.Gated(t, action)
	if err != nil || !gated {
		return helpdesk.Approval{}, false, "", err
	}
	rec, seen := e.ticketApprovals[t.Number]
	if !seen {
		a, ok, err := e.src.Approval(t.Number)
		if err != nil {
			return a, false, "", err
		}
		rec = approvalRecord{a, ok}
		if e.ticketApprovals == nil {
			e.ticketApprovals = map[int]approvalRecord{}
		}
		e.ticketApprovals[t.Number] = rec
	}
	held = rec.ok && (rec.a.State == helpdesk.ApprovalPending || rec.a.State == helpdesk.ApprovalRejected)
	return rec.a, held, from, nil
}

// Gated reports whether action on t waits while t's approval is pending or
// rejected: approvals are on, and approvals.gate-actions lists the action
// (from is "") or the approval template that applies to t's resource does
// (from names the template's resource).
func (e *Engine) Gated(t *helpdesk.Ticket, action string) (gated bool, from string, err error) {
	if e.gates == nil {
		v, _ := e.src.Setting(helpdesk.SettingGateActions)
		e.gates = map[string]bool{}
		for _, name := range helpdesk.GateActions(v) {
			e.gates[name] = true
		}
	}
	if !e.approvalsEnabled() {
		return false, "", nil
	}
	if e.gates[action] {
		return true, "", nil
	}
	if t.Resource == "" {
		return false, "", nil
	}
	tpl, src, err := e.Template(t.Resource)
	if err != nil || !slices.Contains(tpl.Gates, action) {
		return false, "", err
	}
	return true, src, nil
}

// Template returns the approval template that applies to tickets of
// resource, its own or its nearest ancestor's, and the resource it belongs
// to ("" when none applies).
func (e *Engine) Template(resource string) (helpdesk.ApprovalTemplate, string, error) {
	return helpdesk.EffectiveTemplate(resource, func(name string) (helpdesk.Resource, bool, error) {
		n, err := e.resource(name)
		if err != nil {
			return helpdesk.Resource{}, false, err
		}
		return n.r, n.exists, nil
	})
}

// roleFix names the step that gives login a role that admits supporter
// actions on t: the dispatcher permission for a request, membership of the
// resource whose members count for an authorized ticket. For a sub-resource
// without members of its own that is the ancestor standing in for it, since
// adding a first own member would end the ancestor's members' access.
func (e *Engine) roleFix(n *userNode, t *helpdesk.Ticket) string {
	if t.Resource == "" {
		return grantFix(helpdesk.PermDispatcher, n)
	}
	target, _ := e.StaffResource(t.Resource)
	return fmt.Sprintf("deskctl resource add-member %s %s", target, n.u.Login)
}

// StaffResource names the resource whose members work tickets of resource:
// resource itself, or the nearest ancestor with members when it has none of
// its own. Adding a member anywhere else would not make them a supporter of
// those tickets (and a first own member of a sub-resource would end its
// ancestor's members' access).
func (e *Engine) StaffResource(resource string) (string, error) {
	res, err := e.resolve(resource)
	if err != nil || res.From == "" {
		return resource, err
	}
	return res.From, nil
}

// mayRun reports whether n could run action name where n has role, the
// ticket's state aside: fixes suggest only steps the user can take.
func (e *Engine) mayRun(n *userNode, role RoleInfo, name string) bool {
	idx, ok := e.rightIdx[name]
	if !ok || role.Role == RoleNone {
		return false
	}
	a := e.catalog[idx]
	switch {
	case a.RequesterOnly && !role.Requester,
		a.Category != helpdesk.CatAllUsers && role.Role == RoleEndUser,
		role.ReadOnly && !(role.Requester && a.Category == helpdesk.CatAllUsers):
		return false
	}
	held, err := e.holds(n, idx)
	return err == nil && held
}

// stateFix suggests an action n can run that moves t into a state r applies
// to, e.g. "deskctl ticket do 12 reopen, then close"; empty when none does.
func (e *Engine) stateFix(n *userNode, role RoleInfo, t *helpdesk.Ticket, r helpdesk.Right) string {
	for _, a := range e.catalog {
		if a.Kind != helpdesk.KindAction || a.ToState == "" || a.RequesterOnly || !a.AppliesIn(t.State) || !r.AppliesIn(a.ToState) {
			continue
		}
		if !e.mayRun(n, role, a.Name) {
			continue // only steps the user can take
		}
		return fmt.Sprintf("deskctl ticket do %d %s, then %s", t.Number, a.Name, r.Name)
	}
	return ""
}

func joinStates(ss []helpdesk.State) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// Actions checks every ticket action in the catalog, in catalog order.
func (e *Engine) Actions(login string, t *helpdesk.Ticket) ([]Check, error) {
	if err := e.loadCatalog(); err != nil {
		return nil, err
	}
	n, err := e.user(login)
	if err != nil {
		return nil, err
	}
	role, err := e.role(n, t)
	if err != nil {
		return nil, err
	}
	var out []Check
	for i, r := range e.catalog {
		if r.Kind != helpdesk.KindAction {
			continue
		}
		c, err := e.available(n, t, role, r, i)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// RequireAvailable is the enforcement every ticket command goes through. It
// returns the check when the action is available; otherwise a forbidden
// error carrying the reason and the fix as hint, or, when the user has no
// role on t, a not-found error: the ticket is invisible to them.
func (e *Engine) RequireAvailable(login string, t *helpdesk.Ticket, action string) (Check, error) {
	c, err := e.Available(login, t, action)
	if err != nil {
		return Check{}, err
	}
	switch c.Condition {
	case CondAvailable:
		return c, nil
	case CondNoRole:
		return c, errs.NotFoundf("no ticket #%d", t.Number)
	case CondApprovalsOff:
		// The helpdesk's state, not the user's rights: a conflict.
		return c, errs.Conflictf("cannot %s #%d: %s", c.Action, t.Number, c.Reason).WithHint("an administrator can turn them on: %s", c.Fix)
	}
	fe := errs.Forbiddenf("cannot %s #%d: %s", c.Action, t.Number, c.Reason)
	if c.Fix != "" {
		fe = fe.WithHint("%s", c.Fix)
	}
	return c, fe
}

// RequireAdmin is the check every administrative command makes first.
func (e *Engine) RequireAdmin(actor string) error {
	_, idx, err := e.right(helpdesk.PermAdmin)
	if err != nil {
		return err
	}
	n, err := e.user(actor)
	if err != nil {
		return err
	}
	if !n.u.Active {
		return errs.Forbiddenf("%s is disabled", actor).
			WithHint("an administrator can run: deskctl user enable %s", actor)
	}
	ok, err := e.holds(n, idx)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Forbiddenf("%s lacks the admin permission", actor).
			WithHint("an administrator can run: deskctl access grant admin --to user:%s", actor)
	}
	return nil
}

// nearestGrant finds a subject that grants right idx to n: n itself, else the
// nearest group above n holding it directly (breadth first, so the group
// closest to the user), else a resource n is a member of.
func (e *Engine) nearestGrant(n *userNode, idx int) (helpdesk.Subject, bool) {
	if own, err := e.grantsOf(n.subject()); err == nil && own.has(idx) {
		return n.subject(), true
	}
	// A user has tens of groups above them: a slice is cheaper than a map.
	queue := append(make([]string, 0, 2*len(n.groups)), n.groups...)
	for i := 0; i < len(queue); i++ {
		g := queue[i]
		if slices.Contains(queue[:i], g) {
			continue
		}
		if c, err := e.closure(g); err != nil || !c.has(idx) {
			continue // nothing above g grants it
		}
		if gs, err := e.grantsOf(helpdesk.GroupSubject(g)); err == nil && gs.has(idx) {
			return helpdesk.GroupSubject(g), true
		}
		ps, _ := e.parents(g)
		queue = append(queue, ps...)
	}
	for _, m := range n.resources {
		if rs, err := e.grantsOf(helpdesk.ResourceSubject(m.Resource)); err == nil && rs.has(idx) {
			return helpdesk.ResourceSubject(m.Resource), true
		}
	}
	return helpdesk.Subject{}, false
}
