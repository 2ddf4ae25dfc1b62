package helpdesk

import (
	"testing"
	"time"
)

func TestNextStep(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	h := time.Hour
	pending := func(dl *DeadlineSpec, autos int, nudged time.Time) Approval {
		a := Approval{Ticket: 1, State: ApprovalPending, Approver: "carol", RequestedAt: t0}
		if dl != nil {
			a.SetDeadline(*dl, t0)
		} else {
			a.SetDeadline(DeadlineSpec{}, t0)
		}
		a.AutoReminders = autos
		if !nudged.IsZero() {
			a.Nudged = nudged
		}
		return a
	}
	reminders := Reminders{After: 24 * h, Every: 12 * h, Max: 2}
	for _, c := range []struct {
		name string
		a    Approval
		r    Reminders
		now  time.Time
		want Step
		ok   bool
	}{
		{"nothing set", pending(nil, 0, time.Time{}), Reminders{}, t0.Add(1000 * h), Step{}, false},
		{"before remind-after", pending(nil, 0, time.Time{}), reminders, t0.Add(24*h - time.Second), Step{}, false},
		{"first reminder at remind-after", pending(nil, 0, time.Time{}), reminders, t0.Add(24 * h), Step{Kind: StepRemind, Reminder: 1}, true},
		{"second waits remind-every", pending(nil, 1, t0.Add(24*h)), reminders, t0.Add(35 * h), Step{}, false},
		{"second after remind-every", pending(nil, 1, t0.Add(24*h)), reminders, t0.Add(36 * h), Step{Kind: StepRemind, Reminder: 2}, true},
		{"remind-max reached", pending(nil, 2, t0.Add(36*h)), reminders, t0.Add(100 * h), Step{}, false},
		{"remind-max 0 turns them off", pending(nil, 0, time.Time{}), Reminders{After: h, Every: h, Max: 0}, t0.Add(100 * h), Step{}, false},
		{"manual reminder restarts the wait", pending(nil, 0, t0.Add(20*h)), reminders, t0.Add(30 * h), Step{}, false},
		{"deadline not yet", pending(&DeadlineSpec{Due: 48 * h, OnTimeout: TimeoutReject}, 0, time.Time{}), Reminders{}, t0.Add(48*h - time.Second), Step{}, false},
		{"reject at the deadline", pending(&DeadlineSpec{Due: 48 * h, OnTimeout: TimeoutReject}, 0, time.Time{}), Reminders{}, t0.Add(48 * h), Step{Kind: StepTimeout, Action: TimeoutReject}, true},
		{"cancel", pending(&DeadlineSpec{Due: 48 * h, OnTimeout: TimeoutCancel}, 0, time.Time{}), Reminders{}, t0.Add(49 * h), Step{Kind: StepTimeout, Action: TimeoutCancel}, true},
		{"remind", pending(&DeadlineSpec{Due: 48 * h, OnTimeout: TimeoutRemind}, 0, time.Time{}), Reminders{}, t0.Add(49 * h), Step{Kind: StepTimeout, Action: TimeoutRemind}, true},
		{"escalate", pending(&DeadlineSpec{Due: 48 * h, OnTimeout: TimeoutEscalate, EscalateTo: "dave"}, 0, time.Time{}), Reminders{}, t0.Add(49 * h), Step{Kind: StepTimeout, Action: TimeoutEscalate, EscalateTo: "dave"}, true},
		{"timeout wins over a due reminder", pending(&DeadlineSpec{Due: 24 * h, OnTimeout: TimeoutReject}, 0, time.Time{}), reminders, t0.Add(24 * h), Step{Kind: StepTimeout, Action: TimeoutReject}, true},
		{"reminder before the deadline", pending(&DeadlineSpec{Due: 48 * h, OnTimeout: TimeoutReject}, 0, time.Time{}), reminders, t0.Add(25 * h), Step{Kind: StepRemind, Reminder: 1}, true},
		{"decided: nothing", func() Approval {
			a := pending(&DeadlineSpec{Due: h, OnTimeout: TimeoutReject}, 0, time.Time{})
			a.State = ApprovalApproved
			return a
		}(), reminders, t0.Add(100 * h), Step{}, false},
		{"cancelled: nothing", func() Approval {
			a := pending(&DeadlineSpec{Due: h, OnTimeout: TimeoutReject}, 0, time.Time{})
			a.State = ApprovalCancelled
			return a
		}(), reminders, t0.Add(100 * h), Step{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.a.NextStep(c.r, c.now)
			if ok != c.ok || got != c.want {
				t.Fatalf("NextStep = %+v, %v; want %+v, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

// Each stage has its own window from when it opens: approving stage 1
// late does not leave stage 2 already overdue.
func TestDeadlinePerStage(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	specs := []StageSpec{{Approvers: []string{"carol"}}, {Approvers: []string{"dan"}}}
	plan, err := NewStages(specs, func(ap string) ([]string, error) { return []string{ap}, nil }, t0)
	if err != nil {
		t.Fatal(err)
	}
	a := Approval{Ticket: 1, State: ApprovalPending, RequestedAt: t0, Stages: plan}
	a.Summarize()
	a.SetDeadline(DeadlineSpec{Due: 48 * time.Hour, OnTimeout: TimeoutReject}, t0)
	a.AutoReminders = 2
	if !a.Due.Equal(t0.Add(48 * time.Hour)) {
		t.Fatalf("due = %v", a.Due)
	}
	late := t0.Add(47 * time.Hour)
	if _, err := a.Decide(LinkRef{0, 0, 0}, "carol", true, "", "command line", late); err != nil {
		t.Fatal(err)
	}
	if !a.Due.Equal(late.Add(48*time.Hour)) || a.AutoReminders != 0 || !a.Nudged.Equal(late) {
		t.Fatalf("stage 2 clock: due %v, reminders %d, nudged %v", a.Due, a.AutoReminders, a.Nudged)
	}
	if _, ok := a.NextStep(Reminders{}, t0.Add(50*time.Hour)); ok {
		t.Fatal("stage 2 timed out on stage 1's clock")
	}
}

func TestTimeoutActions(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	specs := []StageSpec{{Approvers: []string{"carol", "dan", "erin"}, Rule: ApprovalRule{Kind: RuleCount, Count: 3}}}
	fresh := func() Approval {
		plan, err := NewStages(specs, func(ap string) ([]string, error) { return []string{ap}, nil }, t0)
		if err != nil {
			t.Fatal(err)
		}
		a := Approval{Ticket: 1, State: ApprovalPending, RequestedAt: t0, Stages: plan}
		a.Summarize()
		a.SetDeadline(DeadlineSpec{Due: 24 * time.Hour, OnTimeout: TimeoutEscalate, EscalateTo: "boss"}, t0)
		if _, err := a.Decide(LinkRef{0, 0, 0}, "carol", true, "", "command line", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		return a
	}
	now := t0.Add(25 * time.Hour)

	t.Run("reject", func(t *testing.T) {
		a := fresh()
		a.TimeOut(now)
		if a.State != ApprovalRejected || !a.TimedOut || a.Stages[0].State != ApprovalRejected || a.OpenStage() != -1 {
			t.Fatalf("after TimeOut: %+v", a)
		}
	})
	t.Run("remind", func(t *testing.T) {
		a := fresh()
		before := a.Reminders
		a.RemindOnTimeout(now)
		if a.Reminders != before+1 || !a.Due.Equal(now.Add(24*time.Hour)) || a.State != ApprovalPending {
			t.Fatalf("after RemindOnTimeout: reminders %d, due %v", a.Reminders, a.Due)
		}
	})
	t.Run("escalate replaces the undecided approvers", func(t *testing.T) {
		a := fresh()
		replaced, ok := a.Escalate("boss", "boss", "", now)
		if !ok || len(replaced) != 2 || replaced[0] != "dan" || replaced[1] != "erin" {
			t.Fatalf("Escalate = %v, %v", replaced, ok)
		}
		st := a.Stages[0]
		if len(st.Approvers) != 2 || st.Approvers[0].Approver != "carol" || st.Approvers[1].Approver != "boss" {
			t.Fatalf("approvers after escalation: %+v", st.Approvers)
		}
		if st.Rule.Kind != RuleAll {
			t.Fatalf("rule 3 of now 2 approvers should read all, got %v", st.Rule)
		}
		if a.Deadline.OnTimeout != TimeoutRemind || !a.Due.Equal(now.Add(24*time.Hour)) {
			t.Fatalf("after escalation: on-timeout %s, due %v", a.Deadline.OnTimeout, a.Due)
		}
		// boss decides and settles the stage with carol's approval.
		res, err := a.Decide(LinkRef{0, 1, 0}, "boss", true, "", "command line", now)
		if err != nil || !res.Decided || a.State != ApprovalApproved {
			t.Fatalf("boss's decision: %+v, %v, %s", res, err, a.State)
		}
	})
	t.Run("escalate to a decided approver is refused", func(t *testing.T) {
		a := fresh()
		if _, ok := a.Escalate("carol", "carol", "", now); ok {
			t.Fatal("carol already decided, yet the escalation went to her")
		}
		if len(a.Stages[0].Approvers) != 3 {
			t.Fatal("a refused escalation changed the record")
		}
	})
}

func TestDeadlineSpecComplete(t *testing.T) {
	for _, c := range []struct {
		in      DeadlineSpec
		want    DeadlineSpec
		wantErr bool
	}{
		{DeadlineSpec{}, DeadlineSpec{}, false},
		{DeadlineSpec{Due: time.Hour}, DeadlineSpec{Due: time.Hour, OnTimeout: TimeoutRemind}, false},
		{DeadlineSpec{Due: time.Hour, EscalateTo: "dave"}, DeadlineSpec{Due: time.Hour, OnTimeout: TimeoutEscalate, EscalateTo: "dave"}, false},
		{DeadlineSpec{OnTimeout: TimeoutReject}, DeadlineSpec{}, true},
		{DeadlineSpec{Due: time.Hour, OnTimeout: TimeoutEscalate}, DeadlineSpec{}, true},
		{DeadlineSpec{Due: time.Hour, OnTimeout: TimeoutReject, EscalateTo: "dave"}, DeadlineSpec{}, true},
	} {
		got, err := c.in.Complete()
		if (err != nil) != c.wantErr || (!c.wantErr && got != c.want) {
			t.Errorf("Complete(%+v) = %+v, %v", c.in, got, err)
		}
	}
	for _, bad := range []string{"soon", "30s", "-1h", "9000h"} {
		if _, err := ParseDue("--due", bad); err == nil {
			t.Errorf("ParseDue(%q) accepted", bad)
		}
	}
	if a, to, err := ParseOnTimeout("escalate-to:dave"); err != nil || a != TimeoutEscalate || to != "dave" {
		t.Errorf("ParseOnTimeout(escalate-to:dave) = %v %v %v", a, to, err)
	}
	if r := ReminderSettings(map[string]string{SettingRemindAfter: "24h"}); r.Every != 24*time.Hour || r.Max != 3 {
		t.Errorf("remind-every defaults to remind-after and max to 3: %+v", r)
	}
}
