package store

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// indexedStore is a small directory with an entry in every index: a group
// with a member, a sub-resource with a member, a grant, an os-login and two
// tickets with logs.
func indexedStore(t *testing.T) *DB {
	t.Helper()
	db := openTestStore(t)
	addUsers(t, db, "ann", "bob")
	mustUpdate(t, db, func(tx *Tx) error {
		steps := []error{
			tx.PutUser(helpdesk.User{Login: "tech", Active: true, OSLogin: "t.os"}),
			tx.PutGroup(helpdesk.Group{Name: "staff", Members: []helpdesk.Subject{helpdesk.UserSubject("bob")}}),
			tx.PutResource(helpdesk.Resource{Name: "net"}),
			tx.PutResource(helpdesk.Resource{Name: "wifi", Parent: "net",
				Members: []helpdesk.ResourceMember{{Login: "tech", Access: helpdesk.AccessWrite}}}),
			tx.Grant(helpdesk.GroupSubject("staff"), "close"),
		}
		for n, state := range map[int]helpdesk.State{1: helpdesk.StateNew, 2: helpdesk.StateClosed} {
			steps = append(steps, tx.PutTicket(helpdesk.Ticket{Number: n, Subject: "s", Requester: "ann", Resource: "wifi",
				State: state, Priority: helpdesk.PriorityNormal, Assignee: "tech",
				Log: []helpdesk.Entry{{Seq: 1, Actor: "ann", Action: "create", Visibility: helpdesk.VisibleEveryone},
					{Seq: 2, Actor: "tech", Action: "note", Visibility: helpdesk.VisibleTechnicians}}}))
		}
		for _, err := range steps {
			if err != nil {
				return err
			}
		}
		return nil
	})
	assertNoProblems(t, db)
	return db
}

// findings runs deskctl's check in a read transaction that hands back
// mapped pages as db check's does.
func findings(t *testing.T, db *DB) []string {
	t.Helper()
	got := []string{}
	mustView(t, db, func(tx *Tx) error {
		stop := tx.releaseMapped()
		defer stop()
		for _, p := range tx.Check() {
			got = append(got, p.Area+": "+p.Detail)
		}
		return nil
	})
	return got
}

