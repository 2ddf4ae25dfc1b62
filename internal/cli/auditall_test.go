package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/devgen"
)

// auditAll runs `audit log` without --limit, in pages of page records.
func auditAll(t *testing.T, page int, out io.Writer, args ...string) {
	t.Helper()
	defer func(was int) { auditPage = was }(auditPage)
	auditPage = page
	var errOut bytes.Buffer
	if code := run(args, &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: &errOut}); code != ExitOK {
		t.Fatalf("deskctl %s exited %d: %s", strings.Join(args, " "), code, errOut.String())
	}
}

// `audit log` read a page at a time lists what one read lists, and what
// --limit with room for every record lists (the newest-first walk), in
// every format, for each filter, --since included.
func TestAuditLogInPagesListsWhatOneReadLists(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gen.db")
	generate(t, devgen.Options{Seed: 5, Users: 20, Groups: 5, Resources: 4, Tickets: 100, Audit: 200, Batch: 50}, devgen.Outputs{DB: db})
	t.Setenv("DESKCTL_DB", db)
	t.Setenv("XDG_CONFIG_HOME", dir)
	var all bytes.Buffer
	auditAll(t, 1<<30, &all, "--as", "admin", "audit", "log", "-o", "json")
	var recs []app.AuditEntry
	if err := json.Unmarshal(all.Bytes(), &recs); err != nil || len(recs) < 200 {
		t.Fatalf("the whole chain: %d records, %v", len(recs), err)
	}
	mid := recs[len(recs)/2]
	filters := [][]string{nil, {"--actor", mid.Actor}, {"--subject", mid.Subject},
		{"--since", mid.Time.Format(time.RFC3339)}, {"--since", "2000-01-01", "--actor", mid.Actor}}
	for _, filter := range filters {
		for _, format := range []string{"json", "csv", "table", "yaml"} {
			args := append([]string{"--as", "admin", "audit", "log", "-o", format}, filter...)
			var whole, paged, limited bytes.Buffer
			auditAll(t, 1<<30, &whole, args...)
			auditAll(t, 7, &paged, args...)
			auditAll(t, 7, &limited, append(args, "--limit", "100000")...)
			if whole.String() != paged.String() || limited.String() != paged.String() {
				t.Errorf("deskctl %s: pages of 7 gave\n%.1500s\none read gave\n%.1500s\n--limit gave\n%.1500s",
					strings.Join(args, " "), paged.String(), whole.String(), limited.String())
			}
		}
	}
}

// Records appended while `audit log` prints are not listed, and none is
// listed twice.
func TestAuditLogInPagesLetsWritesThrough(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gen.db")
	rep := generate(t, devgen.Options{Seed: 5, Users: 20, Groups: 5, Resources: 4, Tickets: 100, Audit: 200, Batch: 50}, devgen.Outputs{DB: db, OPADir: filepath.Join(dir, "opa")})
	t.Setenv("DESKCTL_DB", db)
	t.Setenv("XDG_CONFIG_HOME", dir)
	var before bytes.Buffer
	auditAll(t, 1<<30, &before, "--as", "admin", "audit", "log", "-o", "json")
	svc := &app.Service{DBPath: db, Actor: rep.Scenario.User, Now: time.Now, LockTimeout: 200 * time.Millisecond}
	w := &writeOnWrite{create: func(n int) error {
		_, err := svc.CreateTicket(app.CreateTicketInput{Subject: fmt.Sprintf("created while auditing %d", n)})
		return err
	}}
	auditAll(t, 7, w, "--as", "admin", "audit", "log", "-o", "json")
	if w.err != nil || w.created < 10 {
		t.Fatalf("%d tickets created while the log was printed, then: %v", w.created, w.err)
	}
	if w.out.String() != before.String() {
		t.Errorf("the log printed while tickets were created differs from the one before:\n%.1500s", w.out.String())
	}
}
