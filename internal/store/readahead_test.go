package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Cursors and Gets answer the same after keys and prefixes were read ahead
// as a walk of the sorted keys does, whichever of them were read ahead, in
// both directions and off either end; so does a seek to the last key below
// a key. On bbolt nothing is read ahead and the same answers are checked.
func TestCursorsAgreeAfterReadingAhead(t *testing.T) {
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 11))
		parts := []string{"", "a", "ab", "b", "b\x00", "\xff", "c"}
		word := func() string { return parts[r.IntN(len(parts))] + parts[r.IntN(len(parts))] }
		stored := map[string]bool{}
		for range 5 + r.IntN(60) {
			stored[string(pair(word(), word()))] = true
		}
		var sorted [][]byte
		for k := range stored {
			sorted = append(sorted, []byte(k))
		}
		slices.SortFunc(sorted, bytes.Compare)
		db := openTestStore(t)
		mustUpdate(t, db, func(tx *Tx) error {
			b := tx.bucket(bucketGrants)
			for _, k := range sorted {
				if err := b.Put(k, append([]byte("v"), k...)); err != nil {
					return err
				}
			}
			return nil
		})
		// first returns the index of the first stored key at or after k.
		first := func(k []byte) int {
			return sort.Search(len(sorted), func(i int) bool { return bytes.Compare(sorted[i], k) >= 0 })
		}
		at := func(i int) string {
			if i < 0 || i >= len(sorted) {
				return "<nil>"
			}
			return string(sorted[i])
		}
		got := func(k, v []byte) string {
			if k == nil {
				return "<nil>"
			}
			if !bytes.Equal(v, append([]byte("v"), k...)) {
				return fmt.Sprintf("%q with value %q", k, v)
			}
			return string(k)
		}
		mustView(t, db, func(tx *Tx) error {
			if p, ok := tx.kv.(kvPrefetcher); ok {
				var keys, prefixes [][]byte
				for range r.IntN(8) {
					keys = append(keys, pair(word(), word()))
					prefixes = append(prefixes, pair(word(), ""))
				}
				p.prefetch([]kvPrefetch{{bucket: bucketGrants, keys: keys, prefixes: prefixes}})
			}
			b := tx.bucket(bucketGrants)
			for step := range 40 {
				key := pair(word(), "")
				if step%3 == 0 {
					key = pair(word(), word())
				}
				what := fmt.Sprintf("seed %d, step %d, key %q", seed, step, key)
				i := first(key)
				if v := b.Get(key); (v != nil) != stored[string(key)] {
					t.Errorf("%s: Get = %q", what, v)
				}
				c := b.Cursor()
				walk := []string{got(c.Seek(key))}
				want := []string{at(i)}
				forward := r.IntN(2) == 0
				for j := 1; j <= r.IntN(6); j++ {
					if forward {
						walk, want = append(walk, got(c.Next())), append(want, at(i+j))
					} else {
						walk, want = append(walk, got(c.Prev())), append(want, at(i-j))
					}
					if want[len(want)-1] == "<nil>" {
						break
					}
				}
				equal(t, what+": seek and walk", walk, want)
				c = b.Cursor()
				walk, want = nil, nil
				k, v := seekBelowOf(c, key)
				for j := 1; j <= 4; j++ {
					walk, want = append(walk, got(k, v)), append(want, at(i-j))
					if k == nil {
						break
					}
					k, v = c.Prev()
				}
				equal(t, what+": seek below and walk down", walk, want)
			}
			return nil
		})
	}
}

// seekBelowOf lands on the last key below key, as seekAtMost does.
func seekBelowOf(c kvCursor, key []byte) ([]byte, []byte) {
	if b, ok := c.(belowSeeker); ok {
		return b.seekBelow(key)
	}
	if k, _ := c.Seek(key); k == nil {
		return c.Last()
	}
	return c.Prev()
}

// The groups of a subject and their grants come out the same when the
// hierarchy above it was read ahead (a diamond, a cycle, groups without
// parents or grants), in a snapshot and in a write transaction.
func TestGroupsOfAfterReadingAhead(t *testing.T) {
	db := openTestStore(t)
	u := helpdesk.UserSubject("ann")
	g := helpdesk.GroupSubject
	parents := map[string][]helpdesk.Subject{ // group → members
		"a": {u}, "b": {u, g("a")}, "c": {g("a"), g("b")}, "d": {g("c"), g("e")}, "e": {g("d")}, "lone": nil,
	}
	grants := map[string][]string{"a": {"ticket.read"}, "c": {"ticket.close", "ticket.read"}, "e": {"user.manage"}}
	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.PutUser(helpdesk.User{Login: "ann", Name: "Ann", Email: "ann@example.com", Active: true}); err != nil {
			return err
		}
		for _, name := range []string{"a", "b", "c", "d", "e", "lone"} {
			if err := tx.PutGroup(helpdesk.Group{Name: name, Members: parents[name]}); err != nil {
				return err
			}
			if err := tx.Grant(g(name), grants[name]...); err != nil {
				return err
			}
		}
		return nil
	})
	want := map[string][]string{"user:ann": {"a", "b"}, "group:a": {"b", "c"}, "group:b": {"c"}, "group:c": {"d"},
		"group:d": {"e"}, "group:e": {"d"}, "group:lone": nil, "group:everyone": nil}
	check := func(kind string) func(tx *Tx) error {
		return func(tx *Tx) error {
			for _, s := range []helpdesk.Subject{u, g("a"), g("b"), g("c"), g("d"), g("e"), g("lone"), g(helpdesk.Everyone)} {
				got, err := tx.GroupsOf(s)
				if err != nil {
					return err
				}
				equal(t, kind+": groups of "+s.String(), got, want[s.String()])
				rights, err := tx.Grants(s)
				if err != nil {
					return err
				}
				wantRights := grants[s.Name]
				if s.Kind != helpdesk.KindGroup {
					wantRights = nil
				}
				equal(t, kind+": grants of "+s.String(), rights, wantRights)
			}
			return nil
		}
	}
	mustView(t, db, check("snapshot"))
	mustUpdate(t, db, check("write transaction"))
}
