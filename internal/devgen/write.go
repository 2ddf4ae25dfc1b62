package devgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// Summary reports what Write stored.
type Summary struct {
	Path      string        `json:"path"`
	Users     int           `json:"users"`
	Groups    int           `json:"groups"`
	Resources int           `json:"resources"`
	Rights    int           `json:"rights"`
	Grants    int           `json:"grants"`
	Tickets   int           `json:"tickets"`
	Audit     int           `json:"audit"`
	Batches   int           `json:"batches"`
	FileBytes int64         `json:"file_bytes"`
	Elapsed   time.Duration `json:"elapsed_ns"`
}

// Generate builds the model for o and writes it to a new database at path.
func Generate(path string, o Options, progress func(done, total int)) (*access.Memory, Summary, error) {
	if err := o.validate(); err != nil {
		return nil, Summary{}, err
	}
	m := Model(o)
	s, err := Write(path, m, o, progress)
	return m, s, err
}

// Write creates a new database at path (an existing file is refused) with
// the directory of m in one transaction, then o.Tickets tickets from
// NewTicketGen(o.Seed, m) in transactions of o.Batch. Tickets go through
// the store's PutTicket, so every index is maintained, and the ticket
// sequence ends at the last number, so the next `ticket create` continues
// from there. Each transaction appends an audit record, keeping the chain
// verifiable. progress, when set, is called after each transaction.
func Write(path string, m *access.Memory, o Options, progress func(done, total int)) (Summary, error) {
	start := time.Now()
	sum := Summary{Path: path}
	if o.Batch <= 0 {
		o.Batch = Defaults().Batch
	}
	db, err := store.Create(path, 0)
	if err != nil {
		return sum, err
	}
	defer db.Close()

	err = db.Update(func(tx *store.Tx) error {
		if err := writeDirectory(tx, m, &sum); err != nil {
			return err
		}
		_, err := tx.AppendAudit(auditRecord("database", map[string]any{
			"seed": o.Seed, "users": sum.Users, "groups": sum.Groups, "resources": sum.Resources,
			"rights": sum.Rights, "grants": sum.Grants,
		}))
		return err
	})
	if err != nil {
		return sum, fmt.Errorf("writing the directory: %w", err)
	}
	sum.Batches++

	if o.Tickets > 0 {
		gen, err := NewTicketGen(o.Seed, m)
		if err != nil {
			return sum, err
		}
		for sum.Tickets < o.Tickets {
			n := min(o.Batch, o.Tickets-sum.Tickets)
			err := db.Update(func(tx *store.Tx) error {
				first := 0
				for range n {
					t := gen.Next()
					num, err := tx.NextTicketNumber()
					if err != nil {
						return err
					}
					if num != t.Number {
						return fmt.Errorf("ticket sequence is at %d, expected %d", num, t.Number)
					}
					if first == 0 {
						first = num
					}
					if err := tx.PutTicket(t); err != nil {
						return err
					}
				}
				_, err := tx.AppendAudit(auditRecord(fmt.Sprintf("tickets:%d-%d", first, first+n-1), map[string]int{"tickets": n}))
				return err
			})
			if err != nil {
				return sum, fmt.Errorf("writing tickets after #%d: %w", sum.Tickets, err)
			}
			sum.Tickets += n
			sum.Batches++
			if progress != nil {
				progress(sum.Tickets, o.Tickets)
			}
		}
	}
	if o.Audit > 0 {
		gen, err := NewAuditGen(o.Seed, m, o.Tickets)
		if err != nil {
			return sum, err
		}
		for sum.Audit < o.Audit {
			n := min(o.Batch, o.Audit-sum.Audit)
			err := db.Update(func(tx *store.Tx) error {
				for range n {
					if _, err := tx.AppendAudit(gen.Next()); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return sum, fmt.Errorf("writing audit records after %d: %w", sum.Audit, err)
			}
			sum.Audit += n
			sum.Batches++
		}
	}
	if st, err := os.Stat(path); err == nil {
		sum.FileBytes = st.Size()
	}
	sum.Elapsed = time.Since(start)
	return sum, db.Close()
}

// AuditGen makes the audit records of a busy helpdesk's ticket work: each
// is what `deskctl ticket note` records when the ticket's assignee (its
// requester when it has none) adds a note on the file: the ticket before
// and after, as app.TicketView, the command, the channel and the OS login.
// The tickets are those NewTicketGen stored, in number order and round
// again after the last; each record comes a minute after the one before,
// from just after the last ticket was created.
type AuditGen struct {
	seed    int64
	m       *access.Memory
	tickets int
	gen     *TicketGen
	done    int
	at      time.Time
}

// NewAuditGen returns the records for the first tickets tickets of seed.
func NewAuditGen(seed int64, m *access.Memory, tickets int) (*AuditGen, error) {
	g := &AuditGen{seed: seed, m: m, tickets: tickets, at: epoch.Add(time.Duration(tickets+1) * 30 * time.Second)}
	return g, g.restart()
}

func (g *AuditGen) restart() error {
	gen, err := NewTicketGen(g.seed, g.m)
	g.gen, g.done = gen, 0
	return err
}

// Next is the next record, ready for store.Tx.AppendAudit.
func (g *AuditGen) Next() helpdesk.AuditRecord {
	if g.done == g.tickets {
		_ = g.restart() // it succeeded with the same arguments before
	}
	t := g.gen.Next()
	g.done++
	g.at = g.at.Add(time.Minute)
	actor := t.Assignee
	if actor == "" {
		actor = t.Requester
	}
	before := ticketView(t)
	after := before
	after.Updated = g.at
	b, _ := json.Marshal(before)
	a, _ := json.Marshal(after)
	return helpdesk.AuditRecord{Time: g.at, Actor: actor, Command: "ticket " + helpdesk.ActNote,
		Subject: "ticket:" + strconv.Itoa(t.Number), Before: b, After: a, Via: helpdesk.ViaFile, OSUser: actor}
}

// ticketView is the ticket as the app's audit records show it.
func ticketView(t helpdesk.Ticket) app.TicketView {
	links := t.Links
	if links == nil {
		links = []int{}
	}
	return app.TicketView{Number: t.Number, Subject: t.Subject, Description: t.Description, Requester: t.Requester,
		Resource: t.Resource, State: string(t.State), Priority: string(t.Priority), Category: t.Category, Due: t.Due,
		Assignee: t.Assignee, Links: links, Created: t.Created, Updated: t.Updated}
}

func auditRecord(subject string, after any) helpdesk.AuditRecord {
	raw, _ := json.Marshal(after)
	return helpdesk.AuditRecord{Time: time.Now().UTC(), Actor: AdminLogin, Command: "deskctl-devgen", Subject: subject, After: raw}
}

func writeDirectory(tx *store.Tx, m *access.Memory, sum *Summary) error {
	rights, _ := m.Rights()
	sum.Rights = len(rights)
	for _, r := range rights {
		if !r.Builtin {
			if err := tx.PutAction(r); err != nil {
				return err
			}
		}
	}
	logins, _ := m.Users()
	for _, l := range logins {
		u, _, _ := m.User(l)
		if err := tx.PutUser(u); err != nil {
			return err
		}
	}
	sum.Users = len(logins)
	groups, _ := m.Groups()
	for _, name := range groups {
		g, _, _ := m.Group(name)
		if g.Created.IsZero() {
			g.Created = epoch
		}
		if err := tx.PutGroup(g); err != nil {
			return err
		}
	}
	sum.Groups = len(groups)
	resources, _ := m.Resources()
	for _, name := range resources {
		r, _, _ := m.Resource(name)
		if err := tx.PutResource(r); err != nil {
			return err
		}
	}
	sum.Resources = len(resources)
	for _, r := range rights {
		holders, _ := m.Holders(r.Name)
		for _, s := range holders {
			if err := tx.Grant(s, r.Name); err != nil {
				return err
			}
			sum.Grants++
		}
	}
	for k, v := range m.Settings() {
		if err := tx.PutSetting(k, v); err != nil {
			return err
		}
	}
	return nil
}

// WriteImport writes o.Tickets tickets of the same stream Write stores as
// JSON Lines for `deskctl ticket import` (ids gen-1, gen-2, …). Import keeps
// only the fields the format has; the log is the importer's own.
func WriteImport(w io.Writer, m *access.Memory, o Options) error {
	gen, err := NewTicketGen(o.Seed, m)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	for range o.Tickets {
		t := gen.Next()
		rec := app.ImportRecord{ID: fmt.Sprintf("gen-%d", t.Number), Subject: t.Subject, Description: t.Description,
			Requester: t.Requester, Resource: t.Resource, State: string(t.State), Priority: string(t.Priority),
			Category: t.Category, Due: t.Due, Assignee: t.Assignee, Created: t.Created}
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// OpenOnly opens the bbolt file read-only and closes it: the cost every
// command pays before doing any work, with nothing of deskctl's on top.
func OpenOnly(path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: store.DefaultLockTimeout})
	if err != nil {
		return err
	}
	return db.Close()
}

// Outputs says what Run writes; empty paths are skipped.
type Outputs struct {
	DB          string // the database (must not exist)
	Policy      string // the directory as a YAML policy file
	OPADir      string // deskctl.rego, data.json and, with DB, the scenario and its inputs
	ImportJSONL string // the tickets as JSON Lines for `ticket import`
	// Tests is a `policy test` suite of SuiteSize assertions over the
	// directory; with OPADir the same suite goes there as Rego tests.
	Tests string
}

// Report is what Run did.
type Report struct {
	Summary
	Scenario *Scenario `json:"scenario,omitempty"`
}

// Run builds the model for o once and writes every requested output from it.
func Run(o Options, out Outputs, progress func(done, total int)) (Report, error) {
	var rep Report
	if err := o.validate(); err != nil {
		return rep, err
	}
	m := Model(o)
	if out.DB != "" {
		s, err := Write(out.DB, m, o, progress)
		rep.Summary = s
		if err != nil {
			return rep, err
		}
	}
	if out.Policy != "" {
		if err := WritePolicy(out.Policy, m); err != nil {
			return rep, err
		}
	}
	if out.ImportJSONL != "" {
		f, err := os.Create(out.ImportJSONL)
		if err != nil {
			return rep, err
		}
		err = WriteImport(f, m, o)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return rep, err
		}
	}
	if out.Tests != "" {
		if err := WriteSuite(out.Tests, out.OPADir, o.Seed, m); err != nil {
			return rep, err
		}
	}
	if out.OPADir != "" {
		if err := WriteOPA(out.OPADir, m); err != nil {
			return rep, err
		}
		if out.DB != "" && o.Tickets > 0 {
			sc, err := WriteScenario(out.OPADir, out.DB)
			if err != nil {
				return rep, err
			}
			rep.Scenario = &sc
		}
	}
	return rep, nil
}
