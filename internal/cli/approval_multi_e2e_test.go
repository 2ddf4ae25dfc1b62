package cli

// Several approvers, a group deciding as one and stages, over the real
// stack: the CLI in-process, a real SMTP server and the pages over real
// HTTP. Links are taken from the mails the server received.

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/deskctl/deskctl/internal/mail/mailtest"
)

// mailsSince returns the mails accepted since the last call (or nextMail),
// by recipient address, and fails if one address got two.
func (s *approvalStack) mailsSince(want int) map[string]mailtest.Received {
	s.t.Helper()
	msgs := s.smtp.WaitFor(s.seen+want, mailWait)
	out := map[string]mailtest.Received{}
	for _, m := range msgs[s.seen:] {
		if _, dup := out[m.To[0]]; dup {
			s.t.Fatalf("two mails to %s: %q", m.To[0], m.Subject)
		}
		out[m.To[0]] = m
	}
	s.seen = len(msgs)
	if len(out) != want {
		s.t.Fatalf("%d mails, want %d", len(out), want)
	}
	return out
}

func addUser(t *testing.T, login, name string) {
	t.Helper()
	mustDesk(t, "user", "add", login, "--email", login+"@example.com", "--name", name)
}

func TestApprovalSeveralApproversAndStages(t *testing.T) {
	s := newApprovalStack(t)
	addUser(t, "dan", "Dan Brown")
	addUser(t, "erin", "Erin Ray")
	addUser(t, "fay", "Fay Long")
	mustDesk(t, "group", "add", "finance")
	mustDesk(t, "group", "add-member", "finance", "dan")
	mustDesk(t, "group", "add-member", "finance", "erin")
	n := s.newTicket("New server")
	num := strconv.Itoa(n)

	// Stage 1: carol and group:finance, both needed; stage 2: fay.
	mustDesk(t, "--as", "bob", "approval", "request", num, "--approver", "carol", "--approver", "group:finance", "--rule", "all",
		"--then", "--approver", "fay", "--note", "rack space")
	stage1 := s.mailsSince(3)
	if _, ok := stage1["fay@example.com"]; ok {
		t.Fatal("fay was mailed before her stage opened")
	}
	subject := "Approval needed: #" + num + " New server"
	carolOK, _ := s.approverLinks(stage1["carol@example.com"], "carol@example.com", subject)
	danOK, _ := s.approverLinks(stage1["dan@example.com"], "dan@example.com", subject)
	_, erinNo := s.approverLinks(stage1["erin@example.com"], "erin@example.com", subject)
	if !strings.Contains(stage1["dan@example.com"].Text, "You are asked as a member of group:finance") {
		t.Errorf("a group member's mail does not say for which group:\n%s", stage1["dan@example.com"].Text)
	}
	if strings.Contains(stage1["carol@example.com"].Text, "member of") {
		t.Error("carol's own mail speaks of a group")
	}
	if got := s.approval(n).Badge; got != "Stage 1 of 2: 0 of 2 approved — waiting for Carol Jones, group:finance" {
		t.Errorf("badge %q", got)
	}

	// Dan decides for the group; Erin's link is then used.
	if p := s.decideByPage(danOK, "approve", "budget ok"); p.status != http.StatusOK || !strings.Contains(p.body, "Dan Brown for group:finance") {
		t.Fatalf("dan approves: %d %q\n%s", p.status, p.heading(), p.body)
	}
	if p := s.fetch(http.MethodGet, erinNo); p.status != http.StatusGone || p.heading() != "Already decided" {
		t.Errorf("erin's link after dan decided: %d %q", p.status, p.heading())
	}
	if got := s.approval(n).Badge; got != "Stage 1 of 2: 1 of 2 approved — waiting for Carol Jones" {
		t.Errorf("badge %q", got)
	}
	s.noNewMail()

	// Carol completes stage 1: fay's mail goes out, nobody else's.
	s.mustApprove(carolOK, "carol's link")
	stage2 := s.mailsSince(1)
	fayOK, fayNo := s.approverLinks(stage2["fay@example.com"], "fay@example.com", subject)
	if got := s.approval(n).Badge; got != "Stage 2 of 2: 0 of 1 approved — waiting for Fay Long" {
		t.Errorf("badge %q", got)
	}
	if p := s.decideByPage(fayNo, "reject", "no rack space"); p.status != http.StatusOK {
		t.Fatalf("fay rejects: %d %q", p.status, p.heading())
	}
	// One mail to the technician, for the request as a whole.
	outcome := s.mailsSince(1)["bob@example.com"]
	if !strings.HasPrefix(outcome.Subject, "Rejected by Fay Long: #"+num) {
		t.Errorf("outcome mail %q", outcome.Subject)
	}
	for _, c := range []string{"Dan Brown for group:finance (approved): budget ok", "Fay Long (rejected): no rack space"} {
		if !strings.Contains(outcome.Text, c) {
			t.Errorf("outcome mail lacks %q:\n%s", c, outcome.Text)
		}
	}
	if p := s.fetch(http.MethodGet, fayOK); p.status != http.StatusGone || p.heading() != "Already decided" {
		t.Errorf("fay's other link: %d %q", p.status, p.heading())
	}
	v := s.approval(n)
	if v.State != "rejected" || v.Badge != "Rejected by Fay Long" || v.DecidedBy != "fay" || len(v.Stages) != 2 {
		t.Errorf("after the rejection: %+v", v)
	}
	if a := v.Stages[0].Approvers[1]; a.Approver != "group:finance" || a.DecidedBy != "dan" || a.Decision != "approved" || a.Comment != "budget ok" || a.Via != "email link" {
		t.Errorf("group decision: %+v", a)
	}
	log := mustDesk(t, "--as", "bob", "ticket", "log", num)
	for _, want := range []string{
		"Approval requested from carol, group:finance (rule all, reject-rule any) then fay (rule any, reject-rule any): rack space",
		"Approved by Dan Brown for group:finance (email link): budget ok",
		"Approved by Carol Jones (email link) — stage 1 approved; stage 2 asks fay",
		"Rejected by Fay Long (email link): no rack space — the request is rejected",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("ticket log lacks %q:\n%s", want, log)
		}
	}
	if got := strings.Count(log, "approval-decision"); got != 3 {
		t.Errorf("%d decision entries, want 3:\n%s", got, log)
	}
	if strings.Contains(mustDesk(t, "--as", "dave", "ticket", "log", num), "approval") {
		t.Error("the requester sees approval entries")
	}
	s.noNewMail()
}

