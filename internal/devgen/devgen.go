// Package devgen builds large, deterministic deskctl databases for
// benchmarks and load tests. The same seed and sizes always give the same
// directory, grants and tickets, and the directory is also written as a
// policy file and as OPA data, so deskctl, `policy` commands and OPA answer
// the same questions over the same facts.
//
// The directory comes from access.GenerateMemory (groups nested GenDepth
// deep, sub-resources, 16 custom actions on top of the 24 built-in rights),
// completed with what `deskctl init` would have made: an active "admin"
// user holding admin, and the all-users actions granted to everyone.
// Tickets are generated as a stream, so a million of them never sit in
// memory at once.
package devgen

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// AdminLogin is the administrator every generated directory has, so CLI
// commands can run as it right away.
const AdminLogin = "admin"

// Options sizes a generated database.
type Options struct {
	Seed      int64
	Users     int
	Groups    int
	Resources int
	Tickets   int
	// Batch is how many tickets (or audit records) one write transaction
	// stores.
	Batch int
	// Audit is how many audit records of ticket changes to append after
	// the tickets, on top of the one per transaction (AuditGen).
	Audit int
}

// Defaults are the sizes of the scale benchmarks: 10 000 users, 1 000
// groups, 200 resources, 1 000 000 tickets in transactions of 20 000.
func Defaults() Options {
	return Options{Seed: 1, Users: 10000, Groups: 1000, Resources: 200, Tickets: 1_000_000, Batch: 20000}
}

func (o Options) validate() error {
	switch {
	case o.Users < 1:
		return fmt.Errorf("need at least one user")
	case o.Groups < 0 || o.Resources < 0 || o.Tickets < 0 || o.Audit < 0:
		return fmt.Errorf("sizes cannot be negative")
	case o.Audit > 0 && o.Tickets == 0:
		return fmt.Errorf("audit records are about tickets: pass some tickets too")
	}
	return nil
}

var epoch = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// Model returns the generated directory: users, nested groups, resources,
// the 40-right catalog and the grants. It is deterministic in o.Seed and
// the sizes; ticket fields of o are ignored.
func Model(o Options) *access.Memory {
	m := access.GenerateMemory(o.Seed, o.Users, o.Groups, o.Resources)
	m.PutUser(helpdesk.User{Login: AdminLogin, Name: "Administrator", Email: "admin@example.com", Active: true, Created: epoch})
	m.Grant(helpdesk.UserSubject(AdminLogin), helpdesk.PermAdmin)
	m.Grant(helpdesk.GroupSubject(helpdesk.Everyone), helpdesk.AllUsersActions()...)
	// Approvals on, so request-approval is decided by rights and roles alone.
	m.PutSetting(helpdesk.SettingApprovalsEnabled, "true")
	// edit-all-tickets may only be granted together with read-all-tickets
	// (the store and policy validation refuse it otherwise).
	holders, _ := m.Holders(helpdesk.PermEditAllTickets)
	for _, s := range holders {
		m.Grant(s, helpdesk.PermReadAllTickets)
	}
	return m
}

// TicketGen produces a deterministic stream of tickets over a directory:
// numbered from 1; a tenth are requests not yet authorized (a few of them
// withdrawn); the rest spread over resources, busier ones getting more, in
// realistic states (mostly closed). Requesters are active users, a few of
// them frequent; worked tickets are assigned to a write member of the
// resource whose members count for the ticket, and their log records who
// authorized, started, answered and closed them.
type TicketGen struct {
	rng         *rand.Rand
	requesters  []string
	reqZipf     *rand.Zipf
	resources   []string
	resZipf     *rand.Zipf
	staff       map[string][]string // resource → write members counting for its tickets
	dispatchers []string
	next        int
}

// NewTicketGen prepares a ticket stream over m. The stream depends only on
// seed and m.
func NewTicketGen(seed int64, m *access.Memory) (*TicketGen, error) {
	g := &TicketGen{rng: rand.New(rand.NewSource(seed ^ 0x5eed7)), staff: map[string][]string{}, next: 1}
	logins, _ := m.Users()
	for _, l := range logins {
		if u, _, _ := m.User(l); u.Active && l != AdminLogin {
			g.requesters = append(g.requesters, l)
		}
	}
	if len(g.requesters) == 0 {
		return nil, fmt.Errorf("the directory has no active user to request tickets")
	}
	// A fixed shuffle decides who the frequent requesters are.
	g.rng.Shuffle(len(g.requesters), func(i, j int) { g.requesters[i], g.requesters[j] = g.requesters[j], g.requesters[i] })
	g.reqZipf = rand.NewZipf(g.rng, 1.1, 20, uint64(len(g.requesters)-1))

	g.resources, _ = m.Resources()
	if len(g.resources) > 0 {
		g.rng.Shuffle(len(g.resources), func(i, j int) { g.resources[i], g.resources[j] = g.resources[j], g.resources[i] })
		g.resZipf = rand.NewZipf(g.rng, 1.2, 8, uint64(len(g.resources)-1))
	}
	for _, r := range g.resources {
		g.staff[r] = writeStaff(m, r)
	}

	holders, err := access.New(m).WhoCan(helpdesk.PermDispatcher, nil)
	if err != nil {
		return nil, err
	}
	for _, h := range holders {
		g.dispatchers = append(g.dispatchers, h.Login)
	}
	if len(g.dispatchers) == 0 {
		g.dispatchers = []string{AdminLogin}
	}
	return g, nil
}

