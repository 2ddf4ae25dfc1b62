package app

import (
	"fmt"
	"maps"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/policy"
)

// A plan compares only the users its changes may affect (none when
// diffStates finds no change). That must never hide a change: for random
// directories and random edits of every field of every kind of entity
// (some of which change no one's access, and some of which change nothing
// at all), planAccess gives exactly what the comparison of every user's
// rights in both states gives.
func TestPlanAccessSkipsOnlyEqualStates(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	var unchanged, changedAccess, narrowed int
	for i := range 600 {
		a := randomPolicyState(rng)
		b := cloneState(a)
		for range rng.Intn(3) {
			editState(rng, &b)
		}
		changes := diffStates(a, b)
		full, err := accessDiff(a, b, nil)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if full == nil {
			full = []AccessChange{}
		}
		got, err := planAccess(changes, a, b)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, full) {
			t.Fatalf("case %d: changes %v\nplanAccess %v\nfull diff  %v", i, changes, got, full)
		}
		if len(changes) == 0 {
			unchanged++
		}
		if len(full) > 0 {
			changedAccess++
			if affectedUsers(changes, a, b) != nil {
				narrowed++
			}
		}
	}
	// The cases must exercise both sides of the shortcut.
	if unchanged < 30 || changedAccess < 30 || narrowed < 30 {
		t.Fatalf("cases too one-sided: %d without a change, %d with access changes, %d of them on some users only",
			unchanged, changedAccess, narrowed)
	}
}

func randomPolicyState(rng *rand.Rand) policy.State {
	s := policy.State{Grants: map[helpdesk.Subject][]string{}, Settings: map[string]string{}}
	for i := range 3 + rng.Intn(4) {
		l := fmt.Sprintf("u%d", i)
		s.Users = append(s.Users, helpdesk.User{Login: l, Name: l, Email: l + "@example.com", Active: rng.Intn(5) != 0})
	}
	s.Groups = append(s.Groups, helpdesk.Group{Name: helpdesk.Everyone})
	for i := range 1 + rng.Intn(4) {
		g := helpdesk.Group{Name: fmt.Sprintf("g%d", i)}
		for j := range i { // only earlier groups as members: no cycles
			if rng.Intn(3) == 0 {
				g.Members = append(g.Members, helpdesk.GroupSubject(fmt.Sprintf("g%d", j)))
			}
		}
		for _, u := range s.Users {
			if rng.Intn(3) == 0 {
				g.Members = append(g.Members, helpdesk.UserSubject(u.Login))
			}
		}
		if rng.Intn(8) == 0 {
			g.Members = append(g.Members, helpdesk.GroupSubject(helpdesk.Everyone))
		}
		s.Groups = append(s.Groups, g)
	}
	for i := range 1 + rng.Intn(3) {
		r := helpdesk.Resource{Name: fmt.Sprintf("r%d", i)}
		if i > 0 && rng.Intn(2) == 0 {
			r.Parent = fmt.Sprintf("r%d", rng.Intn(i))
		}
		for _, u := range s.Users {
			if rng.Intn(3) == 0 {
				r.Members = append(r.Members, helpdesk.ResourceMember{Login: u.Login, Access: randomMemberAccess(rng)})
			}
		}
		s.Resources = append(s.Resources, r)
	}
	if rng.Intn(2) == 0 {
		s.Actions = append(s.Actions, helpdesk.Right{Name: "escalate", Kind: helpdesk.KindAction, Category: helpdesk.CatSupporter,
			FromStates: []helpdesk.State{helpdesk.StateNew}})
	}
	for range 2 + rng.Intn(5) {
		subj, right := randomGrant(rng, s)
		if !slices.Contains(s.Grants[subj], right) {
			s.Grants[subj] = append(s.Grants[subj], right)
		}
	}
	return s
}

func randomMemberAccess(rng *rand.Rand) helpdesk.Access {
	if rng.Intn(2) == 0 {
		return helpdesk.AccessRead
	}
	return helpdesk.AccessWrite
}

// randomGrant picks a subject of s and a right of its catalog.
func randomGrant(rng *rand.Rand, s policy.State) (helpdesk.Subject, string) {
	rights := helpdesk.WithBuiltins(s.Actions)
	right := rights[rng.Intn(len(rights))].Name
	switch rng.Intn(3) {
	case 0:
		return helpdesk.UserSubject(s.Users[rng.Intn(len(s.Users))].Login), right
	case 1:
		return helpdesk.GroupSubject(s.Groups[rng.Intn(len(s.Groups))].Name), right
	}
	return helpdesk.ResourceSubject(s.Resources[rng.Intn(len(s.Resources))].Name), right
}

