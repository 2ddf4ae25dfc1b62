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
	// Stages lists the request's stages, their approvers and decisions:
	// one stage with one approver for a request of a single approver.
	Stages []StageView `json:"stages"`
	// The deadline: each stage is due DueWindow after it opens (Due is the
	// open stage's), then OnTimeout happens (remind, reject, cancel or
	// escalate to EscalateTo). Empty and null without a deadline.
	Due           OptTime `json:"due"`
	DueWindow     string  `json:"due_window"`
	OnTimeout     string  `json:"on_timeout"`
	EscalateTo    string  `json:"escalate_to"`
	AutoReminders int     `json:"auto_reminders"` // sent by sweeps in the open stage
	TimedOut      bool    `json:"timed_out"`
}

// StageView is one stage of a request in `approval show`.
type StageView struct {
	Stage      int    `json:"stage"` // from 1
	State      string `json:"state"` // waiting (not open yet), pending, approved or rejected
	Rule       string `json:"rule"`
	RejectRule string `json:"reject_rule"`
	// Needed is how many approvals the rule asks for.
	Needed    int            `json:"needed"`
	Approvers []ApproverView `json:"approvers"`
}

// ApproverView is one approver of a stage: a user, or a group deciding as one.
type ApproverView struct {
	Approver string `json:"approver"` // login or group:NAME
	Name     string `json:"name"`
	// Asked are the logins given a link: the user, or the group's active members.
	Asked     []string `json:"asked"`
	Decision  string   `json:"decision"` // approved, rejected, or empty while undecided
	DecidedBy string   `json:"decided_by"`
	DecidedAt OptTime  `json:"decided_at"`
	Comment   string   `json:"comment"`
	Via       string   `json:"via"`
}

func approvalView(tx *store.Tx, a helpdesk.Approval, subject string) ApprovalView {
	v := ApprovalView{Ticket: a.Ticket, TicketSubject: subject, State: string(a.State), Approver: a.Approver, ApproverName: displayName(tx, a.Approver),
		RequestedBy: a.RequestedBy, RequestedAt: a.RequestedAt, Note: a.Note, DecidedBy: a.DecidedBy, DecidedAt: OptTime{a.DecidedAt},
		Comment: a.Comment, CancelledBy: a.CancelledBy, LinkExpires: OptTime{a.Expires}, Round: a.Round, Reminders: a.Reminders,
		Badge: approvalBadge(tx, a).Text, OnBehalfOf: a.OnBehalfOf, OnBehalfOfName: onBehalfOfName(tx, a), Stages: stageViews(tx, a),
		AutoReminders: a.AutoReminders, TimedOut: a.TimedOut}
	if a.Deadline != nil {
		v.DueWindow, v.OnTimeout, v.EscalateTo = helpdesk.DurationText(a.Deadline.Due), string(a.Deadline.OnTimeout), a.Deadline.EscalateTo
		if a.State == helpdesk.ApprovalPending {
			v.Due = OptTime{a.Due}
		}
	}
	return v
}

func stageViews(tx *store.Tx, a helpdesk.Approval) []StageView {
	out := []StageView{}
	for i, st := range a.Plan() {
		sv := StageView{Stage: i + 1, State: string(st.State), Rule: st.Rule.String(), RejectRule: st.RejectRule.String(),
			Needed: st.Rule.Need(len(st.Approvers)), Approvers: []ApproverView{}}
		if sv.State == "" {
			sv.State = "waiting"
		}
		for _, sl := range st.Approvers {
			av := ApproverView{Approver: sl.Approver, Name: slotName(tx, sl), Asked: []string{}, Decision: string(sl.Decision),
				DecidedBy: sl.DecidedBy, DecidedAt: OptTime{sl.DecidedAt}, Comment: sl.Comment, Via: sl.Via}
			for _, l := range sl.Links {
				av.Asked = append(av.Asked, l.Login)
			}
			sv.Approvers = append(sv.Approvers, av)
		}
		out = append(out, sv)
	}
	return out
}

// slotName is how an approver is named to people: a user's name, a group as group:NAME.
func slotName(tx *store.Tx, sl helpdesk.ApproverSlot) string {
	if sl.IsGroup() {
		return sl.Approver
	}
	return displayName(tx, sl.Approver)
}

// deciderName names who decided for a slot: "Carol Jones", or
// "Dan Brown for group:finance".
func deciderName(tx *store.Tx, sl helpdesk.ApproverSlot, login string) string {
	name := displayName(tx, login)
	for _, l := range sl.Links {
		if l.Login == login && l.OnBehalfOf != "" {
			name += " for " + displayName(tx, l.OnBehalfOf)
			break
		}
	}
	if sl.IsGroup() {
		return name + " for " + sl.Approver
	}
	return name
}