// Each kind of index damage, planted in a real file, is reported in the
// words db check has always used: an entry missing, an entry no record
// calls for, an entry pointing at the wrong record.
func TestCheckReportsEachIndexInconsistency(t *testing.T) {
	num := func(n uint64) string { return string(be64(n)) }
	tkey := func(field, value string, n uint64) []byte { return []byte(field + "\x00" + value + "\x00" + num(n)) }
	cases := []struct {
		name  string
		plant func(tx *Tx) error
		want  []string
	}{
		{"member_of missing", func(tx *Tx) error { return tx.bucket(bucketMemberOf).Delete(pair("user:bob", "staff")) },
			[]string{"index: member_of index misses 1 entries"}},
		{"member_of stray", func(tx *Tx) error { return tx.bucket(bucketMemberOf).Put(pair("user:ann", "staff"), nil) },
			[]string{`index: member_of index has a stale entry "user:ann/staff"`}},
		{"parents missing", func(tx *Tx) error { return tx.bucket(bucketParents).Delete([]byte("user:bob")) },
			[]string{"index: parents misses the record for user:bob"}},
		{"parents stray", func(tx *Tx) error { return tx.bucket(bucketParents).Put([]byte("user:ann"), []byte("staff")) },
			[]string{"index: parents has a stale record for user:ann"}},
		{"parents wrong groups", func(tx *Tx) error {
			return tx.bucket(bucketParents).Put([]byte("user:bob"), []byte("everyone\x00staff"))
		}, []string{"index: parents of user:bob are everyone,staff, the groups name it in staff"}},
		{"user_res missing", func(tx *Tx) error { return tx.bucket(bucketUserRes).Delete(pair("tech", "wifi")) },
			[]string{"index: user_res index misses 1 entries"}},
		{"user_res stray", func(tx *Tx) error { return tx.bucket(bucketUserRes).Put(pair("ann", "net"), []byte("read")) },
			[]string{`index: user_res index has a stale entry "ann/net"`}},
		{"res_child missing", func(tx *Tx) error { return tx.bucket(bucketChildren).Delete(pair("net", "wifi")) },
			[]string{"index: res_child index misses 1 entries"}},
		{"res_child stray", func(tx *Tx) error { return tx.bucket(bucketChildren).Put(pair("wifi", "net"), nil) },
			[]string{`index: res_child index has a stale entry "wifi/net"`}},
		{"holders missing", func(tx *Tx) error { return tx.bucket(bucketHolders).Delete(pair("close", "group:staff")) },
			[]string{"index: holders index misses 1 entries"}},
		{"holders stray", func(tx *Tx) error { return tx.bucket(bucketHolders).Put(pair("close", "user:ann"), nil) },
			[]string{`index: holders index has a stale entry "close/user:ann"`}},
		{"ticket index missing", func(tx *Tx) error {
			b := tx.bucket(bucketTicketIndex)
			for _, k := range [][]byte{tkey(idxActor, "tech", 1), tkey(idxState, "closed", 2), tkey(idxAssignee, "tech", 2)} {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}, []string{"index: ticket index misses 3 entries"}},
		{"ticket index stray", func(tx *Tx) error {
			b := tx.bucket(bucketTicketIndex)
			for _, k := range [][]byte{tkey(idxRequester, "bob", 2), tkey(idxState, "new", 3), tkey(idxActor, "ann", 0)} {
				if err := b.Put(k, nil); err != nil {
					return err
				}
			}
			return nil
		}, []string{
			`index: ticket index has a stale entry "actor/ann/////////"`,
			`index: ticket index has a stale entry "requester/bob////////\x02"`,
			`index: ticket index has a stale entry "state/new////////\x03"`,
		}},
		{"assignee entry naming another resource", func(tx *Tx) error {
			return tx.bucket(bucketTicketIndex).Put(tkey(idxAssignee, "tech", 2), []byte("net"))
		}, []string{`index: the assignee entry of #2 names resource "net"; the ticket's is "wifi"`}},
		{"assignee entry without its resource", func(tx *Tx) error {
			return tx.bucket(bucketTicketIndex).Put(tkey(idxAssignee, "tech", 2), nil)
		}, []string{`index: the assignee entry of #2 names resource ""; the ticket's is "wifi"`}},
		{"ticket index entry under the wrong value", func(tx *Tx) error {
			b := tx.bucket(bucketTicketIndex)
			if err := b.Delete(tkey(idxState, "new", 1)); err != nil {
				return err
			}
			return b.Put(tkey(idxState, "closed", 1), nil)
		}, []string{
			`index: ticket index has a stale entry "state/closed////////\x01"`,
			"index: ticket index misses 1 entries",
		}},
		{"os-login missing", func(tx *Tx) error { return tx.bucket(bucketOSLogins).Delete([]byte("t.os")) },
			[]string{"index: os-login index misses 1 entries"}},
		{"os-login stray", func(tx *Tx) error { return tx.bucket(bucketOSLogins).Put([]byte("a.os"), []byte("ann")) },
			[]string{`index: os-login index has a stale entry "a.os"`}},
		{"os-login wrong value", func(tx *Tx) error { return tx.bucket(bucketOSLogins).Put([]byte("t.os"), []byte("bob")) },
			[]string{"index: os-login t.os of user tech is not indexed to it"}},
		{"ticket claims another's number", func(tx *Tx) error {
			v := tx.bucket(bucketTickets).Get(be64(2))
			return tx.bucket(bucketTickets).Put(be64(2), []byte(strings.Replace(string(v), `"number":2`, `"number":1`, 1)))
		}, []string{
			"tickets: ticket stored under 2 says it is #1",
			`index: ticket index has a stale entry "actor/ann////////\x02"`,
			`index: ticket index has a stale entry "actor/tech////////\x02"`,
			`index: ticket index has a stale entry "assignee/tech////////\x02"`,
			`index: ticket index has a stale entry "requester/ann////////\x02"`,
			`index: ticket index has a stale entry "resource/wifi////////\x02"`,
			`index: ticket index has a stale entry "state/closed////////\x02"`,
			`index: ticket index has a stale entry "state+resource/closed/wifi////////\x02"`,
			"index: ticket index misses 2 entries",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := indexedStore(t)
			mustUpdate(t, db, c.plant)
			got := findings(t, db)
			equal(t, "findings", got, c.want)
		})
	}
}

// compareIndexWithASet is how db check compared indexes before it merged
// key streams: a set of every expected key, then a walk of the bucket.
func compareIndexWithASet(b kvBucket, want map[string]bool, name string, add func(string, string, ...any)) {
	seen := 0
	_ = b.ForEach(func(k, _ []byte) error {
		if !want[string(k)] {
			add("index", "%s has a stale entry %q", name, strings.ReplaceAll(string(k), "\x00", "/"))
		} else {
			seen++
		}
		return nil
	})
	if seen != len(want) {
		add("index", "%s misses %d entries", name, len(want)-seen)
	}
}

// The merge reports what a set of expected keys reported, for random
// tickets (some claiming one number, some with a NUL in a value, so that
// keys of two prefixes interleave) against a bucket holding some of their
// keys and some others, in a real file.
func TestTicketIndexMergeAgreesWithASet(t *testing.T) {
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 7))
		names := []string{"ann", "bob", "cy", "-", "a", "a\x00b", "b"}
		if seed%2 == 0 {
			names = names[:4] // no interleaving prefixes: the streamed path
		}
		pick := func() string { return names[r.IntN(len(names))] }
		tk := newTicketKeys()
		want := map[string]bool{}
		for range r.IntN(60) {
			n := r.IntN(40)
			if r.IntN(5) == 0 {
				n = r.IntN(1 << 20) // a wide gap between numbers
			}
			tick := helpdesk.Ticket{Number: n, Requester: pick(), Resource: pick(), Assignee: pick(), State: helpdesk.State(pick())}
			for range r.IntN(4) {
				tick.Log = append(tick.Log, helpdesk.Entry{Actor: pick()})
			}
			tk.add(tick)
			for _, k := range ticketIndexKeys(tick) {
				want[string(k)] = true
			}
		}
		db := openTestStore(t)
		mustUpdate(t, db, func(tx *Tx) error {
			b := tx.bucket(bucketTicketIndex)
			for k := range want {
				if r.IntN(4) == 0 {
					continue
				}
				if err := b.Put([]byte(k), nil); err != nil {
					return err
				}
			}
			for range r.IntN(10) {
				k := ticketIndexKeys(helpdesk.Ticket{Number: r.IntN(50), Requester: pick(), State: "new"})[r.IntN(5)]
				if err := b.Put(k, nil); err != nil {
					return err
				}
			}
			return nil
		})
		var got, old []string
		collect := func(to *[]string) func(string, string, ...any) {
			return func(area, format string, a ...any) { *to = append(*to, area+": "+fmt.Sprintf(format, a...)) }
		}
		mustView(t, db, func(tx *Tx) error {
			compareIndex(tx.bucket(bucketTicketIndex), tk.keys(), "ticket index", collect(&got))
			compareIndexWithASet(tx.bucket(bucketTicketIndex), want, "ticket index", collect(&old))
			return nil
		})
		equal(t, fmt.Sprintf("seed %d: findings", seed), got, old)
	}
}

