package access

import (
	"slices"
	"testing"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

func TestAvailable(t *testing.T) {
	netNew := ticket(20, "carol", "network", helpdesk.StateNew)
	netClosed := ticket(21, "carol", "network", helpdesk.StateClosed)
	erinsOwn := ticket(22, "erin", "network", helpdesk.StateNew)
	request := ticket(23, "carol", "", helpdesk.StateRequest)
	wifi := ticket(24, "carol", "network-wifi", helpdesk.StateNew)
	printers := ticket(25, "carol", "printers", helpdesk.StateNew)
	tests := []struct {
		name   string
		login  string
		t      *helpdesk.Ticket
		action string
		cond   Condition
		reason string
		fix    string
	}{
		{"end user comments on own ticket", "carol", netNew, "comment", CondAvailable,
			"carol may comment #20 as End User (via group:everyone)", ""},
		{"end user withdraws own ticket", "carol", netNew, "withdraw", CondAvailable,
			"carol may withdraw #20 as End User (via group:everyone)", ""},
		{"end user cannot use supporter actions", "carol", netNew, "reply", CondRole,
			"reply is a supporter action; carol is End User on #20 and needs to be a Resource Member or Dispatcher",
			"deskctl resource add-member network carol"},
		{"end user on a request needs to be a dispatcher", "carol", request, "authorize", CondRole,
			"authorize is an organizational action; carol is End User on #23 and needs to be a Dispatcher",
			"deskctl access grant dispatcher --to user:carol"},
		{"withdraw is for the requester only", "bob", netNew, "withdraw", CondRequesterOnly,
			"withdraw is only for the requester of #20 (carol)", "deskctl ticket do 20 close"},
		{"withdraw on a closed ticket by a supporter suggests nothing", "bob", netClosed, "withdraw", CondRequesterOnly,
			"withdraw is only for the requester of #21 (carol)", ""},
		{"member closes", "bob", netNew, "close", CondAvailable,
			"bob may close #20 as Resource Member (via group:support ← group:tier1 ← bob)", ""},
		{"closed ticket", "bob", netClosed, "close", CondState,
			"ticket is closed; close applies to new, in-progress, waiting", "deskctl ticket do 21 reopen, then close"},
		{"action nothing leads back to", "dave", ticket(26, "carol", "printers", helpdesk.StateNew), "authorize", CondState,
			"ticket is new; authorize applies to request", ""},
		{"not granted names the user's group", "bob", netNew, "delete", CondNotGranted,
			"bob does not hold delete", "deskctl access grant delete --to group:tier1"},
		{"not granted without groups names the user", "ivan", printers, "close", CondNotGranted,
			"ivan does not hold close", "deskctl access grant close --to user:ivan"},
		{"read-only member", "erin", netNew, "comment", CondReadOnly,
			"erin has read access to network only, so no action applies on #20",
			"deskctl resource add-member network erin --access write"},
		{"read-only member who is the requester keeps all-users actions", "erin", erinsOwn, "comment", CondAvailable,
			"erin may comment #22 as Resource Member (via group:everyone)", ""},
		{"read-only requester may withdraw", "erin", erinsOwn, "withdraw", CondAvailable,
			"erin may withdraw #22 as Resource Member (via group:everyone)", ""},
		{"a state fix names only steps the user can take", "erin", erinsOwn, "reopen", CondState,
			"ticket is new; reopen applies to closed", ""},
		{"read-only requester still cannot close", "erin", erinsOwn, "forward", CondReadOnly,
			"erin has read access to network only, so no action applies on #22",
			"deskctl resource add-member network erin --access write"},
		{"read-all-tickets without edit-all-tickets", "gina", printers, "comment", CondReadOnly,
			"gina sees #25 through read-all-tickets without edit-all-tickets, so no action applies",
			"deskctl access grant edit-all-tickets --to group:auditors"},
		{"read-all-tickets with edit-all-tickets", "hank", printers, "comment", CondAvailable,
			"hank may comment #25 as Resource Member (via group:everyone)", ""},
		{"dispatcher authorizes a request", "dave", request, "authorize", CondAvailable,
			"dave may authorize #23 as Dispatcher (via group:dispatch)", ""},
		{"dispatcher on an authorized ticket sees nothing", "dave", netNew, "reply", CondNoRole,
			"dave has no role on #20: dave is not a member of network, does not hold read-all-tickets and is not the requester of #20",
			"deskctl resource add-member network dave"},
		{"no role on a sub-resource points at the member-giving parent", "kim", wifi, "comment", CondNoRole,
			"kim has no role on #24: kim is not a member of network-wifi's parent network, does not hold read-all-tickets and is not the requester of #24",
			"deskctl resource add-member network kim"},
		{"no role on a request", "kim", request, "comment", CondNoRole,
			"kim has no role on #23: #23 is an unauthorized request and kim is neither its requester nor a dispatcher",
			"deskctl access grant dispatcher --to group:left"},
		{"a right through a resource applies on another resource", "bob", wifi, "forward", CondAvailable,
			"bob may forward #24 as Resource Member (via resource:network (write))", ""},
		{"disabled user", "frank", netNew, "comment", CondUserDisabled,
			"frank is disabled; a disabled user holds no rights and has no role on any ticket", "deskctl user enable frank"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(fixture(t)).Available(tc.login, tc.t, tc.action)
			if err != nil {
				t.Fatal(err)
			}
			if c.Condition != tc.cond || c.Available != (tc.cond == CondAvailable) {
				t.Errorf("condition = %q (available %v), want %q", c.Condition, c.Available, tc.cond)
			}
			if c.Reason != tc.reason {
				t.Errorf("reason\n got: %s\nwant: %s", c.Reason, tc.reason)
			}
			if c.Fix != tc.fix {
				t.Errorf("fix\n got: %s\nwant: %s", c.Fix, tc.fix)
			}
			if c.Granted != (len(c.Paths) > 0) {
				t.Errorf("granted %v with %d paths", c.Granted, len(c.Paths))
			}
			if c.Action != tc.action || c.Ticket != tc.t.Number {
				t.Errorf("check names %s #%d", c.Action, c.Ticket)
			}
		})
	}
}

