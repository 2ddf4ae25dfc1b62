package helpdesk

import (
	"strconv"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

// TimeoutAction is what happens when the open stage of a request reaches
// its deadline without being settled.
type TimeoutAction string

const (
	// TimeoutRemind sends the undecided approvers fresh links and a new due.
	TimeoutRemind TimeoutAction = "remind"
	// TimeoutReject rejects the request ("timed out").
	TimeoutReject TimeoutAction = "reject"
	// TimeoutCancel cancels the request, as approval cancel does.
	TimeoutCancel TimeoutAction = "cancel"
	// TimeoutEscalate puts one user in place of the undecided approvers.
	TimeoutEscalate TimeoutAction = "escalate"
)

// DeadlineSpec is the deadline a request is made with: each stage has Due
// to be settled from the moment it opens, and OnTimeout says what happens
// when it is not. The zero spec sets no deadline.
type DeadlineSpec struct {
	Due        time.Duration `json:"due"`
	OnTimeout  TimeoutAction `json:"on_timeout,omitempty"`
	EscalateTo string        `json:"escalate_to,omitempty"` // for TimeoutEscalate
}

// ParseOnTimeout reads an on-timeout action: remind, reject, cancel,
// escalate, or escalate-to:LOGIN, which also names whom to escalate to.
func ParseOnTimeout(s string) (TimeoutAction, string, error) {
	if to, ok := strings.CutPrefix(s, "escalate-to:"); ok {
		return TimeoutEscalate, to, nil
	}
	switch a := TimeoutAction(s); a {
	case TimeoutRemind, TimeoutReject, TimeoutCancel, TimeoutEscalate:
		return a, "", nil
	}
	return "", "", errs.Usagef("--on-timeout %q is not an action", s).
		WithHint("use remind, reject, cancel, or escalate with --escalate-to LOGIN")
}

// ParseDue reads a due window as written on the command line or in a
// setting: a duration of at least a minute; "" and "off" mean none.
func ParseDue(flag, s string) (time.Duration, error) {
	if s == "" || s == "off" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute || d > 366*24*time.Hour {
		return 0, errs.Usagef("%s %q is not a duration between 1m and 8784h", flag, s).
			WithHint("write it like 48h or 90m (days in hours); off for none")
	}
	return d, nil
}

// Complete fills in the defaults and checks the spec: an action needs a
// deadline, escalate needs its user and only escalate takes one. The
// default action is remind.
func (d DeadlineSpec) Complete() (DeadlineSpec, error) {
	if d.Due < 0 {
		return d, errs.Usagef("--due must not be negative").WithHint("write it like 48h")
	}
	if d.Due == 0 {
		if d.OnTimeout != "" || d.EscalateTo != "" {
			return d, errs.Usagef("--on-timeout needs a deadline").
				WithHint("give --due DURATION, or have an administrator set approvals.default-due")
		}
		return d, nil
	}
	if d.OnTimeout == "" {
		if d.EscalateTo != "" {
			d.OnTimeout = TimeoutEscalate
		} else {
			d.OnTimeout = TimeoutRemind
		}
	}
	switch {
	case d.OnTimeout == TimeoutEscalate && d.EscalateTo == "":
		return d, errs.Usagef("--on-timeout escalate needs the user to escalate to").
			WithHint("add --escalate-to LOGIN")
	case d.OnTimeout != TimeoutEscalate && d.EscalateTo != "":
		return d, errs.Usagef("--escalate-to goes with --on-timeout escalate, not %s", d.OnTimeout).
			WithHint("drop --escalate-to, or use --on-timeout escalate")
	}
	return d, nil
}

// String writes the action as a user reads it: "escalate to dave".
func (d DeadlineSpec) String() string {
	if d.OnTimeout == TimeoutEscalate {
		return "escalate to " + d.EscalateTo
	}
	return string(d.OnTimeout)
}

// Reminders says when undecided approvers are reminded without anyone
// asking: After the stage opened (or its last reminder), then Every, at
// most Max times per stage. After 0 means never.
type Reminders struct {
	After, Every time.Duration
	Max          int
}

// ReminderSettings reads approvals.remind-after, -every and -max from
// stored settings; values that do not parse count as unset.
func ReminderSettings(stored map[string]string) Reminders {
	var r Reminders
	r.After, _ = ParseDue(SettingRemindAfter, stored[SettingRemindAfter])
	r.Every, _ = ParseDue(SettingRemindEvery, stored[SettingRemindEvery])
	if r.Every == 0 {
		r.Every = r.After
	}
	r.Max = 3
	if v, ok := stored[SettingRemindMax]; ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			r.Max = n
		}
	}
	return r
}

// DefaultDue reads approvals.default-due: 0 when unset or off.
func DefaultDue(stored map[string]string) time.Duration {
	d, _ := ParseDue(SettingDefaultDue, stored[SettingDefaultDue])
	return d
}

// SetDeadline gives a new request its deadline, running from now for its
// first stage.
func (a *Approval) SetDeadline(d DeadlineSpec, now time.Time) {
	a.Deadline = nil
	if d.Due > 0 {
		a.Deadline = &d
	}
	a.startClock(now)
}