// A ticket record decodes for db check exactly when it decodes as a
// helpdesk.Ticket, with the same error, and the fields the rules read come
// out the same.
func TestCheckedTicketDecodesAsTicket(t *testing.T) {
	good := helpdesk.Ticket{Number: 7, Subject: "VPN <down> \"again\"", Description: "line\nline\u00e9", Requester: "ann",
		Resource: "net", State: helpdesk.StateNew, Priority: helpdesk.PriorityHigh, Category: "c", Due: "2026-01-02",
		Assignee: "tech", Links: []int{3, 4}, Created: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Log: []helpdesk.Entry{{Seq: 1, Actor: "ann", Action: "create", Text: "x", To: helpdesk.StateNew, Visibility: helpdesk.VisibleEveryone},
			{Seq: 2, Actor: "tech", Action: "note", From: helpdesk.StateNew, Visibility: helpdesk.VisibleTechnicians, System: true}}}
	raw, err := json.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	records := []string{
		string(raw),
		`{}`,
		`{"number":1,"log":null,"subject":null,"created":null}`,
		`{"Number":3,"REQUESTER":"bob","state":"new"}`,
		`{"number":1,"number":2,"requester":"a","requester":"b"}`,
		`{"number":1,"requester":"\u0061nn","unknown":[1,{"x":2}]}`,
		`{"number":1,"log":[{"seq":1,"actor":"ann","from":"new"},{"seq":2}]}`,
		`{"number":"1"}`,
		`{"number":1.5}`,
		`{"number":1e3}`,
		`{"subject":5}`,
		`{"description":true}`,
		`{"category":{}}`,
		`{"due":[]}`,
		`{"requester":7}`,
		`{"links":[1,"2"]}`,
		`{"links":{}}`,
		`{"created":"yesterday"}`,
		`{"updated":5}`,
		`{"created":"2026-13-01T00:00:00Z"}`,
		`{"log":[{"time":"2026-01-01"}]}`,
		`{"log":[{"action":1}]}`,
		`{"log":[{"text":false,"seq":1}]}`,
		`{"log":[{"system":"yes"}]}`,
		`{"log":{}}`,
		`{"log":[1]}`,
		`[]`,
		`"ticket"`,
		`{"number":1`,
		`{"number":1} x`,
		`{"subject":"a` + "\x01" + `"}`,
		``,
	}
	var rec checkedTicket
	for _, in := range records {
		var full helpdesk.Ticket
		wantErr := json.Unmarshal([]byte(in), &full)
		got, err := decodeCheckedTicket([]byte(in), &rec)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("%s: error %v, want %v", in, err, wantErr)
			continue
		}
		if err != nil {
			continue
		}
		want := helpdesk.Ticket{Number: full.Number, Requester: full.Requester, Resource: full.Resource, State: full.State,
			Priority: full.Priority, Assignee: full.Assignee}
		for _, e := range full.Log {
			want.Log = append(want.Log, helpdesk.Entry{Seq: e.Seq, Actor: e.Actor, From: e.From, To: e.To, Visibility: e.Visibility, System: e.System})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %+v, want %+v", in, got, want)
		}
	}
}

// Handing mapped pages back while Check walks the file changes nothing it
// finds.
func TestCheckWhileReleasingMappedPages(t *testing.T) {
	defer func(d time.Duration, b int64) { trimInterval, mappedBudget = d, b }(trimInterval, mappedBudget)
	trimInterval, mappedBudget = time.Microsecond, 0
	db := indexedStore(t)
	mustUpdate(t, db, func(tx *Tx) error {
		for n := 3; n < 3000; n++ {
			err := tx.PutTicket(helpdesk.Ticket{Number: n, Subject: strings.Repeat("s", n%300), Requester: "ann",
				State: helpdesk.StateNew, Priority: helpdesk.PriorityLow})
			if err != nil {
				return err
			}
		}
		return tx.bucket(bucketTicketIndex).Put([]byte("state\x00new\x00"+string(be64(5000))), nil)
	})
	for range 3 {
		equal(t, "findings", findings(t, db), []string{`index: ticket index has a stale entry "state/new///////\x13\x88"`})
	}
}