func TestAvailableReportsPathsWhenAnotherConditionFails(t *testing.T) {
	c, err := New(fixture(t)).Available("bob", ticket(1, "carol", "network", helpdesk.StateClosed), "close")
	if err != nil {
		t.Fatal(err)
	}
	if c.Available || !c.Granted || len(c.Paths) != 1 || c.Paths[0].String() != "group:support ← group:tier1 ← bob" {
		t.Fatalf("%+v", c)
	}
}

func TestAvailableErrors(t *testing.T) {
	e := New(fixture(t))
	tk := ticket(1, "carol", "network", helpdesk.StateNew)
	tests := []struct {
		login, action string
		kind          errs.Kind
		msg, hint     string
	}{
		{"bob", "admin", errs.Usage, "admin is a permission, not a ticket action", "ticket questions take actions; see deskctl action list"},
		{"bob", "clsoe", errs.NotFound, "no such right 'clsoe'", "did you mean 'close'?"},
		{"nobody", "close", errs.NotFound, "no such user 'nobody'", ""},
	}
	for _, tc := range tests {
		_, err := e.Available(tc.login, tk, tc.action)
		if errs.KindOf(err) != tc.kind || err.Error() != tc.msg || errs.HintOf(err) != tc.hint {
			t.Errorf("%s %s: %v (%v, hint %q)", tc.login, tc.action, err, errs.KindOf(err), errs.HintOf(err))
		}
	}
}

func TestActions(t *testing.T) {
	checks, err := New(fixture(t)).Actions("carol", ticket(3, "carol", "network", helpdesk.StateNew))
	if err != nil {
		t.Fatal(err)
	}
	var available []string
	for _, c := range checks {
		if c.Available {
			available = append(available, c.Action)
		}
	}
	want := []string{"comment", "withdraw"} // reopen applies to closed tickets only
	if len(checks) != 20 || !equalStrings(available, want) {
		t.Fatalf("%d checks, available %v; want 20 and %v", len(checks), available, want)
	}
	// A disabled user gets a check per action too, each naming the reason.
	checks, err = New(fixture(t)).Actions("frank", ticket(3, "frank", "network", helpdesk.StateNew))
	if err != nil || len(checks) != 20 || checks[0].Condition != CondUserDisabled {
		t.Fatalf("frank: %d checks, %v", len(checks), err)
	}
}

