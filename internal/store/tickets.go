package store

import (
	"bytes"
	"math"
	"slices"
	"strconv"

	"github.com/deskctl/deskctl/internal/helpdesk"
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

// ticketIndexValue is the value of t's index key k: an assignee key holds
// the ticket's resource ("-" for a request), so a list of one assignee's
// tickets in the resources a user sees is decided by reading that range
// alone, without a seek per ticket into each resource's range. Every other
// key holds nothing.
func ticketIndexValue(t helpdesk.Ticket, k []byte) []byte {
	if bytes.HasPrefix(k, assigneePrefix) {
		return []byte(noneIfEmpty(t.Resource))
	}
	return nil
}

var assigneePrefix = []byte(idxAssignee + "\x00")

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
	key := be64(uint64(n))
	ok, err := decodeRecord(tx.bucket(bucketTickets).Get(key), key, &t, decodeTicket)
	return t, ok, err
}

// PutTicket creates or replaces a ticket and keeps its index entries in step.
func (tx *Tx) PutTicket(t helpdesk.Ticket) error { return tx.PutTickets([]helpdesk.Ticket{t}) }

// PutTickets creates or replaces tickets of distinct numbers and keeps their
// index entries in step. Their index keys are written in key order rather
// than ticket by ticket, so in an import's batch each index page is found
// once, from the page before it, not once per ticket from the top of the
// tree.
func (tx *Tx) PutTickets(ts []helpdesk.Ticket) error {
	idx := tx.bucket(bucketTicketIndex)
	type entry struct{ key, value []byte }
	var puts []entry
	for _, t := range ts {
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
			puts = append(puts, entry{k, ticketIndexValue(t, k)})
		}
	}
	slices.SortFunc(puts, func(a, b entry) int { return bytes.Compare(a.key, b.key) })
	for _, e := range puts {
		if err := idx.Put(e.key, e.value); err != nil {
			return err
		}
	}
	records := tx.bucket(bucketTickets)
	for _, t := range ts {
		if err := putJSON(records, be64(uint64(t.Number)), t); err != nil {
			return err
		}
	}
	return nil
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
	State    string
	Resource string // "-" for requests (no resource)
	// SubResources widens Resource to every resource below it, at any depth.
	SubResources bool
	Requester    string
	Assignee     string
	Before       int // only tickets numbered below this (paging); 0 = no bound

	// resources are the names Resource admits, filled in by withResources.
	resources []string
}

// withResources fills in the resource names q admits: Resource and, with
// SubResources, the resources below it, found through the child index.
func (tx *Tx) withResources(q TicketQuery) TicketQuery {
	q.resources = nil
	if q.Resource == "" {
		return q
	}
	q.resources = []string{q.Resource}
	if !q.SubResources || q.Resource == "-" {
		return q
	}
	for i := 0; i < len(q.resources); i++ {
		for _, c := range tx.Children(q.resources[i]) {
			// A damaged child index could hold a cycle; name each resource once.
			if !slices.Contains(q.resources, c) {
				q.resources = append(q.resources, c)
			}
		}
	}
	return q
}

// admits reports whether q's resource filter lets a ticket of resource r
// ("-" for a request) through.
func (q TicketQuery) admits(r string) bool {
	if q.resources == nil {
		return q.Resource == "" || q.Resource == r
	}
	return slices.Contains(q.resources, r)
}

// matches reports whether t passes every filter of q.
func (q TicketQuery) matches(t helpdesk.Ticket) bool {
	return (q.State == "" || string(t.State) == q.State) &&
		q.admits(noneIfEmpty(t.Resource)) &&
		(q.Requester == "" || t.Requester == q.Requester) &&
		(q.Assignee == "" || noneIfEmpty(t.Assignee) == q.Assignee)
}

// visit reads ticket num and hands it to fn when it matches q; a missing
// ticket or one that does not match is skipped.
func (tx *Tx) visit(q TicketQuery, num uint64, fn func(helpdesk.Ticket) (bool, error)) (bool, error) {
	key := be64(num)
	return visitRecord(q, key, tx.bucket(bucketTickets).Get(key), fn)
}

// visitRecord is visit for the record raw of ticket key, nil when there is
// none.
func visitRecord(q TicketQuery, key, raw []byte, fn func(helpdesk.Ticket) (bool, error)) (bool, error) {
	var t helpdesk.Ticket
	ok, err := decodeRecord(raw, key, &t, decodeTicket)
	if err != nil || !ok || !q.matches(t) {
		return err == nil, err
	}
	return fn(t)
}

