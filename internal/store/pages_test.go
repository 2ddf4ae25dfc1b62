package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The page walk reads pages of every size (values that run over several
// pages, beside small ones, at several depths) without a finding, and a
// file cut short is a finding, not a panic.
func TestPageWalkReadsOverflowPagesAndNoticesACutFile(t *testing.T) {
	if onPostgres {
		t.Skip("the page walk reads bbolt files")
	}
	path := filepath.Join(t.TempDir(), "desk.db")
	db, err := Create(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, db, func(tx *Tx) error {
		b := tx.bucket(bucketOutbox)
		for i := range 400 {
			v := bytes.Repeat([]byte{byte(i)}, 50+(i%7)*3000) // up to 18 KB: up to four overflow pages
			if err := b.Put(be64(uint64(i)), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(Options{Path: path, ReadOnly: true, LockTimeout: time.Second, Damaged: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ps, err := db.damagedPages()
	if err != nil || len(ps) != 0 {
		t.Fatalf("damagedPages() = %q, %v on a sound file", ps, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()/2+100); err != nil {
		t.Fatal(err)
	}
	// The meta pages read again at the walk name the missing size; a walk
	// over a header read before the cut meets pages it cannot read.
	ps, err = db.damagedPages()
	if err != nil || len(ps) == 0 || !strings.Contains(strings.Join(ps, "\n"), "bytes but its header needs") {
		t.Errorf("damagedPages() = %q, %v on a file cut in half, want the size it needs", ps, err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := db.header.metas[db.header.use]
	w := &pageWalker{f: f, pageSize: uint64(db.header.pageSize), hwm: m.pgid, seen: newPageSet(m.pgid), free: newPageSet(m.pgid)}
	w.tree(m.root, 0, nil, nil)
	if !strings.Contains(strings.Join(w.problems, "\n"), "cannot be read: EOF") {
		t.Errorf("the walk over a file cut in half found %q, want a page that cannot be read", w.problems)
	}
}

// The page walk finds what bbolt's own Tx.Check finds, which db check no
// longer runs: the same file damaged in hundreds of ways (a bit of a key,
// a freelist entry moved, swapped or listed twice, the freelist cut by
// one, a branch pointing elsewhere), checked by both. Where bbolt finds
// something the walk must too; where the damage cannot make bbolt's walk
// unsafe (keys and the freelist), the walk must find nothing more than
// bbolt either, but for a page listed free twice, which bbolt misses at
// times.
func TestPageWalkFindsWhatBboltsCheckFinds(t *testing.T) {
	if onPostgres {
		t.Skip("the page walk reads bbolt files")
	}
	dir := t.TempDir()
	healthy := buildPageTrees(t, filepath.Join(dir, "healthy.db"))
	m := rawMeta(healthy)
	if got, want := walkPages(t, dir, healthy), boltCheck(t, dir, healthy); len(got) > 0 || len(want) > 0 {
		t.Fatalf("a sound file: walk %q, bbolt %q", got, want)
	}
	pages := rawPages(healthy, m)
	if len(pages.keys) == 0 || len(pages.children) == 0 || len(pages.free) == 0 {
		t.Fatalf("the file has %d keys, %d branch elements, %d free pages: too simple to damage", len(pages.keys), len(pages.children), len(pages.free))
	}
	r := rand.New(rand.NewPCG(3, 4))
	le := binary.NativeEndian
	overflowed := 0
	classes := []struct {
		name   string
		runs   int
		least  int  // variants either check must find damage in
		strict bool // bbolt's walk stays safe, so both must agree exactly
		damage func(raw []byte) string
	}{
		{"key bit", 150, 15, true, func(raw []byte) string {
			k := pages.keys[r.IntN(len(pages.keys))]
			at := k.at + uint64(r.IntN(int(k.size)))
			raw[at] ^= 1 << r.IntN(8)
			return fmt.Sprintf("bit of byte %d (key on page %d)", at, k.page)
		}},
		{"freelist entry", 60, 6, true, func(raw []byte) string {
			i, id := r.IntN(len(pages.free)), 2+r.Uint64N(m.hwm-2)
			ids := freeIDs(raw)
			ids[i] = id
			slices.Sort(ids)
			putFreeIDs(raw, ids)
			return fmt.Sprintf("freelist entry %d := %d, sorted", i, id)
		}},
		// bbolt sorts the list it reads: nothing to find.
		{"freelist swap", 20, 0, true, func(raw []byte) string {
			ids := freeIDs(raw)
			i := r.IntN(len(ids) - 1)
			ids[i], ids[i+1] = ids[i+1], ids[i]
			putFreeIDs(raw, ids)
			return fmt.Sprintf("freelist entries %d and %d swapped", i, i+1)
		}},
		// bbolt's own check notices a page listed twice only sometimes
		// (its freelist merges runs of pages); the walk always does.
		{"freelist twice", 20, 20, false, func(raw []byte) string {
			ids := freeIDs(raw)
			i := r.IntN(len(ids))
			putFreeIDs(raw, slices.Insert(ids, i, ids[i]))
			return fmt.Sprintf("freelist entry %d listed twice", i)
		}},
		{"freelist one short", 1, 1, true, func(raw []byte) string {
			le.PutUint16(raw[m.freelist*m.pageSize+10:], uint16(len(pages.free)-1))
			return "freelist count - 1"
		}},
		// A page that claims overflow pages it does not have overlaps
		// the next ones; bbolt's check notices only when one of them is
		// reached too.
		// Every page in turn: an overlap with a page reached before it is
		// rare.
		{"overflow count", len(pages.headers), len(pages.headers) / 10, false, func(raw []byte) string {
			at := pages.headers[overflowed%len(pages.headers)]
			overflowed++
			le.PutUint32(raw[at+12:], 1)
			return fmt.Sprintf("page at %d claims an overflow page", at)
		}},
		{"branch child", 100, 10, false, func(raw []byte) string {
			at := pages.children[r.IntN(len(pages.children))]
			id := 2 + r.Uint64N(m.hwm-2)
			le.PutUint64(raw[at:], id)
			return fmt.Sprintf("branch child at %d := page %d", at, id)
		}},
	}
	for _, c := range classes {
		found := 0
		if testing.Short() {
			c.runs, c.least = (c.runs+2)/3, (c.least+2)/3
		}
		for range c.runs {
			raw := bytes.Clone(healthy)
			what := c.damage(raw)
			got := walkPages(t, dir, raw)
			if len(got) > 0 && !c.strict {
				found++
				continue // bbolt might fault on what the walk refused
			}
			want := boltCheck(t, dir, raw)
			if len(want) > 0 {
				found++
			}
			if len(want) > 0 && len(got) == 0 || c.strict && len(got) > 0 && len(want) == 0 {
				t.Errorf("%s: %s: walk found %q, bbolt %q", c.name, what, got, want)
			}
		}
		// Damage that nothing notices proves nothing.
		if found < c.least {
			t.Errorf("%s: only %d of %d variants were damage either check found, want %d", c.name, found, c.runs, c.least)
		}
	}
}

// freeIDs and putFreeIDs read and write the freelist of a small file (a
// count in the page header, room on its one page).
func freeIDs(raw []byte) []uint64 {
	m, le := rawMeta(raw), binary.NativeEndian
	p := raw[m.freelist*m.pageSize:]
	ids := make([]uint64, le.Uint16(p[10:]))
	for i := range ids {
		ids[i] = le.Uint64(p[pageHeaderSize+i*8:])
	}
	return ids
}

func putFreeIDs(raw []byte, ids []uint64) {
	m, le := rawMeta(raw), binary.NativeEndian
	p := raw[m.freelist*m.pageSize : (m.freelist+1)*m.pageSize]
	le.PutUint16(p[10:], uint16(len(ids)))
	for i, id := range ids {
		le.PutUint64(p[pageHeaderSize+i*8:], id)
	}
}

type rawLayout struct{ pageSize, root, freelist, hwm uint64 }

func rawMeta(raw []byte) rawLayout {
	le := binary.NativeEndian
	var best, bestTxid uint64
	for i := range uint64(2) {
		ps := uint64(le.Uint32(raw[pageHeaderSize+8:]))
		if txid := le.Uint64(raw[i*ps+pageHeaderSize+48:]); i == 0 || txid > bestTxid {
			best, bestTxid = i, txid
		}
	}
	ps := uint64(le.Uint32(raw[pageHeaderSize+8:]))
	meta := raw[best*ps+pageHeaderSize:]
	return rawLayout{ps, le.Uint64(meta[16:]), le.Uint64(meta[32:]), le.Uint64(meta[40:])}
}

// pageSpots are places in a file worth damaging: the keys of page
// elements, branch elements' child ids and freelist entries (file offsets).
type pageSpots struct {
	headers  []uint64 // where each branch and leaf page starts
	keys     []struct{ page, at, size uint64 }
	children []uint64
	free     []uint64
}

// rawPages finds the branch and leaf pages by their headers (a free page
// may be among them: damage there changes nothing, for either check).
func rawPages(raw []byte, m rawLayout) pageSpots {
	le := binary.NativeEndian
	var s pageSpots
	for id := uint64(2); id < m.hwm; id++ {
		p := raw[id*m.pageSize : (id+1)*m.pageSize]
		flags, count := le.Uint16(p[8:]), uint64(le.Uint16(p[10:]))
		if le.Uint64(p) != id || (flags != branchPage && flags != leafPage) || pageHeaderSize+count*elementSize > m.pageSize {
			continue
		}
		s.headers = append(s.headers, id*m.pageSize)
		for i := range count {
			at := pageHeaderSize + i*elementSize
			pos, ksize := uint64(le.Uint32(p[at:])), uint64(le.Uint32(p[at+4:]))
			if flags == leafPage {
				pos, ksize = uint64(le.Uint32(p[at+4:])), uint64(le.Uint32(p[at+8:]))
			} else {
				s.children = append(s.children, id*m.pageSize+at+8)
			}
			if ksize > 0 && at+pos+ksize <= m.pageSize {
				s.keys = append(s.keys, struct{ page, at, size uint64 }{id, id*m.pageSize + at + pos, ksize})
			}
		}
	}
	fl := m.freelist * m.pageSize
	for i := range uint64(le.Uint16(raw[fl+10:])) {
		s.free = append(s.free, fl+pageHeaderSize+i*8)
	}
	return s
}

// buildPageTrees writes a bbolt file with trees several pages deep,
// values over several pages, nested buckets large and inline, and free
// pages, and returns its bytes.
func buildPageTrees(t *testing.T, path string) []byte {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	key := func(i int) []byte { return fmt.Appendf(nil, "key-%05d", i*7919%10007) }
	// fill creates bucket name in parent (a transaction or a bucket) with
	// n keys and their values.
	fill := func(parent interface {
		CreateBucket([]byte) (*bolt.Bucket, error)
	}, name string, n int, value func(int) []byte) (*bolt.Bucket, error) {
		b, err := parent.CreateBucket([]byte(name))
		for i := 0; i < n && err == nil; i++ {
			err = b.Put(key(i), value(i))
		}
		return b, err
	}
	err = b.Update(func(tx *bolt.Tx) error {
		a, err := fill(tx, "a", 3000, func(i int) []byte {
			return bytes.Repeat([]byte{byte(i)}, 20+(i%50)*7+(i%97/96)*9000)
		})
		if err == nil {
			_, err = fill(a, "nested", 2000, func(int) []byte { return []byte("v") })
		}
		if err == nil {
			_, err = fill(a, "small", 3, func(int) []byte { return []byte("inline") })
		}
		for _, name := range []string{"b", "c", "d"} {
			if err == nil {
				_, err = fill(tx, name, 1, func(int) []byte { return []byte(name) })
			}
		}
		return err
	})
	if err == nil {
		err = b.Update(func(tx *bolt.Tx) error {
			a := tx.Bucket([]byte("a"))
			for i := 0; i < 3000; i += 2 {
				if err := a.Delete(key(i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err == nil {
		err = b.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// walkPages runs the page walk over raw, written to a file.
func walkPages(t *testing.T, dir string, raw []byte) []string {
	t.Helper()
	path := writeRaw(t, dir, "walk.db", raw)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := readHeader(f, path, int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := (&DB{path: path, header: h}).damagedPages()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// boltCheck runs bbolt's own check over raw, written to a file.
func boltCheck(t *testing.T, dir string, raw []byte) []string {
	t.Helper()
	path := writeRaw(t, dir, "bolt.db", raw)
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var found []string
	_ = b.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			found = append(found, err.Error())
		}
		return nil
	})
	return found
}

func writeRaw(t *testing.T, dir, name string, raw []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
