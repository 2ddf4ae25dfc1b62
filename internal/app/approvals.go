package app

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/mail"
	"github.com/deskctl/deskctl/internal/store"
	"github.com/deskctl/deskctl/internal/web"
)

// ApprovalView is `approval show` / `approval list`.
type ApprovalView struct {
	Ticket        int       `json:"ticket"`
	TicketSubject string    `json:"ticket_subject"`
	State         string    `json:"state"`
	Approver      string    `json:"approver"`
	ApproverName  string    `json:"approver_name"`
	RequestedBy   string    `json:"requested_by"`
	RequestedAt   time.Time `json:"requested_at"`
	Note          string    `json:"note"`
	DecidedBy     string    `json:"decided_by"`
	DecidedAt     OptTime   `json:"decided_at"`
	Comment       string    `json:"comment"`
	CancelledBy   string    `json:"cancelled_by"`
	LinkExpires   OptTime   `json:"link_expires"` // null until the approver mail is sent
	Round         int       `json:"round"`
	Reminders     int       `json:"reminders"`
	Badge         string    `json:"badge"`
	// OnBehalfOf is the away approver the request was meant for when a
	// delegation sent it to Approver; "" otherwise.
	OnBehalfOf     string `json:"on_behalf_of"`
	OnBehalfOfName string `json:"on_behalf_of_name"`
}

func approvalView(tx *store.Tx, a helpdesk.Approval, subject string) ApprovalView {
	return ApprovalView{a.Ticket, subject, string(a.State), a.Approver, displayName(tx, a.Approver), a.RequestedBy, a.RequestedAt, a.Note,
		a.DecidedBy, OptTime{a.DecidedAt}, a.Comment, a.CancelledBy, OptTime{a.Expires}, a.Round, a.Reminders, approvalBadge(tx, a).Text,
		a.OnBehalfOf, onBehalfOfName(tx, a)}
}

// approvalBadge is the Approval row text: "Awaiting from Carol Jones".
func approvalBadge(tx *store.Tx, a helpdesk.Approval) *ApprovalBadge {
	name := approverName(tx, a)
	b := &ApprovalBadge{State: string(a.State), Approver: a.Approver}
	switch a.State {
	case helpdesk.ApprovalPending:
		b.Text = "Awaiting from " + name
	case helpdesk.ApprovalApproved:
		b.Text = "Approved by " + name
	case helpdesk.ApprovalRejected:
		b.Text = "Rejected by " + name
	case helpdesk.ApprovalCancelled:
		b.Text = "Cancelled"
	}
	return b
}

func displayName(tx *store.Tx, login string) string {
	if u, ok, _ := tx.User(login); ok && u.Name != "" {
		return u.Name
	}
	return login
}

// publicURL is the base of approval links, checked as deskctl serve checks it.
func (s *Service) publicURL() (*url.URL, error) {
	raw := "http://127.0.0.1:8080"
	if s.Mail != nil && s.Mail.PublicURL != "" {
		raw = s.Mail.PublicURL
	}
	return web.ParsePublicURL(raw)
}

// linkWarning says what is wrong with links built from public-url even
// though they can be built: pointing at this machine because public-url was
// never set, or travelling unencrypted to another host.
func (s *Service) linkWarning() string {
	u, err := s.publicURL()
	if err != nil {
		return ""
	}
	loopback := u.Hostname() == "localhost"
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	switch {
	case s.Mail != nil && s.Mail.PublicURLUnset:
		return "public-url is not set, so approval links point at " + u.String() +
			" and open only on this machine; set public-url (DESKCTL_PUBLIC_URL) to where approvers reach deskctl serve"
	case u.Scheme == "http" && !loopback:
		return "public-url " + u.String() + " is plain http: approval links are bearer secrets, serve them over https"
	}
	return ""
}

