package app

import (
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/mail"
	"github.com/deskctl/deskctl/internal/store"
)

// DelegationInput is `approval delegate USER --to LOGIN`.
type DelegationInput struct {
	User      string    `json:"user"`
	To        string    `json:"to"`
	From      time.Time `json:"from"`  // zero: now, by the service's clock
	Until     time.Time `json:"until"` // zero only with OpenEnded
	OpenEnded bool      `json:"open_ended"`
}

// DelegationView is one delegation as `approval delegate` and
// `approval delegations` print it.
type DelegationView struct {
	User         string    `json:"user"`
	UserName     string    `json:"user_name"`
	Delegate     string    `json:"delegate"`
	DelegateName string    `json:"delegate_name"`
	From         time.Time `json:"from"`
	Until        OptTime   `json:"until"` // null: open-ended
	State        string    `json:"state"` // scheduled | active | ended, by the service's clock
	SetBy        string    `json:"set_by"`
	SetAt        time.Time `json:"set_at"`
	// Replaced is the delegate of the delegation this one replaced, "" when
	// it replaced none (set only by approval delegate).
	Replaced string `json:"replaced"`
}

func delegationView(tx *store.Tx, d helpdesk.Delegation, now time.Time) DelegationView {
	return DelegationView{User: d.User, UserName: displayName(tx, d.User), Delegate: d.Delegate,
		DelegateName: displayName(tx, d.Delegate), From: d.From, Until: OptTime{d.Until},
		State: string(d.StateAt(now)), SetBy: d.SetBy, SetAt: d.SetAt}
}

// mayDelegateFor lets users change their own delegation and
// administrators anyone's.
func mayDelegateFor(c *Ctx, login string) error {
	if c.Actor.Login == login {
		return nil
	}
	if ok, _ := c.Engine.Holds(c.Actor.Login, helpdesk.PermAdmin); ok {
		return nil
	}
	return errs.Forbiddenf("only %s or an administrator may change %s's delegation", login, login).
		WithHint("set your own instead: deskctl approval delegate %s --to LOGIN --until DATE", c.Actor.Login)
}

// SetDelegation names who decides the user's approval requests during a
// window. It replaces the user's previous delegation, if any.
func (s *Service) SetDelegation(in DelegationInput) (DelegationView, error) {
	var out DelegationView
	_, err := s.write("approval delegate", func(c *Ctx) error {
		u, err := mustUser(c.Tx, in.User)
		if err != nil {
			return err
		}
		if err := mayDelegateFor(c, u.Login); err != nil {
			return err
		}
		from := in.From
		if from.IsZero() {
			from = c.Now
		}
		if err := helpdesk.CheckWindow(from, in.Until, in.OpenEnded, c.Now); err != nil {
			return err
		}
		if in.To == "" {
			return errs.Usagef("approval delegate needs --to LOGIN").WithHint("name who decides for %s, or pass --clear", u.Login)
		}
		to, err := mustUser(c.Tx, in.To)
		if err != nil {
			return err
		}
		if err := helpdesk.CheckDelegate(u.Login, to); err != nil {
			return err
		}
		old, had, err := c.Tx.Delegation(u.Login)
		if err != nil {
			return err
		}
		d := helpdesk.Delegation{User: u.Login, Delegate: to.Login, From: from.UTC(), SetBy: c.Actor.Login, SetAt: c.Now}
		if !in.OpenEnded {
			d.Until = in.Until.UTC()
		}
		if err := c.Tx.PutDelegation(d); err != nil {
			return err
		}
		var before any
		if had {
			before = delegationView(c.Tx, old, c.Now)
		}
		out = delegationView(c.Tx, d, c.Now)
		if err := c.Audit("delegation:"+u.Login, before, out); err != nil {
			return err
		}
		if had {
			out.Replaced = old.Delegate
		}
		return nil
	})
	return out, err
}

// ClearDelegation ends a user's delegation: their requests come to them again.
func (s *Service) ClearDelegation(login string) (DelegationView, error) {
	var out DelegationView
	_, err := s.write("approval delegate", func(c *Ctx) error {
		u, err := mustUser(c.Tx, login)
		if err != nil {
			return err
		}
		if err := mayDelegateFor(c, u.Login); err != nil {
			return err
		}
		d, had, err := c.Tx.Delegation(u.Login)
		if err != nil {
			return err
		}
		if !had {
			return errs.NotFoundf("%s has no delegation to clear", u.Login).
				WithHint("list delegations with: deskctl approval delegations")
		}
		if err := c.Tx.DeleteDelegation(u.Login); err != nil {
			return err
		}
		out = delegationView(c.Tx, d, c.Now)
		return c.Audit("delegation:"+u.Login, out, nil)
	})
	return out, err
}

