package store

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

// A damaged page met inside a transaction is errs.Unusable; a panic in
// deskctl's own code inside the same transaction is a bug and goes on.
func TestViewRecoversDamageButNotBugs(t *testing.T) {
	// Not openTestStore: its cleanup runs bbolt's own check, which would
	// trip over the damage.
	path := filepath.Join(t.TempDir(), "desk.db")
	db, err := Create(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	addUsers(t, db, "alice", "bob")
	db.Close()
	// Make the root bucket's page one of a type bbolt does not know.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := readHeader(f, path, int64(len(raw)))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	binary.NativeEndian.PutUint16(raw[int64(h.metas[h.use].root)*h.pageSize+8:], 0x40)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	db, err = Open(Options{Path: path, ReadOnly: true, Damaged: true})
	if err == nil {
		err = db.View(func(tx *Tx) error { _, err := tx.AllUsers(); return err })
		db.Close()
	}
	if !errs.Is(err, errs.Unusable) || !strings.Contains(err.Error(), "database damaged") {
		t.Fatalf("reading a page of unknown type: %v, want a damaged-database error", err)
	}

	healthy := openTestStore(t)
	defer func() {
		if r := recover(); r != "a bug" {
			t.Fatalf("recovered %v, want the bug's own panic", r)
		}
	}()
	_ = healthy.View(func(*Tx) error { panic("a bug") })
	t.Fatal("a panic in deskctl's code was swallowed")
}
