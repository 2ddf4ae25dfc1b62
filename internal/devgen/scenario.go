package devgen

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// TargetGroups is how many effective groups the benchmark user should have.
const TargetGroups = 50

// Scenario names what the benchmarks ask about in a generated database, so
// that in-process benchmarks, whole-process timings and OPA all ask the same
// questions.
type Scenario struct {
	// User is an active write member of Resource whose number of effective
	// groups (everyone included) is closest to TargetGroups, preferring one
	// for whom Action is available on Ticket.
	User   string `json:"user"`
	Groups int    `json:"groups"`
	// Resource has members of its own and tickets in state new.
	Resource string `json:"resource"`
	// Ticket is the newest ticket of Resource in state new.
	Ticket int `json:"ticket"`
	// Action is the ticket action checked (close).
	Action string `json:"action"`
	// Available is deskctl's answer for User, Action, Ticket.
	Available bool `json:"available"`
}

// PickScenario chooses the scenario from the database at path.
func PickScenario(path string) (Scenario, error) {
	db, err := store.Open(store.Options{Path: path, ReadOnly: true})
	if err != nil {
		return Scenario{}, err
	}
	defer db.Close()
	var sc Scenario
	err = db.View(func(tx *store.Tx) error {
		var err error
		sc, err = pickScenario(tx)
		return err
	})
	return sc, err
}

type candidate struct {
	login    string
	groups   int
	resource string
}

