package devgen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/policy"
	"github.com/deskctl/deskctl/internal/store"
)

// small is a world big enough to have every shape (deep nesting,
// sub-resources without members, disabled users) and quick to write.
func small() Options {
	return Options{Seed: 7, Users: 300, Groups: 60, Resources: 30, Tickets: 3000, Batch: 700}
}

func TestModelShape(t *testing.T) {
	m := Model(small())
	rights, _ := m.Rights()
	if len(rights) != 40 {
		t.Errorf("catalog has %d rights, want 40", len(rights))
	}
	e := access.New(m)
	for _, tc := range []struct {
		subject helpdesk.Subject
		right   string
	}{
		{helpdesk.UserSubject(AdminLogin), helpdesk.PermAdmin},
		{helpdesk.GroupSubject(helpdesk.Everyone), helpdesk.ActComment},
		{helpdesk.GroupSubject(helpdesk.Everyone), helpdesk.ActReopen},
		{helpdesk.GroupSubject(helpdesk.Everyone), helpdesk.ActWithdraw},
	} {
		grants, _ := m.Grants(tc.subject)
		if !slices.Contains(grants, tc.right) {
			t.Errorf("%s lacks %s; grants %v", tc.subject, tc.right, grants)
		}
	}
	if ok, err := e.Holds(AdminLogin, helpdesk.PermAdmin); err != nil || !ok {
		t.Errorf("admin does not hold admin (%v)", err)
	}
	holders, _ := m.Holders(helpdesk.PermEditAllTickets)
	if len(holders) == 0 {
		t.Fatal("nobody holds edit-all-tickets; the read-only exception goes untested")
	}
	for _, h := range holders {
		if g, _ := m.Grants(h); !slices.Contains(g, helpdesk.PermReadAllTickets) {
			t.Errorf("%s holds edit-all-tickets without read-all-tickets", h)
		}
	}

	// Groups are nested access.GenDepth levels deep: some group has that many
	// groups above it, itself included, and none has more.
	counter := groupCounter{src: m, up: map[string][]string{}}
	groups, _ := m.Groups()
	deepest := 0
	for _, g := range groups {
		deepest = max(deepest, depth(m, g))
	}
	if deepest != access.GenDepth {
		t.Errorf("deepest nesting is %d, want %d", deepest, access.GenDepth)
	}
	if n, err := counter.count("user00001"); err != nil || n < 2 {
		t.Errorf("user00001 has %d effective groups (%v), want several", n, err)
	}
	resources, _ := m.Resources()
	withParent := 0
	for _, name := range resources {
		if r, _, _ := m.Resource(name); r.Parent != "" {
			withParent++
		}
	}
	if withParent == 0 || withParent == len(resources) {
		t.Errorf("%d of %d resources have a parent; want some, not all", withParent, len(resources))
	}
}

// depth is the longest chain of groups from g upwards, g included.
func depth(m *access.Memory, g string) int {
	parents, _ := m.GroupsOf(helpdesk.GroupSubject(g))
	d := 0
	for _, p := range parents {
		d = max(d, depth(m, p))
	}
	return d + 1
}

func TestDeterministic(t *testing.T) {
	a, b := Model(small()), Model(small())
	if !reflect.DeepEqual(State(a), State(b)) {
		t.Error("the same seed gave two different directories")
	}
	other := small()
	other.Seed++
	if reflect.DeepEqual(State(a), State(Model(other))) {
		t.Error("a different seed gave the same directory")
	}
	ga, err := NewTicketGen(1, a)
	if err != nil {
		t.Fatal(err)
	}
	gb, _ := NewTicketGen(1, b)
	for range 500 {
		if x, y := ga.Next(), gb.Next(); !reflect.DeepEqual(x, y) {
			t.Fatalf("ticket streams differ at #%d", x.Number)
		}
	}
}