// visitEach visits the tickets next numbers, in its order, until fn
// returns false or next has none left. Where each read is a round trip
// and nothing changes meanwhile (a read-only transaction on PostgreSQL), it
// takes the next few numbers first and reads their tickets in one trip,
// more at a time as the walk goes on: a page of 50 costs a few trips, not
// 50.
func (tx *Tx) visitEach(q TicketQuery, next func() (uint64, bool), fn func(helpdesk.Ticket) (bool, error)) error {
	p, ahead := tx.kv.(kvPrefetcher)
	if !ahead || tx.kv.writable() {
		for {
			n, ok := next()
			if !ok {
				return nil
			}
			if more, err := tx.visit(q, n, fn); err != nil || !more {
				return err
			}
		}
	}
	for chunk := 8; ; chunk = min(chunk*4, 512) {
		var keys [][]byte
		for len(keys) < chunk {
			n, ok := next()
			if !ok {
				break
			}
			keys = append(keys, be64(n))
		}
		if len(keys) == 0 {
			return nil
		}
		for i, raw := range p.getMany(bucketTickets, keys) {
			if more, err := visitRecord(q, keys[i], raw, fn); err != nil || !more {
				return err
			}
		}
	}
}

// EachTicket visits matching tickets newest first until fn returns false.
// It walks the most selective index for the query; a resource with
// sub-resources is the merge of their ranges.
func (tx *Tx) EachTicket(q TicketQuery, fn func(helpdesk.Ticket) (bool, error)) error {
	q = tx.withResources(q)
	if len(q.resources) > 1 || (len(q.resources) == 1 && q.Assignee != "") {
		return tx.walkSet(tx.matching(q), q, fn)
	}
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
		// The records themselves, newest first: the walk reads them.
		return walkBackwards(tx.bucket(bucketTickets).Cursor(), nil, q.Before, func(k, v []byte) (bool, error) {
			return visitRecord(q, k, v, fn)
		})
	}
	prefix := append(pair(field, value), 0)
	c := tx.bucket(bucketTicketIndex).Cursor()
	var k []byte
	started := false
	return tx.visitEach(q, func() (uint64, bool) {
		if started {
			k, _ = c.Prev()
		} else {
			k, _ = seekAtMost(c, prefix, highest(q.Before))
			started = true
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			if len(k) == len(prefix)+8 {
				return fromBE64(k[len(prefix):]), true
			}
		}
		return 0, false
	}, fn)
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
	q = tx.withResources(q)
	return tx.walkSet(tx.inScope(scope, q), q, fn)
}

// walkSet visits the tickets of set that match q, newest first, from below
// q.Before, until fn returns false.
func (tx *Tx) walkSet(set ticketSet, q TicketQuery, fn func(helpdesk.Ticket) (bool, error)) error {
	upTo := highest(q.Before)
	return tx.visitEach(q, func() (uint64, bool) {
		if upTo == 0 {
			return 0, false
		}
		n, ok := set.seek(upTo)
		if ok {
			upTo = n - 1
		}
		return n, ok
	}, fn)
}

// indexRange is the ticket numbers under one value of an index field.
func (tx *Tx) indexRange(field, value string) ticketSet {
	return &keyRange{c: tx.bucket(bucketTicketIndex).Cursor(), prefix: append(pair(field, value), 0)}
}

// ofResources is the tickets of the resources in rs, in q's state when it
// names one. With an assignee, they are that assignee's tickets whose
// resource is in rs, read from the assignee range, whose values name each
// ticket's resource: its size bounds the work, however many tickets of rs
// belong to others.
func (tx *Tx) ofResources(q TicketQuery, rs []string) union {
	var u union
	if q.Assignee != "" && len(rs) > 0 {
		in := make(map[string]bool, len(rs))
		for _, r := range rs {
			in[r] = true
		}
		assigned := &keyRange{c: tx.bucket(bucketTicketIndex).Cursor(), prefix: append(pair(idxAssignee, q.Assignee), 0),
			keep: func(v []byte) bool { return in[string(v)] }}
		if q.State == "" {
			return union{assigned}
		}
		var inState union
		for _, r := range rs {
			inState = append(inState, tx.indexRange(idxStateRes, q.State+"/"+r))
		}
		return union{intersection{assigned, inState}}
	}
	for _, r := range rs {
		if q.State != "" {
			u = append(u, tx.indexRange(idxStateRes, q.State+"/"+r))
		} else {
			u = append(u, tx.indexRange(idxResource, r))
		}
	}
	return u
}

