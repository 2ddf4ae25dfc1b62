package app

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// listByDecoding is how ticket list worked before it decided visibility from
// index keys: walk the most selective index of the query, read every
// candidate ticket and ask the engine for the actor's role on it. It is the
// oracle the property test holds listTickets to.
func listByDecoding(c *Ctx, q TicketQuery) ([]TicketView, error) {
	out := []TicketView{}
	err := c.Tx.EachTicket(q.store(), collect(c, q.Limit, &out))
	return out, err
}

// randomDesk writes a small random helpdesk: users (some disabled), nested
// groups, a resource tree where some resources have no members of their own,
// grants of read-all-tickets, edit-all-tickets and dispatcher to users,
// groups and resources, and tickets in every state, some in a resource that
// was removed. Small sizes make every rule meet every other often.
func randomDesk(t *testing.T, rng *rand.Rand) (path string, users, resources []string, tickets int) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "desk.db")
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	pick := func(from []string) string { return from[rng.Intn(len(from))] }
	for i := range 3 + rng.Intn(8) {
		users = append(users, fmt.Sprintf("u%d", i))
	}
	groups := []string{"g0", "g1", "g2", "g3"}
	for i := range 2 + rng.Intn(8) {
		resources = append(resources, fmt.Sprintf("r%d", i))
	}
	perms := []string{helpdesk.PermReadAllTickets, helpdesk.PermEditAllTickets, helpdesk.PermDispatcher}
	fill := func(tx *store.Tx) error {
		for i, u := range users {
			if err := tx.PutUser(helpdesk.User{Login: u, Name: u, Active: i == 0 || rng.Intn(6) != 0, Created: now}); err != nil {
				return err
			}
		}
		if err := tx.PutGroup(helpdesk.Group{Name: helpdesk.Everyone, Created: now}); err != nil {
			return err
		}
		for i, g := range groups {
			grp := helpdesk.Group{Name: g, Created: now}
			for _, u := range users {
				if rng.Intn(4) == 0 {
					grp.Members = append(grp.Members, helpdesk.UserSubject(u))
				}
			}
			// Groups nest only in groups named before them, so no cycle.
			for _, child := range groups[i+1:] {
				if rng.Intn(3) == 0 {
					grp.Members = append(grp.Members, helpdesk.GroupSubject(child))
				}
			}
			if err := tx.PutGroup(grp); err != nil {
				return err
			}
		}
		for i, r := range resources {
			res := helpdesk.Resource{Name: r, Created: now}
			if i > 0 && rng.Intn(3) != 0 {
				res.Parent = resources[rng.Intn(i)]
			}
			if rng.Intn(2) == 0 {
				for _, u := range users {
					if rng.Intn(3) == 0 {
						res.Members = append(res.Members, helpdesk.ResourceMember{Login: u, Access: []helpdesk.Access{helpdesk.AccessRead, helpdesk.AccessWrite}[rng.Intn(2)]})
					}
				}
			}
			if err := tx.PutResource(res); err != nil {
				return err
			}
		}
		subjects := []helpdesk.Subject{helpdesk.ResourceSubject(pick(resources))}
		for _, g := range groups {
			subjects = append(subjects, helpdesk.GroupSubject(g))
		}
		for _, u := range users {
			subjects = append(subjects, helpdesk.UserSubject(u))
		}
		for _, s := range subjects {
			for _, p := range perms {
				if rng.Intn(8) == 0 {
					if err := tx.Grant(s, p); err != nil {
						return err
					}
				}
			}
		}
		states := []helpdesk.State{helpdesk.StateRequest, helpdesk.StateNew, helpdesk.StateInProgress, helpdesk.StateClosed}
		for range 20 + rng.Intn(80) {
			n, err := tx.NextTicketNumber()
			if err != nil {
				return err
			}
			tk := helpdesk.Ticket{Number: n, Subject: "s", Requester: pick(users), State: states[rng.Intn(len(states))], Priority: helpdesk.PriorityNormal, Created: now}
			switch rng.Intn(5) {
			case 0:
			case 1:
				tk.Resource = "removed"
			default:
				tk.Resource = pick(resources)
			}
			if rng.Intn(2) == 0 {
				tk.Assignee = pick(users)
			}
			tk.Log = []helpdesk.Entry{{Seq: 1, Time: now, Actor: tk.Requester, Action: "create", Visibility: helpdesk.VisibleEveryone}}
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
			tickets = n
		}
		// Remove a ticket and a resource, so walks meet gaps and stale names.
		if err := tx.DeleteTicket(1 + rng.Intn(tickets)); err != nil {
			return err
		}
		if rng.Intn(2) == 0 {
			return tx.DeleteResource(pick(resources))
		}
		return nil
	}
	db, err := store.Create(path, time.Second, fill)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	return path, users, resources, tickets
}

// listTickets decides visibility from index keys; for random helpdesks,
// actors (disabled ones too) and queries it must return exactly what reading
// every candidate ticket and asking for the actor's role on it returns.
func TestListTicketsMatchesRoleOfEveryTicket(t *testing.T) {
	for seed := range int64(80) {
		rng := rand.New(rand.NewSource(seed))
		path, users, resources, tickets := randomDesk(t, rng)
		states := []string{"", "", "request", "new", "in-progress", "closed"}
		opt := func(from ...string) string {
			if rng.Intn(2) == 0 {
				return ""
			}
			return from[rng.Intn(len(from))]
		}
		db, err := store.Open(store.Options{Path: path, ReadOnly: true, LockTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		err = db.View(func(tx *store.Tx) error {
			for _, actor := range users {
				u, _, err := tx.User(actor)
				if err != nil {
					return err
				}
				c := &Ctx{Tx: tx, Actor: u, Engine: access.New(tx)}
				for range 40 {
					q := TicketQuery{
						State:      states[rng.Intn(len(states))],
						Resource:   opt(append(slices.Clone(resources), "-", "removed")...),
						Requester:  opt(users...),
						Assignee:   opt(append(slices.Clone(users), "-")...),
						NoChildren: rng.Intn(2) == 0,
						Limit:      1 + rng.Intn(12),
					}
					if rng.Intn(3) == 0 {
						q.Before = 1 + rng.Intn(tickets+1)
					}
					want, wantErr := listByDecoding(c, q)
					got, gotErr := listTickets(c, q)
					if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
						t.Fatalf("seed %d, %s, %+v: error %v, want %v", seed, actor, q, gotErr, wantErr)
					}
					if !slices.Equal(numbers(got), numbers(want)) {
						t.Fatalf("seed %d, %s, %+v:\n got %v\nwant %v", seed, actor, q, numbers(got), numbers(want))
					}
				}
			}
			return nil
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func numbers(vs []TicketView) []int {
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = v.Number
	}
	return out
}