func pickScenario(tx *store.Tx) (Scenario, error) {
	sc := Scenario{Action: helpdesk.ActClose}
	logins, err := tx.Users()
	if err != nil {
		return sc, err
	}
	counter := groupCounter{src: tx, up: map[string][]string{}}
	newest := map[string]int{} // resource → newest new ticket, 0 when none
	var cands []candidate
	for _, l := range logins {
		u, _, err := tx.User(l)
		if err != nil {
			return sc, err
		}
		if !u.Active {
			continue
		}
		res, err := tx.ResourcesOf(l)
		if err != nil {
			return sc, err
		}
		for _, m := range res {
			if m.Access != helpdesk.AccessWrite {
				continue
			}
			n, seen := newest[m.Resource]
			if !seen {
				if n, err = newestNew(tx, m.Resource); err != nil {
					return sc, err
				}
				newest[m.Resource] = n
			}
			if n == 0 {
				continue
			}
			g, err := counter.count(l)
			if err != nil {
				return sc, err
			}
			cands = append(cands, candidate{login: l, groups: g, resource: m.Resource})
			break
		}
	}
	if len(cands) == 0 {
		return sc, fmt.Errorf("no active write member of a resource with new tickets")
	}
	dist := func(c candidate) int { return abs(c.groups - TargetGroups) }
	sort.SliceStable(cands, func(i, j int) bool { return dist(cands[i]) < dist(cands[j]) })
	e := access.New(tx)
	pick := cands[0]
	for _, c := range cands[:min(len(cands), 50)] {
		if dist(c) > dist(cands[0])+5 {
			break
		}
		t, _, err := tx.Ticket(newest[c.resource])
		if err != nil {
			return sc, err
		}
		chk, err := e.Available(c.login, &t, sc.Action)
		if err != nil {
			return sc, err
		}
		if chk.Available {
			pick = c
			break
		}
	}
	sc.User, sc.Groups, sc.Resource, sc.Ticket = pick.login, pick.groups, pick.resource, newest[pick.resource]
	t, _, err := tx.Ticket(sc.Ticket)
	if err != nil {
		return sc, err
	}
	chk, err := e.Available(sc.User, &t, sc.Action)
	sc.Available = chk.Available
	return sc, err
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func newestNew(tx *store.Tx, resource string) (int, error) {
	n := 0
	err := tx.EachTicket(store.TicketQuery{State: string(helpdesk.StateNew), Resource: resource}, func(t helpdesk.Ticket) (bool, error) {
		n = t.Number
		return false, nil
	})
	return n, err
}

// groupCounter counts a user's effective groups, memoizing each group's
// ancestors.
type groupCounter struct {
	src access.Source
	up  map[string][]string // group → itself and every group above it
}

func (c *groupCounter) ancestors(g string) ([]string, error) {
	if a, ok := c.up[g]; ok {
		return a, nil
	}
	c.up[g] = []string{g} // a cycle (refused by the store) would stop here
	parents, err := c.src.GroupsOf(helpdesk.GroupSubject(g))
	if err != nil {
		return nil, err
	}
	set := map[string]bool{g: true}
	for _, p := range parents {
		pa, err := c.ancestors(p)
		if err != nil {
			return nil, err
		}
		for _, x := range pa {
			set[x] = true
		}
	}
	out := make([]string, 0, len(set))
	for x := range set {
		out = append(out, x)
	}
	c.up[g] = out
	return out, nil
}

// count returns how many groups login is in, directly or through nesting,
// everyone included.
func (c *groupCounter) count(login string) (int, error) {
	direct, err := c.src.GroupsOf(helpdesk.UserSubject(login))
	if err != nil {
		return 0, err
	}
	set := map[string]bool{helpdesk.Everyone: true}
	for _, g := range direct {
		a, err := c.ancestors(g)
		if err != nil {
			return 0, err
		}
		for _, x := range a {
			set[x] = true
		}
	}
	return len(set), nil
}

// WriteScenario picks the scenario from the database at dbPath and writes it
// to dir as scenario.json, with the OPA inputs for the same questions:
// input-can.json (Action on Ticket), input-explain.json and input-holds.json
// (does User hold Action).
func WriteScenario(dir, dbPath string) (Scenario, error) {
	sc, err := PickScenario(dbPath)
	if err != nil {
		return sc, err
	}
	db, err := store.Open(store.Options{Path: dbPath, ReadOnly: true})
	if err != nil {
		return sc, err
	}
	var t helpdesk.Ticket
	err = db.View(func(tx *store.Tx) error {
		t, _, err = tx.Ticket(sc.Ticket)
		return err
	})
	db.Close()
	if err != nil {
		return sc, err
	}
	files := map[string]any{
		"scenario.json":      sc,
		"input-can.json":     OPAInput{User: sc.User, Action: sc.Action, Ticket: TicketInput(t)},
		"input-explain.json": OPAInput{User: sc.User},
		"input-holds.json":   OPAInput{User: sc.User, Right: sc.Action},
	}
	for name, v := range files {
		if err := writeJSON(filepath.Join(dir, name), v); err != nil {
			return sc, err
		}
	}
	return sc, nil
}

// ListUser is a user `ticket list` is timed for, with why they were picked.
type ListUser struct {
	Kind    string `json:"kind"` // fewest-visible, most-groups or biggest-resource
	Login   string `json:"login"`
	Groups  int    `json:"groups"`
	ReadAll bool   `json:"read_all"`
	// Visible counts the tickets of the resources the user sees through
	// membership, their own requests and (dispatchers) every request,
	// resource by resource, so a ticket can count twice.
	Visible int `json:"visible"`
}

// ListFilters are the filter values `ticket list` is timed with: the
// resource with the most tickets, the busiest assignee and requester.
type ListFilters struct {
	Resource  string `json:"resource"`
	Assignee  string `json:"assignee"`
	Requester string `json:"requester"`
}

// PickListUsers chooses the users `ticket list` is hardest for: among active
// users without read-all-tickets who are resource members, the one who sees
// the fewest tickets; the active user in the most groups; and a member
// without read-all-tickets of the resource with the most tickets.
func PickListUsers(path string) ([]ListUser, ListFilters, error) {
	db, err := store.Open(store.Options{Path: path, ReadOnly: true})
	if err != nil {
		return nil, ListFilters{}, err
	}
	defer db.Close()
	var users []ListUser
	var f ListFilters
	err = db.View(func(tx *store.Tx) error {
		perRes, perReq := tx.TicketsPer("resource"), tx.TicketsPer("requester")
		f.Resource, f.Assignee, f.Requester = busiest(perRes), busiest(tx.TicketsPer("assignee")), busiest(perReq)
		logins, err := tx.Users()
		if err != nil {
			return err
		}
		e := access.New(tx)
		counter := groupCounter{src: tx, up: map[string][]string{}}
		var fewest, most, biggest ListUser
		for _, l := range logins {
			v, err := e.Visibility(l, tx.Children)
			if err != nil || v.None {
				if err != nil {
					return err
				}
				continue
			}
			u := ListUser{Login: l, ReadAll: v.AllAuthorized, Visible: perReq[l]}
			for _, r := range v.Resources {
				u.Visible += perRes[r]
			}
			if v.Requests {
				u.Visible += perRes["-"]
			}
			if u.Groups, err = counter.count(l); err != nil {
				return err
			}
			if !u.ReadAll && len(v.Resources) > 0 && (fewest.Login == "" || u.Visible < fewest.Visible) {
				fewest = u
			}
			if u.Groups > most.Groups {
				most = u
			}
			if !u.ReadAll && slices.Contains(v.Resources, f.Resource) && biggest.Login == "" {
				biggest = u
			}
		}
		fewest.Kind, most.Kind, biggest.Kind = "fewest-visible", "most-groups", "biggest-resource"
		for _, u := range []ListUser{fewest, most, biggest} {
			if u.Login == "" {
				return fmt.Errorf("no %s user for ticket list", u.Kind)
			}
			users = append(users, u)
		}
		return nil
	})
	return users, f, err
}

// busiest is the value with the most tickets, "-" (none) left out; ties go
// to the first name.
func busiest(counts map[string]int) string {
	best := ""
	for v, n := range counts {
		if v != "-" && (best == "" || n > counts[best] || n == counts[best] && v < best) {
			best = v
		}
	}
	return best
}
