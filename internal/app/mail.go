package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/mail"
	"github.com/deskctl/deskctl/internal/store"
)

// MailSettings says how queued mail leaves the outbox.
type MailSettings struct {
	SMTP mail.Config
	// PublicURL is the base of approval links, e.g. https://help.example.com.
	PublicURL string
	// PublicURLUnset says PublicURL is only the default (this machine).
	PublicURLUnset bool
	// SendWait bounds how long a command waits for the server after its
	// commit (mail.DefaultSendWait when zero).
	SendWait time.Duration
}

// Delivery reports what happened to the mail a command queued.
type Delivery struct {
	Sent   []string `json:"sent"`   // recipients the server accepted
	Queued []string `json:"queued"` // recipients still waiting in the outbox
	// Reason explains why mail is still queued (SMTP not configured, server down…).
	Reason string `json:"reason"`
	// Failed are recipients whose mail the server refused for good: it is
	// marked failed and never retried. FailReason carries the server's
	// reply, Resend how to send it again.
	Failed     []string `json:"failed"`
	FailReason string   `json:"fail_reason"`
	Resend     string   `json:"resend"`
	// Warning is about the links in the mail (public-url not set, plain http).
	Warning string `json:"warning"`
}

// queueMail adds a message to the outbox inside the use case's transaction.
func (c *Ctx) queueMail(kind string, ticket int, m mail.Message) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.queueRaw(kind, ticket, m.To, m.Subject, raw)
}

func (c *Ctx) queueRaw(kind string, ticket int, to, subject string, raw []byte) error {
	om, err := c.Tx.EnqueueMail(store.OutboxMail{Created: c.Now, Ticket: ticket, Kind: kind, To: to, Subject: subject, Message: raw})
	if err != nil {
		return err
	}
	c.queued = append(c.queued, om.ID)
	return nil
}

// claimLease keeps a message from being sent by two deskctl processes at
// once: a claimed message is skipped by others until the lease runs out.
// It covers the send (twice the SMTP timeout) and recording the outcome
// (up to three waits for the database lock), with a minute to spare.
func claimLease(smtpTimeout, lockTimeout time.Duration) time.Duration {
	if smtpTimeout <= 0 {
		smtpTimeout = mail.DefaultTimeout
	}
	if lockTimeout <= 0 {
		lockTimeout = store.DefaultLockTimeout
	}
	return 2*smtpTimeout + 3*lockTimeout + time.Minute
}

// deliver sends the mail a command queued, right after its commit. The
// database lock is never held while talking to the SMTP server: each
// message is claimed in one short transaction, sent, then marked in another.
// The whole delivery waits at most SendWait: a slow or silent server gets
// its connection closed, and the mail stays queued, due at once, for
// `mail flush` or a running `deskctl serve`. The claim is released only
// after the connection is closed, so no other process sends the message
// while this one might still.
func (s *Service) deliver(ids []uint64) Delivery {
	wait := mail.DefaultSendWait
	if s.Mail != nil && s.Mail.SendWait > 0 {
		wait = s.Mail.SendWait
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), wait, errSendWait)
	defer cancel()
	d := s.deliverAll(ctx, ctx, ids, true)
	if ctx.Err() != nil && len(d.Queued) > 0 {
		d.Reason = fmt.Sprintf("the SMTP server did not answer within %s (smtp.send-wait); will retry (deskctl mail flush, or a running deskctl serve)", wait)
	}
	return d
}

// errSendWait marks an attempt a command stopped waiting for: the server
// has not failed, so the mail is due again at once, without back-off.
var errSendWait = errors.New("not sent within smtp.send-wait")

// deliverAll sends ids one after another, stopping between mails once ctx
// is done (what is left stays queued); send bounds each conversation with
// the server. force skips the retry backoff.
func (s *Service) deliverAll(ctx, send context.Context, ids []uint64, force bool) Delivery {
	var d Delivery
	for i, id := range ids {
		if ctx.Err() != nil {
			for _, rest := range ids[i:] {
				if m, ok := s.peekMail(rest); ok && m.State == store.MailQueued {
					d.Queued = append(d.Queued, m.To)
				}
			}
			break
		}
		s.deliverOne(send, id, force, &d)
	}
	return d
}