// markStandIns notes on each link that a delegation sent it to someone
// other than the approver asked (standIns: approver → delivered login →
// away approver).
func markStandIns(plan []helpdesk.ApprovalStage, standIns map[string]map[string]string) {
	for i := range plan {
		for j := range plan[i].Approvers {
			sl := &plan[i].Approvers[j]
			for k := range sl.Links {
				if away := standIns[sl.Approver][sl.Links[k].Login]; away != "" {
					sl.Links[k].OnBehalfOf = away
				}
			}
		}
	}
}

// approvalBadge is the Approval row text: "Awaiting from Carol Jones"; for
// several approvers, the open stage's progress ("Stage 2 of 2: 1 of 2
// approved — waiting for group:finance") or who settled it.
func approvalBadge(tx *store.Tx, a helpdesk.Approval) *ApprovalBadge {
	if !a.Single() {
		return &ApprovalBadge{State: string(a.State), Approver: a.Approver, Text: progressText(tx, a)}
	}
	name := approverName(tx, a)
	b := &ApprovalBadge{State: string(a.State), Approver: a.Approver}
	switch a.State {
	case helpdesk.ApprovalPending:
		b.Text = "Awaiting from " + name
	case helpdesk.ApprovalApproved:
		b.Text = "Approved by " + name
	case helpdesk.ApprovalRejected:
		b.Text = "Rejected by " + name
		if a.TimedOut {
			b.Text = "Rejected: timed out"
		}
	case helpdesk.ApprovalCancelled:
		b.Text = "Cancelled"
	}
	return b
}

func progressText(tx *store.Tx, a helpdesk.Approval) string {
	plan := a.Plan()
	switch a.State {
	case helpdesk.ApprovalCancelled:
		return "Cancelled"
	case helpdesk.ApprovalRejected, helpdesk.ApprovalApproved:
		if a.TimedOut {
			return "Rejected: timed out"
		}
		verb := "Approved by "
		if a.State == helpdesk.ApprovalRejected {
			verb = "Rejected by "
		}
		var who []string
		for _, st := range plan {
			for _, sl := range st.Approvers {
				if sl.Decision == a.State {
					who = append(who, deciderName(tx, sl, sl.DecidedBy))
				}
			}
		}
		return verb + andList(who)
	}
	i := a.OpenStage()
	if i < 0 {
		return string(a.State)
	}
	st := plan[i]
	ok, _ := st.Tally()
	n, need := len(st.Approvers), st.Rule.Need(len(st.Approvers))
	text := itoa(ok) + " of " + itoa(n) + " approved"
	if need != n {
		text += " (" + itoa(need) + " needed)"
	}
	var waiting []string
	for _, sl := range st.Approvers {
		if sl.Decision == "" {
			waiting = append(waiting, slotName(tx, sl))
		}
	}
	text += " — waiting for " + strings.Join(waiting, ", ")
	if len(plan) > 1 {
		text = "Stage " + itoa(i+1) + " of " + itoa(len(plan)) + ": " + text
	}
	return text
}

// andList joins names as "A", "A and B", "A, B and C".
func andList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
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
	// Which link of a request with several approvers or stages the mail
	// carries; a mail queued before those existed carries the only one.
	Stage int `json:"stage,omitempty"`
	Slot  int `json:"slot,omitempty"`
	Link  int `json:"link,omitempty"`
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

