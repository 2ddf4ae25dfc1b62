package access

import (
	"maps"
	"slices"
	"sort"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Memory is a Source held entirely in memory. The policy package builds one
// from a policy file for offline checks (`policy test`), and tests build them
// by hand. It does not validate: names it is given need not exist, so callers
// that care (policy validate, the store) check references themselves.
//
// Memory is not safe for concurrent mutation; an Engine reading it must not
// outlive a change to it (an Engine memoizes what it has read).
type Memory struct {
	users     map[string]helpdesk.User
	groups    map[string]helpdesk.Group
	memberOf  map[helpdesk.Subject]map[string]bool // member → groups naming it directly
	resources map[string]helpdesk.Resource
	resOf     map[string]map[string]helpdesk.Access // login → resource → access
	rights    map[string]helpdesk.Right
	grants    map[helpdesk.Subject]map[string]bool
	holders   map[string]map[helpdesk.Subject]bool
	settings  map[string]string
	approvals map[int]helpdesk.Approval

	// Sorted lists, rebuilt on demand after a change.
	userList, groupList, resourceList []string
	rightList                         []helpdesk.Right
	groupsOfList                      map[helpdesk.Subject][]string
	grantList                         map[helpdesk.Subject][]string
}

var _ Source = (*Memory)(nil)

// NewMemory returns a Memory with the built-in catalog and the everyone group.
func NewMemory() *Memory {
	m := &Memory{
		users:     map[string]helpdesk.User{},
		groups:    map[string]helpdesk.Group{},
		memberOf:  map[helpdesk.Subject]map[string]bool{},
		resources: map[string]helpdesk.Resource{},
		resOf:     map[string]map[string]helpdesk.Access{},
		rights:    map[string]helpdesk.Right{},
		grants:    map[helpdesk.Subject]map[string]bool{},
		holders:   map[string]map[helpdesk.Subject]bool{},
		settings:  map[string]string{},
		approvals: map[int]helpdesk.Approval{},

		groupsOfList: map[helpdesk.Subject][]string{},
		grantList:    map[helpdesk.Subject][]string{},
	}
	for _, r := range helpdesk.Builtins() {
		m.rights[r.Name] = r
	}
	m.groups[helpdesk.Everyone] = helpdesk.Group{Name: helpdesk.Everyone, Description: "every active user"}
	return m
}

// Reserve makes room for about the given numbers of users, groups and
// resources, so that loading a large directory does not grow the maps
// step by step. It changes nothing that the Memory holds.
func (m *Memory) Reserve(users, groups, resources int) {
	grow := func(have, want int) bool { return want > 2*have+8 }
	if grow(len(m.users), users) {
		m.users = resized(m.users, users)
		m.memberOf = resized(m.memberOf, users+groups)
		m.resOf = resized(m.resOf, users)
		m.grants = resized(m.grants, users+groups+resources)
	}
	if grow(len(m.groups), groups) {
		m.groups = resized(m.groups, groups)
	}
	if grow(len(m.resources), resources) {
		m.resources = resized(m.resources, resources)
	}
}

func resized[K comparable, V any](old map[K]V, n int) map[K]V {
	m := make(map[K]V, max(n, len(old)))
	maps.Copy(m, old)
	return m
}

// PutSetting stores a helpdesk setting; an empty value removes it.
func (m *Memory) PutSetting(key, value string) {
	if value == "" {
		delete(m.settings, key)
		return
	}
	m.settings[key] = value
}

// Setting implements Source.
func (m *Memory) Setting(key string) (string, bool) {
	v, ok := m.settings[key]
	return v, ok
}

// PutApproval stores a ticket's approval record, replacing the one it had.
func (m *Memory) PutApproval(a helpdesk.Approval) { m.approvals[a.Ticket] = a }

// Approval implements Source.
func (m *Memory) Approval(ticket int) (helpdesk.Approval, bool, error) {
	a, ok := m.approvals[ticket]
	return a, ok, nil
}

// Settings returns a copy of every stored setting.
func (m *Memory) Settings() map[string]string { return maps.Clone(m.settings) }

// PutUser adds or replaces a user.
func (m *Memory) PutUser(u helpdesk.User) {
	if _, ok := m.users[u.Login]; !ok {
		m.userList = nil
	}
	m.users[u.Login] = u
}

// PutGroup adds or replaces a group together with its member list.
func (m *Memory) PutGroup(g helpdesk.Group) {
	if old, ok := m.groups[g.Name]; ok {
		for _, x := range old.Members {
			delete(m.memberOf[x], g.Name)
			delete(m.groupsOfList, x)
		}
	} else {
		m.groupList = nil
	}
	g.Members = slices.Clone(g.Members)
	m.groups[g.Name] = g
	for _, x := range g.Members {
		set := m.memberOf[x]
		if set == nil {
			set = map[string]bool{}
			m.memberOf[x] = set
		}
		set[g.Name] = true
		delete(m.groupsOfList, x)
	}
}

// AddGroupMember adds x to group g (creating g when missing); a no-op when x is already a member.
func (m *Memory) AddGroupMember(g string, x helpdesk.Subject) {
	grp, ok := m.groups[g]
	if !ok {
		grp = helpdesk.Group{Name: g}
	}
	if grp.HasMember(x) {
		return
	}
	grp.Members = append(slices.Clone(grp.Members), x)
	m.PutGroup(grp)
}

// PutResource adds or replaces a resource together with its member list.
func (m *Memory) PutResource(r helpdesk.Resource) {
	if old, ok := m.resources[r.Name]; ok {
		for _, x := range old.Members {
			delete(m.resOf[x.Login], r.Name)
		}
	} else {
		m.resourceList = nil
	}
	r.Members = slices.Clone(r.Members)
	m.resources[r.Name] = r
	for _, x := range r.Members {
		set := m.resOf[x.Login]
		if set == nil {
			set = map[string]helpdesk.Access{}
			m.resOf[x.Login] = set
		}
		set[r.Name] = x.Access
	}
}

// AddResourceMember makes login a member of resource r (creating r when
// missing) with the given access, replacing an existing membership's access.
func (m *Memory) AddResourceMember(r, login string, access helpdesk.Access) {
	res, ok := m.resources[r]
	if !ok {
		res = helpdesk.Resource{Name: r}
	}
	res.Members = slices.Clone(res.Members)
	for i := range res.Members {
		if res.Members[i].Login == login {
			res.Members[i].Access = access
			m.PutResource(res)
			return
		}
	}
	res.Members = append(res.Members, helpdesk.ResourceMember{Login: login, Access: access})
	m.PutResource(res)
}

// PutRight adds or replaces a catalog entry (a custom action).
func (m *Memory) PutRight(r helpdesk.Right) {
	m.rights[r.Name] = r
	m.rightList = nil
}

// Grant grants rights to s.
func (m *Memory) Grant(s helpdesk.Subject, rights ...string) {
	for _, r := range rights {
		g := m.grants[s]
		if g == nil {
			g = map[string]bool{}
			m.grants[s] = g
		}
		g[r] = true
		delete(m.grantList, s)
		h := m.holders[r]
		if h == nil {
			h = map[helpdesk.Subject]bool{}
			m.holders[r] = h
		}
		h[s] = true
	}
}

// Revoke removes grants of rights to s; rights not granted are ignored.
func (m *Memory) Revoke(s helpdesk.Subject, rights ...string) {
	for _, r := range rights {
		delete(m.grants[s], r)
		delete(m.grantList, s)
		delete(m.holders[r], s)
	}
}

// Clone returns an independent deep copy.
func (m *Memory) Clone() *Memory {
	c := NewMemory()
	clear(c.rights)
	for k, v := range m.users {
		c.users[k] = v
	}
	for _, g := range m.groups {
		c.PutGroup(g)
	}
	for _, r := range m.resources {
		c.PutResource(r)
	}
	for k, v := range m.rights {
		v.FromStates = slices.Clone(v.FromStates)
		c.rights[k] = v
	}
	for s, rs := range m.grants {
		for r := range rs {
			c.Grant(s, r)
		}
	}
	maps.Copy(c.approvals, m.approvals)
	return c
}

// User implements Source.
func (m *Memory) User(login string) (helpdesk.User, bool, error) {
	u, ok := m.users[login]
	return u, ok, nil
}

// Users implements Source.
func (m *Memory) Users() ([]string, error) {
	if m.userList == nil {
		m.userList = sortedKeys(m.users)
	}
	return slices.Clone(m.userList), nil
}

// GroupsOf implements Source.
func (m *Memory) GroupsOf(x helpdesk.Subject) ([]string, error) {
	l, ok := m.groupsOfList[x]
	if !ok {
		l = sortedKeys(m.memberOf[x])
		m.groupsOfList[x] = l
	}
	return slices.Clone(l), nil
}

// Group implements Source.
func (m *Memory) Group(name string) (helpdesk.Group, bool, error) {
	g, ok := m.groups[name]
	g.Members = slices.Clone(g.Members)
	return g, ok, nil
}

// Groups implements Source.
func (m *Memory) Groups() ([]string, error) {
	if m.groupList == nil {
		m.groupList = sortedKeys(m.groups)
	}
	return slices.Clone(m.groupList), nil
}

// Resource implements Source.
func (m *Memory) Resource(name string) (helpdesk.Resource, bool, error) {
	r, ok := m.resources[name]
	r.Members = slices.Clone(r.Members)
	return r, ok, nil
}

// Resources implements Source.
func (m *Memory) Resources() ([]string, error) {
	if m.resourceList == nil {
		m.resourceList = sortedKeys(m.resources)
	}
	return slices.Clone(m.resourceList), nil
}

// ResourcesOf implements Source.
func (m *Memory) ResourcesOf(login string) ([]helpdesk.ResourceMembership, error) {
	var out []helpdesk.ResourceMembership
	for _, r := range sortedKeys(m.resOf[login]) {
		out = append(out, helpdesk.ResourceMembership{Resource: r, Access: m.resOf[login][r]})
	}
	return out, nil
}

// Grants implements Source.
func (m *Memory) Grants(s helpdesk.Subject) ([]string, error) {
	l, ok := m.grantList[s]
	if !ok {
		l = sortedKeys(m.grants[s])
		m.grantList[s] = l
	}
	return slices.Clone(l), nil
}

// Holders implements Source. Subjects are sorted by their "kind:name" form.
func (m *Memory) Holders(right string) ([]helpdesk.Subject, error) {
	var out []helpdesk.Subject
	for s := range m.holders[right] {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// Right implements Source.
func (m *Memory) Right(name string) (helpdesk.Right, bool, error) {
	r, ok := m.rights[name]
	return r, ok, nil
}

// Rights implements Source.
func (m *Memory) Rights() ([]helpdesk.Right, error) {
	if m.rightList == nil {
		for _, r := range m.rights {
			m.rightList = append(m.rightList, r)
		}
		helpdesk.SortRights(m.rightList)
	}
	return slices.Clone(m.rightList), nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