// dueMail splits the queued mail of an outbox into what may be sent now
// and how many wait for their retry time (force: nothing waits).
func dueMail(ms []store.OutboxMail, now time.Time, force bool) (ids []uint64, waiting int) {
	for _, m := range ms {
		if m.State != store.MailQueued {
			continue
		}
		if !force && now.Before(m.NextAttempt) {
			waiting++
			continue
		}
		ids = append(ids, m.ID)
	}
	return ids, waiting
}

// StartMailer makes the Service deliver in the background, for a long-
// running process (deskctl serve): mail that a link decision queues is sent
// after the approver has been answered, not while they wait on the page,
// and every interval whatever is due in the outbox is retried. Call it
// before the Service is used. The returned function waits, once ctx is
// done, for the delivery in progress; what is still queued stays in the
// outbox for the next flush.
func (s *Service) StartMailer(ctx context.Context, every time.Duration) (wait func()) {
	jobs := make(chan []uint64, 256)
	s.mailer = jobs
	return runEvery(ctx, every, jobs, func(ids []uint64) {
		// A shutdown waits for one send at most.
		s.deliverAll(ctx, context.Background(), ids, true)
	}, func() { s.deliverDue(ctx) })
}

// runEvery calls onTick every interval, and onJob for each batch jobs hands
// over (a nil jobs hands none), one call at a time, until ctx is done. The
// returned function waits for the call in progress.
func runEvery(ctx context.Context, every time.Duration, jobs <-chan []uint64, onJob func([]uint64), onTick func()) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ids := <-jobs:
				onJob(ids)
			case <-tick.C:
				onTick()
			}
		}
	}()
	return func() { <-done }
}

// later hands ids to the background mailer; false when there is none.
// When its queue is full the mail waits for the mailer's next round.
func (s *Service) later(ids []uint64) bool {
	if s.mailer == nil {
		return false
	}
	select {
	case s.mailer <- ids:
	default:
	}
	return true
}

// deliverDue tries every queued mail whose retry time has come, stopping
// between mails once ctx is done.
func (s *Service) deliverDue(ctx context.Context) {
	var ids []uint64
	_ = s.readAnon(func(tx *store.Tx) error {
		ms, err := tx.Outbox()
		ids, _ = dueMail(ms, s.now(), false)
		return err
	})
	s.deliverAll(ctx, context.Background(), ids, false)
}