// ListDelegations lists every delegation to administrators and, to anyone
// else, those they gave or received.
func (s *Service) ListDelegations() ([]DelegationView, error) {
	out := []DelegationView{}
	err := s.read(func(c *Ctx) error {
		all, err := c.Tx.Delegations()
		if err != nil {
			return err
		}
		admin, _ := c.Engine.Holds(c.Actor.Login, helpdesk.PermAdmin)
		for _, d := range all {
			if admin || d.User == c.Actor.Login || d.Delegate == c.Actor.Login {
				out = append(out, delegationView(c.Tx, d, c.Now))
			}
		}
		return nil
	})
	return out, err
}

// resolveApprover decides who receives an approval request meant for
// login at now: login themself, or, while their delegation is active, the
// delegate, who then decides on behalf of login. It refuses, before any
// mail is queued, an approver who is disabled or away without a delegate
// able to take the request. Delegations do not chain: a delegate who is
// away too is a refusal, not a hop to their own delegate.
func resolveApprover(tx *store.Tx, login string, now time.Time) (deliverTo helpdesk.User, onBehalfOf string, err error) {
	u, err := mustUser(tx, login)
	if err != nil {
		return u, "", err
	}
	if !u.Active {
		return u, "", errs.Conflictf("user %s is disabled and cannot approve", u.Login).WithHint("pick an active user")
	}
	d, ok, err := tx.Delegation(u.Login)
	if err != nil || !ok || !d.ActiveAt(now) {
		return u, "", err
	}
	away := u.Login + " is away until " + d.UntilText()
	refuse := func(why string) (helpdesk.User, string, error) {
		return u, "", errs.Conflictf("%s and %s", away, why).
			WithHint("ask another approver, or have %s or an administrator name an available delegate: deskctl approval delegate %s --to LOGIN --until DATE",
				u.Login, u.Login)
	}
	del, found, err := tx.User(d.Delegate)
	switch {
	case err != nil:
		return u, "", err
	case !found:
		return refuse("their delegate " + d.Delegate + " is no longer registered")
	}
	if err := helpdesk.CheckDelegate(u.Login, del); err != nil {
		return refuse("their delegate cannot take the request: " + err.Error())
	}
	dd, away2, err := tx.Delegation(del.Login)
	if err != nil {
		return u, "", err
	}
	if away2 && dd.ActiveAt(now) {
		return refuse("their delegate " + del.Login + " is away too (until " + dd.UntilText() +
			"); a request is not passed on to a delegate's delegate")
	}
	return del, u.Login, nil
}

// approverName is who decides, as the record and the log show it:
// "Dave User for Carol Jones" when a delegate decides for an away approver.
func approverName(tx *store.Tx, a helpdesk.Approval) string {
	if a.OnBehalfOf == "" {
		return displayName(tx, a.Approver)
	}
	return displayName(tx, a.Approver) + " for " + displayName(tx, a.OnBehalfOf)
}

func onBehalfOfName(tx *store.Tx, a helpdesk.Approval) string {
	if a.OnBehalfOf == "" {
		return ""
	}
	return displayName(tx, a.OnBehalfOf)
}

// noticeAwayApprovers tells each away approver of stage i whose delegate
// was sent the link that the request went to them.
func noticeAwayApprovers(c *Ctx, a helpdesk.Approval, i int, t helpdesk.Ticket) error {
	for _, sl := range a.Plan()[i].Approvers {
		for _, l := range sl.Links {
			if l.OnBehalfOf == "" {
				continue
			}
			away, ok, err := c.Tx.User(l.OnBehalfOf)
			if err != nil {
				return err
			}
			if !ok || away.Email == "" {
				continue
			}
			m := mail.ApprovalDelegated(mail.ApprovalMail{To: away.Email, ApproverName: away.Name, Ticket: t.Number,
				TicketSubject: t.Subject, RequesterName: displayName(c.Tx, t.Requester), TechnicianName: displayName(c.Tx, a.RequestedBy),
				Note: a.Note, DelegateName: displayName(c.Tx, l.Login)})
			if err := c.queueMail("approval-delegated", t.Number, m); err != nil {
				return err
			}
		}
	}
	return nil
}
