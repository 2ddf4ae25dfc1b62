package devgen

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// The benchmarks below run over a real bbolt database of the default shape
// (10 000 users, 1 000 groups nested 8 deep, 200 resources, 40 rights),
// generated once per `go test -bench` run into a temporary directory with
// $DESKCTL_BENCH_TICKETS tickets (default 100 000). $DESKCTL_BENCH_DB instead
// names a database made by `deskctl-devgen` (for example the 1 M-ticket
// file of docs/benchmarks.md); it is used as it is, and the ticket create
// benchmark adds tickets to it. Nothing is generated unless a benchmark runs.
var world struct {
	once sync.Once
	dir  string
	path string
	sc   Scenario
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if world.dir != "" {
		os.RemoveAll(world.dir)
	}
	os.Exit(code)
}

func benchWorld(b *testing.B) (string, Scenario) {
	b.Helper()
	world.once.Do(func() {
		world.path = os.Getenv("DESKCTL_BENCH_DB")
		if world.path == "" {
			o := Defaults()
			o.Tickets = 100_000
			if s := os.Getenv("DESKCTL_BENCH_TICKETS"); s != "" {
				if o.Tickets, world.err = strconv.Atoi(s); world.err != nil {
					return
				}
			}
			if world.dir, world.err = os.MkdirTemp("", "deskctl-bench-"); world.err != nil {
				return
			}
			world.path = filepath.Join(world.dir, "bench.db")
			start := time.Now()
			var sum Summary
			if _, sum, world.err = Generate(world.path, o, nil); world.err != nil {
				return
			}
			fmt.Fprintf(os.Stderr, "generated %d tickets, %d users, %d groups in %s (%d MB)\n",
				sum.Tickets, sum.Users, sum.Groups, time.Since(start).Round(time.Millisecond), sum.FileBytes>>20)
		}
		world.sc, world.err = PickScenario(world.path)
	})
	if world.err != nil {
		b.Fatal(world.err)
	}
	return world.path, world.sc
}