// deliverOne sends one outbox entry within send. force skips the retry
// backoff, never another process's claim.
func (s *Service) deliverOne(send context.Context, id uint64, force bool, d *Delivery) {
	if s.Mail == nil || !s.Mail.SMTP.Configured() {
		if m, ok := s.peekMail(id); ok && m.State == store.MailQueued {
			d.Queued = append(d.Queued, m.To)
		}
		d.Reason = "SMTP is not configured (set smtp.host and smtp.from); mail stays queued — send it later with `deskctl mail flush`"
		return
	}
	if err := s.Mail.SMTP.Problem; err != nil {
		if m, ok := s.peekMail(id); ok && m.State == store.MailQueued {
			d.Queued = append(d.Queued, m.To)
		}
		d.Reason = err.Error() + "; mail stays queued — send it later with `deskctl mail flush`"
		return
	}
	msg, ok, err := s.claimMail(id, force)
	if err != nil {
		d.Reason = err.Error()
		return
	}
	if !ok {
		return
	}
	timeout := s.Mail.SMTP.Timeout
	if timeout <= 0 {
		timeout = mail.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(send, 2*timeout)
	sendErr := mail.NewSMTP(s.Mail.SMTP).Send(ctx, msg)
	cancel()
	if errors.Is(sendErr, context.DeadlineExceeded) && errors.Is(context.Cause(send), errSendWait) {
		sendErr = fmt.Errorf("%w: %w", errSendWait, sendErr)
	}
	permanent := sendErr != nil && mail.IsPermanent(sendErr)
	s.finishMail(id, sendErr, permanent)
	switch {
	case permanent:
		d.Failed = append(d.Failed, msg.To)
		d.FailReason = "failed permanently: " + sendErr.Error() + "; it will not be retried"
		d.Resend = s.resendHint(id)
	case sendErr != nil:
		d.Queued = append(d.Queued, msg.To)
		d.Reason = sendErr.Error() + " — the mail is queued; retry with `deskctl mail flush`"
	default:
		d.Sent = append(d.Sent, msg.To)
	}
}

// resendHint says how to send a mail the server refused for good: an
// approver mail goes out again with a reminder, once the address is fixed.
func (s *Service) resendHint(id uint64) string {
	m, _ := s.peekMail(id)
	if m.Kind == mailApprovalDigest {
		return "fix the address (deskctl user update LOGIN --email ADDR); the next period's digest carries new links, or send one now with deskctl approval remind N"
	}
	if m.Kind == mailApprovalRequest || m.Kind == mailApprovalReminder {
		return fmt.Sprintf("fix the address (deskctl user update LOGIN --email ADDR), then send a new link: deskctl approval remind %d", m.Ticket)
	}
	return "fix the address, then tell the recipient yourself; `deskctl mail queue --all` keeps the failed mail"
}

func (s *Service) peekMail(id uint64) (store.OutboxMail, bool) {
	var m store.OutboxMail
	var ok bool
	_ = s.readAnon(func(tx *store.Tx) error {
		var err error
		m, ok, err = tx.Mail(id)
		return err
	})
	return m, ok
}

// claimMail marks a queued message as being sent by this process and
// returns it ready to send. A mail with approval links gets its links here,
// in the same transaction (see mintLinks); one whose links would be dead is
// dropped instead, and one whose links could not decide right now waits.
func (s *Service) claimMail(id uint64, force bool) (mail.Message, bool, error) {
	db, err := s.open(false)
	if err != nil {
		return mail.Message{}, false, err
	}
	defer db.Close()
	var msg mail.Message
	var ok bool
	now := s.now()
	err = db.Update(func(tx *store.Tx) error {
		m, found, err := tx.Mail(id)
		if err != nil || !found {
			return err
		}
		if m.State != store.MailQueued || now.Before(m.ClaimedUntil) || (!force && now.Before(m.NextAttempt)) {
			return nil
		}
		var lm linkMail
		var dm digestMail
		m.LinkHash, m.PrevHash, m.PrevExpires, m.Links = "", "", time.Time{}, nil
		if m.Kind == mailApprovalDigest && json.Unmarshal(m.Message, &dm) == nil && dm.To != "" {
			var drop string
			msg, m.Links, drop, err = s.mintDigest(tx, dm, now)
			switch {
			case err != nil:
				return err
			case drop != "":
				m.State, m.LastError, m.NextAttempt = store.MailDropped, drop, time.Time{}
				return tx.PutMail(m)
			}
		} else if isLinkMail(m.Kind) && json.Unmarshal(m.Message, &lm) == nil && lm.Mail.To != "" {
			var mt minted
			var drop, wait string
			msg, mt, drop, wait, err = s.mintLinks(tx, lm, now)
			switch {
			case err != nil:
				return err
			case drop != "":
				m.State, m.LastError, m.NextAttempt = store.MailDropped, drop, time.Time{}
				return tx.PutMail(m)
			case wait != "":
				m.LastError = "waiting: " + wait
				m.NextAttempt = now.Add(mail.Backoff(m.Attempts + 1))
				return tx.PutMail(m)
			}
			m.LinkHash, m.PrevHash, m.PrevExpires = mt.hash, mt.prevHash, mt.prevExpires
		} else if err := json.Unmarshal(m.Message, &msg); err != nil {
			m.State, m.LastError = store.MailFailed, fmt.Sprintf("the stored message is damaged: %v", err)
			return tx.PutMail(m)
		}
		ok = true
		m.Attempts++
		m.ClaimedUntil = now.Add(claimLease(s.Mail.SMTP.Timeout, s.LockTimeout))
		return tx.PutMail(m)
	})
	return msg, ok, err
}

// finishMail records the outcome of one attempt. If the database is busy the
// outcome is retried briefly; a sent mail left unmarked would be sent again.
func (s *Service) finishMail(id uint64, sendErr error, permanent bool) {
	for try := 0; try < 3; try++ {
		db, err := s.open(false)
		if err != nil {
			if errs.Is(err, errs.Busy) {
				continue
			}
			return
		}
		now := s.now()
		err = db.Update(func(tx *store.Tx) error {
			m, ok, err := tx.Mail(id)
			if err != nil || !ok {
				return err
			}
			m.ClaimedUntil = time.Time{}
			switch {
			case sendErr == nil:
				m.State, m.SentAt, m.LastError, m.NextAttempt = store.MailSent, now, "", time.Time{}
			case permanent:
				m.State, m.LastError, m.NextAttempt = store.MailFailed, sendErr.Error(), time.Time{}
			case errors.Is(sendErr, errSendWait):
				m.LastError, m.NextAttempt = sendErr.Error(), now
			default:
				m.LastError = sendErr.Error()
				m.NextAttempt = now.Add(mail.Backoff(m.Attempts))
			}
			if sendErr != nil {
				// Nobody received the new link: the approver keeps the one
				// they have.
				if err := restoreLink(tx, m.Ticket, minted{m.LinkHash, m.PrevHash, m.PrevExpires}); err != nil {
					return err
				}
				for _, l := range m.Links {
					if err := restoreLink(tx, l.Ticket, minted{l.LinkHash, l.PrevHash, l.PrevExpires}); err != nil {
						return err
					}
				}
			}
			m.LinkHash, m.PrevHash, m.PrevExpires, m.Links = "", "", time.Time{}, nil
			return tx.PutMail(m)
		})
		db.Close()
		if err == nil || !errs.Is(err, errs.Busy) {
			return
		}
	}
}

// MailView is an outbox entry as printed by `mail queue`.
type MailView struct {
	ID          uint64    `json:"id"`
	State       string    `json:"state"`
	Kind        string    `json:"kind"`
	Ticket      int       `json:"ticket"`
	To          string    `json:"to"`
	Subject     string    `json:"subject"`
	Created     time.Time `json:"created"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error"`
	NextAttempt OptTime   `json:"next_attempt"`
	SentAt      OptTime   `json:"sent_at"`
}

// MailQueue lists outbox entries; all=false hides sent mail.
func (s *Service) MailQueue(all bool) ([]MailView, error) {
	var out []MailView
	err := s.read(func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		ms, err := c.Tx.Outbox()
		for _, m := range ms {
			if !all && (m.State == store.MailSent || m.State == store.MailDropped) {
				continue
			}
			out = append(out, MailView{m.ID, m.State, m.Kind, m.Ticket, m.To, m.Subject, m.Created, m.Attempts, m.LastError, OptTime{m.NextAttempt}, OptTime{m.SentAt}})
		}
		return err
	})
	return out, err
}