// linkMail is how a mail with approval links waits in the outbox: the mail
// without its links, and which link of the record it carries (the round and
// the reminder count when it was queued). The links are made only when the
// mail is sent (mintLinks), so a usable token is never written to the
// database file or its backups, and a mail whose request was decided,
// cancelled or reminded again in the meantime is dropped, not sent dead.
type linkMail struct {
	Mail      mail.ApprovalMail `json:"mail"`
	Reminder  bool              `json:"reminder"`
	Round     int               `json:"round"`
	Reminders int               `json:"reminders"`
	// Base is public-url when the mail was queued: the links go where the
	// technician was told they would, whichever process sends the mail.
	Base string `json:"base,omitempty"`
}

// minted is what making a link changed on its approval record, so that a
// send that fails can put the record's previous link back.
type minted struct {
	hash, prevHash string
	prevExpires    time.Time
}

const (
	mailApprovalRequest  = "approval-request"
	mailApprovalReminder = "approval-reminder"
)

func isLinkMail(kind string) bool { return kind == mailApprovalRequest || kind == mailApprovalReminder }

// queueLink queues the approver mail for the record's current round and
// reminder count.
func (s *Service) queueLink(c *Ctx, a helpdesk.Approval, t helpdesk.Ticket, reminder bool) error {
	base, err := s.publicURL()
	if err != nil {
		return err
	}
	approver, _, err := c.Tx.User(a.Approver)
	if err != nil {
		return err
	}
	lm := linkMail{Reminder: reminder, Round: a.Round, Reminders: a.Reminders, Base: base.String(),
		Mail: mail.ApprovalMail{To: approver.Email, ApproverName: approver.Name, Ticket: t.Number, TicketSubject: t.Subject,
			RequesterName: displayName(c.Tx, t.Requester), TechnicianName: displayName(c.Tx, a.RequestedBy), Note: a.Note,
			OnBehalfOfName: onBehalfOfName(c.Tx, a)}}
	raw, err := json.Marshal(lm)
	if err != nil {
		return err
	}
	m, kind := mail.ApprovalRequest(lm.Mail), mailApprovalRequest
	if reminder {
		m, kind = mail.ApprovalReminder(lm.Mail), mailApprovalReminder
	}
	return c.queueRaw(kind, t.Number, m.To, m.Subject, raw)
}

// mintLinks gives the approval a fresh link token as its mail leaves the
// outbox, and composes the mail with it. The token exists only in the
// returned message; the record keeps its hash, and the link it replaces
// stops working (until the send fails: see restoreLink). drop is not empty
// when the mail should never be sent; wait, when not now (the ticket is
// closed, approvals are off or the approver is disabled, all of which can
// be undone).
func (s *Service) mintLinks(tx *store.Tx, lm linkMail, now time.Time) (m mail.Message, mt minted, drop, wait string, err error) {
	a, ok, err := tx.Approval(lm.Mail.Ticket)
	if err != nil {
		return m, mt, "", "", err
	}
	switch {
	case !ok || a.Round != lm.Round:
		return m, mt, "a newer approval request replaced it", "", nil
	case a.State != helpdesk.ApprovalPending:
		return m, mt, "the approval is " + string(a.State) + " already", "", nil
	case a.Reminders != lm.Reminders:
		return m, mt, "a reminder replaced it", "", nil
	}
	if _, err := usableLink(tx, a); err != nil {
		var le *helpdesk.LinkError
		if errors.As(err, &le) && le.Problem != helpdesk.LinkUnknown {
			return m, mt, "", err.Error(), nil
		}
		if le != nil { // the ticket is gone
			return m, mt, "its ticket was deleted", "", nil
		}
		return m, mt, "", "", err
	}
	base, err := s.publicURL()
	if lm.Base != "" {
		base, err = web.ParsePublicURL(lm.Base)
	}
	if err != nil {
		return m, mt, "", "", err
	}
	token, hash, err := helpdesk.NewToken()
	if err != nil {
		return m, mt, "", "", err
	}
	mt = minted{hash: hash, prevHash: a.TokenHash, prevExpires: a.Expires}
	a.TokenHash, a.Expires = hash, now.Add(helpdesk.LinkTTL(tx.Settings()))
	if err := tx.PutApproval(a); err != nil {
		return m, mt, "", "", err
	}
	d := lm.Mail
	d.Expires, d.ApproveURL, d.RejectURL = a.Expires, web.LinkURL(base, token, true), web.LinkURL(base, token, false)
	if lm.Reminder {
		return mail.ApprovalReminder(d), mt, "", "", nil
	}
	return mail.ApprovalRequest(d), mt, "", "", nil
}

