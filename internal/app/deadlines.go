package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/mail"
	"github.com/deskctl/deskctl/internal/store"
)

const escalateHint = "name an existing user (deskctl user list)"

// requestDeadline completes the deadline a request asks for: the default
// due when it names none, and an escalation user who exists, is active
// and is not already one of its approvers.
func requestDeadline(c *Ctx, d helpdesk.DeadlineSpec, a helpdesk.Approval) (helpdesk.DeadlineSpec, error) {
	if d.Due == 0 {
		d.Due = helpdesk.DefaultDue(c.Tx.Settings())
	}
	d, err := d.Complete()
	if err != nil || d.OnTimeout != helpdesk.TimeoutEscalate {
		return d, err
	}
	u, err := approvingUser(c.Tx, d.EscalateTo, "--escalate-to: ", escalateHint)
	if err != nil {
		return d, err
	}
	if asks(a, u.Login) {
		return d, errs.Usagef("--escalate-to %s is already an approver of this request", u.Login).
			WithHint("escalate to someone who is not asked yet, e.g. their manager")
	}
	d.EscalateTo = u.Login
	return d, nil
}

// SweepAction is one thing a sweep did.
type SweepAction struct {
	Ticket int `json:"ticket"`
	// Action is remind (an automatic reminder), digest (an approver
	// digest), or what a timeout did:
	// timeout-remind, timeout-reject, timeout-cancel or timeout-escalate.
	Action string `json:"action"`
	// To lists who was mailed: reminded, escalated to, or told of the withdrawal.
	To     []string `json:"to"`
	Detail string   `json:"detail"`
	// Tickets lists the requests acted on: Ticket alone, or every
	// request a digest carries (Ticket is the first of them).
	Tickets []int `json:"tickets"`
}

// SweepResult is what `approval remind --due` (or a serve round) did.
type SweepResult struct {
	At      time.Time     `json:"at"`
	Actions []SweepAction `json:"actions"`
}

// SweepActor names who acts in the log and the audit when deskctl serve
// sweeps on its own: no login can be written this way.
const SweepActor = "(deskctl serve)"

// SweepApprovals sends the automatic reminders that are due and carries
// out the deadlines that have come, for every pending request, in one
// write transaction (administrators; for cron). What is decided is
// recorded in the transaction that queues its mail, so two sweeps never
// remind or time out the same request twice.
func (s *Service) SweepApprovals() (SweepResult, Delivery, error) {
	var out SweepResult
	d, err := s.write("approval remind --due", func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		var err error
		out, err = s.sweep(c)
		if err == nil && len(out.Actions) == 0 {
			return errNothingToWrite
		}
		return err
	})
	if out.Actions == nil {
		out.Actions = []SweepAction{}
	}
	return out, d, err
}

// sweepAsServer is SweepApprovals for deskctl serve, acting as SweepActor.
func (s *Service) sweepAsServer() (SweepResult, Delivery, error) {
	var out SweepResult
	db, err := s.open(false)
	if err != nil {
		return out, Delivery{}, err
	}
	var queued []uint64
	err = db.Update(func(tx *store.Tx) error {
		c := &Ctx{Tx: tx, Actor: helpdesk.User{Login: SweepActor, Name: SweepActor}, Engine: access.New(tx), Now: s.now(),
			command: "approval remind --due (serve)", id: identity{via: "serve"}}
		var err error
		if out, err = s.sweep(c); err != nil {
			return err
		}
		if len(out.Actions) == 0 {
			return errNothingToWrite
		}
		queued = c.queued
		return nil
	})
	db.Close()
	if errors.Is(err, errNothingToWrite) {
		err = nil
	}
	if err != nil || len(queued) == 0 {
		return out, Delivery{}, err
	}
	if s.later(queued) {
		return out, Delivery{}, nil
	}
	return out, s.deliver(queued), nil
}

