package app

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/mail/mailtest"
)

// propertyPolicy is testPolicy with three more users and two groups.
var propertyPolicy = strings.Replace(strings.Replace(testPolicy, "groups:\n", `  - {login: e0, name: E0, email: e0@example.com}
  - {login: e1, name: E1, email: e1@example.com}
  - {login: e2, name: E2, email: e2@example.com}
  - {login: m0, name: M0, email: m0@example.com}
  - {login: m1, name: M1, email: m1@example.com}
  - {login: m2, name: M2, email: m2@example.com}
groups:
`, 1), "groups:\n", "groups:\n  - {name: fin, members: [m0, m1]}\n  - {name: ops, members: [m2]}\n", 1)

var forGroupText = regexp.MustCompile(`You are asked as a member of group:(\w+)`)

// mailedLink is one link an approver received.
type mailedLink struct {
	token string
	key   string // whose decision it is: the user's login, or group:NAME
	stage int    // the stage open when it was mailed, from 1
}

// TestApprovalPropertyRandomSequences runs random requests (one or two
// stages of users and groups under random rules) through random
// decisions with every link ever mailed, reminders and cancels, and checks:
// a link decides exactly when it is live (its approver has not decided, its
// stage is open, no reminder replaced it, the request is pending); the
// request ends in exactly one terminal state; the technician gets exactly
// one outcome mail if it was decided; the log has one entry per decision.
func TestApprovalPropertyRandomSequences(t *testing.T) {
	d := newTestDesk(t)
	d.apply(t, "alice", propertyPolicy)
	pool := []string{"e0", "e1", "e2", "group:fin", "group:ops"}
	rules := []string{"any", "all", "majority", "1", "2"}
	// Automatic reminders too, so sweeps also remind before deadlines.
	for k, v := range map[string]string{"approvals.remind-after": "20h", "approvals.remind-max": "2"} {
		if _, err := d.as("alice").SetSetting(k, v); err != nil {
			t.Fatal(err)
		}
	}
	swept := map[string]int{} // what sweeps did, over all cases
	for iter := range 40 {
		rng := rand.New(rand.NewPCG(uint64(iter), 7))
		tv, err := d.as("alice").CreateTicket(CreateTicketInput{Subject: fmt.Sprintf("case %d", iter), Requester: "dave", Resource: "network"})
		if err != nil {
			t.Fatal(err)
		}
		n := tv.Number
		// Random stages over a shuffled pool, each approver used once.
		perm := rng.Perm(len(pool))
		var specs []helpdesk.StageSpec
		cut := 1 + rng.IntN(len(pool)-1)
		if rng.IntN(2) == 0 {
			cut = len(pool)
		}
		for _, part := range [][]int{perm[:cut], perm[cut:]} {
			if len(part) == 0 {
				continue
			}
			var sp helpdesk.StageSpec
			for _, i := range part {
				sp.Approvers = append(sp.Approvers, pool[i])
			}
			for sp.Rule = mustRule(t, rules[rng.IntN(len(rules))]); sp.Rule.Need(len(part)) > len(part); {
				sp.Rule = mustRule(t, "any")
			}
			for sp.RejectRule = mustRule(t, rules[rng.IntN(len(rules))]); sp.RejectRule.Need(len(part)) > len(part); {
				sp.RejectRule = mustRule(t, "all")
			}
			specs = append(specs, sp)
		}
		desc := fmt.Sprintf("case %d %+v", iter, specs)
		seen := len(d.smtp.Messages())
		var links []mailedLink
		dead := map[string]bool{}
		openStage := 1
		collect := func() {
			msgs := d.smtp.Messages()
			for _, m := range msgs[seen:] {
				if !strings.Contains(m.Subject, fmt.Sprintf("#%d ", n)) || !strings.Contains(m.Subject, "pproval needed") {
					continue
				}
				key := strings.TrimSuffix(m.To[0], "@example.com")
				if g := forGroupText.FindStringSubmatch(m.Text); g != nil {
					key = "group:" + g[1]
				}
				for _, l := range mailtest.Links(m.Text) {
					if tok := tokenInLink.FindStringSubmatch(l); tok != nil {
						links = append(links, mailedLink{tok[1], key, openStage})
					}
				}
			}
			seen = len(msgs)
		}
		// Four in five requests get a deadline, each timeout action in turn.
		var deadline helpdesk.DeadlineSpec
		if iter%5 != 4 {
			action := []string{"remind", "reject", "cancel", "escalate-to:carol"}[iter%5]
			act, to, err := helpdesk.ParseOnTimeout(action)
			if err != nil {
				t.Fatal(err)
			}
			deadline = helpdesk.DeadlineSpec{Due: time.Duration(1+rng.IntN(48)) * time.Hour, OnTimeout: act, EscalateTo: to}
			desc += fmt.Sprintf(" due %s on-timeout %s", deadline.Due, action)
		}
		if _, _, err := d.as("bob").RequestApprovalWith(ApprovalRequestInput{Ticket: n, Stages: specs, Deadline: deadline}); err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		collect()
		decisions := 0
		state := func() ApprovalView {
			v, err := d.as("alice").ShowApproval(n)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		for step := 0; step < 30; step++ {
			v := state()
			if v.State != "pending" {
				break
			}
			switch r := rng.IntN(20); {
			case r >= 4 && r < 7:
				// Time passes and a sweep runs: a timeout may remind,
				// escalate, reject or cancel; whatever it does to links
				// shows in the reminder count or the state.
				d.now = d.now.Add(time.Duration(1+rng.IntN(36)) * time.Hour)
				res, _, err := d.as("alice").SweepApprovals()
				if err != nil {
					t.Fatalf("%s: sweep: %v", desc, err)
				}
				for _, a := range res.Actions {
					swept[a.Action]++
				}
				if after := state(); after.Reminders != v.Reminders || after.Round != v.Round {
					for _, l := range links {
						dead[l.token] = true
					}
					collect()
				}
			case r == 0:
				if _, _, err := d.as("alice").CancelApproval(n); err != nil {
					t.Fatalf("%s: cancel: %v", desc, err)
				}
			case r < 4:
				if _, _, err := d.as("bob").RemindApproval(n); err != nil {
					t.Fatalf("%s: remind: %v", desc, err)
				}
				for _, l := range links {
					dead[l.token] = true
				}
				collect()
			default:
				if len(links) == 0 {
					t.Fatalf("%s: nothing mailed", desc)
				}
				l := links[rng.IntN(len(links))]
				_, _, err := d.as("").DecideByToken(l.token, rng.IntN(3) > 0, "")
				switch {
				case dead[l.token] && err == nil:
					t.Fatalf("%s step %d: a dead link of %s decided", desc, step, l.key)
				case !dead[l.token] && err != nil:
					t.Fatalf("%s step %d: a live link of %s was refused: %v", desc, step, l.key, err)
				case err != nil && linkProblem(err) == "":
					t.Fatalf("%s step %d: %v", desc, step, err)
				}
				if err == nil {
					decisions++
					for _, o := range links {
						if o.key == l.key {
							dead[o.token] = true
						}
					}
				}
			}
			v = state()
			if v.State != "pending" {
				for _, l := range links {
					dead[l.token] = true
				}
				continue
			}
			for _, st := range v.Stages {
				if st.State == "pending" && st.Stage != openStage {
					for _, l := range links {
						if l.stage == openStage {
							dead[l.token] = true
						}
					}
					openStage = st.Stage
					collect()
				}
			}
		}
		v := state()
		if v.State == "pending" {
			if _, _, err := d.as("alice").CancelApproval(n); err != nil {
				t.Fatalf("%s: final cancel: %v", desc, err)
			}
			v = state()
		}
		if v.State != "approved" && v.State != "rejected" && v.State != "cancelled" {
			t.Fatalf("%s: ends %s", desc, v.State)
		}
		// Every link is dead now.
		for _, l := range links {
			if _, _, err := d.as("").DecideByToken(l.token, true, ""); err == nil {
				t.Fatalf("%s: a link decided after the request ended %s", desc, v.State)
			}
		}
		outcomes := 0
		for _, m := range d.smtp.Messages() {
			if m.To[0] == "bob@example.com" && strings.Contains(m.Subject, fmt.Sprintf(": #%d ", n)) {
				outcomes++
			}
		}
		if want := map[bool]int{true: 0, false: 1}[v.State == "cancelled"]; outcomes != want {
			t.Fatalf("%s: ended %s with %d outcome mails, want %d", desc, v.State, outcomes, want)
		}
		log, err := d.as("bob").TicketLog(n)
		if err != nil {
			t.Fatal(err)
		}
		entries, recorded := 0, 0
		for _, e := range log {
			if e.Action == "approval-decision" {
				entries++
			}
		}
		for _, st := range v.Stages {
			for _, a := range st.Approvers {
				if a.Decision != "" {
					recorded++
				}
			}
		}
		if entries != decisions || recorded != decisions {
			t.Fatalf("%s: %d decisions made, %d log entries, %d recorded", desc, decisions, entries, recorded)
		}
	}
	// The cases must have exercised timeouts, or the property says nothing about them.
	if len(swept) < 5 { // remind and the four timeout actions
		t.Fatalf("sweeps did only %v over all cases", swept)
	}
	t.Logf("sweep actions: %v", swept)
}

func mustRule(t *testing.T, s string) helpdesk.ApprovalRule {
	t.Helper()
	r, err := helpdesk.ParseApprovalRule("--rule", s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
