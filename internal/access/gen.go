package access

import (
	"fmt"
	"math/rand"
	"time"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// GenDepth is how deep GenerateMemory nests groups.
const GenDepth = 8

// GenCustomActions is how many custom actions GenerateMemory adds to the 24
// built-in rights, making a catalog of 40.
const GenCustomActions = 16

var genEpoch = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// GenerateMemory builds a deterministic directory for benchmarks and load
// tests; the same seed and sizes give the same directory.
//
// Shape: users named user00000…, one in twenty disabled, user00000 an active
// administrator; groups group0000… in GenDepth levels, each group below the
// top nested in one to three groups of the level above, each user in one to
// four groups (mostly deep ones, so a user typically has a few dozen
// effective groups); resources res000… of which the first third are top-level and the
// rest sub-resources, half of those without members of their own; 16 custom
// actions. Grants: all-users actions to everyone; every other action to a few
// groups, resources and users; admin, dispatcher, read-all-tickets and
// edit-all-tickets to a few groups.
func GenerateMemory(seed int64, users, groups, resources int) *Memory {
	rng := rand.New(rand.NewSource(seed))
	m := NewMemory()

	states := []helpdesk.State{helpdesk.StateNew, helpdesk.StateInProgress, helpdesk.StateWaiting}
	for i := range GenCustomActions {
		cat := helpdesk.ActionCategories[1+i%3] // supporter, edit, organizational
		m.PutRight(helpdesk.Right{
			Name: fmt.Sprintf("custom-%02d", i), Kind: helpdesk.KindAction, Category: cat,
			Description: "generated custom action", FromStates: states[:1+i%len(states)],
		})
	}

	logins := make([]string, users)
	for i := range users {
		logins[i] = fmt.Sprintf("user%05d", i)
		m.PutUser(helpdesk.User{
			Login: logins[i], Name: fmt.Sprintf("User %d", i), Email: logins[i] + "@example.com",
			Active: i == 0 || rng.Intn(20) != 0, Created: genEpoch,
		})
	}

	names := make([]string, groups)
	levels := make([][]string, min(GenDepth, max(groups, 1)))
	members := make(map[string][]helpdesk.Subject, groups)
	for i := range groups {
		names[i] = fmt.Sprintf("group%04d", i)
		lv := i * len(levels) / groups
		levels[lv] = append(levels[lv], names[i])
	}
	for lv := 1; lv < len(levels); lv++ {
		above := levels[lv-1]
		for _, g := range levels[lv] {
			n := 1 // one parent mostly, sometimes two or three: diamonds, not a lattice
			switch r := rng.Intn(50); {
			case r >= 46:
				n = 3
			case r >= 35:
				n = 2
			}
			for _, p := range pickDistinct(rng, above, n) {
				members[p] = append(members[p], helpdesk.GroupSubject(g))
			}
		}
	}
	if groups > 0 {
		for _, l := range logins {
			for range 2 + rng.Intn(3) {
				lv := len(levels) - 1
				if rng.Intn(2) == 0 {
					lv = rng.Intn(len(levels))
				}
				g := levels[lv][rng.Intn(len(levels[lv]))]
				if !containsSubject(members[g], helpdesk.UserSubject(l)) {
					members[g] = append(members[g], helpdesk.UserSubject(l))
				}
			}
		}
	}
	for _, g := range names {
		m.PutGroup(helpdesk.Group{Name: g, Description: "generated group", Members: members[g], Created: genEpoch})
	}

	resNames := make([]string, resources)
	for i := range resources {
		resNames[i] = fmt.Sprintf("res%03d", i)
		r := helpdesk.Resource{Name: resNames[i], Description: "generated resource", Created: genEpoch}
		withMembers := true
		if i > 0 && i >= resources/3 {
			r.Parent = resNames[rng.Intn(i)]
			withMembers = rng.Intn(2) == 0
		}
		if withMembers && users > 0 {
			for _, l := range pickDistinct(rng, logins, 5+rng.Intn(21)) {
				acc := helpdesk.AccessWrite
				if rng.Intn(10) < 3 {
					acc = helpdesk.AccessRead
				}
				r.Members = append(r.Members, helpdesk.ResourceMember{Login: l, Access: acc})
			}
		}
		m.PutResource(r)
	}

	everyone := helpdesk.GroupSubject(helpdesk.Everyone)
	rights, _ := m.Rights()
	for _, r := range rights {
		switch {
		case r.Category == helpdesk.CatAllUsers:
			m.Grant(everyone, r.Name)
		case r.Kind == helpdesk.KindAction:
			for _, g := range pickDistinct(rng, names, 2+rng.Intn(4)) {
				m.Grant(helpdesk.GroupSubject(g), r.Name)
			}
			for _, res := range pickDistinct(rng, resNames, rng.Intn(3)) {
				m.Grant(helpdesk.ResourceSubject(res), r.Name)
			}
			for _, l := range pickDistinct(rng, logins, rng.Intn(4)) {
				m.Grant(helpdesk.UserSubject(l), r.Name)
			}
		default:
			for _, g := range pickDistinct(rng, names, 1+rng.Intn(2)) {
				m.Grant(helpdesk.GroupSubject(g), r.Name)
			}
		}
	}
	if users > 0 {
		m.Grant(helpdesk.UserSubject(logins[0]), helpdesk.PermAdmin)
	}
	return m
}

// GenerateTickets builds n deterministic tickets over m's users and
// resources: numbered from 1, a tenth of them unauthorized requests, the rest
// spread over resources and states. m needs at least one user.
func GenerateTickets(seed int64, m *Memory, n int) []helpdesk.Ticket {
	rng := rand.New(rand.NewSource(seed))
	users, _ := m.Users()
	resources, _ := m.Resources()
	prios := []helpdesk.Priority{helpdesk.PriorityLow, helpdesk.PriorityNormal, helpdesk.PriorityHigh, helpdesk.PriorityUrgent}
	out := make([]helpdesk.Ticket, n)
	for i := range out {
		t := helpdesk.Ticket{
			Number:    i + 1,
			Subject:   fmt.Sprintf("generated ticket %d", i+1),
			Requester: users[rng.Intn(len(users))],
			State:     helpdesk.StateRequest,
			Priority:  prios[rng.Intn(len(prios))],
			Created:   genEpoch.Add(time.Duration(i) * time.Minute),
		}
		if len(resources) > 0 && rng.Intn(10) != 0 {
			t.Resource = resources[rng.Intn(len(resources))]
			t.State = helpdesk.States[1+rng.Intn(len(helpdesk.States)-1)]
		}
		t.Updated = t.Created
		out[i] = t
	}
	return out
}

// pickDistinct returns up to n distinct elements of from, in random order.
func pickDistinct(rng *rand.Rand, from []string, n int) []string {
	if n >= len(from) {
		n = len(from)
	}
	picked := make(map[int]bool, n)
	out := make([]string, 0, n)
	for len(out) < n {
		i := rng.Intn(len(from))
		if !picked[i] {
			picked[i] = true
			out = append(out, from[i])
		}
	}
	return out
}

func containsSubject(ss []helpdesk.Subject, s helpdesk.Subject) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