// StartSweeper makes deskctl serve sweep the approvals every interval
// (see SweepApprovals). The returned function waits, once ctx is done,
// for the sweep in progress. onSweep, when set, hears each sweep's result.
func (s *Service) StartSweeper(ctx context.Context, every time.Duration, onSweep func(SweepResult, error)) (wait func()) {
	return runEvery(ctx, every, nil, nil, func() {
		res, _, err := s.sweepAsServer()
		if onSweep != nil {
			onSweep(res, err)
		}
	})
}

// sweep does, for each pending request, the step that is due now.
func (s *Service) sweep(c *Ctx) (SweepResult, error) {
	out := SweepResult{At: c.Now}
	if !helpdesk.ApprovalsEnabled(c.Tx.Settings()) {
		// No link could decide: nothing is reminded and no deadline runs out.
		return out, nil
	}
	rs := helpdesk.ReminderSettings(c.Tx.Settings())
	dg := helpdesk.DigestSettings(c.Tx.Settings())
	covered, err := digestCovered(c.Tx, dg, c.Now)
	if err != nil {
		return out, err
	}
	all, err := c.Tx.Approvals()
	if err != nil {
		return out, err
	}
	for _, a := range all {
		step, ok := a.NextStep(rs, c.Now)
		if !ok {
			continue
		}
		t, has, err := c.Tx.Ticket(a.Ticket)
		if err != nil {
			return out, err
		}
		if !has || t.State == helpdesk.StateClosed {
			continue
		}
		act, done, err := s.sweepOne(c, a, t, step, rs, covered)
		if err != nil {
			return out, err
		}
		if done {
			out.Actions = append(out.Actions, act)
		}
	}
	if dg.On {
		acts, err := s.sweepDigests(c, dg)
		if err != nil {
			return out, err
		}
		out.Actions = append(out.Actions, acts...)
	}
	return out, nil
}

