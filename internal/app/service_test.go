package app

// Direct tests of the approval and policy use cases: a Service on a real
// bbolt file in a temporary directory, mail through the real SMTP test
// server, a clock the test moves, and no command line in between.

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/mail"
	"github.com/deskctl/deskctl/internal/mail/mailtest"
)

// testDesk is a database with alice (administrator), bob (a technician on
// network, who may request approvals), carol (an approver) and dave (a
// requester), and ticket 1 from dave on network.
type testDesk struct {
	dir  string
	smtp *mailtest.Server
	now  time.Time
}

const testPolicy = `settings: {approvals.enabled: true}
users:
  - {login: alice, name: Alice, email: alice@example.com, rights: [admin, dispatcher]}
  - {login: bob, name: Bob, email: bob@example.com, rights: [request-approval]}
  - {login: carol, name: Carol, email: carol@example.com}
  - {login: dave, name: Dave, email: dave@example.com}
groups:
  - {name: tier1, members: [bob], rights: [close, reply]}
resources:
  - {name: network, members: [{user: bob, access: write}]}
`

func newTestDesk(t *testing.T) *testDesk {
	t.Helper()
	d := &testDesk{dir: t.TempDir(), smtp: mailtest.Start(t), now: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
	if _, err := d.as("").Init(InitInput{Admin: "alice", Email: "alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	d.apply(t, "alice", testPolicy)
	if _, err := d.as("alice").CreateTicket(CreateTicketInput{Subject: "printer on fire", Requester: "dave", Resource: "network"}); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *testDesk) db() string { return filepath.Join(d.dir, "desk.db") }

// as is a Service acting as login, at the desk's current time.
func (d *testDesk) as(login string) *Service {
	return &Service{DBPath: d.db(), LockTimeout: 5 * time.Second, Actor: login, Now: func() time.Time { return d.now },
		Mail: &MailSettings{PublicURL: "https://help.example.com",
			SMTP: mail.Config{Host: d.smtp.Host(), Port: d.smtp.Port(), TLS: mail.TLSNone, From: "helpdesk@example.com"}}}
}

func (d *testDesk) apply(t *testing.T, login, yaml string) Plan {
	t.Helper()
	file := filepath.Join(d.dir, "policy.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	plan, findings, err := d.as(login).ApplyPolicy(policyFile(t, file), false, false, nil, nil)
	if err != nil {
		t.Fatalf("policy apply: %v %v", err, findings)
	}
	return plan
}

func (d *testDesk) sum(t *testing.T) [32]byte {
	t.Helper()
	raw, err := os.ReadFile(d.db())
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(raw)
}

var tokenInLink = regexp.MustCompile(`/approval/([A-Za-z0-9_-]{43})\?decision=approve`)

// lastToken is the link token in the newest mail to carol.
func (d *testDesk) lastToken(t *testing.T) string {
	t.Helper()
	msgs := d.smtp.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To[0] != "carol@example.com" {
			continue
		}
		for _, l := range mailtest.Links(msgs[i].Text) {
			if m := tokenInLink.FindStringSubmatch(l); m != nil {
				return m[1]
			}
		}
	}
	t.Fatal("no approval link mailed to carol")
	return ""
}

func linkProblem(err error) helpdesk.LinkProblem {
	var le *helpdesk.LinkError
	if errors.As(err, &le) {
		return le.Problem
	}
	return ""
}

func TestApprovalByLinkIsRecordedOnce(t *testing.T) {
	d := newTestDesk(t)
	v, del, err := d.as("bob").RequestApproval(1, "carol", "new switch")
	if err != nil {
		t.Fatal(err)
	}
	if v.State != string(helpdesk.ApprovalPending) || v.Approver != "carol" || v.RequestedBy != "bob" || len(del.Sent) != 1 {
		t.Fatalf("request: %+v, delivery %+v", v, del)
	}
	token := d.lastToken(t)

	page, err := d.as("").Pages().View(t.Context(), token)
	if err != nil || page.Ticket != 1 || page.Approver != "Carol" {
		t.Fatalf("the page: %+v, %v", page, err)
	}
	out, _, err := d.as("").DecideByToken(token, true, "fine")
	if err != nil {
		t.Fatal(err)
	}
	if out.State != string(helpdesk.ApprovalApproved) || out.DecidedBy != "carol" || !out.DecidedAt.Equal(d.now) || out.Comment != "fine" {
		t.Errorf("decision: %+v", out)
	}
	recs, err := d.as("alice").AuditLog(AuditQuery{Subject: "approval:1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1].Actor != "carol" || recs[1].Command != "approval decide (link)" {
		t.Errorf("audit of approval:1: %+v, want the request and carol's decision by link", recs)
	}

	// The same link again: used, and nothing is written.
	before := d.sum(t)
	if _, _, err := d.as("").DecideByToken(token, false, ""); linkProblem(err) != helpdesk.LinkUsed {
		t.Errorf("deciding with a used link: %v, want %q", err, helpdesk.LinkUsed)
	}
	if d.sum(t) != before {
		t.Error("a refused decision changed the file")
	}
}

// A reminder replaces the link: the old one says so while the request is
// pending, and says what became of the request once it is decided or
// cancelled, exactly like the current link.
func TestSupersededLinkReportsTheRequestsState(t *testing.T) {
	for _, tc := range []struct {
		name    string
		end     func(d *testDesk, current string) error
		current helpdesk.LinkProblem // what both links say afterwards
	}{
		{"approved", func(d *testDesk, current string) error {
			_, _, err := d.as("").DecideByToken(current, true, "")
			return err
		}, helpdesk.LinkUsed},
		{"rejected", func(d *testDesk, _ string) error {
			_, _, err := d.as("carol").Decide(1, false, "no budget")
			return err
		}, helpdesk.LinkUsed},
		{"cancelled", func(d *testDesk, _ string) error {
			_, _, err := d.as("alice").CancelApproval(1)
			return err
		}, helpdesk.LinkCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDesk(t)
			if _, _, err := d.as("bob").RequestApproval(1, "carol", ""); err != nil {
				t.Fatal(err)
			}
			old := d.lastToken(t)
			if _, _, err := d.as("bob").RemindApproval(1); err != nil {
				t.Fatal(err)
			}
			current := d.lastToken(t)
			if current == old {
				t.Fatal("the reminder mailed the same link")
			}
			if _, err := d.as("").Pages().View(t.Context(), old); linkProblem(err) != helpdesk.LinkSuperseded {
				t.Errorf("old link while pending: %v, want %q", err, helpdesk.LinkSuperseded)
			}
			if _, _, err := d.as("").DecideByToken(old, true, ""); linkProblem(err) != helpdesk.LinkSuperseded {
				t.Errorf("deciding with the old link: %v, want %q", err, helpdesk.LinkSuperseded)
			}
			if err := tc.end(d, current); err != nil {
				t.Fatal(err)
			}
			for name, token := range map[string]string{"old": old, "current": current} {
				if _, err := d.as("").Pages().View(t.Context(), token); linkProblem(err) != tc.current {
					t.Errorf("%s link after the request was %s: %v, want %q", name, tc.name, err, tc.current)
				}
			}
		})
	}
}

// The link works until approvals.link-ttl after it was mailed, and not at
// that instant or later.
func TestApprovalLinkExpiresAtItsTTL(t *testing.T) {
	d := newTestDesk(t)
	if _, err := d.as("alice").SetSetting(helpdesk.SettingLinkTTL, "2h"); err != nil {
		t.Fatal(err)
	}
	sent := d.now
	v, _, err := d.as("bob").RequestApproval(1, "carol", "")
	if err != nil {
		t.Fatal(err)
	}
	token := d.lastToken(t)
	if shown, _ := d.as("alice").ShowApproval(1); !shown.LinkExpires.Equal(sent.Add(2 * time.Hour)) {
		t.Fatalf("link expires %v, want %v (request %+v)", shown.LinkExpires, sent.Add(2*time.Hour), v)
	}

	d.now = sent.Add(2*time.Hour - time.Second)
	if _, err := d.as("").Pages().View(t.Context(), token); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	d.now = sent.Add(2 * time.Hour)
	before := d.sum(t)
	if _, err := d.as("").Pages().View(t.Context(), token); linkProblem(err) != helpdesk.LinkExpired {
		t.Errorf("at expiry the page says %v, want %q", err, helpdesk.LinkExpired)
	}
	if _, _, err := d.as("").DecideByToken(token, true, ""); linkProblem(err) != helpdesk.LinkExpired || !errs.Is(err, errs.Conflict) {
		t.Errorf("deciding at expiry: %v, want %q (a conflict)", err, helpdesk.LinkExpired)
	}
	if d.sum(t) != before {
		t.Error("a decision refused for expiry changed the file")
	}
	// The approver can still decide as themselves; only the link expired.
	if out, _, err := d.as("carol").Decide(1, true, ""); err != nil || out.State != string(helpdesk.ApprovalApproved) {
		t.Errorf("carol deciding on the command line after the link expired: %+v, %v", out, err)
	}
}

func TestApprovalUseCasesRefuseWithoutWriting(t *testing.T) {
	d := newTestDesk(t)
	if _, _, err := d.as("bob").RequestApproval(1, "carol", ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func() error
		kind errs.Kind
	}{
		{"a second request while one is pending", func() error { _, _, err := d.as("bob").RequestApproval(1, "dave", ""); return err }, errs.Conflict},
		{"deciding as someone else", func() error { _, _, err := d.as("bob").Decide(1, true, ""); return err }, errs.Forbidden},
		{"cancelling without admin", func() error { _, _, err := d.as("bob").CancelApproval(1); return err }, errs.Forbidden},
		{"reminding without the right", func() error { _, _, err := d.as("dave").RemindApproval(1); return err }, errs.Forbidden},
		{"a request without the right", func() error { _, _, err := d.as("dave").RequestApproval(1, "carol", ""); return err }, errs.Forbidden},
		{"an unknown ticket", func() error { _, _, err := d.as("alice").CancelApproval(9); return err }, errs.NotFound},
		{"a malformed token", func() error { _, _, err := d.as("").DecideByToken("short", true, ""); return err }, errs.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := d.sum(t)
			err := tc.run()
			if !errs.Is(err, tc.kind) {
				t.Errorf("got %v (%v), want a %v error", err, errs.KindOf(err), tc.kind)
			}
			if errs.HintOf(err) == "" && tc.kind != errs.NotFound {
				t.Errorf("%v: no hint names the next step", err)
			}
			if d.sum(t) != before {
				t.Error("the file changed")
			}
		})
	}
}

func TestApplyPolicyKeepsToTheConfirmedPlan(t *testing.T) {
	d := newTestDesk(t)
	file := filepath.Join(d.dir, "more.yaml")
	if err := os.WriteFile(file, []byte("users:\n  - {login: alice, name: Alice, email: alice@example.com, rights: [admin, dispatcher]}\n  - {login: erin, name: Erin, email: erin@example.com}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	plan, _, err := d.as("alice").PlanPolicy(policyFile(t, file), false)
	if err != nil || len(plan.Changes) != 1 || plan.Changes[0].Subject != "user:erin" || plan.Applied {
		t.Fatalf("plan: %+v, %v; want only user:erin added", plan, err)
	}

	// A dry run and a non-administrator write nothing.
	before := d.sum(t)
	if p, _, err := d.as("alice").ApplyPolicy(policyFile(t, file), false, true, nil, nil); err != nil || p.Applied || len(p.Changes) != 1 {
		t.Errorf("dry run: %+v, %v", p, err)
	}
	if _, _, err := d.as("bob").ApplyPolicy(policyFile(t, file), false, false, nil, nil); !errs.Is(err, errs.Forbidden) {
		t.Errorf("bob applying: %v, want forbidden", err)
	}
	if d.sum(t) != before {
		t.Fatal("a dry run or a refused apply changed the file")
	}

	// The database changes after the plan was shown: the confirmed plan no
	// longer holds, and nothing is applied.
	if _, err := d.as("alice").AddUser(UserInput{Login: "erin", Email: "other@example.com"}); err != nil {
		t.Fatal(err)
	}
	before = d.sum(t)
	if _, _, err := d.as("alice").ApplyPolicy(policyFile(t, file), false, false, plan.Changes, nil); !errs.Is(err, errs.Conflict) {
		t.Errorf("applying a stale plan: %v, want a conflict", err)
	}
	if d.sum(t) != before {
		t.Fatal("a stale plan changed the file")
	}

	// Applied as planned now: one audit record per change and one for the apply.
	plan, _, err = d.as("alice").PlanPolicy(policyFile(t, file), false)
	if err != nil {
		t.Fatal(err)
	}
	applied, _, err := d.as("alice").ApplyPolicy(policyFile(t, file), false, false, plan.Changes, nil)
	if err != nil || !applied.Applied {
		t.Fatalf("apply: %+v, %v", applied, err)
	}
	u, err := d.as("alice").ShowUser("erin")
	if err != nil || u.Email != "erin@example.com" {
		t.Errorf("erin after the apply: %+v, %v", u, err)
	}
	recs, err := d.as("alice").AuditLog(AuditQuery{Limit: 2})
	if err != nil || len(recs) != 2 || recs[0].Subject != "user:erin" || recs[1].Subject != "policy" {
		t.Errorf("newest audit records: %+v, %v; want user:erin then policy", recs, err)
	}
}

// The last active administrator cannot be disabled by a policy.
func TestApplyPolicyKeepsAnActiveAdministrator(t *testing.T) {
	d := newTestDesk(t)
	file := filepath.Join(d.dir, "lockout.yaml")
	if err := os.WriteFile(file, []byte("users:\n  - {login: alice, name: Alice, email: alice@example.com, active: false, rights: [admin]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := d.sum(t)
	if _, _, err := d.as("alice").ApplyPolicy(policyFile(t, file), false, false, nil, nil); err == nil {
		t.Error("a policy disabling the only administrator was applied")
	}
	if d.sum(t) != before {
		t.Error("the refused policy changed the file")
	}
}

// A disabled user holds nothing: not the rights of their groups, not their
// direct grants, not their resource membership; enabling them gives it all back.
func TestDisabledUserHoldsNothing(t *testing.T) {
	d := newTestDesk(t)
	if _, err := d.as("alice").Grant("user:bob", []string{"note"}); err != nil {
		t.Fatal(err)
	}
	rights := []string{"close", "reply", "note", "request-approval"}
	holds := func() map[string]bool {
		got := map[string]bool{}
		for _, r := range rights {
			c, err := d.as("alice").Can("bob", r, 1)
			if err != nil {
				t.Fatal(err)
			}
			got[r] = c.Available
			who, err := d.as("alice").WhoCan(r, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range who {
				if h.Login == "bob" && !c.Available {
					t.Errorf("who-can %s lists bob, but can says no", r)
				}
			}
		}
		return got
	}
	for r, ok := range holds() {
		if !ok {
			t.Fatalf("active bob cannot %s on ticket 1", r)
		}
	}
	if _, err := d.as("alice").SetUserActive("bob", false); err != nil {
		t.Fatal(err)
	}
	for r, ok := range holds() {
		if ok {
			t.Errorf("disabled bob can still %s on ticket 1", r)
		}
	}
	if _, err := d.as("bob").ListTickets(TicketQuery{}); !errs.Is(err, errs.Forbidden) {
		t.Errorf("disabled bob acting: %v, want forbidden", err)
	}
	if _, err := d.as("alice").SetUserActive("bob", true); err != nil {
		t.Fatal(err)
	}
	for r, ok := range holds() {
		if !ok {
			t.Errorf("bob enabled again cannot %s", r)
		}
	}
}

// policyFile reads a policy file as the command line does before a use case.
func policyFile(t *testing.T, file string) PolicySource {
	t.Helper()
	src, err := ReadPolicy(0, file)
	if err != nil {
		t.Fatal(err)
	}
	return src
}
