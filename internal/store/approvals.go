package store

import (
	"encoding/json"
	"time"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Approval returns the approval record of a ticket.
func (tx *Tx) Approval(ticket int) (helpdesk.Approval, bool, error) {
	var a helpdesk.Approval
	ok, err := getJSON(tx.bucket(bucketApprovals), be64(uint64(ticket)), &a)
	return a, ok, err
}

// PutApproval stores an approval record. The token index maps only the
// current link's hash, so an older link finds no record. A record with
// stages indexes each of its links as ticket and link (see linkKey); an
// older hash of a link stays in the index and reads as superseded because
// the link's current hash differs.
func (tx *Tx) PutApproval(a helpdesk.Approval) error {
	old, existed, err := tx.Approval(a.Ticket)
	if err != nil {
		return err
	}
	tokens := tx.bucket(bucketTokens)
	if existed && old.TokenHash != "" && old.TokenHash != a.TokenHash && len(old.Stages) == 0 {
		// Keep superseded hashes so the page can say "replaced by a newer link".
		if err := tokens.Put([]byte(old.TokenHash), append([]byte("old:"), be64(uint64(a.Ticket))...)); err != nil {
			return err
		}
	}
	if len(a.Stages) == 0 {
		if a.TokenHash != "" {
			if err := tokens.Put([]byte(a.TokenHash), be64(uint64(a.Ticket))); err != nil {
				return err
			}
		}
		return putJSON(tx.bucket(bucketApprovals), be64(uint64(a.Ticket)), a)
	}
	for i, st := range a.Stages {
		for j, sl := range st.Approvers {
			for k, l := range sl.Links {
				if l.TokenHash == "" {
					continue
				}
				if err := tokens.Put([]byte(l.TokenHash), linkKey(a.Ticket, helpdesk.LinkRef{Stage: i, Slot: j, Link: k})); err != nil {
					return err
				}
			}
		}
	}
	return putJSON(tx.bucket(bucketApprovals), be64(uint64(a.Ticket)), a)
}

// linkKey is a token index value for a link of a record with stages:
// be64(ticket) then the stage, approver slot and link as be16 each. A
// record without stages is indexed as be64(ticket) alone ("old:" before it
// once superseded), as it always was.
func linkKey(ticket int, ref helpdesk.LinkRef) []byte {
	v := be64(uint64(ticket))
	for _, n := range []int{ref.Stage, ref.Slot, ref.Link} {
		v = append(v, byte(n>>8), byte(n))
	}
	return v
}

// tokenValue reads a token index value: the ticket, the link, and whether
// the value itself says the hash was superseded.
func tokenValue(v []byte) (ticket int, ref helpdesk.LinkRef, superseded, ok bool) {
	switch {
	case len(v) == 8:
		return int(fromBE64(v)), ref, false, true
	case len(v) == 12 && string(v[:4]) == "old:":
		return int(fromBE64(v[4:])), ref, true, true
	case len(v) == 14:
		ref = helpdesk.LinkRef{Stage: int(v[8])<<8 | int(v[9]), Slot: int(v[10])<<8 | int(v[11]), Link: int(v[12])<<8 | int(v[13])}
		return int(fromBE64(v[:8])), ref, false, true
	}
	return 0, ref, false, false
}

// ApprovalByToken finds the record a token hash belongs to. superseded is
// true when the hash was the record's link once but has been replaced.
func (tx *Tx) ApprovalByToken(hash string) (a helpdesk.Approval, found, superseded bool, err error) {
	a, _, found, superseded, err = tx.ApprovalLinkByToken(hash)
	return a, found, superseded, err
}

// ApprovalLinkByToken is ApprovalByToken that also names the link the hash
// belongs to. A hash that is no longer its link's current one (replaced by
// a reminder, or by a new request whose links took its place) is
// superseded.
func (tx *Tx) ApprovalLinkByToken(hash string) (a helpdesk.Approval, ref helpdesk.LinkRef, found, superseded bool, err error) {
	v := tx.bucket(bucketTokens).Get([]byte(hash))
	if v == nil {
		return a, ref, false, false, nil
	}
	ticket, ref, superseded, ok := tokenValue(v)
	if !ok {
		return a, ref, false, false, nil
	}
	a, found, err = tx.Approval(ticket)
	if err != nil || !found {
		return a, ref, found, superseded, err
	}
	if superseded {
		return a, ref, true, true, nil
	}
	if l, has := a.Link(ref); !has || l.TokenHash != hash {
		if len(a.Stages) == 0 && len(v) == 8 {
			// An old-form current link: the caller compares it with the record.
			return a, ref, true, false, nil
		}
		return a, ref, true, true, nil
	}
	return a, ref, true, false, nil
}

// DeleteApproval removes a ticket's approval record and every link hash it ever had.
func (tx *Tx) DeleteApproval(ticket int) error {
	tokens := tx.bucket(bucketTokens)
	var stale [][]byte
	_ = tokens.ForEach(func(k, v []byte) error {
		if n, _, _, ok := tokenValue(v); ok && n == ticket {
			stale = append(stale, append([]byte(nil), k...))
		}
		return nil
	})
	for _, k := range stale {
		if err := tokens.Delete(k); err != nil {
			return err
		}
	}
	return tx.bucket(bucketApprovals).Delete(be64(uint64(ticket)))
}

// Approvals visits every approval record.
func (tx *Tx) Approvals() ([]helpdesk.Approval, error) {
	var out []helpdesk.Approval
	err := tx.bucket(bucketApprovals).ForEach(func(_, v []byte) error {
		var a helpdesk.Approval
		if err := unmarshal(v, &a); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// OutboxMail is one queued or sent message. The message itself is kept as
// the mail package encodes it; the store only tracks delivery.
type OutboxMail struct {
	ID          uint64          `json:"id"`
	Created     time.Time       `json:"created"`
	Ticket      int             `json:"ticket,omitempty"`
	Kind        string          `json:"kind"`
	To          string          `json:"to"`
	Subject     string          `json:"subject"`
	Message     json.RawMessage `json:"message"`
	State       string          `json:"state"` // queued | sent | failed | dropped
	Attempts    int             `json:"attempts"`
	LastError   string          `json:"last_error,omitempty"`
	NextAttempt time.Time       `json:"next_attempt,omitzero"` // retry backoff
	// ClaimedUntil is set while a process is sending the mail; no other
	// process takes it before then, forced or not.
	ClaimedUntil time.Time `json:"claimed_until,omitzero"`
	// For a mail with approval links: the hash of the link made for the
	// attempt in progress and the record's link before it, put back if the
	// send fails (hashes only; the token itself is never stored).
	LinkHash    string    `json:"link_hash,omitempty"`
	PrevHash    string    `json:"prev_hash,omitempty"`
	PrevExpires time.Time `json:"prev_expires,omitzero"`
	// For a digest, which carries several links: the same, per link.
	Links  []MintedLink `json:"links,omitempty"`
	SentAt time.Time    `json:"sent_at,omitzero"`
}

// MintedLink is one link made for a send in progress, and the link of its
// request's record before it.
type MintedLink struct {
	Ticket      int       `json:"ticket"`
	LinkHash    string    `json:"link_hash"`
	PrevHash    string    `json:"prev_hash,omitempty"`
	PrevExpires time.Time `json:"prev_expires,omitzero"`
}

// Outbox states.
const (
	MailQueued  = "queued"
	MailSent    = "sent"
	MailFailed  = "failed"  // refused permanently; kept for the operator
	MailDropped = "dropped" // no longer worth sending (its approval link would be dead)
)

// EnqueueMail adds a message to the outbox in this transaction.
func (tx *Tx) EnqueueMail(m OutboxMail) (OutboxMail, error) {
	b := tx.bucket(bucketOutbox)
	id, err := b.NextSequence()
	if err != nil {
		return m, err
	}
	m.ID = id
	if m.State == "" {
		m.State = MailQueued
	}
	return m, putJSON(b, be64(id), m)
}

// Mail returns one outbox entry.
func (tx *Tx) Mail(id uint64) (OutboxMail, bool, error) {
	var m OutboxMail
	ok, err := getJSON(tx.bucket(bucketOutbox), be64(id), &m)
	return m, ok, err
}

// PutMail updates an outbox entry.
func (tx *Tx) PutMail(m OutboxMail) error { return putJSON(tx.bucket(bucketOutbox), be64(m.ID), m) }

// Outbox returns every outbox entry, oldest first.
func (tx *Tx) Outbox() ([]OutboxMail, error) {
	var out []OutboxMail
	err := tx.bucket(bucketOutbox).ForEach(func(_, v []byte) error {
		var m OutboxMail
		if err := unmarshal(v, &m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

// DropTicketMail deletes unsent mail about a ticket (it was deleted).
func (tx *Tx) DropTicketMail(ticket int) (int, error) {
	all, err := tx.Outbox()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range all {
		if m.Ticket == ticket && m.State != MailSent {
			if err := tx.bucket(bucketOutbox).Delete(be64(m.ID)); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