// sweepOne carries out step on a; an automatic reminder leaves out the
// people covered by the digest (they get theirs from sweepDigests).
func (s *Service) sweepOne(c *Ctx, a helpdesk.Approval, t helpdesk.Ticket, step helpdesk.Step, rs helpdesk.Reminders, covered map[string]bool) (SweepAction, bool, error) {
	act := SweepAction{Ticket: a.Ticket, Tickets: []int{a.Ticket}, To: []string{}}
	before := approvalView(c.Tx, a, t.Subject)
	var text string
	remind := func(auto bool) (bool, error) {
		usable, _ := usableRefs(c.Tx, a)
		if auto && len(covered) > 0 {
			var rest []helpdesk.LinkRef
			for _, ref := range usable {
				if l, _ := a.Link(ref); !covered[l.Login] {
					rest = append(rest, ref)
				}
			}
			usable = rest
		}
		if len(usable) == 0 {
			return false, nil
		}
		if auto {
			a.Reminded(c.Now, true)
		} else {
			a.RemindOnTimeout(c.Now)
		}
		if err := c.Tx.PutApproval(a); err != nil {
			return false, err
		}
		for _, ref := range usable {
			if err := s.queueLink(c, a, ref, t, true); err != nil {
				return false, err
			}
			l, _ := a.Link(ref)
			act.To = append(act.To, l.Login)
		}
		return true, nil
	}
	switch {
	case step.Kind == helpdesk.StepRemind:
		ok, err := remind(true)
		if !ok || err != nil {
			return act, false, err
		}
		act.Action = "remind"
		act.Detail = "automatic reminder " + itoa(step.Reminder) + " of " + itoa(rs.Max)
		text = "Automatic reminder " + itoa(step.Reminder) + " of " + itoa(rs.Max) + " sent to " + names(c.Tx, act.To) + " with new links"
	case step.Action == helpdesk.TimeoutRemind:
		ok, err := remind(false)
		if !ok || err != nil {
			return act, false, err
		}
		act.Action = "timeout-remind"
		act.Detail = "due again " + a.Due.Format("2006-01-02 15:04 MST")
		text = "Approval timed out; reminder sent to " + names(c.Tx, act.To) + " with new links, due again " + a.Due.Format("2006-01-02 15:04 MST")
	case step.Action == helpdesk.TimeoutReject:
		a.TimeOut(c.Now)
		if err := c.Tx.PutApproval(a); err != nil {
			return act, false, err
		}
		tech, _, err := c.Tx.User(a.RequestedBy)
		if err != nil {
			return act, false, err
		}
		om := mail.OutcomeMail{To: tech.Email, TechnicianName: tech.Name, Ticket: t.Number, TicketSubject: t.Subject,
			ApproverName: "timeout", Comment: "Nobody decided before the deadline, so the request was rejected (on-timeout reject).", DecidedAt: c.Now}
		if err := c.queueMail("approval-outcome", t.Number, mail.ApprovalOutcome(om)); err != nil {
			return act, false, err
		}
		act.Action, act.Detail, act.To = "timeout-reject", "rejected: timed out", []string{a.RequestedBy}
		text = "Approval timed out: rejected"
	case step.Action == helpdesk.TimeoutCancel:
		waiting := waitingPeople(a, true)
		a.State, a.CancelledBy = helpdesk.ApprovalCancelled, c.Actor.Login
		if err := c.Tx.PutApproval(a); err != nil {
			return act, false, err
		}
		for _, login := range waiting {
			if err := queueWithdrawnTo(c, login, a, t, "Nobody decided before the deadline, so the request was cancelled."); err != nil {
				return act, false, err
			}
		}
		act.Action, act.Detail, act.To = "timeout-cancel", "cancelled: timed out", append(act.To, waiting...)
		text = "Approval request to " + requestTo(c.Tx, a) + " timed out: cancelled"
	case step.Action == helpdesk.TimeoutEscalate:
		u, away, err := resolveApprover(c.Tx, step.EscalateTo, c.Now)
		var replaced []string
		ok := err == nil
		if ok {
			replaced, ok = a.Escalate(step.EscalateTo, u.Login, away, c.Now)
		}
		if !ok {
			// The user cannot be asked (gone, disabled, away without a
			// delegate, an approver already): remind instead, and say so.
			why := step.EscalateTo + " cannot be asked"
			if err != nil {
				why = err.Error()
			}
			sent, rerr := remind(false)
			if rerr != nil {
				return act, false, rerr
			}
			if !sent {
				return act, false, nil
			}
			act.Action, act.Detail = "timeout-remind", "could not escalate: "+why
			text = "Approval timed out; could not escalate (" + why + "); reminder sent to " + names(c.Tx, act.To) + " with new links"
			break
		}
		if err := c.Tx.PutApproval(a); err != nil {
			return act, false, err
		}
		i := a.OpenStage()
		if err := s.queueStage(c, a, i, t, false); err != nil {
			return act, false, err
		}
		if err := noticeAwayApprovers(c, a, i, t); err != nil {
			return act, false, err
		}
		act.Action, act.To = "timeout-escalate", []string{u.Login}
		act.Detail = "escalated to " + step.EscalateTo + " in place of " + strings.Join(replaced, ", ") + "; due " + a.Due.Format("2006-01-02 15:04 MST")
		text = "Approval timed out; escalated to " + displayName(c.Tx, step.EscalateTo) + " (" + step.EscalateTo + ") in place of " +
			strings.Join(replaced, ", ") + ", due " + a.Due.Format("2006-01-02 15:04 MST")
	default:
		return act, false, nil
	}
	kind := "approval-timeout"
	if step.Kind == helpdesk.StepRemind {
		kind = "approval-remind"
	}
	t.AddSystemEntry(kind, text, c.Now, c.Actor.Login)
	if err := c.Tx.PutTicket(t); err != nil {
		return act, false, err
	}
	return act, true, c.Audit("approval:"+itoa(t.Number), before, approvalView(c.Tx, a, t.Subject))
}

// names lists logins by their display names.
func names(tx *store.Tx, logins []string) string {
	var out []string
	for _, l := range logins {
		out = append(out, displayName(tx, l))
	}
	return strings.Join(out, ", ")
}
