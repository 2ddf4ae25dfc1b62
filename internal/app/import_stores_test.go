package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/pgtest"
	"github.com/deskctl/deskctl/internal/store"
	bolt "go.etcd.io/bbolt"
)

// An import that stops part way leaves the same database in PostgreSQL as
// in a file: a bad line found by the check leaves nothing; a record that
// fails inside a batch (here the file changed between the check and the
// writing) leaves the batches before it, each with its audit record, and
// nothing of its own batch, although that batch had already sent writes to
// PostgreSQL; running the import again skips the ids imported and adds the
// rest. Every key, value and sequence is compared between the two.
func TestImportStoppedMidwayLeavesTheSameOnBothStores(t *testing.T) {
	url := pgtest.NewDatabase(t)
	dir := t.TempDir()
	now := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	// Batches of 2 500 tickets write about 22 500 keys each, more than
	// PostgreSQL holds before sending, and enough new keys to go by COPY.
	const total, batch, failing = 7500, 2500, 7400
	const setup = 4 // audit records of init, two users and a resource
	file := filepath.Join(dir, "tickets.jsonl")
	writeImport := func(t *testing.T, bad int, badLine string) {
		t.Helper()
		var b strings.Builder
		for i := 1; i <= total; i++ {
			if i == bad {
				b.WriteString(badLine + "\n")
				continue
			}
			switch i % 3 {
			case 0:
				fmt.Fprintf(&b, `{"id":"src-%d","subject":"Printer %d jams","requester":"bob"}`+"\n", i, i)
			case 1:
				fmt.Fprintf(&b, `{"id":"src-%d","subject":"VPN %d drops","requester":"bob","resource":"network","assignee":"carol","state":"in-progress"}`+"\n", i, i)
			default:
				fmt.Fprintf(&b, `{"id":"src-%d","subject":"Disk %d full","requester":"carol","resource":"network","priority":"high"}`+"\n", i, i)
			}
		}
		if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var services []*Service
	for _, db := range []string{filepath.Join(dir, "desk.db"), url} {
		s := &Service{DBPath: db, LockTimeout: 5 * time.Second, Actor: "alice", Now: func() time.Time { return now }}
		if _, err := s.Init(InitInput{Admin: "alice", Email: "alice@example.com", Name: "Alice"}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"bob", "carol"} {
			if _, err := s.AddUser(UserInput{Login: u, Email: u + "@example.com"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AddResource("network", "", ""); err != nil {
			t.Fatal(err)
		}
		services = append(services, s)
	}
	type outcome struct {
		res  ImportResult
		kind errs.Kind
		msg  string
		// tickets and audits are how many tickets and audit records the
		// database holds afterwards.
		tickets, audits int
	}
	// step runs one import on both stores and checks that they agree.
	step := func(name string, want outcome, prepare func(t *testing.T), progress func(t *testing.T, status string)) {
		t.Run(name, func(t *testing.T) {
			var dumps [][]string
			for _, s := range services {
				prepare(t)
				res, err := s.ImportTickets(LocalFile(file), "jsonl", batch, func(status string) {
					if progress != nil {
						progress(t, status)
					}
				})
				dump := contents(t, s.DBPath)
				got := outcome{res: res}
				if err != nil {
					got.kind, got.msg = errs.KindOf(err), err.Error()
				}
				for _, e := range dump {
					switch {
					case strings.HasPrefix(e, "tickets \""):
						got.tickets++
					case strings.HasPrefix(e, "audit \""):
						got.audits++
					}
				}
				if got != want {
					t.Errorf("%s: import = %+v, want %+v", store.RedactURL(s.DBPath), got, want)
				}
				dumps = append(dumps, dump)
			}
			sameContents(t, dumps[0], dumps[1])
		})
	}

	step("bad line found by the check", outcome{
		res:  ImportResult{Records: failing - 1},
		kind: errs.Usage, msg: fmt.Sprintf("line %d: invalid character 'o' in literal null (expecting 'u')", failing),
		audits: setup,
	}, func(t *testing.T) { writeImport(t, failing, `{"id":"src-x","subject":"s","requester":nope}`) }, nil)

	step("record failing in the third batch", outcome{
		res:  ImportResult{Records: total, Imported: 2 * batch, Batches: 3, First: 1, Last: 2 * batch},
		kind: errs.NotFound, msg: `no such user 'nobody' (requester)`,
		tickets: 2 * batch, audits: setup + 2,
	}, func(t *testing.T) { writeImport(t, 0, "") }, func(t *testing.T, status string) {
		// After the check and before the writing, the file changes.
		if strings.HasSuffix(status, "for repeated ids") {
			writeImport(t, failing, fmt.Sprintf(`{"id":"src-%d","subject":"s","requester":"nobody"}`, failing))
		}
	})

	step("import again", outcome{
		res:     ImportResult{Records: total, Imported: total - 2*batch, Skipped: 2 * batch, Batches: 3, First: 2*batch + 1, Last: total},
		tickets: total, audits: setup + 3,
	}, func(t *testing.T) { writeImport(t, 0, "") }, nil)
}

// contents lists every bucket's sequence and every key and value of the
// database at db, a file or a PostgreSQL URL (copied into a file to read).
func contents(t *testing.T, db string) []string {
	t.Helper()
	path := db
	if store.IsURL(db) {
		path = filepath.Join(t.TempDir(), "copy.db")
		if _, err := store.Copy(db, path, 5*time.Second, nil); err != nil {
			t.Fatal(err)
		}
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var out []string
	err = bdb.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			out = append(out, fmt.Sprintf("%s sequence %d", name, b.Sequence()))
			return b.ForEach(func(k, v []byte) error {
				out = append(out, fmt.Sprintf("%s %q %q", name, k, v))
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameContents(t *testing.T, file, pg []string) {
	t.Helper()
	for i := 0; i < len(file) || i < len(pg); i++ {
		var f, p string
		if i < len(file) {
			f = file[i]
		}
		if i < len(pg) {
			p = pg[i]
		}
		if f != p {
			t.Fatalf("the stores differ at entry %d of %d/%d:\nfile:       %.300s\nPostgreSQL: %.300s", i, len(file), len(pg), f, p)
		}
	}
}
