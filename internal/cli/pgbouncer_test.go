package cli

// deskctl through PgBouncer in transaction pooling mode, the usual way to
// give many short-lived clients one PostgreSQL server: each transaction may
// run on another server connection, so deskctl must keep nothing on a
// connection between transactions (its writer lock and lock timeout are
// transaction-scoped, its statements unnamed).

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/deskctl/deskctl/internal/pgtest"
	"github.com/rogpeppe/go-internal/testscript"
)

// Writers in separate processes share three server connections: every
// create lands once, numbers are 1..N without a gap, the audit chain holds
// one record per create and verifies, and db check finds nothing.
func TestPostgresThroughPgBouncer(t *testing.T) {
	const writers, perWriter = 8, 6
	c := pgtest.Server(t)
	b := pgtest.StartBouncer(t, c)
	name := bouncedName("writers")
	c.CreateDatabase(t, name)
	db := b.URL(name)
	mustDeskctlProcess(t, db, "init", "--admin", "alice", "--email", "alice@example.com")
	mustDeskctlProcess(t, db, "--as", "alice", "user", "add", "bob", "--email", "bob@example.com")

	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []deskProc
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				args := []string{"--as", "bob", "ticket", "create", "--subject", fmt.Sprintf("w%d-%d", w, i)}
				if i%2 == 1 {
					args = []string{"--as", "bob", "ticket", "list", "--all", "-o", "json"}
				}
				if p := runDeskctlProcess(t, db, args...); p.code != ExitOK {
					mu.Lock()
					failed = append(failed, p)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for _, p := range failed {
		t.Error(p)
	}
	creates := writers * ((perWriter + 1) / 2)

	var tickets []struct {
		Number  int    `json:"number"`
		Subject string `json:"subject"`
	}
	if err := json.Unmarshal([]byte(mustDeskctlProcess(t, db, "--as", "bob", "ticket", "list", "--all", "-o", "json")), &tickets); err != nil {
		t.Fatal(err)
	}
	var numbers []int
	subjects := map[string]bool{}
	for _, tk := range tickets {
		numbers = append(numbers, tk.Number)
		subjects[tk.Subject] = true
	}
	sort.Ints(numbers)
	if len(numbers) != creates || len(subjects) != creates {
		t.Fatalf("%d tickets with %d subjects after %d creates", len(numbers), len(subjects), creates)
	}
	for i, n := range numbers {
		if n != i+1 {
			t.Fatalf("ticket numbers are not 1..%d: %v", creates, numbers)
		}
	}
	var audit []json.RawMessage
	if err := json.Unmarshal([]byte(mustDeskctlProcess(t, db, "--as", "alice", "audit", "log", "-o", "json")), &audit); err != nil {
		t.Fatal(err)
	}
	// init, user add and one record per create.
	if want := 2 + creates; len(audit) != want {
		t.Errorf("audit log: %d records, want %d", len(audit), want)
	}
	if p := runDeskctlProcess(t, db, "--as", "alice", "audit", "verify"); p.code != ExitOK {
		t.Error(p)
	}
	if p := runDeskctlProcess(t, db, "db", "check"); p.code != ExitOK {
		t.Error(p)
	}
}

// bouncedScripts are end-to-end scripts run again through the bouncer: the
// approval flow, a bulk policy apply (COPY inside a savepoint), grants and
// the audit chain.
var bouncedScripts = []string{"approvals", "policy_apply", "access", "audit", "tickets"}

func TestScriptsThroughPgBouncer(t *testing.T) {
	c := pgtest.Server(t)
	b := pgtest.StartBouncer(t, c)
	urls := make(chan string, len(bouncedScripts))
	for i := range bouncedScripts {
		db := bouncedName(fmt.Sprintf("script_%d", i))
		c.CreateDatabase(t, db)
		urls <- b.URL(db)
	}
	testscript.Run(t, pgScriptParams(bouncedScripts, func() (string, func(), error) { return <-urls, nil, nil }))
}

// bouncedName is a database name of this test process's own, so runs
// sharing one server (DESKCTL_TEST_POSTGRES) never meet.
func bouncedName(what string) string {
	return fmt.Sprintf("deskctl_bounced_%d_%s", os.Getpid(), what)
}