// writeStaff lists the write members of the resource whose members count
// for tickets of r: r itself, or its nearest ancestor with members.
func writeStaff(m *access.Memory, r string) []string {
	seen := map[string]bool{}
	for cur := r; cur != "" && !seen[cur]; {
		seen[cur] = true
		res, ok, _ := m.Resource(cur)
		if !ok {
			return nil
		}
		if len(res.Members) > 0 {
			var out []string
			for _, mem := range res.Members {
				if u, _, _ := m.User(mem.Login); mem.Access == helpdesk.AccessWrite && u.Active {
					out = append(out, mem.Login)
				}
			}
			sort.Strings(out)
			return out
		}
		cur = res.Parent
	}
	return nil
}

var (
	subjects = []string{
		"VPN drops every hour", "Printer on floor %d jams", "Cannot log in to the intranet",
		"Laptop battery drains in an hour", "Request for a second monitor", "Mailbox full",
		"Wi-Fi slow in meeting room %d", "Password reset", "New starter needs an account",
		"Shared drive not mapped", "Phone headset crackles", "Software licence for %d seats",
		"Calendar invites arrive twice", "Badge does not open door %d", "Update fails with error %d",
		"Projector in room %d shows no image", "Access to the finance share", "Keyboard keys stick",
	}
	categories = []string{"hardware", "software", "network", "access", "accounts", "facilities", ""}
	replies    = []string{
		"Fixed, please check on your side.", "Replaced the part; should work now.",
		"Reset done; you will get a mail with the next steps.", "Rolled back the update.",
		"Could not reproduce; reopen if it happens again.",
	}
	prios = []helpdesk.Priority{helpdesk.PriorityLow, helpdesk.PriorityNormal, helpdesk.PriorityHigh, helpdesk.PriorityUrgent}
)

// pick returns an index into weights with probability proportional to its weight.
func pick(rng *rand.Rand, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.Intn(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// Next returns the next ticket of the stream.
func (g *TicketGen) Next() helpdesk.Ticket {
	rng := g.rng
	num := g.next
	g.next++
	created := epoch.Add(time.Duration(num) * 30 * time.Second)
	subject := subjects[rng.Intn(len(subjects))]
	if strings.Contains(subject, "%") {
		subject = fmt.Sprintf(subject, 1+rng.Intn(40))
	}
	t := helpdesk.Ticket{
		Number:      num,
		Subject:     subject,
		Description: fmt.Sprintf("Reported on %s. %s", created.Format("Mon 2 Jan 15:04"), "It worked last week; nothing was changed on my side."),
		Requester:   g.requesters[g.reqZipf.Uint64()],
		State:       helpdesk.StateRequest,
		Priority:    prios[pick(rng, 20, 60, 15, 5)],
		Category:    categories[rng.Intn(len(categories))],
		Created:     created,
	}
	if rng.Intn(5) == 0 {
		t.Due = created.AddDate(0, 0, 3+rng.Intn(30)).Format("2006-01-02")
	}
	at := created
	log := func(actor, action, text string, from, to helpdesk.State, vis helpdesk.Visibility) {
		at = at.Add(time.Duration(5+rng.Intn(240)) * time.Minute)
		t.Log = append(t.Log, helpdesk.Entry{Seq: len(t.Log) + 1, Time: at, Actor: actor, Action: action, Text: text,
			From: from, To: to, Visibility: vis})
	}
	t.Log = []helpdesk.Entry{{Seq: 1, Time: created, Actor: t.Requester, Action: "create", Text: t.Subject,
		To: helpdesk.StateRequest, Visibility: helpdesk.VisibleEveryone}}

	if len(g.resources) == 0 || rng.Intn(10) == 0 {
		if rng.Intn(8) == 0 {
			log(t.Requester, helpdesk.ActWithdraw, "", helpdesk.StateRequest, helpdesk.StateClosed, helpdesk.VisibleEveryone)
			t.State = helpdesk.StateClosed
		}
		t.Updated = at
		return t
	}

	t.Resource = g.resources[g.resZipf.Uint64()]
	log(g.dispatchers[rng.Intn(len(g.dispatchers))], helpdesk.ActAuthorize, "→ resource "+t.Resource,
		helpdesk.StateRequest, helpdesk.StateNew, helpdesk.VisibleEveryone)
	t.State = helpdesk.StateNew
	staff := g.staff[t.Resource]
	target := []helpdesk.State{helpdesk.StateNew, helpdesk.StateInProgress, helpdesk.StateWaiting, helpdesk.StateClosed}[pick(rng, 12, 10, 6, 72)]
	if target != helpdesk.StateNew && len(staff) > 0 {
		t.Assignee = staff[rng.Intn(len(staff))]
		log(t.Assignee, helpdesk.ActTakeOver, "taken over by "+t.Assignee, "", "", helpdesk.VisibleEveryone)
		log(t.Assignee, helpdesk.ActStart, "", helpdesk.StateNew, helpdesk.StateInProgress, helpdesk.VisibleEveryone)
		t.State = helpdesk.StateInProgress
		if rng.Intn(3) == 0 {
			log(t.Assignee, helpdesk.ActNote, "Checked the logs; looks like the known issue.", "", "", helpdesk.VisibleTechnicians)
		}
		switch target {
		case helpdesk.StateWaiting:
			log(t.Assignee, helpdesk.ActWait, "Waiting for the requester to try again.", helpdesk.StateInProgress, helpdesk.StateWaiting, helpdesk.VisibleEveryone)
			t.State = helpdesk.StateWaiting
		case helpdesk.StateClosed:
			log(t.Assignee, helpdesk.ActReply, replies[rng.Intn(len(replies))], "", "", helpdesk.VisibleEveryone)
			log(t.Assignee, helpdesk.ActClose, "", helpdesk.StateInProgress, helpdesk.StateClosed, helpdesk.VisibleEveryone)
			t.State = helpdesk.StateClosed
		}
	}
	t.Updated = at
	return t
}