func TestRequireAvailable(t *testing.T) {
	e := New(fixture(t))
	if _, err := e.RequireAvailable("bob", ticket(5, "carol", "network", helpdesk.StateNew), "close"); err != nil {
		t.Fatalf("available: %v", err)
	}
	_, err := e.RequireAvailable("bob", ticket(5, "carol", "network", helpdesk.StateClosed), "close")
	if !errs.Is(err, errs.Forbidden) || err.Error() != "cannot close #5: ticket is closed; close applies to new, in-progress, waiting" ||
		errs.HintOf(err) != "deskctl ticket do 5 reopen, then close" {
		t.Fatalf("state: %v (hint %q)", err, errs.HintOf(err))
	}
	_, err = e.RequireAvailable("kim", ticket(5, "carol", "network", helpdesk.StateNew), "comment")
	if !errs.Is(err, errs.NotFound) || err.Error() != "no ticket #5" {
		t.Fatalf("invisible ticket: %v", err)
	}
	_, err = e.RequireAvailable("frank", ticket(5, "frank", "network", helpdesk.StateNew), "comment")
	if !errs.Is(err, errs.Forbidden) || errs.HintOf(err) != "deskctl user enable frank" {
		t.Fatalf("disabled: %v", err)
	}
	_, err = e.RequireAvailable("bob", ticket(5, "carol", "network", helpdesk.StateNew), "delete")
	if !errs.Is(err, errs.Forbidden) || errs.HintOf(err) != "deskctl access grant delete --to group:tier1" {
		t.Fatalf("not granted: %v", err)
	}
}

func TestRequireAdmin(t *testing.T) {
	e := New(fixture(t))
	if err := e.RequireAdmin("alice"); err != nil {
		t.Fatalf("alice: %v", err)
	}
	err := e.RequireAdmin("bob")
	if !errs.Is(err, errs.Forbidden) || err.Error() != "bob lacks the admin permission" ||
		errs.HintOf(err) != "an administrator can run: deskctl access grant admin --to user:bob" {
		t.Fatalf("bob: %v (hint %q)", err, errs.HintOf(err))
	}
	if err := e.RequireAdmin("alcie"); !errs.Is(err, errs.NotFound) || errs.HintOf(err) != "did you mean 'alice'?" {
		t.Fatalf("unknown: %v", err)
	}
	m := fixture(t)
	m.PutUser(helpdesk.User{Login: "alice", Name: "alice", Email: "alice@example.com"}) // disabled
	if err := New(m).RequireAdmin("alice"); !errs.Is(err, errs.Forbidden) || err.Error() != "alice is disabled" {
		t.Fatalf("disabled admin: %v", err)
	}
}

