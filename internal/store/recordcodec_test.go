package store

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// sameTimes reports whether two times are the same instant in zones of the
// same name and offset; reflect.DeepEqual cannot tell, as each decode of
// an offset makes its own zone.
func sameTimes(a, b time.Time) bool {
	an, ao := a.Zone()
	bn, bo := b.Zone()
	return a.Equal(b) && an == bn && ao == bo && a.Location().String() == b.Location().String()
}

// ticketDiff says how two tickets differ, "" when they are equal: times
// by sameTimes, everything else by reflect.DeepEqual.
func ticketDiff(a, b helpdesk.Ticket) string {
	if !sameTimes(a.Created, b.Created) || !sameTimes(a.Updated, b.Updated) {
		return "created or updated differ"
	}
	if len(a.Log) != len(b.Log) {
		return "logs differ in length"
	}
	for i := range a.Log {
		if !sameTimes(a.Log[i].Time, b.Log[i].Time) {
			return "a log entry's time differs"
		}
	}
	a.Created, a.Updated, b.Created, b.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	a.Log, b.Log = withoutTimes(a.Log), withoutTimes(b.Log)
	if !reflect.DeepEqual(a, b) {
		return "fields differ"
	}
	return ""
}

func withoutTimes(log []helpdesk.Entry) []helpdesk.Entry {
	if log == nil {
		return nil
	}
	out := make([]helpdesk.Entry, len(log))
	for i, e := range log {
		e.Time = time.Time{}
		out[i] = e
	}
	return out
}

// fastTicket runs only the hand-written reader; false when it declines.
func fastTicket(raw []byte) (helpdesk.Ticket, bool) {
	var t helpdesk.Ticket
	r := recordReader{b: raw}
	return t, r.ticket(&t)
}

// checkedFields is the part of a ticket db check reads, as
// decodeCheckedTicket returns it.
func checkedFields(t helpdesk.Ticket) helpdesk.Ticket {
	out := helpdesk.Ticket{Number: t.Number, Requester: t.Requester, Resource: t.Resource, State: t.State,
		Priority: t.Priority, Assignee: t.Assignee}
	for _, e := range t.Log {
		out.Log = append(out.Log, helpdesk.Entry{Seq: e.Seq, Actor: e.Actor, From: e.From, To: e.To,
			Visibility: e.Visibility, System: e.System})
	}
	return out
}

// checkAgainstEncodingJSON holds for any input: what the reader accepts,
// json.Unmarshal decodes to the same ticket; decodeTicket and
// decodeCheckedTicket give what json.Unmarshal gives, errors included.
func checkAgainstEncodingJSON(t *testing.T, raw []byte, rec *checkedTicket) (accepted bool) {
	t.Helper()
	var want helpdesk.Ticket
	wantErr := json.Unmarshal(raw, &want)
	fast, accepted := fastTicket(raw)
	if accepted {
		if wantErr != nil {
			t.Fatalf("reader accepted %q, json.Unmarshal refuses it: %v", raw, wantErr)
		}
		if d := ticketDiff(fast, want); d != "" {
			t.Fatalf("reader and json.Unmarshal disagree on %q: %s\nreader: %#v\njson:   %#v", raw, d, fast, want)
		}
	}

	// Over a used ticket, too: decodeTicket never merges.
	got := helpdesk.Ticket{Number: 7, Resource: "stale", Links: []int{1}, Log: []helpdesk.Entry{{Text: "stale"}}}
	err := decodeTicket(raw, &got)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("decodeTicket(%q) = %v, json.Unmarshal gives %v", raw, err, wantErr)
	}
	if err == nil {
		if d := ticketDiff(got, want); d != "" {
			t.Fatalf("decodeTicket(%q) differs from json.Unmarshal: %s", raw, d)
		}
	}

	checked, err := decodeCheckedTicket(raw, rec)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("decodeCheckedTicket(%q) = %v, json.Unmarshal gives %v", raw, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(checked, checkedFields(want)) {
		t.Fatalf("decodeCheckedTicket(%q) =\n%#v, want\n%#v", raw, checked, checkedFields(want))
	}
	return accepted
}

