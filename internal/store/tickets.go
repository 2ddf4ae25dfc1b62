package store

import (
	"bytes"
	"math"
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

// HighestTicketNumber is the number of the newest ticket there is, 0 when there is none.
func (tx *Tx) HighestTicketNumber() int {
	k, _ := tx.bucket(bucketTickets).Cursor().Last()
	if len(k) != 8 {
		return 0
	}
	return int(fromBE64(k))
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

// matches reports whether t passes every filter of q.
func (q TicketQuery) matches(t helpdesk.Ticket) bool {
	return (q.State == "" || string(t.State) == q.State) &&
		(q.Resource == "" || noneIfEmpty(t.Resource) == q.Resource) &&
		(q.Requester == "" || t.Requester == q.Requester) &&
		(q.Assignee == "" || noneIfEmpty(t.Assignee) == q.Assignee)
}

// visit reads ticket num and hands it to fn when it matches q; a missing
// ticket or one that does not match is skipped.
func (tx *Tx) visit(q TicketQuery, num uint64, fn func(helpdesk.Ticket) (bool, error)) (bool, error) {
	t, ok, err := tx.Ticket(int(num))
	if err != nil || !ok || !q.matches(t) {
		return err == nil, err
	}
	return fn(t)
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
	if field == "" {
		return walkBackwards(tx.bucket(bucketTickets).Cursor(), nil, q.Before, func(k []byte) (bool, error) {
			return tx.visit(q, fromBE64(k), fn)
		})
	}
	prefix := append(pair(field, value), 0)
	return walkBackwards(tx.bucket(bucketTicketIndex).Cursor(), prefix, q.Before, func(k []byte) (bool, error) {
		return tx.visit(q, fromBE64(k[len(prefix):]), fn)
	})
}

// TicketScope is a part of the tickets in index terms: every ticket of the
// listed resources ("-" for requests) and every ticket Requester opened.
type TicketScope struct {
	Resources []string
	Requester string
}

// EachTicketIn is EachTicket within scope. Which tickets qualify is decided
// from index keys alone (the union of the scope's ranges, intersected with
// the ranges of q's filters, walked newest first by seeking), so only the
// tickets handed to fn are read and decoded, however many are skipped.
func (tx *Tx) EachTicketIn(scope TicketScope, q TicketQuery, fn func(helpdesk.Ticket) (bool, error)) error {
	set := tx.inScope(scope, q)
	for upTo := highest(q.Before); upTo > 0; {
		n, ok := set.seek(upTo)
		if !ok {
			return nil
		}
		if more, err := tx.visit(q, n, fn); err != nil || !more {
			return err
		}
		upTo = n - 1
	}
	return nil
}

// inScope is the set of ticket numbers in scope that match q, as index ranges.
func (tx *Tx) inScope(scope TicketScope, q TicketQuery) ticketSet {
	idx := tx.bucket(bucketTicketIndex)
	rng := func(field, value string) ticketSet {
		return &keyRange{c: idx.Cursor(), prefix: append(pair(field, value), 0)}
	}
	var seen union
	for _, r := range scope.Resources {
		switch {
		case q.Resource != "" && r != q.Resource:
		case q.State != "":
			seen = append(seen, rng(idxStateRes, q.State+"/"+r))
		default:
			seen = append(seen, rng(idxResource, r))
		}
	}
	if scope.Requester != "" && (q.Requester == "" || q.Requester == scope.Requester) {
		own := intersection{rng(idxRequester, scope.Requester)}
		if q.State != "" {
			own = append(own, rng(idxState, q.State))
		}
		if q.Resource != "" {
			own = append(own, rng(idxResource, q.Resource))
		}
		seen = append(seen, own)
	}
	all := intersection{seen}
	if q.Requester != "" {
		all = append(all, rng(idxRequester, q.Requester))
	}
	if q.Assignee != "" {
		all = append(all, rng(idxAssignee, q.Assignee))
	}
	return all
}

// highest is the highest ticket number a page below before may hold.
func highest(before int) uint64 {
	if before > 0 {
		return uint64(before) - 1
	}
	return math.MaxUint64
}

// ticketSet is a set of ticket numbers read from index keys, walked from the
// highest number down.
type ticketSet interface {
	// seek returns the highest number in the set that is at most upTo.
	// Successive calls never raise upTo, so sets may keep their position.
	seek(upTo uint64) (uint64, bool)
}

// keyRange is the ticket numbers under one index prefix.
type keyRange struct {
	c       *bolt.Cursor
	prefix  []byte
	started bool
	cur     uint64 // the last answer, valid when started and ok
	ok      bool
}

func (r *keyRange) seek(upTo uint64) (uint64, bool) {
	if r.started && (!r.ok || r.cur <= upTo) {
		return r.cur, r.ok
	}
	if r.started {
		// Walking down one key at a time is the common case of a merge.
		if n, ok := r.number(r.c.Prev()); !ok || n <= upTo {
			r.cur, r.ok = n, ok
			return n, ok
		}
	}
	r.started = true
	r.cur, r.ok = r.number(seekAtMost(r.c, r.prefix, upTo))
	return r.cur, r.ok
}

// number reads the ticket number from key k, stepping back over keys of
// another length under the prefix; ok is false past the range.
func (r *keyRange) number(k, _ []byte) (uint64, bool) {
	for ; k != nil && bytes.HasPrefix(k, r.prefix); k, _ = r.c.Prev() {
		if len(k) == len(r.prefix)+8 {
			return fromBE64(k[len(r.prefix):]), true
		}
	}
	return 0, false
}

// seekAtMost positions c on the last key not above prefix+be64(upTo), or
// before the first key when there is none.
func seekAtMost(c *bolt.Cursor, prefix []byte, upTo uint64) ([]byte, []byte) {
	// Seek just past the range: the prefix followed by be64(upTo+1), or past every number.
	upper := append(append([]byte(nil), prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	if upTo < math.MaxUint64 {
		upper = append(append([]byte(nil), prefix...), be64(upTo+1)...)
	}
	if k, _ := c.Seek(upper); k == nil {
		return c.Last()
	}
	return c.Prev()
}

// union holds the numbers in any of its sets.
type union []ticketSet

func (u union) seek(upTo uint64) (uint64, bool) {
	var best uint64
	found := false
	for _, s := range u {
		if n, ok := s.seek(upTo); ok && (!found || n > best) {
			best, found = n, true
		}
	}
	return best, found
}

// intersection holds the numbers in every one of its sets. Each set in turn
// seeks to the highest candidate so far, lowering it until all agree.
type intersection []ticketSet

func (in intersection) seek(upTo uint64) (uint64, bool) {
	for agreed := false; !agreed; {
		agreed = true
		for _, s := range in {
			n, ok := s.seek(upTo)
			if !ok {
				return 0, false
			}
			if n < upTo {
				upTo, agreed = n, false
			}
		}
	}
	return upTo, true
}

// walkBackwards visits keys with prefix, from the highest ticket number down.
func walkBackwards(c *bolt.Cursor, prefix []byte, before int, fn func([]byte) (bool, error)) error {
	for k, _ := seekAtMost(c, prefix, highest(before)); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
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

// TicketsPer counts the tickets per value of an index field: "state",
// "resource", "requester" or "assignee" ("-" counts requests and unassigned
// tickets). It reads index keys only.
func (tx *Tx) TicketsPer(field string) map[string]int {
	out := map[string]int{}
	prefix := pair(field, "")
	c := tx.bucket(bucketTicketIndex).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if v := k[len(prefix):]; len(v) > 9 {
			out[string(v[:len(v)-9])]++
		}
	}
	return out
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
