package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"iter"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// compareIndex walks index bucket b beside want, the keys its records call
// for in ascending order without repeats, like merging two sorted lists: a
// key only the bucket has is a stale entry, one only want has is missing. So
// no set of every expected key is held, whatever the size of the index.
func compareIndex(b kvBucket, want iter.Seq[[]byte], name string, add func(string, string, ...any)) {
	stale := func(k []byte) {
		add("index", "%s has a stale entry %q", name, strings.ReplaceAll(string(k), "\x00", "/"))
	}
	c := b.Cursor()
	k, _ := c.First()
	missing := 0
	for w := range want {
		for k != nil && bytes.Compare(k, w) < 0 {
			stale(k)
			k, _ = c.Next()
		}
		if k != nil && bytes.Equal(k, w) {
			k, _ = c.Next()
		} else {
			missing++
		}
	}
	for ; k != nil; k, _ = c.Next() {
		stale(k)
	}
	if missing != 0 {
		add("index", "%s misses %d entries", name, missing)
	}
}

// sortedKeys is the key order of a small index's expected keys.
func sortedKeys(set map[string]bool) iter.Seq[[]byte] {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return func(yield func([]byte) bool) {
		for _, k := range keys {
			if !yield([]byte(k)) {
				return
			}
		}
	}
}

// ticketKeys gathers the ticket index keys the tickets call for, for
// compareIndex. Every key is "field\x00value\x00" + be64(number), and the
// tickets come in number order, so the keys are kept as one list of ticket
// numbers per field and value, each number stored as its distance from the
// one before (a byte or two): a million tickets' five to ten keys each take
// a few megabytes instead of a set of strings. Sorting the field-and-value
// prefixes then yields every key in index order.
type ticketKeys struct {
	lists map[string]*numberList
	// Each ticket's resource, for the values of the assignee keys: an
	// index into names per ticket number (numbers are dense), or in far
	// for a number too large for that.
	resourceIdx []uint32
	names       []string
	nameIdx     map[string]uint32
	far         map[uint64]string
}

// numberList is one prefix's ticket numbers, as uvarint differences.
type numberList struct {
	deltas []byte
	last   uint64
	// unordered is set when a number did not exceed the one before, which
	// only a ticket claiming another's number causes; such a list is
	// sorted and freed of repeats before it is read.
	unordered bool
}

func newTicketKeys() *ticketKeys {
	return &ticketKeys{lists: map[string]*numberList{}, nameIdx: map[string]uint32{}, far: map[uint64]string{}}
}

// denseLimit bounds the ticket numbers whose resource is kept in the slice.
const denseLimit = 1 << 26

// add records every index key of t, and its resource.
func (tk *ticketKeys) add(t helpdesk.Ticket) {
	tk.setResource(uint64(t.Number), noneIfEmpty(t.Resource))
	for _, key := range ticketIndexKeys(t) {
		cut := len(key) - 8
		l := tk.lists[string(key[:cut])]
		if l == nil {
			l = &numberList{}
			tk.lists[string(key[:cut])] = l
		}
		n := binary.BigEndian.Uint64(key[cut:])
		if len(l.deltas) > 0 && n <= l.last {
			l.unordered = true
		}
		// The difference wraps around for a smaller number and unwraps
		// again when read, so every number comes back as it was.
		l.deltas = binary.AppendUvarint(l.deltas, n-l.last)
		l.last = n
	}
}

func (tk *ticketKeys) setResource(n uint64, r string) {
	if n >= denseLimit {
		tk.far[n] = r
		return
	}
	i, ok := tk.nameIdx[r]
	if !ok {
		tk.names = append(tk.names, r)
		i = uint32(len(tk.names)) // 0 stands for no ticket
		tk.nameIdx[r] = i
	}
	if int(n) >= len(tk.resourceIdx) {
		tk.resourceIdx = slices.Grow(tk.resourceIdx, int(n)+1-len(tk.resourceIdx))[:n+1]
	}
	tk.resourceIdx[n] = i
}

// resourceOf is the resource of ticket n as add saw it; false for a number
// no ticket has.
func (tk *ticketKeys) resourceOf(n uint64) (string, bool) {
	if n >= denseLimit {
		r, ok := tk.far[n]
		return r, ok
	}
	if n >= uint64(len(tk.resourceIdx)) || tk.resourceIdx[n] == 0 {
		return "", false
	}
	return tk.names[tk.resourceIdx[n]-1], true
}

