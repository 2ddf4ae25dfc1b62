package cli

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/devgen"
	bolt "go.etcd.io/bbolt"
)

// listFixture generates a database of 300 tickets and makes it the one
// deskctl uses.
func listFixture(t *testing.T) (string, devgen.Report) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gen.db")
	rep := generate(t, devgen.Options{Seed: 3, Users: 40, Groups: 10, Resources: 6, Tickets: 300, Batch: 100}, devgen.Outputs{DB: db, OPADir: filepath.Join(dir, "opa")})
	t.Setenv("DESKCTL_DB", db)
	t.Setenv("XDG_CONFIG_HOME", dir)
	return db, rep
}

// listAll runs `ticket list --all` with pages of page tickets.
func listAll(t *testing.T, page int, out io.Writer, args ...string) {
	t.Helper()
	defer func(was int) { allTicketsPage = was }(allTicketsPage)
	allTicketsPage = page
	var errOut bytes.Buffer
	args = append(args, "--all")
	if code := run(args, &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: &errOut}); code != ExitOK {
		t.Fatalf("deskctl %s exited %d: %s", strings.Join(args, " "), code, errOut.String())
	}
}

// `ticket list --all` read a page at a time lists what one read of
// everything lists, in every format, for users who see all, some or few
// tickets and for each filter; -o json is what the paged list printed
// before it was written as it came.
func TestListAllInPagesListsWhatOneReadLists(t *testing.T) {
	_, rep := listFixture(t)
	most := 0
	for _, user := range []string{rep.Scenario.User, "user00000", "user00007", "user00021"} {
		for _, filter := range [][]string{nil, {"--state", "new"}, {"--requester", "user00007"}, {"--resource", "res000"}} {
			for _, format := range []string{"json", "csv", "table", "yaml"} {
				args := append([]string{"--as", user, "ticket", "list", "-o", format}, filter...)
				var whole, paged bytes.Buffer
				listAll(t, 1<<30, &whole, args...)
				listAll(t, 7, &paged, args...)
				if whole.String() != paged.String() {
					t.Errorf("deskctl %s --all: pages of 7 gave\n%.2000s\none read gave\n%.2000s", strings.Join(args, " "), paged.String(), whole.String())
				}
				if format != "json" {
					continue
				}
				var ts []app.TicketView
				if err := json.Unmarshal(paged.Bytes(), &ts); err != nil {
					t.Fatalf("deskctl %s --all: %v", strings.Join(args, " "), err)
				}
				most = max(most, len(ts))
				var errOut, limited bytes.Buffer
				args = append(args, "--limit", "100000")
				if code := run(args, &IOStreams{Out: &limited, ErrOut: &errOut}); code != ExitOK || limited.String() != paged.String() {
					t.Errorf("deskctl %s: exit %d, and its output differs from --all's: %s", strings.Join(args, " "), code, errOut.String())
				}
			}
		}
	}
	if most < 50 {
		t.Errorf("the longest list had %d tickets: too few for pages of 7 to matter", most)
	}
}

// Between two pages of `ticket list --all` the database is free: a write
// goes through while the list is being printed, and the list shows no
// ticket twice and none created after it began.
func TestListAllLetsWritesThroughBetweenPages(t *testing.T) {
	db, rep := listFixture(t)
	user := rep.Scenario.User
	svc := &app.Service{DBPath: db, Actor: user, Now: time.Now, LockTimeout: 200 * time.Millisecond}
	w := &writeOnWrite{create: func(n int) error {
		_, err := svc.CreateTicket(app.CreateTicketInput{Subject: fmt.Sprintf("created while listing %d", n)})
		return err
	}}
	listAll(t, 7, w, "--as", user, "ticket", "list", "-o", "json")
	if w.err != nil || w.created < 10 {
		t.Fatalf("%d tickets created while the list was printed, then: %v", w.created, w.err)
	}
	var ts []app.TicketView
	if err := json.Unmarshal(w.out.Bytes(), &ts); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, x := range ts {
		if seen[x.Number] || x.Number > 300 {
			t.Errorf("ticket %d listed twice or created after the list began", x.Number)
		}
		seen[x.Number] = true
	}
}

// writeOnWrite keeps what is written to it and, on every write, creates a
// ticket through a service of its own.
type writeOnWrite struct {
	out     bytes.Buffer
	create  func(n int) error
	created int
	err     error
}

func (w *writeOnWrite) Write(b []byte) (int, error) {
	if w.err == nil {
		if w.err = w.create(w.created); w.err == nil {
			w.created++
		}
	}
	return w.out.Write(b)
}

// A ticket record whose number is not its key (damage) stops `ticket list
// --all` with the damage named, where a page would otherwise start over
// from the newest ticket, again and again.
func TestListAllStopsAtARecordOutOfOrder(t *testing.T) {
	db, rep := listFixture(t)
	b, err := bolt.Open(db, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		tickets := tx.Bucket([]byte("tickets"))
		key := binary.BigEndian.AppendUint64(nil, 294)
		var rec map[string]any
		if err := json.Unmarshal(tickets.Get(key), &rec); err != nil {
			return err
		}
		rec["number"] = 0
		raw, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return tickets.Put(key, raw)
	})
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func(was int) { allTicketsPage = was }(allTicketsPage)
	allTicketsPage = 7
	var errOut bytes.Buffer
	out := &cappedWriter{room: 1 << 20}
	args := []string{"--as", rep.Scenario.User, "ticket", "list", "--all", "-o", "csv"}
	code := run(args, &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: &errOut})
	if code != ExitUnusable || !strings.Contains(errOut.String(), "damaged record") {
		t.Errorf("deskctl %s: exit %d, %d bytes left of 1 MB, stderr %s", strings.Join(args, " "), code, out.room, errOut.String())
	}
}

// cappedWriter fails once room bytes are written: a list that would
// never end ends there.
type cappedWriter struct{ room int }

func (w *cappedWriter) Write(b []byte) (int, error) {
	if len(b) > w.room {
		return 0, io.ErrShortWrite
	}
	w.room -= len(b)
	return len(b), nil
}
