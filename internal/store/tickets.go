package store

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/deskctl/deskctl/internal/helpdesk"
	bolt "go.etcd.io/bbolt"
)

// Index fields for tickets. Every ticket has exactly one key per listing
// field, so a filtered list walks one key range instead of every ticket, and
// one actor key per user who made an entry in its log, so removing a user can
// tell whether tickets refer to them without reading every log.
const (
	idxState     = "state"
	idxResource  = "resource"
	idxRequester = "requester"
	idxAssignee  = "assignee"
	idxStateRes  = "state+resource"
	idxActor     = "actor"
)

func noneIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ticketIndexKeys(t helpdesk.Ticket) [][]byte {
	num := be64(uint64(t.Number))
	mk := func(field, value string) []byte {
		k := pair(field, value)
		k = append(k, 0)
		return append(k, num...)
	}
	keys := [][]byte{
		mk(idxState, string(t.State)),
		mk(idxResource, noneIfEmpty(t.Resource)),
		mk(idxRequester, t.Requester),
		mk(idxAssignee, noneIfEmpty(t.Assignee)),
		mk(idxStateRes, string(t.State)+"/"+noneIfEmpty(t.Resource)),
	}
	for _, a := range logActors(t) {
		keys = append(keys, mk(idxActor, a))
	}
	return keys
}

// logActors lists the distinct users who made entries in t's log.
func logActors(t helpdesk.Ticket) []string {
	var out []string
	for _, e := range t.Log {
		if e.Actor != "" && !slices.Contains(out, e.Actor) {
			out = append(out, e.Actor)
		}
	}
	return out
}

// ActedOnTicket returns a ticket whose log has an entry by login, if any.
func (tx *Tx) ActedOnTicket(login string) (int, bool) {
	prefix := append(pair(idxActor, login), 0)
	k, _ := tx.bucket(bucketTicketIndex).Cursor().Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 {
		return 0, false
	}
	return int(fromBE64(k[len(prefix):])), true
}

// NextTicketNumber reserves the next ticket number.
func (tx *Tx) NextTicketNumber() (int, error) {
	n, err := tx.bucket(bucketTickets).NextSequence()
	return int(n), err
}

// Ticket returns ticket number n.
func (tx *Tx) Ticket(n int) (helpdesk.Ticket, bool, error) {
	var t helpdesk.Ticket
	if n <= 0 {
		return t, false, nil
	}
	ok, err := getJSON(tx.bucket(bucketTickets), be64(uint64(n)), &t)
	return t, ok, err
}

// PutTicket creates or replaces a ticket and keeps its index entries in step.
func (tx *Tx) PutTicket(t helpdesk.Ticket) error {
	idx := tx.bucket(bucketTicketIndex)
	old, existed, err := tx.Ticket(t.Number)
	if err != nil {
		return err
	}
	if existed {
		for _, k := range ticketIndexKeys(old) {
			if err := idx.Delete(k); err != nil {
				return err
			}
		}
	}
	for _, k := range ticketIndexKeys(t) {
		if err := idx.Put(k, nil); err != nil {
			return err
		}
	}
	return putJSON(tx.bucket(bucketTickets), be64(uint64(t.Number)), t)
}

// DeleteTicket removes a ticket and its index entries.
func (tx *Tx) DeleteTicket(n int) error {
	old, existed, err := tx.Ticket(n)
	if err != nil || !existed {
		return err
	}
	for _, k := range ticketIndexKeys(old) {
		if err := tx.bucket(bucketTicketIndex).Delete(k); err != nil {
			return err
		}
	}
	return tx.bucket(bucketTickets).Delete(be64(uint64(n)))
}

// TicketQuery filters a ticket list. Empty fields match everything.
type TicketQuery struct {
	State     string
	Resource  string // "-" for requests (no resource)
	Requester string
	Assignee  string
	Before    int // only tickets numbered below this (paging); 0 = no bound
}

// EachTicket visits matching tickets newest first until fn returns false.
// It walks the most selective index for the query.
func (tx *Tx) EachTicket(q TicketQuery, fn func(helpdesk.Ticket) (bool, error)) error {
	field, value := "", ""
	switch {
	case q.State != "" && q.Resource != "":
		field, value = idxStateRes, q.State+"/"+q.Resource
	case q.Requester != "":
		field, value = idxRequester, q.Requester
	case q.Assignee != "":
		field, value = idxAssignee, q.Assignee
	case q.Resource != "":
		field, value = idxResource, q.Resource
	case q.State != "":
		field, value = idxState, q.State
	}
	matches := func(t helpdesk.Ticket) bool {
		return (q.State == "" || string(t.State) == q.State) &&
			(q.Resource == "" || noneIfEmpty(t.Resource) == q.Resource) &&
			(q.Requester == "" || t.Requester == q.Requester) &&
			(q.Assignee == "" || noneIfEmpty(t.Assignee) == q.Assignee)
	}
	visit := func(num []byte) (bool, error) {
		t, ok, err := tx.Ticket(int(fromBE64(num)))
		if err != nil || !ok {
			return err == nil, err
		}
		if !matches(t) {
			return true, nil
		}
		return fn(t)
	}
	if field == "" {
		return walkBackwards(tx.bucket(bucketTickets).Cursor(), nil, q.Before, func(k []byte) (bool, error) { return visit(k) })
	}
	prefix := append(pair(field, value), 0)
	return walkBackwards(tx.bucket(bucketTicketIndex).Cursor(), prefix, q.Before, func(k []byte) (bool, error) {
		return visit(k[len(prefix):])
	})
}

// walkBackwards visits keys with prefix, from the highest ticket number down.
func walkBackwards(c *bolt.Cursor, prefix []byte, before int, fn func([]byte) (bool, error)) error {
	var k []byte
	// Seek just past the range: the prefix followed by be64(before) or the maximum key.
	upper := append(append([]byte(nil), prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	if before > 0 {
		upper = append(append([]byte(nil), prefix...), be64(uint64(before))...)
	}
	k, _ = c.Seek(upper)
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		if len(k) != len(prefix)+8 {
			continue
		}
		more, err := fn(k)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// TicketCount returns how many tickets exist.
func (tx *Tx) TicketCount() int { return tx.bucket(bucketTickets).Stats().KeyN }

// TicketLabel is "#N" for messages.
func TicketLabel(n int) string { return "#" + strconv.Itoa(n) }

// ImportedTicket returns the number a source id was imported as.
func (tx *Tx) ImportedTicket(sourceID string) (int, bool) {
	v := tx.bucket(bucketTicketExt).Get([]byte(sourceID))
	if len(v) != 8 {
		return 0, false
	}
	return int(fromBE64(v)), true
}

// RecordImport remembers that sourceID became ticket n.
func (tx *Tx) RecordImport(sourceID string, n int) error {
	return tx.bucket(bucketTicketExt).Put([]byte(sourceID), be64(uint64(n)))
}