// matching is the set of ticket numbers that match q (withResources
// applied, Resource set), as index ranges.
func (tx *Tx) matching(q TicketQuery) ticketSet {
	return tx.narrowed(q, tx.ofResources(q, q.resources))
}

// narrowed is set cut down to q's requester. The sets of ofResources are
// already cut down to q's assignee, so no second walk of the assignee's
// range is needed for them.
func (tx *Tx) narrowed(q TicketQuery, set ticketSet) ticketSet {
	if q.Requester == "" {
		return set
	}
	return intersection{set, tx.indexRange(idxRequester, q.Requester)}
}

// inScope is the set of ticket numbers in scope that match q (withResources
// applied), as index ranges.
func (tx *Tx) inScope(scope TicketScope, q TicketQuery) ticketSet {
	var rs []string
	for _, r := range scope.Resources {
		if q.admits(r) {
			rs = append(rs, r)
		}
	}
	seen := tx.ofResources(q, rs)
	if scope.Requester != "" && (q.Requester == "" || q.Requester == scope.Requester) {
		own := intersection{tx.indexRange(idxRequester, scope.Requester)}
		switch {
		case q.Resource != "":
			own = append(own, tx.ofResources(q, q.resources))
		case q.State != "":
			own = append(own, tx.indexRange(idxState, q.State))
		}
		if q.Assignee != "" && q.Resource == "" {
			own = append(own, tx.indexRange(idxAssignee, q.Assignee))
		}
		seen = append(seen, own)
	}
	return tx.narrowed(q, seen)
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
	c      kvCursor
	prefix []byte
	// keep, when set, admits only the keys whose value it accepts.
	keep    func(value []byte) bool
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
// another length under the prefix and keys keep refuses; ok is false past
// the range.
func (r *keyRange) number(k, v []byte) (uint64, bool) {
	for ; k != nil && bytes.HasPrefix(k, r.prefix); k, v = r.c.Prev() {
		if len(k) == len(r.prefix)+8 && (r.keep == nil || r.keep(v)) {
			return fromBE64(k[len(r.prefix):]), true
		}
	}
	return 0, false
}

// seekAtMost positions c on the last key not above prefix+be64(upTo), or
// before the first key when there is none.
func seekAtMost(c kvCursor, prefix []byte, upTo uint64) ([]byte, []byte) {
	// Seek just past the range: the prefix followed by be64(upTo+1), or past every number.
	upper := append(append([]byte(nil), prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	if upTo < math.MaxUint64 {
		upper = append(append([]byte(nil), prefix...), be64(upTo+1)...)
	}
	if b, ok := c.(belowSeeker); ok {
		return b.seekBelow(upper)
	}
	if k, _ := c.Seek(upper); k == nil {
		return c.Last()
	}
	return c.Prev()
}

// belowSeeker is a cursor that lands on the last key below a key in one
// step, where a Seek and a Prev would cost a round trip each.
type belowSeeker interface {
	seekBelow(key []byte) ([]byte, []byte)
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

// walkBackwards visits keys with prefix and their values, from the highest
// ticket number down.
func walkBackwards(c kvCursor, prefix []byte, before int, fn func(k, v []byte) (bool, error)) error {
	for k, v := seekAtMost(c, prefix, highest(before)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		if len(k) != len(prefix)+8 {
			continue
		}
		more, err := fn(k, v)
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
func (tx *Tx) TicketCount() int { return tx.bucket(bucketTickets).count() }

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

// PreloadImported reads, where a round trip per lookup is costly
// (PostgreSQL), the import records of a whole batch of source ids at once;
// ImportedTicket then answers from memory. On bbolt it does nothing.
func (tx *Tx) PreloadImported(sourceIDs []string) {
	p, ok := tx.kv.(*pgTx)
	if !ok {
		return
	}
	keys := make([][]byte, len(sourceIDs))
	for i, id := range sourceIDs {
		keys[i] = []byte(id)
	}
	p.preload(bucketTicketExt, keys)
}
