package store

import (
	"bytes"
	"encoding/json"
	"math"
	"time"
	"unicode/utf8"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Ticket and user records are the JSON encoding/json writes for a
// helpdesk.Ticket and a helpdesk.User. Decoding them reflectively is most
// of the work of reading tickets (a list, db check) and much of reading
// the directory (who-can, matrix), so the form Marshal writes is read here
// by hand: its fields in their declared order, no white space, only the
// escapes Marshal writes, valid UTF-8, integers in range. Any other record,
// damaged or just written differently, is handed to json.Unmarshal, so
// every input gets the result and the error it got before.

// decodeTicket decodes the ticket record raw into *t.
func decodeTicket(raw []byte, t *helpdesk.Ticket) error {
	return decodeWith(raw, t, (*recordReader).ticket)
}

// decodeUser decodes the user record raw into *u.
func decodeUser(raw []byte, u *helpdesk.User) error {
	return decodeWith(raw, u, (*recordReader).user)
}

// decodeWith decodes raw into *v, which it first sets to the zero value: a
// record is always decoded into a fresh value, never merged into an old
// one. read takes the form Marshal writes; json.Unmarshal the rest.
func decodeWith[T any](raw []byte, v *T, read func(*recordReader, *T) bool) error {
	r := recordReader{b: raw}
	var out T
	if read(&r, &out) {
		*v = out
		return nil
	}
	var zero T
	*v = zero
	return json.Unmarshal(raw, v)
}

// decodeRecord is decodeJSON for a record decode reads: false when there
// is none (raw is nil), damage when it does not decode.
func decodeRecord[T any](raw, key []byte, v *T, decode func([]byte, *T) error) (bool, error) {
	if raw == nil {
		return false, nil
	}
	if err := decode(raw, v); err != nil {
		return false, damaged(err, "%s %q", recordKind(v), key)
	}
	return true, nil
}

func (r *recordReader) user(u *helpdesk.User) bool {
	r.key(`{"login":`)
	u.Login = r.text(false)
	r.key(`,"name":`)
	u.Name = r.text(false)
	r.key(`,"email":`)
	u.Email = r.text(false)
	r.key(`,"active":`)
	if r.opt(`true`) {
		u.Active = true
	} else {
		r.key(`false`)
	}
	r.key(`,"created":`)
	u.Created = r.time()
	if r.opt(`,"os_login":`) {
		u.OSLogin = r.text(true)
	}
	r.key(`}`)
	return !r.bad && r.i == len(r.b)
}

// recordReader reads one record in the form Marshal writes. Its methods
// set bad at the first byte outside that form and read nothing more; the
// caller then falls back to encoding/json.
type recordReader struct {
	b   []byte
	i   int
	bad bool
	buf []byte // a string's value while its escapes are undone

	// check, for db check, keeps only the fields its rules read (see
	// decodeCheckedTicket): texts and times are checked but not kept,
	// names come from names, and log entries are appended to entries.
	check   bool
	names   map[string]string
	entries []helpdesk.Entry
}

// maxNames bounds the names db check keeps one copy of.
const maxNames = 1 << 16

func (r *recordReader) fail() { r.bad = true }

// key consumes s, which must come next.
func (r *recordReader) key(s string) {
	if !r.opt(s) {
		r.fail()
	}
}

// opt consumes s if it comes next.
func (r *recordReader) opt(s string) bool {
	if r.bad || len(r.b)-r.i < len(s) || string(r.b[r.i:r.i+len(s)]) != s {
		return false
	}
	r.i += len(s)
	return true
}

func (r *recordReader) ticket(t *helpdesk.Ticket) bool {
	r.key(`{"number":`)
	t.Number = r.int()
	r.key(`,"subject":`)
	t.Subject = r.text(false)
	r.key(`,"description":`)
	t.Description = r.text(false)
	r.key(`,"requester":`)
	t.Requester = r.name(false)
	if r.opt(`,"resource":`) {
		t.Resource = r.name(true)
	}
	r.key(`,"state":`)
	t.State = helpdesk.State(r.enum(false))
	r.key(`,"priority":`)
	t.Priority = helpdesk.Priority(r.enum(false))
	if r.opt(`,"category":`) {
		t.Category = r.text(true)
	}
	if r.opt(`,"due":`) {
		t.Due = r.text(true)
	}
	if r.opt(`,"assignee":`) {
		t.Assignee = r.name(true)
	}
	if r.opt(`,"links":`) {
		t.Links = r.links()
	}
	r.key(`,"created":`)
	t.Created = r.time()
	r.key(`,"updated":`)
	t.Updated = r.time()
	r.key(`,"log":`)
	if !r.opt(`null`) {
		t.Log = r.log()
	}
	r.key(`}`)
	return !r.bad && r.i == len(r.b)
}

func (r *recordReader) entry(e *helpdesk.Entry) {
	r.key(`{"seq":`)
	e.Seq = r.int()
	r.key(`,"time":`)
	e.Time = r.time()
	r.key(`,"actor":`)
	e.Actor = r.name(false)
	r.key(`,"action":`)
	e.Action = r.action()
	if r.opt(`,"text":`) {
		e.Text = r.text(true)
	}
	if r.opt(`,"from":`) {
		e.From = helpdesk.State(r.enum(true))
	}
	if r.opt(`,"to":`) {
		e.To = helpdesk.State(r.enum(true))
	}
	r.key(`,"visibility":`)
	e.Visibility = helpdesk.Visibility(r.enum(false))
	if r.opt(`,"system":`) {
		r.key(`true`)
		e.System = true
	}
	r.key(`}`)
}

// log reads the entries of a log: a fresh slice, or in check mode
// r.entries, reused from record to record.
func (r *recordReader) log() []helpdesk.Entry {
	r.key(`[`)
	out := r.entries[:0]
	if !r.check {
		// "[]" decodes to an empty log, not a missing one; the count of
		// entries sizes it at once (a text holding the same bytes only
		// makes it larger).
		out = make([]helpdesk.Entry, 0, bytes.Count(r.b[r.i:], []byte(`{"seq":`)))
	}
	if r.opt(`]`) {
		return out
	}
	for !r.bad {
		var e helpdesk.Entry
		r.entry(&e)
		out = append(out, e)
		if !r.opt(`,`) {
			r.key(`]`)
			break
		}
	}
	if r.check {
		r.entries = out
	}
	return out
}

func (r *recordReader) links() []int {
	r.key(`[`)
	var out []int
	for !r.bad {
		n := r.int()
		if !r.check {
			out = append(out, n)
		}
		if !r.opt(`,`) {
			r.key(`]`)
			break
		}
	}
	return out
}

// int reads an integer as strconv writes it: no leading zeros, no plus
// sign, no "-0", within the range of int.
func (r *recordReader) int() int {
	if r.bad {
		return 0
	}
	i, neg := r.i, false
	if i < len(r.b) && r.b[i] == '-' {
		neg = true
		i++
	}
	start := i
	var u uint64
	for ; i < len(r.b) && r.b[i] >= '0' && r.b[i] <= '9'; i++ {
		u = u*10 + uint64(r.b[i]-'0')
	}
	// At most 19 digits cannot overflow a uint64; the range check follows.
	digits := i - start
	if digits == 0 || digits > 19 || (r.b[start] == '0' && (digits > 1 || neg)) {
		r.fail()
		return 0
	}
	r.i = i
	switch {
	case neg && u <= uint64(math.MaxInt)+1:
		return int(-u)
	case !neg && u <= math.MaxInt:
		return int(u)
	}
	r.fail()
	return 0
}

// time reads a time as its MarshalJSON writes it, decoded by its own
// UnmarshalJSON from the same bytes encoding/json would hand it.
func (r *recordReader) time() time.Time {
	var t time.Time
	if r.bad || r.i >= len(r.b) || r.b[r.i] != '"' {
		r.fail()
		return t
	}
	j := r.i + 1
	for ; j < len(r.b) && r.b[j] != '"'; j++ {
		if c := r.b[j]; c < 0x20 || c >= utf8.RuneSelf || c == '\\' {
			r.fail()
			return t
		}
	}
	if j == len(r.b) || t.UnmarshalJSON(r.b[r.i:j+1]) != nil {
		r.fail()
		return time.Time{}
	}
	r.i = j + 1
	if r.check {
		return time.Time{}
	}
	return t
}

// text reads a free text: kept, except in check mode. An omitempty field
// is never written empty: Marshal leaves it out.
func (r *recordReader) text(omitempty bool) string {
	b := r.str(omitempty)
	if r.check || len(b) == 0 {
		return ""
	}
	return string(b)
}

// name reads a user or resource name; in check mode many records share a
// few names, so each is kept once.
func (r *recordReader) name(omitempty bool) string {
	b := r.str(omitempty)
	if len(b) == 0 {
		return ""
	}
	if !r.check {
		return string(b)
	}
	if s, ok := r.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(r.names) < maxNames {
		r.names[s] = s
	}
	return s
}

// enum reads a state, priority or visibility; the valid ones take no
// copy.
func (r *recordReader) enum(omitempty bool) string {
	return word(r.str(omitempty))
}

// action reads a log entry's action; db check does not keep it.
func (r *recordReader) action() string {
	b := r.str(false)
	if r.check {
		return ""
	}
	return word(b)
}

// word is b as a string, without a copy when it is one of words.
func word(b []byte) string {
	if s, ok := words[string(b)]; ok {
		return s
	}
	return string(b)
}

// words are the values most fields of a few kinds hold: states,
// priorities, visibilities and action names.
var words = func() map[string]string {
	m := map[string]string{"": ""}
	add := func(s string) { m[s] = s }
	for _, s := range helpdesk.States {
		add(string(s))
	}
	for _, p := range helpdesk.Priorities {
		add(string(p))
	}
	for _, v := range helpdesk.Visibilities {
		add(string(v))
	}
	for _, r := range helpdesk.Builtins() {
		add(r.Name)
	}
	for _, a := range []string{"create", "import", "approval-request", "approval-cancel", "approval-remind", "approval-decision"} {
		add(a)
	}
	return m
}()

// plain marks the bytes Marshal writes as they are inside a string.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// str reads a string and returns its value: a part of the record when it
// holds no escape, else r.buf. With omitempty, an empty one fails.
func (r *recordReader) str(omitempty bool) []byte {
	if r.bad || r.i >= len(r.b) || r.b[r.i] != '"' || (omitempty && r.i+1 < len(r.b) && r.b[r.i+1] == '"') {
		r.fail()
		return nil
	}
	start := r.i + 1
	for i := start; i < len(r.b); {
		c := r.b[i]
		switch {
		case plain[c]:
			i++
		case c == '"':
			r.i = i + 1
			return r.b[start:i]
		case c == '\\':
			r.buf = append(r.buf[:0], r.b[start:i]...)
			return r.escaped(i)
		default:
			n := r.unicode(i)
			if n == 0 {
				r.fail()
				return nil
			}
			i += n
		}
	}
	r.fail()
	return nil
}

// unicode is the length of the character at i if Marshal writes it as it
// is: valid UTF-8 outside ASCII other than U+2028 and U+2029; else 0.
func (r *recordReader) unicode(i int) int {
	if r.b[i] < utf8.RuneSelf {
		return 0
	}
	c, n := utf8.DecodeRune(r.b[i:])
	if (c == utf8.RuneError && n == 1) || c == '\u2028' || c == '\u2029' {
		return 0
	}
	return n
}

// escaped goes on with a string whose value so far is in r.buf, from the
// escape at i.
func (r *recordReader) escaped(i int) []byte {
	for i < len(r.b) {
		c := r.b[i]
		switch {
		case plain[c]:
			r.buf = append(r.buf, c)
			i++
		case c == '"':
			r.i = i + 1
			return r.buf
		case c == '\\':
			n := r.escape(i)
			if n == 0 {
				r.fail()
				return nil
			}
			i += n
		default:
			n := r.unicode(i)
			if n == 0 {
				r.fail()
				return nil
			}
			r.buf = append(r.buf, r.b[i:i+n]...)
			i += n
		}
	}
	r.fail()
	return nil
}

// escape appends the character of the escape at i to r.buf and returns
// the escape's length, or 0 if Marshal never writes it.
func (r *recordReader) escape(i int) int {
	if i+1 >= len(r.b) {
		return 0
	}
	switch c := r.b[i+1]; c {
	case '"', '\\':
		r.buf = append(r.buf, c)
	case 'b':
		r.buf = append(r.buf, '\b')
	case 'f':
		r.buf = append(r.buf, '\f')
	case 'n':
		r.buf = append(r.buf, '\n')
	case 'r':
		r.buf = append(r.buf, '\r')
	case 't':
		r.buf = append(r.buf, '\t')
	case 'u':
		if i+6 > len(r.b) {
			return 0
		}
		var ch rune
		for _, h := range r.b[i+2 : i+6] {
			switch {
			case h >= '0' && h <= '9':
				ch = ch<<4 | rune(h-'0')
			case h >= 'a' && h <= 'f':
				ch = ch<<4 | rune(h-'a'+10)
			default:
				return 0
			}
		}
		if !marshalEscapes(ch) {
			return 0
		}
		r.buf = utf8.AppendRune(r.buf, ch)
		return 6
	default:
		return 0
	}
	return 2
}

// marshalEscapes reports whether Marshal writes c as \uXXXX: control
// characters without a short escape, the HTML specials, the line and
// paragraph separators, and U+FFFD for invalid UTF-8.
func marshalEscapes(c rune) bool {
	switch c {
	case '\b', '\f', '\n', '\r', '\t':
		return false
	case '<', '>', '&', '\u2028', '\u2029', utf8.RuneError:
		return true
	}
	return c < 0x20
}