// restoreLink undoes mintLinks after its mail could not be sent: the link
// nobody received is replaced by the one the approver already has (none,
// for a first request), unless something changed the record since.
func restoreLink(tx *store.Tx, ticket int, mt minted) error {
	if mt.hash == "" {
		return nil
	}
	a, ok, err := tx.Approval(ticket)
	if err != nil || !ok || a.TokenHash != mt.hash || a.State != helpdesk.ApprovalPending {
		return err
	}
	a.TokenHash, a.Expires = mt.prevHash, mt.prevExpires
	return tx.PutApproval(a)
}

// usableLink checks what must hold, besides the token itself, for a link of
// a pending approval to record a decision, and returns its ticket.
func usableLink(tx *store.Tx, a helpdesk.Approval) (helpdesk.Ticket, error) {
	t, ok, err := tx.Ticket(a.Ticket)
	if err != nil {
		return t, err
	}
	if !ok {
		return t, &helpdesk.LinkError{Problem: helpdesk.LinkUnknown}
	}
	if !helpdesk.ApprovalsEnabled(tx.Settings()) {
		return t, &helpdesk.LinkError{Problem: helpdesk.LinkTurnedOff, Ticket: a.Ticket}
	}
	if t.State == helpdesk.StateClosed {
		return t, &helpdesk.LinkError{Problem: helpdesk.LinkClosed, Ticket: a.Ticket}
	}
	if u, ok, err := tx.User(a.Approver); err != nil || !ok || !u.Active {
		if err != nil {
			return t, err
		}
		return t, &helpdesk.LinkError{Problem: helpdesk.LinkInactive, Ticket: a.Ticket}
	}
	return t, nil
}

// RequestApproval asks approver to sign off on a ticket.
func (s *Service) RequestApproval(ticket int, approver, note string) (ApprovalView, Delivery, error) {
	var out ApprovalView
	d, err := s.write("approval request", func(c *Ctx) error {
		t, _, err := visibleTicket(c, ticket)
		if err != nil {
			return err
		}
		if _, err := c.Engine.RequireAvailable(c.Actor.Login, &t, helpdesk.ActRequestApproval); err != nil {
			return err
		}
		note, err := helpdesk.CleanText("note", note, helpdesk.MultiLine, 4000)
		if err != nil {
			return err
		}
		u, onBehalfOf, err := resolveApprover(c.Tx, approver, c.Now)
		if err != nil {
			return err
		}
		a, exists, err := c.Tx.Approval(ticket)
		if err != nil {
			return err
		}
		before := any(nil)
		if exists {
			if a.State == helpdesk.ApprovalPending {
				return errs.Conflictf("#%d already awaits approval from %s (requested %s by %s)", ticket,
					displayName(c.Tx, a.Approver), a.RequestedAt.Format("2006-01-02 15:04"), a.RequestedBy).
					WithHint("wait for the decision, or ask an administrator to cancel it: deskctl approval cancel %d", ticket)
			}
			before = approvalView(c.Tx, a, t.Subject)
		}
		a = helpdesk.Approval{Ticket: ticket, State: helpdesk.ApprovalPending, Approver: u.Login, OnBehalfOf: onBehalfOf,
			RequestedBy: c.Actor.Login, RequestedAt: c.Now, Note: note, Round: a.Round + 1}
		if err := c.Tx.PutApproval(a); err != nil {
			return err
		}
		if err := s.queueLink(c, a, t, false); err != nil {
			return err
		}
		if err := noticeAwayApprover(c, a, t); err != nil {
			return err
		}
		text := "Approval requested from " + u.Name + " (" + u.Login + ")"
		if onBehalfOf != "" {
			text += " for " + displayName(c.Tx, onBehalfOf) + " (" + onBehalfOf + ")"
		}
		if note != "" {
			text += ": " + note
		}
		t.AddSystemEntry("approval-request", text, c.Now, c.Actor.Login)
		if err := c.Tx.PutTicket(t); err != nil {
			return err
		}
		out = approvalView(c.Tx, a, t.Subject)
		return c.Audit("approval:"+itoa(ticket), before, out)
	})
	d.Warning = s.linkWarning()
	return out, d, err
}