func TestTicketsAreValid(t *testing.T) {
	m := Model(small())
	gen, err := NewTicketGen(3, m)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[helpdesk.State]int{}
	requests := 0
	for i := 1; i <= 2000; i++ {
		tk := gen.Next()
		if tk.Number != i {
			t.Fatalf("ticket %d numbered %d", i, tk.Number)
		}
		if err := helpdesk.CleanTicketFields(&tk); err != nil {
			t.Errorf("#%d: %v", i, err)
		}
		if u, ok, _ := m.User(tk.Requester); !ok || !u.Active {
			t.Errorf("#%d: requester %s is not an active user", i, tk.Requester)
		}
		counts[tk.State]++
		if tk.Resource == "" {
			requests++
			if tk.State != helpdesk.StateRequest && tk.State != helpdesk.StateClosed {
				t.Errorf("#%d: a request in state %s", i, tk.State)
			}
			continue
		}
		if tk.State == helpdesk.StateRequest {
			t.Errorf("#%d: authorized into %s but still a request", i, tk.Resource)
		}
		if tk.Assignee != "" && !slices.Contains(writeStaff(m, tk.Resource), tk.Assignee) {
			t.Errorf("#%d: assignee %s is no write member counting for %s", i, tk.Assignee, tk.Resource)
		}
		if last := tk.Log[len(tk.Log)-1]; last.To != "" && last.To != tk.State {
			t.Errorf("#%d: state %s but the last log entry leads to %s", i, tk.State, last.To)
		}
		for j, e := range tk.Log {
			if e.Seq != j+1 || (j > 0 && e.Time.Before(tk.Log[j-1].Time)) {
				t.Errorf("#%d: log entry %d out of order", i, j+1)
			}
		}
	}
	for _, s := range helpdesk.States {
		if counts[s] == 0 {
			t.Errorf("no ticket in state %s", s)
		}
	}
	if requests < 100 || requests > 300 {
		t.Errorf("%d requests in 2000 tickets, want about a tenth", requests)
	}
}