// startClock restarts the open stage's clock at now: its deadline (if the
// request has one), and the automatic reminders.
func (a *Approval) startClock(now time.Time) {
	// Deadlines are kept to the second: nobody reads them finer.
	now = now.Truncate(time.Second)
	a.Due = time.Time{}
	if a.Deadline != nil && a.Deadline.Due > 0 {
		a.Due = now.Add(a.Deadline.Due)
	}
	a.Nudged, a.AutoReminders = now, 0
}

// Step is what a sweep does to a pending request now.
type Step struct {
	Kind string // StepRemind or StepTimeout
	// Action and EscalateTo are the timeout's; Reminder is which
	// automatic reminder of the stage this is, from 1.
	Action     TimeoutAction
	EscalateTo string
	Reminder   int
}

// Step kinds.
const (
	StepRemind  = "remind"
	StepTimeout = "timeout"
)

// NextStep says what a sweep at now does to a: carry out the timeout of
// its open stage once the deadline has come, else send the next automatic
// reminder once it is due (remind-after from when the stage opened or was
// last reminded, then remind-every), or nothing (false).
func (a Approval) NextStep(r Reminders, now time.Time) (Step, bool) {
	i := a.OpenStage()
	if i < 0 {
		return Step{}, false
	}
	if !a.Due.IsZero() && !now.Before(a.Due) && a.Deadline != nil {
		return Step{Kind: StepTimeout, Action: a.Deadline.OnTimeout, EscalateTo: a.Deadline.EscalateTo}, true
	}
	if r.After <= 0 || a.AutoReminders >= r.Max {
		return Step{}, false
	}
	since := a.Nudged
	if since.IsZero() {
		since = a.Plan()[i].OpenedAt
	}
	wait := r.After
	if a.AutoReminders > 0 {
		wait = r.Every
	}
	if now.Before(since.Add(wait)) {
		return Step{}, false
	}
	return Step{Kind: StepRemind, Reminder: a.AutoReminders + 1}, true
}

// Reminded notes a reminder sent now: a new round of links for the open
// stage (older ones stop working), and auto says whether a sweep sent it.
func (a *Approval) Reminded(now time.Time, auto bool) {
	a.Reminders++
	a.Nudged = now.Truncate(time.Second)
	if auto {
		a.AutoReminders++
	}
}

// RemindOnTimeout carries out a remind timeout: a new round of links and
// a new due, with the automatic reminders counted afresh.
func (a *Approval) RemindOnTimeout(now time.Time) {
	a.Reminders++
	a.startClock(now)
}

// TimeOut rejects a as timed out at now: its open stage and the request.
func (a *Approval) TimeOut(now time.Time) {
	a.Stages = a.Plan()
	if i := a.OpenStage(); i >= 0 {
		a.Stages[i].State, a.Stages[i].DecidedAt = ApprovalRejected, now
	}
	a.State, a.DecidedAt, a.TimedOut = ApprovalRejected, now, true
	a.DecidedBy, a.Comment = "", "timed out"
	a.Summarize()
}

// Escalate puts login (delivered to person, who may be login's delegate:
// onBehalfOf is then login) in place of the undecided approvers of the
// open stage, as one approver, and restarts the stage's clock. A rule
// asking for more approvers than the stage now has is lowered to all.
// After an escalation, a further timeout reminds. It returns the
// approvers replaced; false when login cannot take their place because
// they are an approver of the request already (other than one replaced).
func (a *Approval) Escalate(login, person, onBehalfOf string, now time.Time) ([]string, bool) {
	i := a.OpenStage()
	if i < 0 {
		return nil, false
	}
	plan := a.Plan()
	for si, st := range plan {
		for _, sl := range st.Approvers {
			if sl.Approver == login && (si != i || sl.Decision != "") {
				return nil, false
			}
		}
	}
	st := plan[i]
	var kept []ApproverSlot
	var replaced []string
	at := -1
	for _, sl := range st.Approvers {
		if sl.Decision != "" {
			kept = append(kept, sl)
			continue
		}
		if at < 0 {
			at = len(kept)
			kept = append(kept, ApproverSlot{Approver: login, Links: []ApprovalLink{{Login: person, OnBehalfOf: onBehalfOf}}})
		}
		replaced = append(replaced, sl.Approver)
	}
	if at < 0 {
		return nil, false
	}
	st.Approvers = kept
	for _, r := range []*ApprovalRule{&st.Rule, &st.RejectRule} {
		if r.Kind == RuleCount && r.Count > len(kept) {
			*r = ApprovalRule{Kind: RuleAll}
		}
	}
	plan[i] = st
	a.Stages = plan
	a.OnBehalfOf = ""
	if a.Single() {
		a.OnBehalfOf = onBehalfOf
	}
	a.Reminders++
	dl := *a.Deadline
	dl.OnTimeout, dl.EscalateTo = TimeoutRemind, ""
	a.Deadline = &dl
	a.startClock(now)
	a.Summarize()
	return replaced, true
}

// DurationText writes a duration as it is typed: 48h, 90m, 1h30m.
func DurationText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