// A rule of any settles on the first decision; every other link then
// answers 410 "already decided by the rule".
func TestApprovalLinksDieWhenTheRuleDecides(t *testing.T) {
	s := newApprovalStack(t)
	addUser(t, "dan", "Dan Brown")
	n := s.newTicket("Desk")
	num := strconv.Itoa(n)
	mustDesk(t, "--as", "bob", "approval", "request", num, "--approver", "carol", "--approver", "dan")
	ms := s.mailsSince(2)
	subject := "Approval needed: #" + num + " Desk"
	carolOK, _ := s.approverLinks(ms["carol@example.com"], "carol@example.com", subject)
	danOK, _ := s.approverLinks(ms["dan@example.com"], "dan@example.com", subject)
	s.mustApprove(carolOK, "carol's link")
	if got := s.mailsSince(1)["bob@example.com"].Subject; !strings.HasPrefix(got, "Approved by Carol Jones: #"+num) {
		t.Errorf("outcome %q", got)
	}
	p := s.fetch(http.MethodGet, danOK)
	if p.status != http.StatusGone || p.heading() != "Already decided by the rule" {
		t.Errorf("dan's link: %d %q", p.status, p.heading())
	}
	deskFails(t, 5, []string{"--as", "dan", "approval", "approve", num}, "not pending")
	s.noNewMail()
}