// CancelApproval withdraws a pending request (administrators only).
func (s *Service) CancelApproval(ticket int) (ApprovalView, Delivery, error) {
	var out ApprovalView
	d, err := s.write("approval cancel", func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		a, t, err := pendingApproval(c, ticket)
		if err != nil {
			return err
		}
		before := approvalView(c.Tx, a, t.Subject)
		a.State, a.CancelledBy = helpdesk.ApprovalCancelled, c.Actor.Login
		if err := c.Tx.PutApproval(a); err != nil {
			return err
		}
		t.AddSystemEntry("approval-cancel", "Approval request to "+approverName(c.Tx, a)+" cancelled by "+c.Actor.Login, c.Now, c.Actor.Login)
		if err := c.Tx.PutTicket(t); err != nil {
			return err
		}
		if err := queueWithdrawn(c, a, t, ""); err != nil {
			return err
		}
		out = approvalView(c.Tx, a, t.Subject)
		return c.Audit("approval:"+itoa(ticket), before, out)
	})
	return out, d, err
}

// queueWithdrawn tells a's approver that the request was withdrawn, and
// why when why is not empty.
func queueWithdrawn(c *Ctx, a helpdesk.Approval, t helpdesk.Ticket, why string) error {
	approver, ok, err := c.Tx.User(a.Approver)
	if err != nil || !ok {
		return err
	}
	m := mail.ApprovalCancelled(mail.ApprovalMail{To: approver.Email, ApproverName: approver.Name, Ticket: t.Number,
		TicketSubject: t.Subject, RequesterName: displayName(c.Tx, t.Requester), TechnicianName: displayName(c.Tx, a.RequestedBy),
		Why: why})
	return c.queueMail("approval-cancelled", t.Number, m)
}

// queueWithdrawnIfAsked is queueWithdrawn for a request withdrawn as a
// side effect, when its approver was ever sent a link: one whose request
// mail is still in the outbox (dropped now) has nothing to be told.
func queueWithdrawnIfAsked(c *Ctx, a helpdesk.Approval, t helpdesk.Ticket, why string) error {
	if a.TokenHash == "" {
		return nil
	}
	return queueWithdrawn(c, a, t, why)
}

// withdrawOnClose cancels the pending approval of t, which action has just
// closed: nothing is left to approve, and the approver's link would only
// answer that the ticket is closed. The technicians read why in the log
// and the approver by mail.
func withdrawOnClose(c *Ctx, t *helpdesk.Ticket, action string) error {
	a, ok, err := c.Tx.Approval(t.Number)
	if err != nil || !ok || a.State != helpdesk.ApprovalPending {
		return err
	}
	before := approvalView(c.Tx, a, t.Subject)
	a.State, a.CancelledBy = helpdesk.ApprovalCancelled, c.Actor.Login
	if err := c.Tx.PutApproval(a); err != nil {
		return err
	}
	how := "closed"
	if action == helpdesk.ActWithdraw {
		how = "withdrawn"
	}
	t.AddSystemEntry("approval-cancel", "Approval request to "+approverName(c.Tx, a)+" cancelled: the ticket was "+how,
		c.Now, c.Actor.Login)
	if err := queueWithdrawnIfAsked(c, a, *t, "Ticket #"+itoa(t.Number)+" was "+how+" by "+displayName(c.Tx, c.Actor.Login)+"."); err != nil {
		return err
	}
	// The engine remembers the record it read; later checks in this
	// transaction must see it cancelled.
	c.Engine = access.New(c.Tx)
	return c.Audit("approval:"+itoa(t.Number), before, approvalView(c.Tx, a, t.Subject))
}

