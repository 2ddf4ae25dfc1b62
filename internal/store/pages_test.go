package store

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	ps, err = db.damagedPages()
	if err != nil || len(ps) == 0 || !strings.Contains(strings.Join(ps, "\n"), "cannot be read: EOF") {
		t.Errorf("damagedPages() = %q, %v on a file cut in half, want a page that cannot be read", ps, err)
	}
}