// Fifty approvers of one request (rule any) decide at once through the
// page: exactly one decision is recorded, one outcome mail is sent, and
// every other link answers 410.
func TestApprovalFiftyApproversAtOnce(t *testing.T) {
	s := newApprovalStack(t)
	args := []string{"--as", "bob", "approval", "request", "", "--rule", "any"}
	var logins []string
	for i := range 50 {
		login := "ap" + strconv.Itoa(i)
		addUser(t, login, "Approver "+strconv.Itoa(i))
		logins = append(logins, login)
		args = append(args, "--approver", login)
	}
	n := s.newTicket("Fifty")
	args[4] = strconv.Itoa(n)
	mustDesk(t, args...)
	ms := s.mailsSince(50)
	subject := "Approval needed: #" + strconv.Itoa(n) + " Fifty"
	forms := make([]form, 0, 50)
	for _, l := range logins {
		ok, _ := s.approverLinks(ms[l+"@example.com"], l+"@example.com", subject)
		forms = append(forms, s.openForm(ok))
	}
	pages := make([]page, len(forms))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, f := range forms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			decision := "approve"
			if i%2 == 1 {
				decision = "reject"
			}
			pages[i] = s.post(f, s.public, decision, "")
		}()
	}
	close(start)
	wg.Wait()
	recorded, gone := 0, 0
	for i, p := range pages {
		switch {
		case p.status == http.StatusOK:
			recorded++
		case p.status == http.StatusGone && p.heading() == "Already decided by the rule":
			gone++
		default:
			t.Errorf("approver %d: %d %q", i, p.status, p.heading())
		}
	}
	if recorded != 1 || gone != 49 {
		t.Fatalf("%d decisions recorded and %d refused, want 1 and 49", recorded, gone)
	}
	if d := s.decisions(n); d != 1 {
		t.Errorf("%d decision audit records, want 1", d)
	}
	out := s.mailsSince(1)
	if _, ok := out["bob@example.com"]; !ok {
		t.Errorf("the one mail after the decisions is not the technician's: %v", out)
	}
	s.noNewMail()
	if log := mustDesk(t, "--as", "bob", "ticket", "log", strconv.Itoa(n)); strings.Count(log, "approval-decision") != 1 {
		t.Errorf("ticket log:\n%s", log)
	}
}

// Bad input is refused with exit 2 and a hint, and nothing is written.
func TestApprovalSeveralApproversRefused(t *testing.T) {
	s := newApprovalStack(t)
	addUser(t, "dan", "Dan Brown")
	addUser(t, "gone", "Gone User")
	mustDesk(t, "user", "disable", "gone")
	mustDesk(t, "group", "add", "empty")
	mustDesk(t, "group", "add", "idle")
	mustDesk(t, "group", "add-member", "idle", "gone")
	n := strconv.Itoa(s.newTicket("Refusals"))
	before := mustDesk(t, "audit", "verify")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--approver", "carol", "--approver", "karol"}, "karol"},
		{[]string{"--approver", "carol", "--approver", "group:nosuch"}, "nosuch"},
		{[]string{"--approver", "group:empty"}, "group empty has no active member"},
		{[]string{"--approver", "group:idle", "--approver", "carol"}, "group idle has no active member"},
		{[]string{"--approver", "carol", "--approver", "gone"}, "gone is disabled"},
		{[]string{"--approver", "carol", "--approver", "dan", "--rule", "3"}, "more approvers than the stage has (2)"},
		{[]string{"--approver", "carol", "--then"}, "stage 2 has no approver"},
		{[]string{"--approver", "carol", "--approver", "carol"}, "carol is named twice"},
		{[]string{"--approver", "carol", "--then", "--approver", "carol"}, "carol is named twice"},
		{[]string{"--approver", "carol", "--rule", "most"}, "--rule \"most\" is not a rule"},
		{[]string{"--approver", "carol", "--rule", "all", "--rule", "any"}, "--rule is given twice"},
	} {
		args := append([]string{"--as", "bob", "approval", "request", n}, tc.args...)
		errOut := deskFails(t, 2, args, tc.want)
		if !strings.Contains(errOut, "hint: ") {
			t.Errorf("%v: no hint:\n%s", tc.args, errOut)
		}
	}
	if after := mustDesk(t, "audit", "verify"); after != before {
		t.Errorf("a refused request changed the audit log:\n%s\n%s", before, after)
	}
	deskFails(t, 3, []string{"--as", "bob", "approval", "show", n}, "has no approval request")
	s.noNewMail()
}