func pendingApproval(c *Ctx, ticket int) (helpdesk.Approval, helpdesk.Ticket, error) {
	t, ok, err := c.Tx.Ticket(ticket)
	if err != nil {
		return helpdesk.Approval{}, t, err
	}
	a, has, err := c.Tx.Approval(ticket)
	if err != nil {
		return a, t, err
	}
	if !ok || !has {
		return a, t, errs.NotFoundf("#%d has no approval request", ticket)
	}
	if a.State != helpdesk.ApprovalPending {
		return a, t, errs.Conflictf("the approval of #%d is %s, not pending", ticket, a.State)
	}
	return a, t, nil
}

// RemindApproval re-sends the approver mail with a fresh link; the old link stops working.
func (s *Service) RemindApproval(ticket int) (ApprovalView, Delivery, error) {
	var out ApprovalView
	d, err := s.write("approval remind", func(c *Ctx) error {
		t, _, err := visibleTicket(c, ticket)
		if err != nil {
			return err
		}
		if isAdmin, _ := c.Engine.Holds(c.Actor.Login, helpdesk.PermAdmin); !isAdmin {
			if _, err := c.Engine.RequireAvailable(c.Actor.Login, &t, helpdesk.ActRequestApproval); err != nil {
				return err
			}
		}
		a, _, err := pendingApproval(c, ticket)
		if err != nil {
			return err
		}
		if _, err := usableLink(c.Tx, a); err != nil {
			return errs.Conflictf("cannot remind: %v", err)
		}
		a.Reminders++
		if err := c.Tx.PutApproval(a); err != nil {
			return err
		}
		if err := s.queueLink(c, a, t, true); err != nil {
			return err
		}
		t.AddSystemEntry("approval-remind", "Reminder sent to "+displayName(c.Tx, a.Approver)+" with a new link", c.Now, c.Actor.Login)
		if err := c.Tx.PutTicket(t); err != nil {
			return err
		}
		out = approvalView(c.Tx, a, t.Subject)
		return c.Audit("approval:"+itoa(ticket), nil, map[string]any{"reminders": a.Reminders})
	})
	d.Warning = s.linkWarning()
	return out, d, err
}

// Decide records the approver's own decision from the command line.
func (s *Service) Decide(ticket int, approve bool, comment string) (ApprovalView, Delivery, error) {
	var out ApprovalView
	d, err := s.write("approval decide", func(c *Ctx) error {
		a, t, err := pendingApproval(c, ticket)
		if err != nil {
			return err
		}
		if a.Approver != c.Actor.Login {
			return errs.Forbiddenf("the approval of #%d awaits %s, not %s", ticket, a.Approver, c.Actor.Login).
				WithHint("only the chosen approver decides; run it as them (--as %s) or use the link from their mail", a.Approver)
		}
		if _, err := usableLink(c.Tx, a); err != nil {
			return errs.Conflictf("cannot decide: %v", err)
		}
		out, err = s.recordDecision(c, a, t, approve, comment, "command line")
		return err
	})
	return out, d, err
}

func (s *Service) recordDecision(c *Ctx, a helpdesk.Approval, t helpdesk.Ticket, approve bool, comment, via string) (ApprovalView, error) {
	comment, err := helpdesk.CleanText("comment", comment, helpdesk.MultiLine, 4000)
	if err != nil {
		return ApprovalView{}, err
	}
	before := approvalView(c.Tx, a, t.Subject)
	a.State = helpdesk.ApprovalRejected
	verb := "Rejected"
	if approve {
		a.State, verb = helpdesk.ApprovalApproved, "Approved"
	}
	a.DecidedBy, a.DecidedAt, a.Comment = a.Approver, c.Now, comment
	// A decided record keeps its hash so a replayed link reads "already used".
	if err := c.Tx.PutApproval(a); err != nil {
		return ApprovalView{}, err
	}
	text := verb + " by " + approverName(c.Tx, a) + " (" + via + ")"
	if comment != "" {
		text += ": " + comment
	}
	t.AddSystemEntry("approval-decision", text, c.Now, a.Approver)
	if err := c.Tx.PutTicket(t); err != nil {
		return ApprovalView{}, err
	}
	tech, _, _ := c.Tx.User(a.RequestedBy)
	m := mail.ApprovalOutcome(mail.OutcomeMail{To: tech.Email, TechnicianName: tech.Name, Ticket: t.Number, TicketSubject: t.Subject,
		Approved: approve, ApproverName: approverName(c.Tx, a), Comment: comment, DecidedAt: c.Now})
	if err := c.queueMail("approval-outcome", t.Number, m); err != nil {
		return ApprovalView{}, err
	}
	out := approvalView(c.Tx, a, t.Subject)
	return out, c.Audit("approval:"+itoa(t.Number), before, out)
}

