package app

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/mail"
	"github.com/deskctl/deskctl/internal/store"
	"github.com/deskctl/deskctl/internal/web"
)

const mailApprovalDigest = "approval-digest"

// digestMail is how an approver digest waits in the outbox: the mail
// without its links, and which link of which request each entry carries.
// As with linkMail, the links are made only when the mail is sent.
type digestMail struct {
	To           string        `json:"to"`
	ApproverName string        `json:"approver_name"`
	Base         string        `json:"base"`
	Entries      []digestEntry `json:"entries"`
}

type digestEntry struct {
	Item  mail.DigestItem `json:"item"`
	Round int             `json:"round"`
	Stage int             `json:"stage"`
	Slot  int             `json:"slot"`
	Link  int             `json:"link"`
}

// pendingRef is a request a person could decide now with their link.
type pendingRef struct {
	a     helpdesk.Approval
	ref   helpdesk.LinkRef
	since time.Time
}

// pendingByPerson lists, for each person mailed approval links, the
// pending requests they have a usable, undecided link of (one per request).
func pendingByPerson(tx *store.Tx) (map[string][]pendingRef, error) {
	all, err := tx.Approvals()
	if err != nil {
		return nil, err
	}
	out := map[string][]pendingRef{}
	for _, a := range all {
		i := a.OpenStage()
		if i < 0 {
			continue
		}
		refs, _ := usableRefs(tx, a)
		since := a.Nudged
		if since.IsZero() {
			since = a.Plan()[i].OpenedAt
		}
		seen := map[string]bool{}
		for _, ref := range refs {
			l, _ := a.Link(ref)
			if seen[l.Login] {
				continue
			}
			seen[l.Login] = true
			out[l.Login] = append(out[l.Login], pendingRef{a: a, ref: ref, since: since})
		}
	}
	return out, nil
}

func pendingLinks(ps []pendingRef) []helpdesk.PendingLink {
	out := make([]helpdesk.PendingLink, len(ps))
	for i, p := range ps {
		out[i] = helpdesk.PendingLink{Ticket: p.a.Ticket, Since: p.since}
	}
	return out
}