// editState makes one random edit; some change a field no right depends
// on, and one changes nothing.
func editState(rng *rand.Rand, s *policy.State) {
	switch rng.Intn(16) {
	case 0: // nothing
	case 1:
		u := &s.Users[rng.Intn(len(s.Users))]
		u.Active = !u.Active
	case 2:
		u := &s.Users[rng.Intn(len(s.Users))]
		u.Email = "x" + u.Email
	case 3:
		g := &s.Groups[rng.Intn(len(s.Groups))]
		g.Members = append(g.Members, helpdesk.UserSubject(s.Users[rng.Intn(len(s.Users))].Login))
	case 4:
		g := &s.Groups[rng.Intn(len(s.Groups))]
		if len(g.Members) > 0 {
			g.Members = g.Members[1:]
		}
	case 5:
		g := &s.Groups[rng.Intn(len(s.Groups))]
		g.Description += "!"
	case 6:
		r := &s.Resources[rng.Intn(len(s.Resources))]
		if len(r.Members) > 0 {
			m := &r.Members[rng.Intn(len(r.Members))]
			m.Access = randomMemberAccess(rng)
		}
	case 7:
		r := &s.Resources[rng.Intn(len(s.Resources))]
		if r.Name != "r0" {
			r.Parent = ""
		}
	case 8:
		subj, right := randomGrant(rng, *s)
		if !slices.Contains(s.Grants[subj], right) {
			s.Grants[subj] = append(s.Grants[subj], right)
		}
	case 9:
		subjs := slices.SortedFunc(maps.Keys(s.Grants), func(x, y helpdesk.Subject) int { return strings.Compare(x.String(), y.String()) })
		if len(subjs) > 0 {
			subj := subjs[rng.Intn(len(subjs))]
			if rights := s.Grants[subj]; len(rights) > 0 {
				s.Grants[subj] = rights[1:]
			}
		}
	case 11: // nest a group in a later one: no cycles
		if n := len(s.Groups); n > 2 {
			i := 1 + rng.Intn(n-2)
			j := i + 1 + rng.Intn(n-1-i)
			g := &s.Groups[j]
			if !g.HasMember(helpdesk.GroupSubject(s.Groups[i].Name)) {
				g.Members = append(g.Members, helpdesk.GroupSubject(s.Groups[i].Name))
			}
		}
	case 12: // move a resource under an earlier one
		if n := len(s.Resources); n > 1 {
			i := 1 + rng.Intn(n-1)
			s.Resources[i].Parent = s.Resources[rng.Intn(i)].Name
		}
	case 13:
		l := fmt.Sprintf("n%d", len(s.Users))
		s.Users = append(s.Users, helpdesk.User{Login: l, Name: l, Email: l + "@example.com", Active: true})
		g := &s.Groups[rng.Intn(len(s.Groups))]
		g.Members = append(g.Members, helpdesk.UserSubject(l))
	case 14: // remove a user and every mention of them
		if len(s.Users) > 2 {
			i := rng.Intn(len(s.Users))
			l := s.Users[i].Login
			s.Users = slices.Delete(s.Users, i, i+1)
			for gi := range s.Groups {
				s.Groups[gi].Members = slices.DeleteFunc(s.Groups[gi].Members, func(m helpdesk.Subject) bool { return m == helpdesk.UserSubject(l) })
			}
			for ri := range s.Resources {
				s.Resources[ri].Members = slices.DeleteFunc(s.Resources[ri].Members, func(m helpdesk.ResourceMember) bool { return m.Login == l })
			}
			delete(s.Grants, helpdesk.UserSubject(l))
		}
	case 15:
		r := &s.Resources[rng.Intn(len(s.Resources))]
		u := s.Users[rng.Intn(len(s.Users))].Login
		if _, ok := r.Member(u); !ok {
			r.Members = append(r.Members, helpdesk.ResourceMember{Login: u, Access: randomMemberAccess(rng)})
		}
	case 10:
		if len(s.Actions) > 0 {
			s.Actions[0].FromStates = []helpdesk.State{helpdesk.StateInProgress}
		} else {
			s.Settings[helpdesk.SettingApprovalsEnabled] = "false"
		}
	}
}

func cloneState(s policy.State) policy.State {
	c := policy.State{Grants: map[helpdesk.Subject][]string{}, Settings: map[string]string{}}
	c.Users = append(c.Users, s.Users...)
	for _, g := range s.Groups {
		g.Members = slices.Clone(g.Members)
		c.Groups = append(c.Groups, g)
	}
	for _, r := range s.Resources {
		r.Members = slices.Clone(r.Members)
		c.Resources = append(c.Resources, r)
	}
	for _, a := range s.Actions {
		a.FromStates = slices.Clone(a.FromStates)
		c.Actions = append(c.Actions, a)
	}
	for k, v := range s.Grants {
		c.Grants[k] = slices.Clone(v)
	}
	for k, v := range s.Settings {
		c.Settings[k] = v
	}
	return c
}