// linkApproval resolves a link token to a pending record, or says why it cannot decide.
func linkApproval(tx *store.Tx, token string, now time.Time) (helpdesk.Approval, helpdesk.Ticket, error) {
	var t helpdesk.Ticket
	unknown := &helpdesk.LinkError{Problem: helpdesk.LinkUnknown}
	if !helpdesk.ValidTokenShape(token) {
		return helpdesk.Approval{}, t, unknown
	}
	a, found, superseded, err := tx.ApprovalByToken(helpdesk.HashToken(token))
	if err != nil {
		return a, t, err
	}
	if !found {
		return a, t, unknown
	}
	if !superseded && !helpdesk.TokenMatches(token, a.TokenHash) {
		return a, t, unknown
	}
	// A decided or cancelled request says so through any of its links; a
	// pending one, that this link was replaced.
	switch {
	case a.State == helpdesk.ApprovalApproved, a.State == helpdesk.ApprovalRejected:
		return a, t, &helpdesk.LinkError{Problem: helpdesk.LinkUsed, Ticket: a.Ticket}
	case a.State == helpdesk.ApprovalCancelled:
		return a, t, &helpdesk.LinkError{Problem: helpdesk.LinkCancelled, Ticket: a.Ticket}
	case superseded:
		return a, t, &helpdesk.LinkError{Problem: helpdesk.LinkSuperseded, Ticket: a.Ticket}
	}
	if !now.Before(a.Expires) {
		return a, t, &helpdesk.LinkError{Problem: helpdesk.LinkExpired, Ticket: a.Ticket}
	}
	t, err = usableLink(tx, a)
	return a, t, err
}

// writeLink runs a write transaction whose actor is the approval's approver,
// proven by the link token rather than a login.
func (s *Service) writeLink(token string, fn func(c *Ctx, a helpdesk.Approval, t helpdesk.Ticket) error) (Delivery, error) {
	db, err := s.open(false)
	if err != nil {
		return Delivery{}, err
	}
	var queued []uint64
	err = db.Update(func(tx *store.Tx) error {
		now := s.now()
		a, t, err := linkApproval(tx, token, now)
		if err != nil {
			return err
		}
		approver, _, err := tx.User(a.Approver)
		if err != nil {
			return err
		}
		c := &Ctx{Tx: tx, Actor: approver, Engine: access.New(tx), Now: now, command: "approval decide (link)"}
		if err := fn(c, a, t); err != nil {
			return err
		}
		queued = c.queued
		return nil
	})
	db.Close()
	if err != nil || len(queued) == 0 || s.later(queued) {
		return Delivery{}, err
	}
	return s.deliver(queued), nil
}

// DecideByToken records a decision made with a link token (the page or `approval decide --token`).
func (s *Service) DecideByToken(token string, approve bool, comment string) (ApprovalView, Delivery, error) {
	var out ApprovalView
	d, err := s.writeLink(token, func(c *Ctx, a helpdesk.Approval, t helpdesk.Ticket) error {
		var err error
		out, err = s.recordDecision(c, a, t, approve, comment, "email link")
		return err
	})
	return out, d, err
}

// Pages adapts the approval use cases to the confirmation pages.
func (s *Service) Pages() web.Approvals { return pages{s} }