var codecSeeds = []string{
	`{"number":1,"subject":"s","description":"","requester":"amy","state":"new","priority":"normal","created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05.123456789+02:00","log":null}`,
	`{"number":2,"subject":"a\u003cb\u0026c\u003e","description":"x\ny\t\"q\" \\ \u0001 \u2028 \ufffd é","requester":"bob","resource":"net","state":"closed","priority":"low","category":"hw","due":"2026-12-31","assignee":"cy","links":[1,-3],"created":"0001-01-01T00:00:00Z","updated":"2026-01-02T03:04:05-07:30","log":[]}`,
	`{"number":3,"subject":"s","description":"d","requester":"amy","state":"new","priority":"high","created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05Z","log":[{"seq":1,"time":"2026-01-02T03:04:05Z","actor":"amy","action":"open","text":"t","from":"request","to":"new","visibility":"everyone"},{"seq":2,"time":"2026-01-02T03:04:06Z","actor":"sys","action":"approval","visibility":"technicians","system":true}]}`,
	// Declined: each differs from what Marshal writes in one way.
	`{"subject":"s","number":1,"description":"","requester":"amy","state":"new","priority":"normal","created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05Z","log":null}`,
	`{"number":1, "subject":"s","description":"","requester":"amy","state":"new","priority":"normal","created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05Z","log":null}`,
	`{"number":1,"subject":"\u0041","description":"","requester":"amy","state":"new","priority":"normal","created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05Z","log":null}`,
	`{"number":1,"subject":"s","description":"","requester":"amy","resource":"","state":"new","priority":"normal","created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05Z","log":null}`,
	`{"number":9223372036854775808,"subject":"s","description":"","requester":"amy","state":"new","priority":"normal","created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05Z","log":null}`,
	`{"number":-9223372036854775809,"subject":"s","description":"","requester":"amy","state":"new","priority":"normal","created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05Z","log":null}`,
	`{"number":01,"subject":"s","description":"","requester":"amy","state":"new","priority":"normal","created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05Z","log":null}`,
	`{"number":1,"subject":null,"description":"","requester":"amy","state":"new","priority":"normal","created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05Z","log":null}`,
	`{"number":1,"subject":"s","description":"","requester":"amy","state":"new","priority":"normal","created":"2026-13-02T03:04:05Z","updated":"2026-01-02T03:04:05Z","log":null}`,
	`{"number":1,"subject":"s","description":"","requester":"amy","state":"new","priority":"normal","created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05Z","log":null} `,
	`{"number":1,"subject":"s","description":"","requester":"amy","state":"new","priority":"normal","created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05Z","log":null,"log":[]}`,
	"{\"number\":1,\"subject\":\"\xff\",\"description\":\"\",\"requester\":\"amy\",\"state\":\"new\",\"priority\":\"normal\",\"created\":\"2026-01-02T03:04:05Z\",\"updated\":\"2026-01-02T03:04:05Z\",\"log\":null}",
	`{"number":1.5}`, `null`, `[]`, ``, `{`,
}

func FuzzDecodeTicket(f *testing.F) {
	for _, s := range codecSeeds {
		f.Add([]byte(s))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		raw, err := json.Marshal(randomTicket(rng))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	var rec checkedTicket
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkAgainstEncodingJSON(t, raw, &rec)
	})
}

// TestDecodeTicketSeeds pins which seeds the reader takes: the first three
// are what Marshal writes, the rest are not.
func TestDecodeTicketSeeds(t *testing.T) {
	var rec checkedTicket
	for i, s := range codecSeeds {
		if got, want := checkAgainstEncodingJSON(t, []byte(s), &rec), i < 3; got != want {
			t.Errorf("seed %d: accepted = %v, want %v: %s", i, got, want, s)
		}
	}
}

// TestDecodeTicketMarshalled: every ticket Marshal writes is read by the
// reader itself, not handed on, and decodes as json.Unmarshal decodes it.
func TestDecodeTicketMarshalled(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	var rec checkedTicket
	for i := range 3000 {
		tk := randomTicket(rng)
		raw, err := json.Marshal(tk)
		if err != nil {
			t.Fatal(err)
		}
		if !checkAgainstEncodingJSON(t, raw, &rec) {
			t.Fatalf("ticket %d: the reader declined what Marshal wrote: %s", i, raw)
		}
	}
}

