package store

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

func TestEachTicketInScope(t *testing.T) {
	db := ticketFixture(t)
	// 1 request ann · 2 new network ann · 3 in-progress network ben (tech)
	// 4 new printers ben · 5 new network ben (tech) · 6 request ben
	cases := []struct {
		name  string
		scope TicketScope
		q     TicketQuery
		want  []int
	}{
		{"empty scope", TicketScope{}, TicketQuery{}, nil},
		{"own tickets", TicketScope{Requester: "ann"}, TicketQuery{}, []int{2, 1}},
		{"a resource and own tickets", TicketScope{Resources: []string{"printers"}, Requester: "ann"}, TicketQuery{}, []int{4, 2, 1}},
		{"requests and a resource", TicketScope{Resources: []string{"-", "printers"}}, TicketQuery{}, []int{6, 4, 1}},
		{"state", TicketScope{Resources: []string{"network"}, Requester: "ann"}, TicketQuery{State: "new"}, []int{5, 2}},
		{"own requests by state", TicketScope{Requester: "ben"}, TicketQuery{State: "request"}, []int{6}},
		{"resource outside the scope", TicketScope{Resources: []string{"printers"}, Requester: "ann"}, TicketQuery{Resource: "network"}, []int{2}},
		{"other requester", TicketScope{Resources: []string{"network"}, Requester: "ann"}, TicketQuery{Requester: "ben"}, []int{5, 3}},
		{"assignee", TicketScope{Resources: []string{"network", "printers"}}, TicketQuery{Assignee: "tech"}, []int{5, 3}},
		{"unassigned", TicketScope{Resources: []string{"network"}, Requester: "ben"}, TicketQuery{Assignee: "-"}, []int{6, 4, 2}},
		{"page", TicketScope{Resources: []string{"network"}, Requester: "ann"}, TicketQuery{Before: 3}, []int{2, 1}},
		{"page before the first", TicketScope{Requester: "ann"}, TicketQuery{Before: 1}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []int
			mustView(t, db, func(tx *Tx) error {
				return tx.EachTicketIn(c.scope, c.q, func(tk helpdesk.Ticket) (bool, error) {
					got = append(got, tk.Number)
					return true, nil
				})
			})
			equal(t, "tickets", got, c.want)
		})
	}
}

// The set a scoped walk visits is decided from index keys alone: for random
// tickets, scopes and queries, the numbers it yields are exactly those of the
// tickets that are in scope and match, found by reading every ticket.
func TestScopeIsDecidedFromKeys(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	db := openTestStore(t)
	users := []string{"ann", "ben", "cid", "dee"}
	resources := []string{"", "a", "b", "c", "d", "e"}
	states := []helpdesk.State{helpdesk.StateRequest, helpdesk.StateNew, helpdesk.StateInProgress, helpdesk.StateClosed}
	pick := func(from []string) string { return from[rng.Intn(len(from))] }
	var all []helpdesk.Ticket
	mustUpdate(t, db, func(tx *Tx) error {
		for range 400 {
			n, err := tx.NextTicketNumber()
			if err != nil {
				return err
			}
			tk := helpdesk.Ticket{Number: n, Subject: "t", Requester: pick(users), Resource: pick(resources),
				State: states[rng.Intn(len(states))], Assignee: pick(append([]string{""}, users...)), Priority: helpdesk.PriorityNormal}
			if rng.Intn(10) == 0 { // a gap in the numbers
				continue
			}
			all = append(all, tk)
			if err := tx.PutTicket(tk); err != nil {
				return err
			}
		}
		return nil
	})
	opt := func(from ...string) string {
		if rng.Intn(2) == 0 {
			return ""
		}
		return pick(from)
	}
	cases := 2000
	if onPostgres {
		cases = 300 // each case is a few dozen round trips to the server
	}
	for i := range cases {
		var scope TicketScope
		for _, r := range []string{"-", "a", "b", "c", "d", "e", "f"} {
			if rng.Intn(3) == 0 {
				scope.Resources = append(scope.Resources, r)
			}
		}
		scope.Requester = opt(users...)
		q := TicketQuery{State: opt("request", "new", "in-progress", "closed"), Resource: opt("-", "a", "b", "f"),
			Requester: opt(users...), Assignee: opt("-", "ann", "ben"), Before: rng.Intn(3) * rng.Intn(420)}
		var want []int
		for _, tk := range slices.Backward(all) {
			in := slices.Contains(scope.Resources, noneIfEmpty(tk.Resource)) || (scope.Requester != "" && tk.Requester == scope.Requester)
			if in && q.matches(tk) && (q.Before == 0 || tk.Number < q.Before) {
				want = append(want, tk.Number)
			}
		}
		var got []int
		mustView(t, db, func(tx *Tx) error {
			set := tx.inScope(scope, q)
			for upTo := highest(q.Before); upTo > 0; {
				n, ok := set.seek(upTo)
				if !ok {
					break
				}
				got, upTo = append(got, int(n)), n-1
			}
			return nil
		})
		if !slices.Equal(got, want) {
			t.Fatalf("case %d: scope %+v, query %+v:\n got %v\nwant %v", i, scope, q, got, want)
		}
	}
}

func TestTicketsPer(t *testing.T) {
	db := ticketFixture(t)
	mustView(t, db, func(tx *Tx) error {
		equal(t, "per resource", tx.TicketsPer("resource"), map[string]int{"-": 2, "network": 3, "printers": 1})
		equal(t, "per assignee", tx.TicketsPer("assignee"), map[string]int{"-": 4, "tech": 2})
		equal(t, "per state", tx.TicketsPer("state"), map[string]int{"request": 2, "new": 3, "in-progress": 1})
		return nil
	})
}