func TestCanWithoutTicket(t *testing.T) {
	e := New(fixture(t))
	c, err := e.Can("dave", "dispatcher", nil)
	if err != nil || !c.Available || c.Reason != "dave holds dispatcher (via group:dispatch)" {
		t.Fatalf("dave: %+v %v", c, err)
	}
	c, err = e.Can("carol", "admin", nil)
	if err != nil || c.Available || c.Condition != CondNotGranted || c.Fix != "deskctl access grant admin --to user:carol" {
		t.Fatalf("carol: %+v %v", c, err)
	}
	c, err = e.Can("frank", "comment", nil)
	if err != nil || c.Condition != CondUserDisabled {
		t.Fatalf("frank: %+v %v", c, err)
	}
	if _, err := e.Can("bob", "admin", ticket(1, "bob", "", helpdesk.StateRequest)); !errs.Is(err, errs.Usage) {
		t.Fatalf("permission with ticket: %v", err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The fix for a read-only role that comes from read-all-tickets grants
// edit-all-tickets where read-all-tickets comes from (it may only be
// granted there), and following it makes the action available.
func TestReadAllFixFollowsTheGrant(t *testing.T) {
	m := NewMemory()
	m.PutUser(helpdesk.User{Login: "ivan", Active: true})
	m.PutGroup(helpdesk.Group{Name: "aaa", Members: []helpdesk.Subject{helpdesk.UserSubject("ivan")}})
	m.PutGroup(helpdesk.Group{Name: "auditors", Members: []helpdesk.Subject{helpdesk.UserSubject("ivan")}})
	m.PutResource(helpdesk.Resource{Name: "network"})
	m.Grant(helpdesk.GroupSubject("auditors"), helpdesk.PermReadAllTickets, helpdesk.ActClose)
	tk := &helpdesk.Ticket{Number: 3, State: helpdesk.StateNew, Resource: "network", Requester: "someone"}
	c, err := New(m).Available("ivan", tk, helpdesk.ActClose)
	if err != nil {
		t.Fatal(err)
	}
	if c.Condition != CondReadOnly || c.Fix != "deskctl access grant edit-all-tickets --to group:auditors" {
		t.Fatalf("condition %s, fix %q", c.Condition, c.Fix)
	}
	m.Grant(helpdesk.GroupSubject("auditors"), helpdesk.PermEditAllTickets)
	if c, err := New(m).Available("ivan", tk, helpdesk.ActClose); err != nil || !c.Available {
		t.Errorf("after the fix: %+v %v", c, err)
	}
}

// approvals.enabled is a condition of request-approval's availability, in the
// one check every question goes through: can, explain and who-can agree,
// and enforcement names the setting and its fix.
func TestApprovalsSettingIsAnAvailabilityCondition(t *testing.T) {
	netNew := ticket(20, "carol", "network", helpdesk.StateNew)
	m := fixture(t)
	answers := func() (Check, *Check, []Holder, error) {
		e := New(m)
		c, err := e.Can("bob", helpdesk.ActRequestApproval, netNew)
		if err != nil {
			t.Fatal(err)
		}
		x, err := e.Explain("bob", ExplainOptions{Ticket: netNew, Right: helpdesk.ActRequestApproval})
		if err != nil || len(x.Rights) != 1 {
			t.Fatalf("explain: %+v %v", x.Rights, err)
		}
		who, err := e.WhoCan(helpdesk.ActRequestApproval, netNew)
		if err != nil {
			t.Fatal(err)
		}
		_, reqErr := e.RequireAvailable("bob", netNew, helpdesk.ActRequestApproval)
		return c, x.Rights[0].Check, who, reqErr
	}

	c, x, who, err := answers()
	if c.Available || c.Condition != CondApprovalsOff || !c.Granted ||
		c.Reason != "approvals are turned off in this helpdesk (approvals.enabled is false)" ||
		c.Fix != "deskctl settings set approvals.enabled true" {
		t.Errorf("can with approvals off: %+v", c)
	}
	if x == nil || x.Available || x.Condition != CondApprovalsOff || x.Fix != c.Fix {
		t.Errorf("explain with approvals off: %+v", x)
	}
	if len(who) != 0 {
		t.Errorf("who-can with approvals off: %+v", who)
	}
	if !errs.Is(err, errs.Conflict) || errs.HintOf(err) != "an administrator can turn them on: deskctl settings set approvals.enabled true" {
		t.Errorf("enforcement with approvals off: %v (hint %q)", err, errs.HintOf(err))
	}
	// Other actions do not depend on it.
	if c, _ := New(m).Can("bob", helpdesk.ActClose, netNew); !c.Available {
		t.Errorf("close with approvals off: %+v", c)
	}

	m.PutSetting(helpdesk.SettingApprovalsEnabled, "true")
	c, x, who, err = answers()
	if !c.Available || x == nil || !x.Available || err != nil {
		t.Errorf("with approvals on: can %+v, explain %+v, enforcement %v", c, x, err)
	}
	if len(who) == 0 || who[0].Login != "bob" {
		t.Errorf("who-can with approvals on: %+v", who)
	}
}

// approvals.gate-actions holds the listed actions back while the ticket's
// approval is pending or rejected, and only then; every answer (can,
// explain, who-can, enforcement) names the approval and the way out.
func TestApprovalGate(t *testing.T) {
	tk := ticket(30, "carol", "network", helpdesk.StateInProgress)
	record := func(state helpdesk.ApprovalState) *helpdesk.Approval {
		return &helpdesk.Approval{Ticket: tk.Number, State: state, Approver: "kim", RequestedBy: "bob"}
	}
	cases := []struct {
		name     string
		approval *helpdesk.Approval
		action   string
		want     Condition
		reason   string
		fix      string
	}{
		{"none, gated", nil, helpdesk.ActClose, CondAvailable, "", ""},
		{"none, ungated", nil, helpdesk.ActNote, CondAvailable, "", ""},
		{"pending, gated", record(helpdesk.ApprovalPending), helpdesk.ActClose, CondApprovalPending,
			"approval of #30 is pending (asked of kim); close waits for the decision (approvals.gate-actions)",
			"wait for the decision, or ask an administrator to cancel it: deskctl approval cancel 30"},
		{"pending, second gated action", record(helpdesk.ApprovalPending), helpdesk.ActAssign, CondApprovalPending,
			"approval of #30 is pending (asked of kim); assign waits for the decision (approvals.gate-actions)",
			"wait for the decision, or ask an administrator to cancel it: deskctl approval cancel 30"},
		{"pending, ungated", record(helpdesk.ApprovalPending), helpdesk.ActNote, CondAvailable, "", ""},
		{"rejected, gated", record(helpdesk.ApprovalRejected), helpdesk.ActClose, CondApprovalRejected,
			"approval of #30 was rejected by kim; close needs it approved (approvals.gate-actions)",
			"ask again: deskctl approval request 30 --approver kim"},
		{"rejected, ungated", record(helpdesk.ApprovalRejected), helpdesk.ActNote, CondAvailable, "", ""},
		{"approved, gated", record(helpdesk.ApprovalApproved), helpdesk.ActClose, CondAvailable, "", ""},
		{"approved, ungated", record(helpdesk.ApprovalApproved), helpdesk.ActNote, CondAvailable, "", ""},
		{"cancelled, gated", record(helpdesk.ApprovalCancelled), helpdesk.ActClose, CondAvailable, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := fixture(t)
			m.PutSetting(helpdesk.SettingApprovalsEnabled, "true")
			m.PutSetting(helpdesk.SettingGateActions, "close, assign")
			if tc.approval != nil {
				m.PutApproval(*tc.approval)
			}
			e := New(m)
			c, err := e.Can("bob", tc.action, tk)
			if err != nil {
				t.Fatal(err)
			}
			if c.Condition != tc.want || c.Available != (tc.want == CondAvailable) || !c.Granted {
				t.Fatalf("can: %+v", c)
			}
			x, err := e.Explain("bob", ExplainOptions{Ticket: tk, Right: tc.action})
			if err != nil || len(x.Rights) != 1 || x.Rights[0].Check == nil || x.Rights[0].Check.Condition != tc.want {
				t.Fatalf("explain: %+v %v", x.Rights, err)
			}
			who, err := e.WhoCan(tc.action, tk)
			if err != nil {
				t.Fatal(err)
			}
			if bobCan := slices.ContainsFunc(who, func(h Holder) bool { return h.Login == "bob" }); bobCan != c.Available {
				t.Errorf("who-can lists bob: %v, can says available: %v", bobCan, c.Available)
			}
			_, reqErr := e.RequireAvailable("bob", tk, tc.action)
			if tc.want == CondAvailable {
				if reqErr != nil {
					t.Errorf("enforcement: %v", reqErr)
				}
				return
			}
			if c.Reason != tc.reason || c.Fix != tc.fix {
				t.Errorf("reason %q\nfix    %q", c.Reason, c.Fix)
			}
			if xc := x.Rights[0].Check; xc.Reason != c.Reason || xc.Fix != c.Fix {
				t.Errorf("explain says %q / %q", xc.Reason, xc.Fix)
			}
			if !errs.Is(reqErr, errs.Forbidden) || errs.HintOf(reqErr) != tc.fix ||
				reqErr.Error() != "cannot "+tc.action+" #30: "+tc.reason {
				t.Errorf("enforcement: %v (hint %q)", reqErr, errs.HintOf(reqErr))
			}
		})
	}
}

// A gate waits only while approvals are on (with them off no request can be
// decided or asked again), and an administrator is told to cancel it
// themselves.
func TestApprovalGateOffAndAdminFix(t *testing.T) {
	tk := ticket(31, "carol", "network", helpdesk.StateNew)
	m := fixture(t)
	m.PutSetting(helpdesk.SettingGateActions, "close")
	m.PutApproval(helpdesk.Approval{Ticket: 31, State: helpdesk.ApprovalPending, Approver: "kim", RequestedBy: "bob"})
	if c, err := New(m).Can("bob", helpdesk.ActClose, tk); err != nil || !c.Available {
		t.Errorf("with approvals off: %+v %v", c, err)
	}
	m.PutSetting(helpdesk.SettingApprovalsEnabled, "true")
	m.AddResourceMember("network", "alice", helpdesk.AccessWrite)
	m.Grant(helpdesk.UserSubject("alice"), helpdesk.ActClose)
	c, err := New(m).Can("alice", helpdesk.ActClose, tk)
	if err != nil || c.Condition != CondApprovalPending || c.Fix != "wait for the decision, or cancel it: deskctl approval cancel 31" {
		t.Errorf("admin: %+v %v", c, err)
	}
	// A ticket without a number (a hypothetical one) has no approval to wait for.
	if c, err := New(m).Can("bob", helpdesk.ActClose, ticket(0, "carol", "network", helpdesk.StateNew)); err != nil || !c.Available {
		t.Errorf("unnumbered ticket: %+v %v", c, err)
	}
}
