package helpdesk

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

func rule(t *testing.T, s string) ApprovalRule {
	t.Helper()
	r, err := ParseApprovalRule("--rule", s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseApprovalRule(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		need map[int]int // approvers → needed
	}{
		{"", "any", map[int]int{1: 1, 3: 1}},
		{"any", "any", map[int]int{1: 1, 5: 1}},
		{"all", "all", map[int]int{1: 1, 3: 3, 50: 50}},
		{"majority", "majority", map[int]int{1: 1, 2: 2, 3: 2, 4: 3, 5: 3}},
		{"2", "2", map[int]int{2: 2, 7: 2}},
	} {
		r := rule(t, tc.in)
		if r.String() != tc.want {
			t.Errorf("%q reads as %q, want %q", tc.in, r.String(), tc.want)
		}
		for n, need := range tc.need {
			if got := r.Need(n); got != need {
				t.Errorf("%q of %d needs %d, want %d", tc.in, n, got, need)
			}
		}
		b, _ := r.MarshalText()
		var back ApprovalRule
		if err := back.UnmarshalText(b); err != nil || back != r {
			t.Errorf("%q does not survive a round trip: %v %v", tc.in, back, err)
		}
	}
	for _, bad := range []string{"0", "-1", "most", "1.5", "ALL"} {
		_, err := ParseApprovalRule("--rule", bad)
		if !errs.Is(err, errs.Usage) || errs.HintOf(err) == "" {
			t.Errorf("%q: want a usage error with a hint, got %v", bad, err)
		}
	}
	if err := rule(t, "4").Check("--rule", 3); !errs.Is(err, errs.Usage) || !strings.Contains(err.Error(), "more approvers than the stage has (3)") {
		t.Errorf("4 of 3: %v", err)
	}
	if err := rule(t, "3").Check("--rule", 3); err != nil {
		t.Errorf("3 of 3: %v", err)
	}
}

func TestStageOutcome(t *testing.T) {
	for _, tc := range []struct {
		rule, reject string
		n, ok, no    int
		want         ApprovalState
	}{
		{"any", "any", 3, 0, 0, ApprovalPending},
		{"any", "any", 3, 1, 0, ApprovalApproved},
		{"any", "any", 3, 0, 1, ApprovalRejected},
		{"all", "any", 3, 2, 0, ApprovalPending},
		{"all", "any", 3, 3, 0, ApprovalApproved},
		{"all", "any", 3, 2, 1, ApprovalRejected},
		{"majority", "any", 5, 2, 0, ApprovalPending},
		{"majority", "any", 5, 3, 0, ApprovalApproved},
		{"majority", "majority", 5, 2, 2, ApprovalPending},
		{"majority", "majority", 5, 2, 3, ApprovalRejected},
		{"majority", "all", 4, 2, 1, ApprovalPending},
		// 2 approved, 2 rejected of 4: a majority (3) can no longer be reached.
		{"majority", "all", 4, 2, 2, ApprovalRejected},
		{"2", "any", 3, 1, 0, ApprovalPending},
		{"2", "any", 3, 2, 0, ApprovalApproved},
		{"2", "2", 3, 1, 1, ApprovalPending},
		{"2", "2", 3, 0, 2, ApprovalRejected},
		// any approval suffices, everyone must reject.
		{"any", "all", 3, 0, 2, ApprovalPending},
		{"any", "all", 3, 0, 3, ApprovalRejected},
		{"any", "all", 3, 1, 2, ApprovalApproved},
		// all must approve, all must reject: one rejection already makes
		// "all approved" impossible, so waiting on would never end.
		{"all", "all", 3, 2, 1, ApprovalRejected},
		{"all", "all", 3, 1, 0, ApprovalPending},
		{"any", "any", 1, 1, 0, ApprovalApproved},
		{"any", "any", 1, 0, 1, ApprovalRejected},
	} {
		got := StageOutcome(rule(t, tc.rule), rule(t, tc.reject), tc.n, tc.ok, tc.no)
		if got != tc.want {
			t.Errorf("rule %s, reject-rule %s, %d approvers, %d approved, %d rejected: %s, want %s",
				tc.rule, tc.reject, tc.n, tc.ok, tc.no, got, tc.want)
		}
	}
}

// members is a directory for NewStages: users are themselves, groups have
// the people listed.
func members(groups map[string][]string) func(string) ([]string, error) {
	return func(ap string) ([]string, error) {
		if name, ok := strings.CutPrefix(ap, "group:"); ok {
			return groups[name], nil
		}
		return []string{ap}, nil
	}
}

type step struct {
	stage, slot, link int
	approve           bool
	wantErr           LinkProblem // "" when the decision must be recorded
	want              ApprovalState
	opened            int
}

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	groups := map[string][]string{"finance": {"dan", "erin"}, "board": {"fay", "gus", "hal"}}
	for _, tc := range []struct {
		name   string
		stages []StageSpec
		steps  []step
	}{
		{"one approver approves", []StageSpec{{Approvers: []string{"carol"}}}, []step{
			{0, 0, 0, true, "", ApprovalApproved, -1},
			{0, 0, 0, false, LinkUsed, ApprovalApproved, -1},
		}},
		{"any: the first decision settles, the others die", []StageSpec{{Approvers: []string{"carol", "dave", "group:finance"}}}, []step{
			{0, 1, 0, false, "", ApprovalRejected, -1},
			{0, 0, 0, true, LinkDecidedByRule, ApprovalRejected, -1},
			{0, 2, 1, true, LinkDecidedByRule, ApprovalRejected, -1},
		}},
		{"all: waits for every approver", []StageSpec{{Approvers: []string{"carol", "dave", "group:finance"}, Rule: ApprovalRule{Kind: RuleAll}}}, []step{
			{0, 0, 0, true, "", ApprovalPending, -1},
			{0, 2, 1, true, "", ApprovalPending, -1},
			{0, 1, 0, true, "", ApprovalApproved, -1},
		}},
		{"group counts as one: the second member's link is used", []StageSpec{{Approvers: []string{"carol", "group:finance"}, Rule: ApprovalRule{Kind: RuleAll}}}, []step{
			{0, 1, 0, true, "", ApprovalPending, -1},
			{0, 1, 1, false, LinkUsed, ApprovalPending, -1},
			{0, 0, 0, true, "", ApprovalApproved, -1},
		}},
		{"majority of a group and users, reject-rule majority", []StageSpec{{Approvers: []string{"carol", "dave", "group:board"},
			Rule: ApprovalRule{Kind: RuleMajority}, RejectRule: ApprovalRule{Kind: RuleMajority}}}, []step{
			{0, 2, 2, true, "", ApprovalPending, -1},
			{0, 0, 0, false, "", ApprovalPending, -1},
			{0, 1, 0, true, "", ApprovalApproved, -1},
		}},
		{"majority: any rejection still rejects by default", []StageSpec{{Approvers: []string{"carol", "dave", "group:board"}, Rule: ApprovalRule{Kind: RuleMajority}}}, []step{
			{0, 2, 2, true, "", ApprovalPending, -1},
			{0, 0, 0, false, "", ApprovalRejected, -1},
		}},
		{"count 2 with reject-rule all", []StageSpec{{Approvers: []string{"carol", "dave", "ivy"}, Rule: ApprovalRule{Kind: RuleCount, Count: 2},
			RejectRule: ApprovalRule{Kind: RuleAll}}}, []step{
			{0, 0, 0, false, "", ApprovalPending, -1},
			{0, 1, 0, true, "", ApprovalPending, -1},
			{0, 2, 0, true, "", ApprovalApproved, -1},
		}},
		{"reject-rule 2: one rejection is not enough", []StageSpec{{Approvers: []string{"carol", "dave", "ivy"}, RejectRule: ApprovalRule{Kind: RuleCount, Count: 2}}}, []step{
			{0, 0, 0, false, "", ApprovalPending, -1},
			{0, 1, 0, false, "", ApprovalRejected, -1},
			{0, 2, 0, true, LinkDecidedByRule, ApprovalRejected, -1},
		}},
		{"two stages: the second opens after the first is approved", []StageSpec{
			{Approvers: []string{"carol"}},
			{Approvers: []string{"dave", "group:finance"}, Rule: ApprovalRule{Kind: RuleAll}},
		}, []step{
			{1, 0, 0, true, LinkDecidedByRule, ApprovalPending, -1}, // not open yet
			{0, 0, 0, true, "", ApprovalPending, 1},
			{1, 1, 0, true, "", ApprovalPending, -1},
			{1, 0, 0, true, "", ApprovalApproved, -1},
		}},
		{"two stages: a rejected stage rejects the request", []StageSpec{
			{Approvers: []string{"carol"}},
			{Approvers: []string{"dave", "group:finance"}, Rule: ApprovalRule{Kind: RuleAll}},
		}, []step{
			{0, 0, 0, true, "", ApprovalPending, 1},
			{1, 1, 1, false, "", ApprovalRejected, -1},
			{1, 0, 0, true, LinkDecidedByRule, ApprovalRejected, -1},
		}},
		{"first stage rejected: the second never opens", []StageSpec{
			{Approvers: []string{"carol", "dave"}, Rule: ApprovalRule{Kind: RuleAll}},
			{Approvers: []string{"group:finance"}},
		}, []step{
			{0, 0, 0, false, "", ApprovalRejected, -1},
			{1, 0, 0, true, LinkDecidedByRule, ApprovalRejected, -1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := NewStages(tc.stages, members(groups), t0)
			if err != nil {
				t.Fatal(err)
			}
			a := Approval{Ticket: 7, State: ApprovalPending, RequestedAt: t0, Stages: st}
			a.Summarize()
			decided := 0
			for i, s := range tc.steps {
				now := t0.Add(time.Duration(i+1) * time.Minute)
				before := a
				res, err := a.Decide(LinkRef{s.stage, s.slot, s.link}, "p", s.approve, "", "email link", now)
				var le *LinkError
				switch {
				case s.wantErr == "" && err != nil:
					t.Fatalf("step %d: %v", i, err)
				case s.wantErr != "" && (!errors.As(err, &le) || le.Problem != s.wantErr):
					t.Fatalf("step %d: want %s, got %v", i, s.wantErr, err)
				case s.wantErr != "" && a.State != before.State:
					t.Fatalf("step %d: a refused decision changed the state", i)
				}
				if a.State != s.want {
					t.Fatalf("step %d: request %s, want %s", i, a.State, s.want)
				}
				if err == nil && res.Opened != s.opened {
					t.Fatalf("step %d: opened %d, want %d", i, res.Opened, s.opened)
				}
				if res.Decided {
					decided++
					if !a.DecidedAt.Equal(now) {
						t.Fatalf("step %d: decided at %v", i, a.DecidedAt)
					}
				}
			}
			if a.State != ApprovalPending && decided != 1 {
				t.Fatalf("the request was decided %d times", decided)
			}
		})
	}
}

func TestNewStagesRefuses(t *testing.T) {
	groups := map[string][]string{"finance": {"dan"}}
	for _, tc := range []struct {
		name  string
		specs []StageSpec
		want  string
	}{
		{"nothing", nil, "needs --approver"},
		{"empty stage after --then", []StageSpec{{Approvers: []string{"carol"}}, {}}, "stage 2 has no approver"},
		{"duplicate in a stage", []StageSpec{{Approvers: []string{"carol", "carol"}}}, "carol is named twice"},
		{"duplicate across stages", []StageSpec{{Approvers: []string{"group:finance"}}, {Approvers: []string{"group:finance"}}}, "group:finance is named twice"},
		{"count too large", []StageSpec{{Approvers: []string{"carol", "dave"}, Rule: ApprovalRule{Kind: RuleCount, Count: 3}}}, "more approvers than the stage has (2)"},
		{"reject count too large", []StageSpec{{Approvers: []string{"carol"}, RejectRule: ApprovalRule{Kind: RuleCount, Count: 2}}}, "--reject-rule 2"},
	} {
		_, err := NewStages(tc.specs, members(groups), time.Time{})
		if !errs.Is(err, errs.Usage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want usage error %q, got %v", tc.name, tc.want, err)
		}
	}
}

// A record written before stages existed reads as one stage with one link.
func TestPlanOfOldRecord(t *testing.T) {
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	a := Approval{Ticket: 3, State: ApprovalPending, Approver: "carol", TokenHash: "h1", Expires: t0.Add(time.Hour), RequestedAt: t0}
	if !a.Single() || a.OpenStage() != 0 {
		t.Fatalf("old record: single %v, open stage %d", a.Single(), a.OpenStage())
	}
	ref, ok := a.FindLink("h1")
	if !ok || ref != (LinkRef{}) {
		t.Fatalf("old link: %v %v", ref, ok)
	}
	res, err := a.Decide(ref, "carol", true, "fine", "email link", t0.Add(time.Minute))
	if err != nil || !res.Decided {
		t.Fatal(res, err)
	}
	if a.State != ApprovalApproved || a.DecidedBy != "carol" || a.Comment != "fine" || a.TokenHash != "h1" || a.Approver != "carol" {
		t.Fatalf("summary after the decision: %+v", a)
	}
}