// queueLink queues the approver mail of one link (the only one, for a
// single approver) for the record's current round and reminder count.
func (s *Service) queueLink(c *Ctx, a helpdesk.Approval, ref helpdesk.LinkRef, t helpdesk.Ticket, reminder bool) error {
	base, err := s.publicURL()
	if err != nil {
		return err
	}
	plan := a.Plan()
	slot := plan[ref.Stage].Approvers[ref.Slot]
	approver, _, err := c.Tx.User(slot.Links[ref.Link].Login)
	if err != nil {
		return err
	}
	lm := linkMail{Reminder: reminder, Round: a.Round, Reminders: a.Reminders, Base: base.String(), Stage: ref.Stage, Slot: ref.Slot, Link: ref.Link,
		Mail: mail.ApprovalMail{To: approver.Email, ApproverName: approver.Name, Ticket: t.Number, TicketSubject: t.Subject,
			RequesterName: displayName(c.Tx, t.Requester), TechnicianName: displayName(c.Tx, a.RequestedBy), Note: a.Note}}
	if for_ := slot.Links[ref.Link].OnBehalfOf; for_ != "" {
		lm.Mail.OnBehalfOfName = displayName(c.Tx, for_)
	}
	if slot.IsGroup() {
		lm.Mail.ForGroup = slot.Approver
	}
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

// queueStage queues the mails of every undecided approver of stage i: one
// per person asked, each with its own link once sent.
func (s *Service) queueStage(c *Ctx, a helpdesk.Approval, i int, t helpdesk.Ticket, reminder bool) error {
	for j, sl := range a.Plan()[i].Approvers {
		if sl.Decision != "" {
			continue
		}
		for k := range sl.Links {
			if err := s.queueLink(c, a, helpdesk.LinkRef{Stage: i, Slot: j, Link: k}, t, reminder); err != nil {
				return err
			}
		}
	}
	return nil
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
	ref := helpdesk.LinkRef{Stage: lm.Stage, Slot: lm.Slot, Link: lm.Link}
	link, has := a.Link(ref)
	switch {
	case !ok || a.Round != lm.Round || !has:
		return m, mt, "a newer approval request replaced it", "", nil
	case a.State != helpdesk.ApprovalPending:
		return m, mt, "the approval is " + string(a.State) + " already", "", nil
	case a.Reminders != lm.Reminders:
		return m, mt, "a reminder replaced it", "", nil
	case a.OpenStage() != ref.Stage:
		return m, mt, "its stage is not open", "", nil
	case a.Plan()[ref.Stage].Approvers[ref.Slot].Decision != "":
		return m, mt, a.Plan()[ref.Stage].Approvers[ref.Slot].Approver + " has decided already", "", nil
	}
	if _, err := usableLinkFor(tx, a, link.Login); err != nil {
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
	token, expires, mt, err := newLink(tx, &a, ref, now)
	if err != nil {
		return m, mt, "", "", err
	}
	d := lm.Mail
	d.Expires, d.ApproveURL, d.RejectURL = expires, web.LinkURL(base, token, true), web.LinkURL(base, token, false)
	if lm.Reminder {
		return mail.ApprovalReminder(d), mt, "", "", nil
	}
	return mail.ApprovalRequest(d), mt, "", "", nil
}

// newLink gives the link ref of a a fresh token and stores the record: the
// token exists only in what it returns, the record keeps its hash, and the
// link it replaces stops working.
func newLink(tx *store.Tx, a *helpdesk.Approval, ref helpdesk.LinkRef, now time.Time) (token string, expires time.Time, mt minted, err error) {
	link, _ := a.Link(ref)
	token, hash, err := helpdesk.NewToken()
	if err != nil {
		return "", expires, mt, err
	}
	mt = minted{hash: hash, prevHash: link.TokenHash, prevExpires: link.Expires}
	expires = now.Add(helpdesk.LinkTTL(tx.Settings()))
	if !a.Due.IsZero() && a.Due.Before(expires) {
		// A link dies with the deadline at the latest.
		expires = a.Due
	}
	a.SetLink(ref, hash, expires)
	return token, expires, mt, tx.PutApproval(*a)
}

// restoreLink undoes mintLinks after its mail could not be sent: the link
// nobody received is replaced by the one the approver already has (none,
// for a first request), unless something changed the record since.
func restoreLink(tx *store.Tx, ticket int, mt minted) error {
	if mt.hash == "" {
		return nil
	}
	a, ok, err := tx.Approval(ticket)
	if err != nil || !ok || a.State != helpdesk.ApprovalPending {
		return err
	}
	ref, found := a.FindLink(mt.hash)
	if !found {
		return nil
	}
	a.SetLink(ref, mt.prevHash, mt.prevExpires)
	return tx.PutApproval(a)
}

// usableLinkFor checks what must hold, besides the token itself, for the
// link of login to a pending approval to record a decision, and returns the
// ticket.
func usableLinkFor(tx *store.Tx, a helpdesk.Approval, login string) (helpdesk.Ticket, error) {
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
	if u, ok, err := tx.User(login); err != nil || !ok || !u.Active {
		if err != nil {
			return t, err
		}
		return t, &helpdesk.LinkError{Problem: helpdesk.LinkInactive, Ticket: a.Ticket}
	}
	return t, nil
}

// RequestApproval asks approver to sign off on a ticket.
func (s *Service) RequestApproval(ticket int, approver, note string) (ApprovalView, Delivery, error) {
	return s.RequestApprovals(ticket, []helpdesk.StageSpec{{Approvers: []string{approver}}}, note)
}

// singleSpec reports whether stages ask one user in one stage: today's
// request, which keeps its exit codes (3 for an unknown user, 5 for a
// disabled one) and its record layout.
func singleSpec(stages []helpdesk.StageSpec) bool {
	return len(stages) == 1 && len(stages[0].Approvers) == 1 && !strings.HasPrefix(stages[0].Approvers[0], "group:")
}

// RequestApprovals asks the approvers of each stage to sign off on a
// ticket under the stage's rules; the first stage is asked now, each next
// one once the one before it is approved. No stages asks those of the
// approval template that applies to the ticket's resource.
func (s *Service) RequestApprovals(ticket int, stages []helpdesk.StageSpec, note string) (ApprovalView, Delivery, error) {
	return s.RequestApprovalWith(ApprovalRequestInput{Ticket: ticket, Stages: stages, Note: note})
}

// ApprovalRequestInput is everything a request is made with: from the
// command line, or from a template that fills the same fields.
type ApprovalRequestInput struct {
	Ticket int                  `json:"ticket"`
	Stages []helpdesk.StageSpec `json:"stages"`
	Note   string               `json:"note"`
	// Deadline: Due zero takes approvals.default-due.
	Deadline helpdesk.DeadlineSpec `json:"deadline"`
}

// RequestApprovalWith is RequestApprovals with a deadline.
func (s *Service) RequestApprovalWith(in ApprovalRequestInput) (ApprovalView, Delivery, error) {
	ticket, stages, note := in.Ticket, in.Stages, in.Note
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
		template := ""
		deadline := in.Deadline
		if len(stages) == 0 {
			var due, onTimeout string
			if stages, due, onTimeout, template, err = templateSpecs(c, t); err != nil {
				return err
			}
			// The template's deadline applies unless the request gives its own.
			if deadline.Due == 0 && deadline.OnTimeout == "" {
				if deadline, err = (helpdesk.ApprovalTemplate{Due: due, OnTimeout: onTimeout}).Deadline(); err != nil {
					return err
				}
			}
		}
		single := singleSpec(stages)
		var plan []helpdesk.ApprovalStage
		onBehalfOf := ""
		if single {
			u, away, err := resolveApprover(c.Tx, stages[0].Approvers[0], c.Now)
			if err != nil {
				return err
			}
			stages[0].Approvers[0], onBehalfOf = u.Login, away
		}
		standIns := map[string]map[string]string{} // approver → delivered login → away approver
		plan, err = helpdesk.NewStages(stages, func(ap string) ([]string, error) { return approverPeople(c.Tx, ap, c.Now, standIns) }, c.Now)
		if err == nil && !single {
			markStandIns(plan, standIns)
		}
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
		a = helpdesk.Approval{Ticket: ticket, State: helpdesk.ApprovalPending, RequestedBy: c.Actor.Login,
			RequestedAt: c.Now, Note: note, Round: a.Round + 1, Stages: plan}
		a.Summarize()
		a.OnBehalfOf = onBehalfOf
		dl, err := requestDeadline(c, deadline, a)
		if err != nil {
			return err
		}
		a.SetDeadline(dl, c.Now)
		if err := c.Tx.PutApproval(a); err != nil {
			return err
		}
		if err := s.queueStage(c, a, 0, t, false); err != nil {
			return err
		}
		if err := noticeAwayApprovers(c, a, 0, t); err != nil {
			return err
		}
		text := "Approval requested from " + askedText(c.Tx, a)
		if template != "" {
			text += " (approval template of resource " + template + ")"
		}
		if note != "" {
			text += ": " + note
		}
		if a.Deadline != nil {
			text += " (due " + a.Due.Format("2006-01-02 15:04 MST") + ", then " + a.Deadline.String() + ")"
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

// askedText names a request's approvers for the ticket log: "Carol Jones
// (carol)" for one; for several, each stage's approvers and rules.
func askedText(tx *store.Tx, a helpdesk.Approval) string {
	if a.Single() {
		text := displayName(tx, a.Approver) + " (" + a.Approver + ")"
		if a.OnBehalfOf != "" {
			text += " for " + displayName(tx, a.OnBehalfOf) + " (" + a.OnBehalfOf + ")"
		}
		return text
	}
	var parts []string
	for i, st := range a.Plan() {
		var names []string
		for _, sl := range st.Approvers {
			name := sl.Approver
			if !sl.IsGroup() && len(sl.Links) == 1 && sl.Links[0].OnBehalfOf != "" {
				name = sl.Links[0].Login + " for " + sl.Approver
			}
			names = append(names, name)
		}
		part := strings.Join(names, ", ") + " (rule " + st.Rule.String() + ", reject-rule " + st.RejectRule.String() + ")"
		if i > 0 {
			part = "then " + part
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, " ")
}

// approverPeople resolves an approver of a request with several
// approvers or stages to the people asked: the user, or the active members
// of the group and of the groups in it. Problems are usage errors: the
// request as typed cannot be made.
func approverPeople(tx *store.Tx, approver string, now time.Time, standIns map[string]map[string]string) ([]string, error) {
	name, isGroup := strings.CutPrefix(approver, "group:")
	if !isGroup {
		u, err := approvingUser(tx, approver, "", approverHint)
		if err != nil {
			return nil, err
		}
		to, away, err := resolveApprover(tx, u.Login, now)
		if err != nil {
			return nil, err
		}
		if away != "" {
			standIns[approver] = map[string]string{to.Login: away}
		}
		return []string{to.Login}, nil
	}
	if _, err := mustGroup(tx, name); err != nil {
		return nil, notFoundAsUsage(err, "", approverHint)
	}
	var people []string
	seen := map[string]bool{}
	var walk func(group string) error
	walk = func(group string) error {
		if seen["group:"+group] {
			return nil
		}
		seen["group:"+group] = true
		g, ok, err := tx.Group(group)
		if err != nil || !ok {
			return err
		}
		for _, m := range g.Members {
			switch m.Kind {
			case helpdesk.KindGroup:
				if err := walk(m.Name); err != nil {
					return err
				}
			case helpdesk.KindUser:
				if seen[m.Name] {
					continue
				}
				seen[m.Name] = true
				u, ok, err := tx.User(m.Name)
				if err != nil {
					return err
				}
				if !ok || !u.Active {
					continue
				}
				// A member who is away is stood in for by their delegate;
				// one without a usable delegate is left out.
				to, away, err := resolveApprover(tx, u.Login, now)
				if err != nil {
					var e *errs.Error
					if errors.As(err, &e) && e.Kind == errs.Conflict {
						continue
					}
					return err
				}
				if away != "" {
					if seen[to.Login] {
						continue
					}
					seen[to.Login] = true
					if standIns[approver] == nil {
						standIns[approver] = map[string]string{}
					}
					standIns[approver][to.Login] = away
				}
				people = append(people, to.Login)
			}
		}
		return nil
	}
	if err := walk(name); err != nil {
		return nil, err
	}
	if len(people) == 0 {
		return nil, errs.Usagef("group %s has no active member to ask", name).
			WithHint("add one (deskctl group add-member %s LOGIN), or name another approver", name)
	}
	return people, nil
}

const approverHint = "name existing users (deskctl user list) or groups (deskctl group list)"

// approvingUser finds a user who is to decide or take over an approval:
// one who exists and is active. Problems are usage errors, since what was
// written cannot be used; prefix leads their message (e.g. "--escalate-to: ")
// and hint says what to name instead of a user who does not exist.
func approvingUser(tx *store.Tx, login, prefix, hint string) (helpdesk.User, error) {
	u, err := mustUser(tx, login)
	if err != nil {
		return u, notFoundAsUsage(err, prefix, hint)
	}
	if !u.Active {
		return u, errs.Usagef("%suser %s is disabled and cannot approve", prefix, u.Login).WithHint("pick an active user")
	}
	return u, nil
}

// notFoundAsUsage turns a not-found error into a usage error with prefix
// leading its message and hint when it has none; other errors pass.
func notFoundAsUsage(err error, prefix, hint string) error {
	var e *errs.Error
	if errors.As(err, &e) && e.Kind == errs.NotFound {
		c := *e
		c.Kind, c.Msg = errs.Usage, prefix+c.Msg
		if c.Hint == "" {
			c.Hint = hint
		}
		return &c
	}
	return err
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
		waiting := waitingPeople(a, false)
		a.State, a.CancelledBy = helpdesk.ApprovalCancelled, c.Actor.Login
		if err := c.Tx.PutApproval(a); err != nil {
			return err
		}
		t.AddSystemEntry("approval-cancel", "Approval request to "+requestTo(c.Tx, a)+" cancelled by "+c.Actor.Login, c.Now, c.Actor.Login)
		if err := c.Tx.PutTicket(t); err != nil {
			return err
		}
		for _, login := range waiting {
			if err := queueWithdrawnTo(c, login, a, t, ""); err != nil {
				return err
			}
		}
		out = approvalView(c.Tx, a, t.Subject)
		return c.Audit("approval:"+itoa(ticket), before, out)
	})
	return out, d, err
}

// requestTo names whom a request asks, in log entries: the approver's name,
// or the list of approvers.
func requestTo(tx *store.Tx, a helpdesk.Approval) string {
	if a.Single() {
		return approverName(tx, a)
	}
	return a.Approver
}

// waitingPeople lists the people of a's open stage whose approver has not
// decided: whom a withdrawal concerns. sent keeps only those whose link
// was mailed.
func waitingPeople(a helpdesk.Approval, sent bool) []string {
	i := a.OpenStage()
	if i < 0 {
		return nil
	}
	var out []string
	for _, sl := range a.Plan()[i].Approvers {
		if sl.Decision != "" {
			continue
		}
		for _, l := range sl.Links {
			if !sent || l.TokenHash != "" {
				out = append(out, l.Login)
			}
		}
	}
	return out
}

// queueWithdrawnTo tells login, asked to approve a, that the request was withdrawn.
func queueWithdrawnTo(c *Ctx, login string, a helpdesk.Approval, t helpdesk.Ticket, why string) error {
	approver, ok, err := c.Tx.User(login)
	if err != nil || !ok {
		return err
	}
	m := mail.ApprovalCancelled(mail.ApprovalMail{To: approver.Email, ApproverName: approver.Name, Ticket: t.Number,
		TicketSubject: t.Subject, RequesterName: displayName(c.Tx, t.Requester), TechnicianName: displayName(c.Tx, a.RequestedBy),
		Why: why})
	return c.queueMail("approval-cancelled", t.Number, m)
}

// queueWithdrawnIfAsked tells the approvers still waiting on a pending
// request, withdrawn as a side effect, when they were ever sent a link:
// one whose request mail is still in the outbox (dropped now) has nothing
// to be told.
func queueWithdrawnIfAsked(c *Ctx, a helpdesk.Approval, t helpdesk.Ticket, why string) error {
	for _, login := range waitingPeople(a, true) {
		if err := queueWithdrawnTo(c, login, a, t, why); err != nil {
			return err
		}
	}
	return nil
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
	pending := a
	a.State, a.CancelledBy = helpdesk.ApprovalCancelled, c.Actor.Login
	if err := c.Tx.PutApproval(a); err != nil {
		return err
	}
	how := "closed"
	if action == helpdesk.ActWithdraw {
		how = "withdrawn"
	}
	t.AddSystemEntry("approval-cancel", "Approval request to "+requestTo(c.Tx, a)+" cancelled: the ticket was "+how,
		c.Now, c.Actor.Login)
	if err := queueWithdrawnIfAsked(c, pending, *t, "Ticket #"+itoa(t.Number)+" was "+how+" by "+displayName(c.Tx, c.Actor.Login)+"."); err != nil {
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

// RemindApproval re-sends the approver mail with a fresh link; the old
// link stops working. With several approvers, every approver of the open
// stage who has not decided is reminded, each with a fresh link.
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
		// Remind those whose link could decide now; if nobody's could,
		// say why for the first of them.
		usable, firstErr := usableRefs(c.Tx, a)
		if len(usable) == 0 {
			return errs.Conflictf("cannot remind: %v", firstErr)
		}
		a.Reminded(c.Now, false)
		if err := c.Tx.PutApproval(a); err != nil {
			return err
		}
		for _, ref := range usable {
			if err := s.queueLink(c, a, ref, t, true); err != nil {
				return err
			}
		}
		text := "Reminder sent to " + displayName(c.Tx, a.Approver) + " with a new link"
		if !a.Single() {
			var names []string
			for _, ref := range usable {
				l, _ := a.Link(ref)
				names = append(names, displayName(c.Tx, l.Login))
			}
			text = "Reminder sent to " + strings.Join(names, ", ") + " with new links"
		}
		t.AddSystemEntry("approval-remind", text, c.Now, c.Actor.Login)
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
		ref, ok := actorSlot(a, c.Actor.Login)
		if !ok {
			if a.Single() {
				return errs.Forbiddenf("the approval of #%d awaits %s, not %s", ticket, a.Approver, c.Actor.Login).
					WithHint("only the chosen approver decides; run it as them (--as %s) or use the link from their mail", a.Approver)
			}
			return errs.Forbiddenf("the approval of #%d awaits %s, not %s", ticket, strings.Join(waitingApprovers(a), ", "), c.Actor.Login).
				WithHint("only the chosen approvers (or a member of a chosen group) decide; run it as one of them or use the link from their mail")
		}
		if _, err := usableLinkFor(c.Tx, a, c.Actor.Login); err != nil {
			return errs.Conflictf("cannot decide: %v", err)
		}
		out, _, err = s.recordDecision(c, a, ref, c.Actor.Login, t, approve, comment, "command line")
		return err
	})
	return out, d, err
}

// waitingApprovers lists the approvers of the open stage still to decide.
func waitingApprovers(a helpdesk.Approval) []string {
	var out []string
	if i := a.OpenStage(); i >= 0 {
		for _, sl := range a.Plan()[i].Approvers {
			if sl.Decision == "" {
				out = append(out, sl.Approver)
			}
		}
	}
	return out
}

// actorSlot finds the undecided approver of the open stage that login may
// decide for: login itself first, then a group login was asked for.
func actorSlot(a helpdesk.Approval, login string) (helpdesk.LinkRef, bool) {
	i := a.OpenStage()
	if i < 0 {
		return helpdesk.LinkRef{}, false
	}
	slots := a.Plan()[i].Approvers
	for _, groups := range []bool{false, true} {
		for j, sl := range slots {
			if sl.Decision != "" || sl.IsGroup() != groups {
				continue
			}
			for k, l := range sl.Links {
				if l.Login == login {
					return helpdesk.LinkRef{Stage: i, Slot: j, Link: k}, true
				}
			}
		}
	}
	return helpdesk.LinkRef{}, false
}

// recordDecision records login's decision for the approver of ref, with its
// log entry, and what it settles: the next stage's mails when it opens
// one, the technician's mail (once) when it decides the request. It
// returns the view and the name of who decided ("Dan Brown for group:finance").
func (s *Service) recordDecision(c *Ctx, a helpdesk.Approval, ref helpdesk.LinkRef, login string, t helpdesk.Ticket, approve bool, comment, via string) (ApprovalView, string, error) {
	comment, err := helpdesk.CleanText("comment", comment, helpdesk.MultiLine, 4000)
	if err != nil {
		return ApprovalView{}, "", err
	}
	before := approvalView(c.Tx, a, t.Subject)
	single := a.Single()
	slot := a.Plan()[ref.Stage].Approvers[ref.Slot]
	res, err := a.Decide(ref, login, approve, comment, via, c.Now)
	if err != nil {
		return ApprovalView{}, "", err
	}
	// A decided record keeps its hash so a replayed link reads "already used".
	if err := c.Tx.PutApproval(a); err != nil {
		return ApprovalView{}, "", err
	}
	verb := "Rejected"
	if approve {
		verb = "Approved"
	}
	who := deciderName(c.Tx, slot, login)
	text := verb + " by " + who + " (" + via + ")"
	if comment != "" {
		text += ": " + comment
	}
	if !single {
		switch {
		case res.Decided:
			text += " — the request is " + string(a.State)
		case res.Opened >= 0:
			text += " — stage " + itoa(ref.Stage+1) + " approved; stage " + itoa(res.Opened+1) + " asks " +
				strings.Join(waitingApprovers(a), ", ")
		}
	}
	t.AddSystemEntry("approval-decision", text, c.Now, login)
	if err := c.Tx.PutTicket(t); err != nil {
		return ApprovalView{}, "", err
	}
	if res.Opened >= 0 {
		if err := s.queueStage(c, a, res.Opened, t, false); err != nil {
			return ApprovalView{}, "", err
		}
		if err := noticeAwayApprovers(c, a, res.Opened, t); err != nil {
			return ApprovalView{}, "", err
		}
	}
	if res.Decided {
		tech, _, _ := c.Tx.User(a.RequestedBy)
		om := mail.OutcomeMail{To: tech.Email, TechnicianName: tech.Name, Ticket: t.Number, TicketSubject: t.Subject,
			Approved: a.State == helpdesk.ApprovalApproved, ApproverName: who, Comment: comment, DecidedAt: c.Now}
		if !single {
			om.ApproverName, om.Comment = outcomeSummary(c.Tx, a)
		}
		if err := c.queueMail("approval-outcome", t.Number, mail.ApprovalOutcome(om)); err != nil {
			return ApprovalView{}, "", err
		}
	}
	out := approvalView(c.Tx, a, t.Subject)
	return out, who, c.Audit("approval:"+itoa(t.Number), before, out)
}

// outcomeSummary names, for the technician's mail of a request with
// several approvers, who decided it the way it went, and every comment
// given, one "Name: comment" paragraph each.
func outcomeSummary(tx *store.Tx, a helpdesk.Approval) (names, comments string) {
	var who, notes []string
	for _, st := range a.Plan() {
		for _, sl := range st.Approvers {
			if sl.Decision == "" {
				continue
			}
			name := deciderName(tx, sl, sl.DecidedBy)
			if sl.Decision == a.State {
				who = append(who, name)
			}
			if sl.Comment != "" {
				notes = append(notes, name+" ("+string(sl.Decision)+"): "+sl.Comment)
			}
		}
	}
	return andList(who), strings.Join(notes, "\n\n")
}

// linkRecord is what a link token leads to: the record, which of its
// links, whose it is, and the ticket.
type linkRecord struct {
	a      helpdesk.Approval
	ref    helpdesk.LinkRef
	login  string
	t      helpdesk.Ticket
	expiry time.Time
}

// linkApproval resolves a link token to a pending record, or says why it cannot decide.
func linkApproval(tx *store.Tx, token string, now time.Time) (linkRecord, error) {
	var r linkRecord
	unknown := &helpdesk.LinkError{Problem: helpdesk.LinkUnknown}
	if !helpdesk.ValidTokenShape(token) {
		return r, unknown
	}
	hash := helpdesk.HashToken(token)
	a, ref, found, superseded, err := tx.ApprovalLinkByToken(hash)
	r.a, r.ref = a, ref
	if err != nil {
		return r, err
	}
	if !found {
		return r, unknown
	}
	link, has := a.Link(ref)
	if !superseded && (!has || !helpdesk.TokenMatches(token, link.TokenHash)) {
		return r, unknown
	}
	r.login, r.expiry = link.Login, link.Expires
	// A decided or cancelled request says so through any of its links; a
	// pending one, that this link was replaced.
	if a.State == helpdesk.ApprovalRejected && a.TimedOut {
		return r, &helpdesk.LinkError{Problem: helpdesk.LinkTimedOut, Ticket: a.Ticket}
	}
	if a.Single() {
		switch {
		case a.State == helpdesk.ApprovalApproved, a.State == helpdesk.ApprovalRejected:
			return r, &helpdesk.LinkError{Problem: helpdesk.LinkUsed, Ticket: a.Ticket}
		case a.State == helpdesk.ApprovalCancelled:
			return r, &helpdesk.LinkError{Problem: helpdesk.LinkCancelled, Ticket: a.Ticket}
		case superseded:
			return r, &helpdesk.LinkError{Problem: helpdesk.LinkSuperseded, Ticket: a.Ticket}
		}
	} else {
		// With several approvers: the approver (a group) that decided reads
		// "already used"; one the rule settled without, "decided by the rule".
		var slot helpdesk.ApproverSlot
		var stage helpdesk.ApprovalStage
		if plan := a.Plan(); ref.Stage < len(plan) && ref.Slot < len(plan[ref.Stage].Approvers) {
			stage, slot = plan[ref.Stage], plan[ref.Stage].Approvers[ref.Slot]
		}
		switch {
		case a.State == helpdesk.ApprovalCancelled:
			return r, &helpdesk.LinkError{Problem: helpdesk.LinkCancelled, Ticket: a.Ticket}
		case slot.Decision != "":
			return r, &helpdesk.LinkError{Problem: helpdesk.LinkUsed, Ticket: a.Ticket}
		case a.State != helpdesk.ApprovalPending || stage.State != helpdesk.ApprovalPending:
			return r, &helpdesk.LinkError{Problem: helpdesk.LinkDecidedByRule, Ticket: a.Ticket}
		case superseded:
			return r, &helpdesk.LinkError{Problem: helpdesk.LinkSuperseded, Ticket: a.Ticket}
		}
	}
	if !now.Before(link.Expires) {
		return r, &helpdesk.LinkError{Problem: helpdesk.LinkExpired, Ticket: a.Ticket}
	}
	r.t, err = usableLinkFor(tx, a, link.Login)
	return r, err
}

// writeLink runs a write transaction whose actor is the link's approver,
// proven by the link token rather than a login.
func (s *Service) writeLink(token string, fn func(c *Ctx, r linkRecord) error) (Delivery, error) {
	db, err := s.open(false)
	if err != nil {
		return Delivery{}, err
	}
	var queued []uint64
	err = db.Update(func(tx *store.Tx) error {
		now := s.now()
		r, err := linkApproval(tx, token, now)
		if err != nil {
			return err
		}
		approver, _, err := tx.User(r.login)
		if err != nil {
			return err
		}
		c := &Ctx{Tx: tx, Actor: approver, Engine: access.New(tx), Now: now, command: "approval decide (link)"}
		if err := fn(c, r); err != nil {
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
	out, _, d, err := s.decideByToken(token, approve, comment)
	return out, d, err
}

func (s *Service) decideByToken(token string, approve bool, comment string) (ApprovalView, string, Delivery, error) {
	var out ApprovalView
	var who string
	d, err := s.writeLink(token, func(c *Ctx, r linkRecord) error {
		var err error
		out, who, err = s.recordDecision(c, r.a, r.ref, r.login, r.t, approve, comment, "email link")
		return err
	})
	return out, who, d, err
}

// Pages adapts the approval use cases to the confirmation pages.
func (s *Service) Pages() web.Approvals { return pages{s} }

type pages struct{ s *Service }

func (p pages) View(_ context.Context, token string) (web.View, error) {
	var v web.View
	err := p.s.readAnon(func(tx *store.Tx) error {
		r, err := linkApproval(tx, token, p.s.now())
		if err != nil {
			return err
		}
		name := deciderName(tx, r.a.Plan()[r.ref.Stage].Approvers[r.ref.Slot], r.login)
		v = web.View{Ticket: r.t.Number, Subject: r.t.Subject, Requester: displayName(tx, r.t.Requester),
			RequestedBy: displayName(tx, r.a.RequestedBy), Approver: name, Note: r.a.Note, Expires: r.expiry}
		return nil
	})
	return v, err
}

func (p pages) Decide(_ context.Context, token string, approve bool, comment string) (web.Outcome, error) {
	a, who, _, err := p.s.decideByToken(token, approve, comment)
	if err != nil {
		return web.Outcome{}, err
	}
	return web.Outcome{Ticket: a.Ticket, Subject: a.TicketSubject, Approved: approve, Approver: who, Comment: comment}, nil
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
	if has && (a.Approver == c.Actor.Login || a.RequestedBy == c.Actor.Login || a.OnBehalfOf == c.Actor.Login || asks(a, c.Actor.Login)) {
		return true
	}
	if ok, _ := c.Engine.Holds(c.Actor.Login, helpdesk.PermAdmin); ok {
		return true
	}
	role, err := c.Engine.Role(c.Actor.Login, &t)
	return err == nil && (role.Role == access.RoleResourceMember || role.Role == access.RoleDispatcher)
}

// asks reports whether a names login as an approver or asked them for a group.
func asks(a helpdesk.Approval, login string) bool {
	for _, st := range a.Plan() {
		for _, sl := range st.Approvers {
			if sl.Approver == login {
				return true
			}
			for _, l := range sl.Links {
				if l.Login == login || l.OnBehalfOf == login {
					return true
				}
			}
		}
	}
	return false
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
			if (q.State != "" && string(a.State) != q.State) || (q.Approver != "" && a.Approver != q.Approver && !asks(a, q.Approver)) ||
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

// usableRefs lists the links of the open stage's undecided approvers that
// could decide now, and why the first that could not cannot.
func usableRefs(tx *store.Tx, a helpdesk.Approval) ([]helpdesk.LinkRef, error) {
	var usable []helpdesk.LinkRef
	var firstErr error
	i := a.OpenStage()
	if i < 0 {
		return nil, nil
	}
	for j, sl := range a.Plan()[i].Approvers {
		if sl.Decision != "" {
			continue
		}
		for k, l := range sl.Links {
			if _, err := usableLinkFor(tx, a, l.Login); err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			usable = append(usable, helpdesk.LinkRef{Stage: i, Slot: j, Link: k})
		}
	}
	return usable, firstErr
}