// benchDB opens the benchmark database read-only for the whole benchmark.
func benchDB(b *testing.B) (*store.DB, Scenario) {
	path, sc := benchWorld(b)
	db, err := store.Open(store.Options{Path: path, ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db, sc
}

// engineLoop runs fn b.N times, each in a fresh read transaction with a
// fresh Engine, as one command does; opening the file is left out (see
// BenchmarkOpen and the use-case benchmarks). Besides wall time it reports
// the process's CPU time per operation (cpu-ns/op, garbage collection
// included), which moves less than wall time when other programs share the
// machine's cores.
func engineLoop(b *testing.B, db *store.DB, fn func(tx *store.Tx, e *access.Engine) error) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, cpuOK := processCPU()
	for range b.N {
		err := db.View(func(tx *store.Tx) error { return fn(tx, access.New(tx)) })
		if err != nil {
			b.Fatal(err)
		}
	}
	if cpu1, ok := processCPU(); ok && cpuOK {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

func BenchmarkOpen(b *testing.B) {
	path, _ := benchWorld(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		db, err := store.Open(store.Options{Path: path, ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}

// BenchmarkExplain is `access explain USER --all` for a user with about 50
// effective groups: every right with every path.
func BenchmarkExplain(b *testing.B) {
	db, sc := benchDB(b)
	b.ReportMetric(float64(sc.Groups), "groups")
	engineLoop(b, db, func(tx *store.Tx, e *access.Engine) error {
		_, err := e.Explain(sc.User, access.ExplainOptions{All: true})
		return err
	})
}

// BenchmarkExplainTicket adds the role on a ticket and every action's availability.
func BenchmarkExplainTicket(b *testing.B) {
	db, sc := benchDB(b)
	engineLoop(b, db, func(tx *store.Tx, e *access.Engine) error {
		t, _, err := tx.Ticket(sc.Ticket)
		if err != nil {
			return err
		}
		_, err = e.Explain(sc.User, access.ExplainOptions{Ticket: &t, All: true})
		return err
	})
}

// BenchmarkCan is `access can USER close --ticket N`: load the ticket, decide.
func BenchmarkCan(b *testing.B) {
	db, sc := benchDB(b)
	engineLoop(b, db, func(tx *store.Tx, e *access.Engine) error {
		t, _, err := tx.Ticket(sc.Ticket)
		if err != nil {
			return err
		}
		c, err := e.Can(sc.User, sc.Action, &t)
		if err == nil && c.Available != sc.Available {
			err = fmt.Errorf("can changed its answer")
		}
		return err
	})
}

// BenchmarkHolds is `access can USER close` without a ticket.
func BenchmarkHolds(b *testing.B) {
	db, sc := benchDB(b)
	engineLoop(b, db, func(tx *store.Tx, e *access.Engine) error {
		_, err := e.Can(sc.User, sc.Action, nil)
		return err
	})
}

// BenchmarkWhoCan is `access who-can close`: every holder with paths.
func BenchmarkWhoCan(b *testing.B) {
	db, _ := benchDB(b)
	engineLoop(b, db, func(tx *store.Tx, e *access.Engine) error {
		_, err := e.WhoCan(helpdesk.ActClose, nil)
		return err
	})
}

// BenchmarkWhoCanTicket is `access who-can close --ticket N`.
func BenchmarkWhoCanTicket(b *testing.B) {
	db, sc := benchDB(b)
	engineLoop(b, db, func(tx *store.Tx, e *access.Engine) error {
		t, _, err := tx.Ticket(sc.Ticket)
		if err != nil {
			return err
		}
		_, err = e.WhoCan(helpdesk.ActClose, &t)
		return err
	})
}

// BenchmarkMatrix is `access matrix`: every user × every right.
func BenchmarkMatrix(b *testing.B) {
	db, _ := benchDB(b)
	engineLoop(b, db, func(tx *store.Tx, e *access.Engine) error {
		m, err := e.Matrix(nil, nil)
		if err == nil && len(m.Cells)*len(m.Rights) == 0 {
			err = fmt.Errorf("empty matrix")
		}
		return err
	})
}

// The use-case benchmarks run what a command runs below the CLI: open the
// file, one transaction, the engine, close. Only process start and output
// formatting are missing.
func benchService(b *testing.B, actor string) *app.Service {
	path, _ := benchWorld(b)
	b.ReportAllocs()
	b.ResetTimer()
	return &app.Service{DBPath: path, Actor: actor, Now: time.Now}
}

func BenchmarkUseCaseCan(b *testing.B) {
	_, sc := benchWorld(b)
	svc := benchService(b, sc.User)
	for range b.N {
		if _, err := svc.Can(sc.User, sc.Action, sc.Ticket); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUseCaseExplain(b *testing.B) {
	_, sc := benchWorld(b)
	svc := benchService(b, sc.User)
	for range b.N {
		if _, err := svc.Explain(app.ExplainInput{Who: sc.User}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUseCaseListFiltered is `ticket list --state new --resource R`:
// the first page (50) of the tickets the user may see in R and the resources
// below it, newest first.
func BenchmarkUseCaseListFiltered(b *testing.B) {
	_, sc := benchWorld(b)
	svc := benchService(b, sc.User)
	for range b.N {
		l, err := svc.ListTickets(app.TicketQuery{State: string(helpdesk.StateNew), Resource: sc.Resource})
		if err != nil {
			b.Fatal(err)
		}
		if len(l) == 0 {
			b.Fatal("empty list")
		}
	}
}

// BenchmarkUseCaseListWorst is `ticket list` (first page) for each user
// PickListUsers finds hardest (fewest visible tickets without
// read-all-tickets, most groups, member of the resource with most tickets),
// with no filter and with each filter of the whole-process timings.
func BenchmarkUseCaseListWorst(b *testing.B) {
	path, _ := benchWorld(b)
	users, f, err := PickListUsers(path)
	if err != nil {
		b.Fatal(err)
	}
	queries := []struct {
		name string
		q    app.TicketQuery
	}{
		{"all", app.TicketQuery{}},
		{"state", app.TicketQuery{State: string(helpdesk.StateNew)}},
		{"resource", app.TicketQuery{Resource: f.Resource}},
		{"resource-own", app.TicketQuery{Resource: f.Resource, NoChildren: true}},
		{"assignee", app.TicketQuery{Assignee: f.Assignee}},
		{"requester", app.TicketQuery{Requester: f.Requester}},
	}
	for _, u := range users {
		for _, q := range queries {
			b.Run(u.Kind+"/"+q.name, func(b *testing.B) {
				svc := benchService(b, u.Login)
				for range b.N {
					if _, err := svc.ListTickets(q.q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkUseCaseCompleteTickets is `ticket show <TAB>` for the same users:
// the newest visible ticket numbers, with nothing typed and with one and
// two digits typed.
func BenchmarkUseCaseCompleteTickets(b *testing.B) {
	path, _ := benchWorld(b)
	users, _, err := PickListUsers(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, u := range users {
		for _, prefix := range []string{"", "5", "97"} {
			b.Run(u.Kind+"/prefix="+prefix, func(b *testing.B) {
				svc := benchService(b, u.Login)
				for range b.N {
					if got := svc.Complete(app.CompleteTickets, prefix); len(got) == 0 {
						b.Fatalf("%s sees no ticket starting with %q", u.Login, prefix)
					}
				}
			})
		}
	}
}

func BenchmarkUseCaseShow(b *testing.B) {
	_, sc := benchWorld(b)
	svc := benchService(b, sc.User)
	for range b.N {
		if _, err := svc.ShowTicket(sc.Ticket); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUseCaseCreate is `ticket create`: one write transaction with its
// audit record, synced to disk.
func BenchmarkUseCaseCreate(b *testing.B) {
	_, sc := benchWorld(b)
	svc := benchService(b, sc.User)
	for range b.N {
		if _, err := svc.CreateTicket(app.CreateTicketInput{Subject: "Benchmark ticket"}); err != nil {
			b.Fatal(err)
		}
	}
}