// FlushResult summarises a `mail flush`.
type FlushResult struct {
	Delivery
	Waiting int `json:"waiting"` // queued but not yet due (backoff)
}

// FlushMail tries every queued message that is due (all due with force).
func (s *Service) FlushMail(force bool) (FlushResult, error) {
	var ids []uint64
	var waiting int
	err := s.read(func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		ms, err := c.Tx.Outbox()
		ids, waiting = dueMail(ms, c.Now, force)
		return err
	})
	if err != nil {
		return FlushResult{}, err
	}
	r := FlushResult{Delivery: Delivery{}.withLists(), Waiting: waiting}
	if s.Mail == nil || !s.Mail.SMTP.Configured() {
		if len(ids) > 0 {
			return r, errs.Conflictf("%d mail(s) queued but SMTP is not configured", len(ids)).
				WithHint("set smtp.host and smtp.from (config file or DESKCTL_SMTP_HOST / DESKCTL_SMTP_FROM), then run deskctl mail flush")
		}
		return r, nil
	}
	r.Delivery = s.deliverAll(context.Background(), context.Background(), ids, force).withLists()
	return r, nil
}

// withLists gives d empty lists where it has none, as printed output wants.
func (d Delivery) withLists() Delivery {
	for _, l := range []*[]string{&d.Sent, &d.Queued, &d.Failed} {
		if *l == nil {
			*l = []string{}
		}
	}
	return d
}

// TestMail sends a test message straight away (not through the outbox),
// administrators only: it sends through the helpdesk's own SMTP account.
func (s *Service) TestMail(to string) error {
	if err := s.read(func(c *Ctx) error { return c.RequireAdmin() }); err != nil {
		return err
	}
	if s.Mail == nil || !s.Mail.SMTP.Configured() {
		return errs.Usagef("SMTP is not configured").WithHint("set smtp.host and smtp.from (config file or DESKCTL_SMTP_*)")
	}
	if err := s.Mail.SMTP.Validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*claimLease(s.Mail.SMTP.Timeout, s.LockTimeout))
	defer cancel()
	if err := mail.NewSMTP(s.Mail.SMTP).Send(ctx, mail.TestMessage(to)); err != nil {
		// The settings passed validation: whatever went wrong now, the
		// server refused (a login, the sender, the recipient) or could not
		// be reached, which is this command's negative answer.
		return &errs.Error{Kind: errs.Negative, Msg: "test mail not delivered", Err: err, Hint: errs.HintOf(err)}
	}
	return nil
}