func TestWrite(t *testing.T) {
	o := small()
	path := filepath.Join(t.TempDir(), "gen.db")
	m, sum, err := Generate(path, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Tickets != o.Tickets || sum.Users != o.Users+1 || sum.Resources != o.Resources || sum.Rights != 40 {
		t.Errorf("summary %+v does not match options %+v", sum, o)
	}
	if want := 1 + (o.Tickets+o.Batch-1)/o.Batch; sum.Batches != want {
		t.Errorf("%d transactions, want %d", sum.Batches, want)
	}

	db, err := store.Open(store.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	gen, _ := NewTicketGen(o.Seed, m)
	err = db.Update(func(tx *store.Tx) error {
		if ps := tx.Check(); len(ps) > 0 {
			t.Errorf("db check found %d problems, first: %+v", len(ps), ps[0])
		}
		if n := tx.TicketCount(); n != o.Tickets {
			t.Errorf("%d tickets stored, want %d", n, o.Tickets)
		}
		first, _, _ := tx.Ticket(1)
		if want := gen.Next(); !reflect.DeepEqual(first, want) {
			t.Errorf("ticket #1 stored as %+v, generated as %+v", first, want)
		}
		if next, _ := tx.NextTicketNumber(); next != o.Tickets+1 {
			t.Errorf("next ticket number %d, want %d", next, o.Tickets+1)
		}
		// The filtered index walk finds exactly the tickets a full scan finds.
		want := 0
		for n := 1; n <= o.Tickets; n++ {
			tk, _, _ := tx.Ticket(n)
			if tk.State == helpdesk.StateNew && tk.Resource == "res001" {
				want++
			}
		}
		got := 0
		_ = tx.EachTicket(store.TicketQuery{State: "new", Resource: "res001"}, func(helpdesk.Ticket) (bool, error) {
			got++
			return true, nil
		})
		if got != want || want == 0 {
			t.Errorf("index lists %d new tickets in res001, a scan finds %d", got, want)
		}
		// The store answers like the model it was written from.
		dbm, err := access.New(tx).Matrix(nil, nil)
		if err != nil {
			return err
		}
		mm, err := access.New(m).Matrix(nil, nil)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(dbm, mm) {
			t.Error("the database's matrix differs from the model's")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := Write(path, m, o, nil); errs.KindOf(err) != errs.Conflict {
		t.Errorf("writing over an existing database: %v, want a conflict", err)
	}
}

func TestPolicyMatchesModel(t *testing.T) {
	m := Model(small())
	path := filepath.Join(t.TempDir(), "gen.yaml")
	if err := WritePolicy(path, m); err != nil {
		t.Fatal(err)
	}
	p, findings, err := policy.Load(0, path)
	if err != nil {
		t.Fatal(err)
	}
	findings = append(findings, policy.Validate(p)...)
	if policy.HasErrors(findings) {
		t.Fatalf("generated policy does not validate: %v", findings[0])
	}
	fromFile, err := access.New(policy.ToMemory(p)).Matrix(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fromModel, _ := access.New(m).Matrix(nil, nil)
	if !reflect.DeepEqual(fromFile, fromModel) {
		t.Error("the policy file grants other rights than the model")
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	o := small()
	o.Tickets = 1500
	out := Outputs{DB: filepath.Join(dir, "g.db"), Policy: filepath.Join(dir, "g.yaml"), OPADir: filepath.Join(dir, "opa"),
		ImportJSONL: filepath.Join(dir, "g.jsonl")}
	var calls []int
	rep, err := Run(o, out, func(done, total int) { calls = append(calls, done) })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, []int{700, 1400, 1500}) {
		t.Errorf("progress reported %v", calls)
	}
	for _, f := range []string{out.DB, out.Policy, out.ImportJSONL, "opa/deskctl.rego", "opa/data.json", "opa/scenario.json",
		"opa/input-can.json", "opa/input-explain.json", "opa/input-holds.json"} {
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s not written (%v)", f, err)
		}
	}
	sc := rep.Scenario
	if sc == nil {
		t.Fatal("no scenario")
	}
	db, err := store.Open(store.Options{Path: out.DB, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *store.Tx) error {
		tk, _, _ := tx.Ticket(sc.Ticket)
		if tk.Resource != sc.Resource || tk.State != helpdesk.StateNew {
			t.Errorf("scenario ticket #%d is %s in %q, want new in %s", tk.Number, tk.State, tk.Resource, sc.Resource)
		}
		r, _, _ := tx.Resource(sc.Resource)
		if m, ok := r.Member(sc.User); !ok || m.Access != helpdesk.AccessWrite {
			t.Errorf("scenario user %s is not a write member of %s", sc.User, sc.Resource)
		}
		c, _ := access.New(tx).Available(sc.User, &tk, sc.Action)
		if c.Available != sc.Available {
			t.Errorf("scenario says available=%v, the engine %v", sc.Available, c.Available)
		}
		return nil
	})

	if _, err := Run(o, Outputs{DB: out.DB}, nil); err == nil {
		t.Error("Run wrote over an existing database")
	}
	if _, err := Run(Options{}, Outputs{DB: filepath.Join(dir, "x.db")}, nil); err == nil {
		t.Error("Run accepted a directory without users")
	}
}

func TestOpenOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.db")
	if _, _, err := Generate(path, Options{Seed: 1, Users: 3, Batch: 10}, nil); err != nil {
		t.Fatal(err)
	}
	if err := OpenOnly(path); err != nil {
		t.Errorf("opening a generated database: %v", err)
	}
	if err := OpenOnly(filepath.Join(dir, "missing.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("opening a missing file: %v, want not-exist", err)
	}
}

// -audit appends records of ticket changes that chain as the app's do: the
// whole log verifies, and each record is a note on a stored ticket by its
// assignee or requester, with the ticket before and after.
func TestGenerateAuditChain(t *testing.T) {
	o := Options{Seed: 3, Users: 20, Groups: 4, Resources: 3, Tickets: 5, Batch: 4, Audit: 11}
	path := filepath.Join(t.TempDir(), "audit.db")
	_, sum, err := Generate(path, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The directory, two ticket batches, three batches of audit records.
	if sum.Audit != 11 || sum.Batches != 1+2+3 {
		t.Errorf("summary %+v: want 11 audit records in 6 transactions", sum)
	}
	db, err := store.Open(store.Options{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *store.Tx) error {
		n, p, err := tx.VerifyAudit()
		if err != nil || p != nil || n != 1+2+11 {
			t.Errorf("VerifyAudit() = %d, %+v, %v; want 14 records and no problem", n, p, err)
		}
		recs, err := tx.Audit(store.AuditFilter{Limit: 11})
		for i, r := range recs {
			num := i%5 + 1 // round the five tickets again after the last
			tk, ok, _ := tx.Ticket(num)
			actor := tk.Assignee
			if actor == "" {
				actor = tk.Requester
			}
			if !ok || r.Subject != fmt.Sprintf("ticket:%d", num) || r.Actor != actor || r.OSUser != actor ||
				r.Command != "ticket note" || r.Via != helpdesk.ViaFile || !strings.Contains(string(r.Before), `"subject":`) {
				t.Errorf("record %d = %+v, want a note on ticket %d by %s", r.Seq, r, num, actor)
			}
			if i > 0 && !r.Time.After(recs[i-1].Time) {
				t.Errorf("record %d is not later than the one before", r.Seq)
			}
		}
		if ps := tx.Check(); len(ps) > 0 {
			t.Errorf("db check: %+v", ps)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Generate(filepath.Join(t.TempDir(), "x.db"), Options{Seed: 1, Users: 3, Batch: 10, Audit: 2}, nil); err == nil {
		t.Error("Generate wrote audit records about no tickets")
	}
}