func randomTicket(rng *rand.Rand) helpdesk.Ticket {
	t := helpdesk.Ticket{
		Number:      randomInt(rng),
		Subject:     randomText(rng),
		Description: randomText(rng),
		Requester:   randomText(rng),
		State:       helpdesk.States[rng.IntN(len(helpdesk.States))],
		Priority:    helpdesk.Priorities[rng.IntN(len(helpdesk.Priorities))],
		Created:     randomTime(rng),
		Updated:     randomTime(rng),
	}
	if rng.IntN(2) == 0 {
		t.State = helpdesk.State(randomText(rng)) // damaged, yet decodable
	}
	for _, f := range []*string{&t.Resource, &t.Category, &t.Due, &t.Assignee} {
		if rng.IntN(2) == 0 {
			*f = randomText(rng)
		}
	}
	switch rng.IntN(3) {
	case 0:
		t.Links = []int{}
	case 1:
		for range 1 + rng.IntN(4) {
			t.Links = append(t.Links, randomInt(rng))
		}
	}
	switch rng.IntN(4) {
	case 0: // nil
	case 1:
		t.Log = []helpdesk.Entry{}
	default:
		for range 1 + rng.IntN(6) {
			e := helpdesk.Entry{Seq: randomInt(rng), Time: randomTime(rng), Actor: randomText(rng),
				Action: randomText(rng), Text: randomText(rng),
				Visibility: helpdesk.Visibilities[rng.IntN(2)], System: rng.IntN(2) == 0}
			if rng.IntN(2) == 0 {
				e.From, e.To = helpdesk.States[rng.IntN(5)], helpdesk.State(randomText(rng))
			}
			if rng.IntN(5) == 0 {
				e.Visibility = helpdesk.Visibility(randomText(rng))
			}
			t.Log = append(t.Log, e)
		}
	}
	return t
}

func randomInt(rng *rand.Rand) int {
	switch rng.IntN(4) {
	case 0:
		return rng.IntN(10)
	case 1:
		return -rng.IntN(1000)
	case 2:
		return []int{0, math.MaxInt, math.MinInt, math.MaxInt / 9, math.MinInt / 9}[rng.IntN(5)]
	}
	return int(rng.Uint64())
}

// randomText mixes what Marshal escapes with what it writes as it is.
func randomText(rng *rand.Rand) string {
	pieces := []string{"", "a", "Zz9 ", "<", ">", "&", "\"", "\\", "/", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f",
		"\u2028", "\u2029", "\ufffd", "é", "€", "𝄞", "\xff", "\xc3", "\xed\xa0\x80", "new", "closed"}
	var b strings.Builder
	for range rng.IntN(8) {
		if rng.IntN(4) == 0 {
			b.WriteRune(rune(rng.IntN(utf8.MaxRune + 1)))
			continue
		}
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

func randomTime(rng *rand.Rand) time.Time {
	if rng.IntN(6) == 0 {
		return time.Time{}
	}
	zones := []*time.Location{time.UTC, time.FixedZone("", 3600), time.FixedZone("CEST", 7200),
		time.FixedZone("", -(9*3600 + 30*60)), time.FixedZone("", 45), time.Local}
	sec := rng.Int64N(253402300799+62135596800) - 62135596800 // years 0001 to 9999
	t := time.Unix(sec, 0).In(zones[rng.IntN(len(zones))])
	if rng.IntN(2) == 0 {
		t = t.Add(time.Duration(rng.IntN(1e9)))
	}
	if t.Year() > 9999 || t.Year() < 0 {
		return time.Time{}
	}
	return t
}

// checkUserAgainstEncodingJSON holds for any input: what the reader
// accepts, json.Unmarshal decodes to the same user; decodeUser gives what
// json.Unmarshal gives, errors included, over a used value too.
func checkUserAgainstEncodingJSON(t *testing.T, raw []byte) (accepted bool) {
	t.Helper()
	var want helpdesk.User
	wantErr := json.Unmarshal(raw, &want)
	same := func(a, b helpdesk.User) bool {
		ok := sameTimes(a.Created, b.Created)
		a.Created, b.Created = time.Time{}, time.Time{}
		return ok && a == b
	}
	var fast helpdesk.User
	r := recordReader{b: raw}
	if accepted = r.user(&fast); accepted && (wantErr != nil || !same(fast, want)) {
		t.Fatalf("reader accepted %q as %#v; json.Unmarshal gives %#v, %v", raw, fast, want, wantErr)
	}
	got := helpdesk.User{Login: "stale", Active: true, OSLogin: "stale"}
	err := decodeUser(raw, &got)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("decodeUser(%q) = %v, json.Unmarshal gives %v", raw, err, wantErr)
	}
	if err == nil && !same(got, want) {
		t.Fatalf("decodeUser(%q) = %#v, json.Unmarshal gives %#v", raw, got, want)
	}
	return accepted
}

var userSeeds = []string{
	`{"login":"amy","name":"Amy \u003cA\u003e","email":"amy@example.com","active":true,"created":"2026-01-02T03:04:05Z"}`,
	`{"login":"bob","name":"","email":"","active":false,"created":"0001-01-01T00:00:00Z","os_login":"robert"}`,
	// Declined: each differs from what Marshal writes in one way.
	`{"login":"bob","name":"","email":"","active":false,"created":"0001-01-01T00:00:00Z","os_login":""}`,
	`{"name":"","login":"bob","email":"","active":false,"created":"0001-01-01T00:00:00Z"}`,
	`{"login":"bob","name":"","email":"","active":null,"created":"0001-01-01T00:00:00Z"}`,
	`{"login":"bob","name":"","email":"","active":1,"created":"0001-01-01T00:00:00Z"}`,
	`{"login":"bob","name":"","email":"","active":false,"created":"0001-01-01T00:00:00Z","extra":1}`,
	`{"Login":"bob","name":"","email":"","active":false,"created":"0001-01-01T00:00:00Z"}`,
	`{"login":"bob"}`, `null`, ``,
}

func FuzzDecodeUser(f *testing.F) {
	for _, s := range userSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkUserAgainstEncodingJSON(t, raw)
	})
}