// digestCovered lists the people on the digest at now, whose automatic
// reminders the digest replaces; nil when the digest is off.
func digestCovered(tx *store.Tx, dg helpdesk.Digest, now time.Time) (map[string]bool, error) {
	if !dg.On {
		return nil, nil
	}
	byPerson, err := pendingByPerson(tx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for login, ps := range byPerson {
		if dg.Covers(pendingLinks(ps), now.In(time.Local)) {
			out[login] = true
		}
	}
	return out, nil
}

// sweepDigests queues the digests that are due, one per person, and
// records each in the same transaction, so that two sweeps never send a
// person two digests in one period.
func (s *Service) sweepDigests(c *Ctx, dg helpdesk.Digest) ([]SweepAction, error) {
	byPerson, err := pendingByPerson(c.Tx)
	if err != nil {
		return nil, err
	}
	logins := make([]string, 0, len(byPerson))
	for login := range byPerson {
		logins = append(logins, login)
	}
	sort.Strings(logins)
	// Periods are days of the server's time zone.
	now := c.Now.In(time.Local)
	var acts []SweepAction
	for _, login := range logins {
		ps := byPerson[login]
		last, err := c.Tx.LastDigest(login)
		if err != nil {
			return nil, err
		}
		due := dg.Due(pendingLinks(ps), last, now)
		if len(due) == 0 {
			continue
		}
		act, err := s.queueDigest(c, login, ps, due)
		if err != nil {
			return nil, err
		}
		acts = append(acts, act)
	}
	return acts, nil
}

func (s *Service) queueDigest(c *Ctx, login string, ps []pendingRef, due []helpdesk.PendingLink) (SweepAction, error) {
	act := SweepAction{Action: "digest", To: []string{login}}
	base, err := s.publicURL()
	if err != nil {
		return act, err
	}
	u, _, err := c.Tx.User(login)
	if err != nil {
		return act, err
	}
	byTicket := map[int]pendingRef{}
	for _, p := range ps {
		byTicket[p.a.Ticket] = p
	}
	dm := digestMail{To: u.Email, ApproverName: u.Name, Base: base.String()}
	var nums []string
	for _, d := range due {
		p := byTicket[d.Ticket]
		t, _, err := c.Tx.Ticket(d.Ticket)
		if err != nil {
			return act, err
		}
		slot := p.a.Plan()[p.ref.Stage].Approvers[p.ref.Slot]
		it := mail.DigestItem{Ticket: t.Number, TicketSubject: t.Subject, RequesterName: displayName(c.Tx, t.Requester),
			TechnicianName: displayName(c.Tx, p.a.RequestedBy), Note: p.a.Note}
		if for_ := slot.Links[p.ref.Link].OnBehalfOf; for_ != "" {
			it.OnBehalfOfName = displayName(c.Tx, for_)
		}
		if slot.IsGroup() {
			it.ForGroup = slot.Approver
		}
		dm.Entries = append(dm.Entries, digestEntry{Item: it, Round: p.a.Round, Stage: p.ref.Stage, Slot: p.ref.Slot, Link: p.ref.Link})
		act.Tickets = append(act.Tickets, t.Number)
		nums = append(nums, "#"+itoa(t.Number))
		t.AddSystemEntry("approval-remind", "Daily digest sent to "+displayName(c.Tx, login)+" with new links", c.Now, c.Actor.Login)
		if err := c.Tx.PutTicket(t); err != nil {
			return act, err
		}
	}
	act.Ticket = act.Tickets[0]
	act.Detail = "digest of " + strings.Join(nums, ", ")
	raw, err := json.Marshal(dm)
	if err != nil {
		return act, err
	}
	if err := c.queueRaw(mailApprovalDigest, act.Ticket, u.Email, mail.DigestSubject(len(dm.Entries)), raw); err != nil {
		return act, err
	}
	last, _ := c.Tx.LastDigest(login)
	if err := c.Tx.PutLastDigest(login, c.Now); err != nil {
		return act, err
	}
	type digestRecord struct {
		At      time.Time `json:"at,omitzero"`
		Tickets []int     `json:"tickets,omitempty"`
	}
	return act, c.Audit("digest:"+login, digestRecord{At: last}, digestRecord{At: c.Now, Tickets: act.Tickets})
}

// mintDigest makes the links of a digest as it leaves the outbox, like
// mintLinks: each entry whose request can still be decided through its
// link gets a fresh one (the older link dies); an entry whose request was
// decided, withdrawn or moved on is left out. drop is not empty when no
// entry is left.
func (s *Service) mintDigest(tx *store.Tx, dm digestMail, now time.Time) (m mail.Message, mts []store.MintedLink, drop string, err error) {
	base, err := s.publicURL()
	if dm.Base != "" {
		base, err = web.ParsePublicURL(dm.Base)
	}
	if err != nil {
		return m, nil, "", err
	}
	d := mail.DigestMail{To: dm.To, ApproverName: dm.ApproverName}
	for _, e := range dm.Entries {
		a, ok, err := tx.Approval(e.Item.Ticket)
		if err != nil {
			return m, nil, "", err
		}
		ref := helpdesk.LinkRef{Stage: e.Stage, Slot: e.Slot, Link: e.Link}
		link, has := a.Link(ref)
		if !ok || a.Round != e.Round || !has || a.OpenStage() != ref.Stage || a.Plan()[ref.Stage].Approvers[ref.Slot].Decision != "" {
			continue
		}
		if _, err := usableLinkFor(tx, a, link.Login); err != nil {
			var le *helpdesk.LinkError
			if errors.As(err, &le) {
				continue
			}
			return m, nil, "", err
		}
		token, expires, mt, err := newLink(tx, &a, ref, now)
		if err != nil {
			return m, nil, "", err
		}
		mts = append(mts, store.MintedLink{Ticket: a.Ticket, LinkHash: mt.hash, PrevHash: mt.prevHash, PrevExpires: mt.prevExpires})
		it := e.Item
		it.Expires, it.ApproveURL, it.RejectURL = expires, web.LinkURL(base, token, true), web.LinkURL(base, token, false)
		d.Items = append(d.Items, it)
	}
	if len(d.Items) == 0 {
		return m, nil, "none of its requests is waiting any more", nil
	}
	return mail.ApprovalDigest(d), mts, "", nil
}