// checkAssigneeValues reports assignee keys whose value is not their
// ticket's resource, which lists of an assignee's tickets rely on. Keys of
// no ticket are left to compareIndex, which reports them as stale.
func (tk *ticketKeys) checkAssigneeValues(b kvBucket, add func(string, string, ...any)) {
	c := b.Cursor()
	for k, v := c.Seek(assigneePrefix); k != nil && bytes.HasPrefix(k, assigneePrefix); k, v = c.Next() {
		if len(k) < len(assigneePrefix)+9 {
			continue
		}
		n := binary.BigEndian.Uint64(k[len(k)-8:])
		if want, ok := tk.resourceOf(n); ok && string(v) != want {
			add("index", "the assignee entry of #%d names resource %q; the ticket's is %q", n, v, want)
		}
	}
}

func (l *numberList) numbers() []uint64 {
	var out []uint64
	var n uint64
	for b := l.deltas; len(b) > 0; {
		d, w := binary.Uvarint(b)
		b = b[w:]
		n += d
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// keys yields every key in index order. Prefixes are compared as bytes; when
// one prefix begins another (a value holding a NUL, which no name may
// contain) their keys could interleave, and then every key is sorted outright.
func (tk *ticketKeys) keys() iter.Seq[[]byte] {
	prefixes := make([]string, 0, len(tk.lists))
	for p := range tk.lists {
		prefixes = append(prefixes, p)
	}
	slices.Sort(prefixes)
	for i := 1; i < len(prefixes); i++ {
		if strings.HasPrefix(prefixes[i], prefixes[i-1]) {
			return tk.allSorted(prefixes)
		}
	}
	return func(yield func([]byte) bool) {
		var key []byte
		for _, p := range prefixes {
			l := tk.lists[p]
			key = append(key[:0], p...)
			emit := func(n uint64) bool {
				key = binary.BigEndian.AppendUint64(key[:len(p)], n)
				return yield(key)
			}
			if l.unordered {
				for _, n := range l.numbers() {
					if !emit(n) {
						return
					}
				}
				continue
			}
			var n uint64
			for b := l.deltas; len(b) > 0; {
				d, w := binary.Uvarint(b)
				b = b[w:]
				n += d
				if !emit(n) {
					return
				}
			}
		}
	}
}

func (tk *ticketKeys) allSorted(prefixes []string) iter.Seq[[]byte] {
	var all []string
	for _, p := range prefixes {
		for _, n := range tk.lists[p].numbers() {
			all = append(all, p+string(be64(n)))
		}
	}
	slices.Sort(all)
	return sortedKeys(setOf(all))
}

func setOf(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// checkedTicket is a ticket record as db check reads it: the fields its
// rules look at decode as in helpdesk.Ticket, the others are only checked
// to be what helpdesk.Ticket accepts there, without being kept. So a record
// decodes here exactly when it decodes as a helpdesk.Ticket (the fields,
// their JSON names and the values each accepts are the same), at a fraction
// of the cost: no copies of the texts, no times kept.
type checkedTicket struct {
	Number      int               `json:"number"`
	Subject     anyString         `json:"subject"`
	Description anyString         `json:"description"`
	Requester   string            `json:"requester"`
	Resource    string            `json:"resource,omitempty"`
	State       helpdesk.State    `json:"state"`
	Priority    helpdesk.Priority `json:"priority"`
	Category    anyString         `json:"category,omitempty"`
	Due         anyString         `json:"due,omitempty"`
	Assignee    string            `json:"assignee,omitempty"`
	Links       []int             `json:"links,omitempty"`
	Created     anyTime           `json:"created"`
	Updated     anyTime           `json:"updated"`
	Log         []checkedEntry    `json:"log"`

	entries []helpdesk.Entry // the log handed out, reused from record to record
	// names keeps one copy of each user and resource name the records
	// name, for the fast path of decodeCheckedTicket.
	names map[string]string
	buf   []byte
}

// checkedEntry is helpdesk.Entry as checkedTicket reads it.
type checkedEntry struct {
	Seq        int                 `json:"seq"`
	Time       anyTime             `json:"time"`
	Actor      string              `json:"actor"`
	Action     anyString           `json:"action"`
	Text       anyString           `json:"text,omitempty"`
	From       helpdesk.State      `json:"from,omitempty"`
	To         helpdesk.State      `json:"to,omitempty"`
	Visibility helpdesk.Visibility `json:"visibility"`
	System     bool                `json:"system,omitempty"`
}

// anyString accepts what a string field accepts (a string or null) and
// keeps nothing. Anything else fails, and the caller decodes the record
// again as a helpdesk.Ticket for encoding/json's own words on it.
type anyString struct{}

func (*anyString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && (b[0] == '"' || string(b) == "null") {
		return nil
	}
	return errNotAString
}

var errNotAString = errors.New("not a string")

// anyTime accepts exactly what a time.Time field accepts and keeps nothing.
type anyTime struct{}

func (*anyTime) UnmarshalJSON(b []byte) error {
	var t time.Time
	return t.UnmarshalJSON(b)
}

// decodeCheckedTicket decodes a ticket record into t and returns the
// fields the rules need as a helpdesk.Ticket, whose log is only good until
// the next call, or the error json.Unmarshal gives for the record as a
// helpdesk.Ticket.
//
// A record in the form Marshal writes is read by recordReader in check mode,
// which keeps the same fields; any other goes through encoding/json.
func decodeCheckedTicket(v []byte, t *checkedTicket) (helpdesk.Ticket, error) {
	if t.names == nil {
		t.names = map[string]string{}
	}
	r := recordReader{b: v, buf: t.buf, check: true, names: t.names, entries: t.entries}
	var fast helpdesk.Ticket
	ok := r.ticket(&fast)
	t.buf, t.entries = r.buf, r.entries
	if ok {
		if len(fast.Log) == 0 {
			fast.Log = nil
		}
		return fast, nil
	}
	log := t.Log[:cap(t.Log)]
	clear(log) // encoding/json decodes into old elements without zeroing them
	*t = checkedTicket{Log: log[:0], entries: t.entries[:0], names: t.names, buf: t.buf}
	if err := json.Unmarshal(v, t); err != nil {
		var full helpdesk.Ticket
		if ferr := json.Unmarshal(v, &full); ferr != nil {
			return helpdesk.Ticket{}, ferr
		}
		// Not reached when the two decoders agree; then the full
		// decode is the answer.
		return full, nil
	}
	out := helpdesk.Ticket{
		Number: t.Number, Requester: t.Requester, Resource: t.Resource, State: t.State,
		Priority: t.Priority, Assignee: t.Assignee,
	}
	for _, e := range t.Log {
		t.entries = append(t.entries, helpdesk.Entry{Seq: e.Seq, Actor: e.Actor, From: e.From, To: e.To, Visibility: e.Visibility, System: e.System})
	}
	if len(t.entries) > 0 {
		out.Log = t.entries
	}
	return out, nil
}

// checkParents compares the parents records with the member_of entries the
// groups call for ("kind:name\x00group" keys): one record per subject in
// a group, holding exactly its groups in order.
func checkParents(b kvBucket, memberOf map[string]bool, add func(string, string, ...any)) {
	want := map[string][]string{}
	for k := range memberOf {
		s, g, _ := strings.Cut(k, "\x00")
		want[s] = append(want[s], g)
	}
	_ = b.ForEach(func(k, v []byte) error {
		groups, ok := want[string(k)]
		if !ok {
			add("index", "parents has a stale record for %s", k)
			return nil
		}
		slices.Sort(groups)
		if got := decodeParents(v); !slices.Equal(got, groups) {
			add("index", "parents of %s are %s, the groups name it in %s", k, strings.Join(got, ","), strings.Join(groups, ","))
		}
		delete(want, string(k))
		return nil
	})
	for _, s := range slices.Sorted(maps.Keys(want)) {
		add("index", "parents misses the record for %s", s)
	}
}

// checkCatalog compares the catalog record with the custom action records.
func (tx *Tx) checkCatalog(add func(string, string, ...any)) {
	want, err := tx.CustomActions()
	if err != nil {
		add("actions", "a custom action cannot be decoded: %v", err)
		return
	}
	got, err := tx.cachedCustomActions()
	switch {
	case err != nil:
		add("index", "the custom action catalog cannot be decoded: %v", err)
	case !reflect.DeepEqual(slices.Clip(got), slices.Clip(want)) && !(len(got) == 0 && len(want) == 0):
		add("index", "the custom action catalog does not match the %d custom actions", len(want))
	}
}
