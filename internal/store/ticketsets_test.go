package store

import (
	"errors"
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

// The set a walk visits is decided from index keys alone: for random
// tickets, scopes and queries (a resource alone or with the resources below
// it), the numbers a scoped walk yields are exactly those of the tickets that
// are in scope and match, found by reading every ticket; an unscoped walk
// yields those that match.
func TestScopeIsDecidedFromKeys(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	db := openTestStore(t)
	users := []string{"ann", "ben", "cid", "dee"}
	resources := []string{"", "a", "b", "c", "d", "e"}
	// a > b > c, a > d; e stands alone; f was never created.
	parent := map[string]string{"b": "a", "c": "b", "d": "a"}
	below := func(r, top string) bool {
		for ; r != ""; r = parent[r] {
			if r == top {
				return true
			}
		}
		return false
	}
	states := []helpdesk.State{helpdesk.StateRequest, helpdesk.StateNew, helpdesk.StateInProgress, helpdesk.StateClosed}
	pick := func(from []string) string { return from[rng.Intn(len(from))] }
	var all []helpdesk.Ticket
	mustUpdate(t, db, func(tx *Tx) error {
		for _, r := range resources[1:] {
			if err := tx.PutResource(helpdesk.Resource{Name: r, Parent: parent[r]}); err != nil {
				return err
			}
		}
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
	// matches is the query's filter, written out from the ticket's fields.
	matches := func(q TicketQuery, tk helpdesk.Ticket) bool {
		res := noneIfEmpty(tk.Resource)
		return (q.State == "" || string(tk.State) == q.State) &&
			(q.Resource == "" || res == q.Resource || (q.SubResources && below(tk.Resource, q.Resource))) &&
			(q.Requester == "" || tk.Requester == q.Requester) &&
			(q.Assignee == "" || noneIfEmpty(tk.Assignee) == q.Assignee) &&
			(q.Before == 0 || tk.Number < q.Before)
	}
	walk := func(set ticketSet, before int) []int {
		var got []int
		for upTo := highest(before); upTo > 0; {
			n, ok := set.seek(upTo)
			if !ok {
				break
			}
			got, upTo = append(got, int(n)), n-1
		}
		return got
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
		q := TicketQuery{State: opt("request", "new", "in-progress", "closed"), Resource: opt("-", "a", "b", "c", "e", "f"),
			SubResources: rng.Intn(2) == 0, Requester: opt(users...), Assignee: opt("-", "ann", "ben"), Before: rng.Intn(3) * rng.Intn(420)}
		var want, wantScoped []int
		for _, tk := range slices.Backward(all) {
			if !matches(q, tk) {
				continue
			}
			want = append(want, tk.Number)
			if slices.Contains(scope.Resources, noneIfEmpty(tk.Resource)) || (scope.Requester != "" && tk.Requester == scope.Requester) {
				wantScoped = append(wantScoped, tk.Number)
			}
		}
		var got, gotScoped []int
		mustView(t, db, func(tx *Tx) error {
			gotScoped = walk(tx.inScope(scope, tx.withResources(q)), q.Before)
			return tx.EachTicket(q, func(tk helpdesk.Ticket) (bool, error) {
				got = append(got, tk.Number)
				return true, nil
			})
		})
		if !slices.Equal(gotScoped, wantScoped) {
			t.Fatalf("case %d: scope %+v, query %+v:\n got %v\nwant %v", i, scope, q, gotScoped, wantScoped)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("case %d: unscoped, query %+v:\n got %v\nwant %v", i, q, got, want)
		}
	}
}

// A resource's tickets include those of the resources below it, at any
// depth, when the query asks for sub-resources, merged newest first.
func TestEachTicketWithSubResources(t *testing.T) {
	db := openTestStore(t)
	addUsers(t, db, "ann")
	mustUpdate(t, db, func(tx *Tx) error {
		return errors.Join(tx.PutResource(helpdesk.Resource{Name: "network"}),
			tx.PutResource(helpdesk.Resource{Name: "network-wifi", Parent: "network"}),
			tx.PutResource(helpdesk.Resource{Name: "wifi-guest", Parent: "network-wifi"}),
			tx.PutResource(helpdesk.Resource{Name: "printers"}))
	})
	// 1 network · 2 wifi-guest · 3 printers · 4 network-wifi (closed) · 5 request · 6 network-wifi
	specs := []struct {
		resource string
		state    helpdesk.State
	}{
		{"network", helpdesk.StateNew}, {"wifi-guest", helpdesk.StateNew}, {"printers", helpdesk.StateNew},
		{"network-wifi", helpdesk.StateClosed}, {"", helpdesk.StateRequest}, {"network-wifi", helpdesk.StateNew},
	}
	mustUpdate(t, db, func(tx *Tx) error {
		for i, s := range specs {
			if err := tx.PutTicket(helpdesk.Ticket{Number: i + 1, Subject: "t", Requester: "ann", Resource: s.resource,
				State: s.state, Priority: helpdesk.PriorityNormal}); err != nil {
				return err
			}
		}
		return nil
	})
	cases := []struct {
		name string
		q    TicketQuery
		want []int
	}{
		{"the resource alone", TicketQuery{Resource: "network"}, []int{1}},
		{"with every level below", TicketQuery{Resource: "network", SubResources: true}, []int{6, 4, 2, 1}},
		{"a middle resource", TicketQuery{Resource: "network-wifi", SubResources: true}, []int{6, 4, 2}},
		{"a leaf", TicketQuery{Resource: "wifi-guest", SubResources: true}, []int{2}},
		{"in a state", TicketQuery{Resource: "network", SubResources: true, State: "new"}, []int{6, 2, 1}},
		{"a page", TicketQuery{Resource: "network", SubResources: true, Before: 4}, []int{2, 1}},
		{"requests have none below", TicketQuery{Resource: "-", SubResources: true}, []int{5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			equal(t, "tickets", ticketNumbers(t, db, c.q, 0), c.want)
			var scoped []int
			mustView(t, db, func(tx *Tx) error {
				return tx.EachTicketIn(TicketScope{Resources: []string{"-", "network-wifi", "wifi-guest"}}, c.q, func(tk helpdesk.Ticket) (bool, error) {
					scoped = append(scoped, tk.Number)
					return true, nil
				})
			})
			var want []int
			for _, n := range c.want {
				if n != 1 && n != 3 {
					want = append(want, n)
				}
			}
			equal(t, "tickets in scope", scoped, want)
		})
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