// TestDecodeUser: the first two seeds and every user Marshal writes are
// read by the reader itself; the other seeds are handed to encoding/json.
func TestDecodeUser(t *testing.T) {
	for i, s := range userSeeds {
		if got, want := checkUserAgainstEncodingJSON(t, []byte(s)), i < 2; got != want {
			t.Errorf("seed %d: accepted = %v, want %v: %s", i, got, want, s)
		}
	}
	rng := rand.New(rand.NewPCG(9, uint64(time.Now().UnixNano())))
	for i := range 3000 {
		u := helpdesk.User{Login: randomText(rng), Name: randomText(rng), Email: randomText(rng),
			Active: rng.IntN(2) == 0, Created: randomTime(rng)}
		if rng.IntN(2) == 0 {
			u.OSLogin = randomText(rng)
		}
		raw, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		if !checkUserAgainstEncodingJSON(t, raw) {
			t.Fatalf("user %d: the reader declined what Marshal wrote: %s", i, raw)
		}
	}
}

func BenchmarkDecodeTicket(b *testing.B) {
	raw := benchTicketRecord(b)
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			var t helpdesk.Ticket
			if err := json.Unmarshal(raw, &t); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reader", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			var t helpdesk.Ticket
			if err := decodeTicket(raw, &t); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check-encoding-json", func(b *testing.B) {
		var rec checkedTicket
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			log := rec.Log[:cap(rec.Log)]
			clear(log)
			rec = checkedTicket{Log: log[:0]}
			if err := json.Unmarshal(raw, &rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check-reader", func(b *testing.B) {
		var rec checkedTicket
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := decodeCheckedTicket(raw, &rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchTicketRecord is a typical ticket: a few log entries of short texts,
// times in UTC, as the generator of benchmark databases writes them.
func benchTicketRecord(b *testing.B) []byte {
	at := time.Date(2026, 3, 4, 9, 30, 0, 123456789, time.UTC)
	t := helpdesk.Ticket{Number: 123456, Subject: "Printer on floor 3 jams on A4 paper",
		Description: "Since Monday the printer near the kitchen jams on every second page.\nTried another tray.",
		Requester:   "user0421", Resource: "it-printers", State: helpdesk.StateInProgress, Priority: helpdesk.PriorityNormal,
		Category: "hardware", Assignee: "tech017", Created: at, Updated: at.Add(3 * time.Hour)}
	for i, a := range []string{"authorize", "assign", "reply", "start"} {
		t.Log = append(t.Log, helpdesk.Entry{Seq: i + 1, Time: at.Add(time.Duration(i) * time.Hour), Actor: "tech017",
			Action: a, Text: "Looking into it & will report back <soon>.", Visibility: helpdesk.VisibleEveryone})
	}
	t.Log[1].From, t.Log[1].To = helpdesk.StateNew, helpdesk.StateInProgress
	raw, err := json.Marshal(t)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}