type pages struct{ s *Service }

func (p pages) View(_ context.Context, token string) (web.View, error) {
	var v web.View
	err := p.s.readAnon(func(tx *store.Tx) error {
		a, t, err := linkApproval(tx, token, p.s.now())
		if err != nil {
			return err
		}
		v = web.View{Ticket: t.Number, Subject: t.Subject, Requester: displayName(tx, t.Requester),
			RequestedBy: displayName(tx, a.RequestedBy), Approver: approverName(tx, a), Note: a.Note, Expires: a.Expires}
		return nil
	})
	return v, err
}

func (p pages) Decide(_ context.Context, token string, approve bool, comment string) (web.Outcome, error) {
	a, _, err := p.s.DecideByToken(token, approve, comment)
	if err != nil {
		return web.Outcome{}, err
	}
	return web.Outcome{Ticket: a.Ticket, Subject: a.TicketSubject, Approved: approve, Approver: a.ApproverName, Comment: comment}, nil
}

// ShowApproval prints a ticket's approval record to its technicians, the approver and administrators.
func (s *Service) ShowApproval(ticket int) (ApprovalView, error) {
	var out ApprovalView
	err := s.read(func(c *Ctx) error {
		t, ok, err := c.Tx.Ticket(ticket)
		if err != nil {
			return err
		}
		a, has, err := c.Tx.Approval(ticket)
		if err != nil {
			return err
		}
		if !ok || !mayReadApproval(c, t, a, has) {
			return errs.NotFoundf("no ticket #%d", ticket)
		}
		if !has {
			return errs.NotFoundf("#%d has no approval request", ticket).
				WithHint("request one with: deskctl approval request %d --approver LOGIN", ticket)
		}
		out = approvalView(c.Tx, a, t.Subject)
		return nil
	})
	return out, err
}

func mayReadApproval(c *Ctx, t helpdesk.Ticket, a helpdesk.Approval, has bool) bool {
	if has && (a.Approver == c.Actor.Login || a.RequestedBy == c.Actor.Login || a.OnBehalfOf == c.Actor.Login) {
		return true
	}
	if ok, _ := c.Engine.Holds(c.Actor.Login, helpdesk.PermAdmin); ok {
		return true
	}
	role, err := c.Engine.Role(c.Actor.Login, &t)
	return err == nil && (role.Role == access.RoleResourceMember || role.Role == access.RoleDispatcher)
}

// ApprovalQuery is `approval list`.
type ApprovalQuery struct {
	State, Approver, RequestedBy string
	OlderThan                    time.Duration
}

// ListApprovals lists what the actor may see, oldest request first.
func (s *Service) ListApprovals(q ApprovalQuery) ([]ApprovalView, error) {
	out := []ApprovalView{}
	if q.State != "" {
		if _, err := helpdesk.ParseApprovalState(q.State); err != nil {
			return nil, err
		}
	}
	err := s.read(func(c *Ctx) error {
		all, err := c.Tx.Approvals()
		if err != nil {
			return err
		}
		for _, a := range all {
			if (q.State != "" && string(a.State) != q.State) || (q.Approver != "" && a.Approver != q.Approver) ||
				(q.RequestedBy != "" && a.RequestedBy != q.RequestedBy) ||
				(q.OlderThan > 0 && c.Now.Sub(a.RequestedAt) < q.OlderThan) {
				continue
			}
			t, ok, err := c.Tx.Ticket(a.Ticket)
			if err != nil {
				return err
			}
			if !ok || !mayReadApproval(c, t, a, true) {
				continue
			}
			out = append(out, approvalView(c.Tx, a, t.Subject))
		}
		return nil
	})
	sortApprovals(out)
	return out, err
}

func sortApprovals(vs []ApprovalView) {
	for i := 1; i < len(vs); i++ {
		for j := i; j > 0 && vs[j].RequestedAt.Before(vs[j-1].RequestedAt); j-- {
			vs[j], vs[j-1] = vs[j-1], vs[j]
		}
	}
}

var _ = strings.TrimSpace
