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
// current link's hash, so an older link finds no record.
func (tx *Tx) PutApproval(a helpdesk.Approval) error {
	old, existed, err := tx.Approval(a.Ticket)
	if err != nil {
		return err
	}
	tokens := tx.bucket(bucketTokens)
	if existed && old.TokenHash != "" && old.TokenHash != a.TokenHash {
		// Keep superseded hashes so the page can say "replaced by a newer link".
		if err := tokens.Put([]byte(old.TokenHash), append([]byte("old:"), be64(uint64(a.Ticket))...)); err != nil {
			return err
		}
	}
	if a.TokenHash != "" {
		if err := tokens.Put([]byte(a.TokenHash), be64(uint64(a.Ticket))); err != nil {
			return err
		}
	}
	return putJSON(tx.bucket(bucketApprovals), be64(uint64(a.Ticket)), a)
}

// ApprovalByToken finds the record a token hash belongs to. superseded is
// true when the hash was the record's link once but has been replaced.
func (tx *Tx) ApprovalByToken(hash string) (a helpdesk.Approval, found, superseded bool, err error) {
	v := tx.bucket(bucketTokens).Get([]byte(hash))
	if v == nil {
		return a, false, false, nil
	}
	if len(v) == 12 && string(v[:4]) == "old:" {
		a, ok, err := tx.Approval(int(fromBE64(v[4:])))
		return a, ok, true, err
	}
	a, ok, err := tx.Approval(int(fromBE64(v)))
	return a, ok, false, err
}

// DeleteApproval removes a ticket's approval record and every link hash it ever had.
func (tx *Tx) DeleteApproval(ticket int) error {
	num := be64(uint64(ticket))
	tokens := tx.bucket(bucketTokens)
	var stale [][]byte
	_ = tokens.ForEach(func(k, v []byte) error {
		if string(v) == string(num) || (len(v) == 12 && string(v[4:]) == string(num)) {
			stale = append(stale, append([]byte(nil), k...))
		}
		return nil
	})
	for _, k := range stale {
		if err := tokens.Delete(k); err != nil {
			return err
		}
	}
	return tx.bucket(bucketApprovals).Delete(num)
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
	SentAt      time.Time `json:"sent_at,omitzero"`
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
