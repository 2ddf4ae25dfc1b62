package policy

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// State is what a policy describes, as plain directory data: the form the
// plan and apply use cases compare with a database. A canonical State (see
// Canonical) has every list sorted and free of repeats and no empty
// entries, so two States describing the same thing are reflect.DeepEqual.
type State struct {
	Users     []helpdesk.User     // by login
	Groups    []helpdesk.Group    // by name; members users first, then groups, each by name
	Resources []helpdesk.Resource // by name; members by login
	Actions   []helpdesk.Right    // custom ticket actions only, by name
	Grants    map[helpdesk.Subject][]string
	Settings  map[string]string
}

// Canonical returns a copy of s in canonical form. Records are copied, never
// shared with s. What a policy cannot express is dropped: creation times,
// built-in rights in Actions, catalog flags only built-in rights carry, and
// grants with no rights. Among entries with the same name the first wins.
func (s State) Canonical() State {
	c := State{
		Users:     withCap[helpdesk.User](len(s.Users)),
		Groups:    withCap[helpdesk.Group](len(s.Groups)),
		Resources: withCap[helpdesk.Resource](len(s.Resources)),
	}
	seenUser := make(map[string]bool, len(s.Users))
	for _, u := range s.Users {
		if seenUser[u.Login] {
			continue
		}
		seenUser[u.Login] = true
		c.Users = append(c.Users, helpdesk.User{Login: u.Login, Name: u.Name, Email: u.Email, Active: u.Active, OSLogin: u.OSLogin})
	}
	slices.SortFunc(c.Users, func(a, b helpdesk.User) int { return cmp.Compare(a.Login, b.Login) })

	seenGroup := make(map[string]bool, len(s.Groups))
	for _, g := range s.Groups {
		if seenGroup[g.Name] {
			continue
		}
		seenGroup[g.Name] = true
		c.Groups = append(c.Groups, helpdesk.Group{Name: g.Name, Description: g.Description, Members: canonicalMembers(g.Members)})
	}
	slices.SortFunc(c.Groups, func(a, b helpdesk.Group) int { return cmp.Compare(a.Name, b.Name) })

	seenRes := make(map[string]bool, len(s.Resources))
	for _, r := range s.Resources {
		if seenRes[r.Name] {
			continue
		}
		seenRes[r.Name] = true
		c.Resources = append(c.Resources, helpdesk.Resource{Name: r.Name, Description: r.Description, Parent: r.Parent,
			Members: canonicalResourceMembers(r.Members), Approval: canonicalTemplate(r.Approval)})
	}
	slices.SortFunc(c.Resources, func(a, b helpdesk.Resource) int { return cmp.Compare(a.Name, b.Name) })

	seenAction := map[string]bool{}
	for _, a := range s.Actions {
		if a.Builtin || seenAction[a.Name] {
			continue
		}
		seenAction[a.Name] = true
		c.Actions = append(c.Actions, helpdesk.Right{Name: a.Name, Kind: helpdesk.KindAction, Category: a.Category,
			Description: a.Description, FromStates: canonicalStates(a.FromStates), ToState: a.ToState,
			RequiresText: a.RequiresText, Internal: a.Internal})
	}
	slices.SortFunc(c.Actions, func(a, b helpdesk.Right) int { return cmp.Compare(a.Name, b.Name) })

	for subj, rights := range s.Grants {
		rs := slices.Clone(rights)
		slices.Sort(rs)
		rs = slices.Compact(rs)
		if len(rs) == 0 {
			continue
		}
		if c.Grants == nil {
			c.Grants = make(map[helpdesk.Subject][]string, len(s.Grants))
		}
		c.Grants[subj] = rs
	}
	if len(s.Settings) > 0 {
		c.Settings = maps.Clone(s.Settings)
	}
	return c
}

// withCap returns an empty slice with room for n elements, or nil for none:
// a canonical State has nil lists where it has nothing.
func withCap[T any](n int) []T {
	if n == 0 {
		return nil
	}
	return make([]T, 0, n)
}

var kindOrder = map[helpdesk.SubjectKind]int{helpdesk.KindUser: 0, helpdesk.KindGroup: 1, helpdesk.KindResource: 2}

func kindRank(k helpdesk.SubjectKind) int {
	if r, ok := kindOrder[k]; ok {
		return r
	}
	return len(kindOrder)
}

func compareSubjects(a, b helpdesk.Subject) int {
	if c := cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

func canonicalMembers(ms []helpdesk.Subject) []helpdesk.Subject {
	if len(ms) == 0 {
		return nil
	}
	out := slices.Clone(ms)
	slices.SortFunc(out, compareSubjects)
	return slices.Compact(out)
}

func canonicalTemplate(t *helpdesk.ApprovalTemplate) *helpdesk.ApprovalTemplate {
	if t == nil {
		return nil
	}
	c := t.Canonical()
	return &c
}

func canonicalResourceMembers(ms []helpdesk.ResourceMember) []helpdesk.ResourceMember {
	var out []helpdesk.ResourceMember
	seen := map[string]bool{}
	for _, m := range ms {
		if !seen[m.Login] {
			seen[m.Login] = true
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b helpdesk.ResourceMember) int { return cmp.Compare(a.Login, b.Login) })
	return out
}

// canonicalStates orders states by the ticket life cycle; names that are
// not states (an invalid policy) follow, by name.
func canonicalStates(ss []helpdesk.State) []helpdesk.State {
	if len(ss) == 0 {
		return nil
	}
	rank := func(s helpdesk.State) int {
		if i := slices.Index(helpdesk.States, s); i >= 0 {
			return i
		}
		return len(helpdesk.States)
	}
	out := slices.Clone(ss)
	slices.SortFunc(out, func(a, b helpdesk.State) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return slices.Compact(out)
}

// State returns what p describes, in canonical form. It is meant for a
// policy Validate accepts; for an invalid one, the first definition of a
// repeated name wins and the rest is taken as written.
func (p *Policy) State() State {
	s := State{
		Users:     withCap[helpdesk.User](len(p.Users)),
		Groups:    withCap[helpdesk.Group](len(p.Groups)),
		Resources: withCap[helpdesk.Resource](len(p.Resources)),
	}
	grants := map[helpdesk.Subject][]string{}
	addGrants := func(subj helpdesk.Subject, items []Item) {
		for _, it := range items {
			grants[subj] = append(grants[subj], it.Value)
		}
	}
	seen := make(map[helpdesk.Subject]bool, len(p.Users)+len(p.Groups)+len(p.Resources))
	first := func(subj helpdesk.Subject) bool {
		if seen[subj] {
			return false
		}
		seen[subj] = true
		return true
	}
	for _, u := range p.Users {
		if first(helpdesk.UserSubject(u.Login)) {
			s.Users = append(s.Users, helpdesk.User{Login: u.Login, Name: u.Name, Email: u.Email, Active: u.Active, OSLogin: u.OSLogin})
			addGrants(helpdesk.UserSubject(u.Login), u.Rights)
		}
	}
	for _, g := range p.Groups {
		if first(helpdesk.GroupSubject(g.Name)) {
			hg := helpdesk.Group{Name: g.Name, Description: g.Description}
			if len(g.Members) > 0 {
				hg.Members = make([]helpdesk.Subject, 0, len(g.Members))
			}
			for _, m := range g.Members {
				hg.Members = append(hg.Members, m.Subject)
			}
			s.Groups = append(s.Groups, hg)
			addGrants(helpdesk.GroupSubject(g.Name), g.Rights)
		}
	}
	for _, r := range p.Resources {
		if first(helpdesk.ResourceSubject(r.Name)) {
			hr := helpdesk.Resource{Name: r.Name, Description: r.Description, Parent: r.Parent, Approval: r.Approval.Helpdesk()}
			if len(r.Members) > 0 {
				hr.Members = make([]helpdesk.ResourceMember, 0, len(r.Members))
			}
			for _, m := range r.Members {
				hr.Members = append(hr.Members, helpdesk.ResourceMember{Login: m.Login, Access: m.Access})
			}
			s.Resources = append(s.Resources, hr)
			addGrants(helpdesk.ResourceSubject(r.Name), r.Rights)
		}
	}
	for _, a := range p.Actions {
		s.Actions = append(s.Actions, a.Right())
	}
	s.Grants = grants
	for _, st := range p.Settings {
		if s.Settings == nil {
			s.Settings = map[string]string{}
		}
		if _, ok := s.Settings[st.Key]; !ok {
			s.Settings[st.Key] = st.Value
		}
	}
	return s.Canonical()
}

// FromState builds the policy that describes s, each grant written as the
// rights of its subject. A grant to a user, group or resource s does not
// list gets an entry of its own, with only a name, so nothing is lost; the
// everyone group is one such case. The result has no positions.
func FromState(s State) *Policy {
	c := s.Canonical()
	have := map[helpdesk.Subject]bool{}
	for _, u := range c.Users {
		have[helpdesk.UserSubject(u.Login)] = true
	}
	for _, g := range c.Groups {
		have[helpdesk.GroupSubject(g.Name)] = true
	}
	for _, r := range c.Resources {
		have[helpdesk.ResourceSubject(r.Name)] = true
	}
	stubs := false
	for subj := range c.Grants {
		if have[subj] {
			continue
		}
		switch subj.Kind {
		case helpdesk.KindUser:
			c.Users = append(c.Users, helpdesk.User{Login: subj.Name, Active: true})
		case helpdesk.KindGroup:
			c.Groups = append(c.Groups, helpdesk.Group{Name: subj.Name})
		case helpdesk.KindResource:
			c.Resources = append(c.Resources, helpdesk.Resource{Name: subj.Name})
		default:
			continue
		}
		stubs = true
	}
	if stubs {
		c = c.Canonical()
	}

	p := &Policy{}
	for _, u := range c.Users {
		p.Users = append(p.Users, User{Login: u.Login, Name: u.Name, Email: u.Email, Active: u.Active, OSLogin: u.OSLogin,
			Rights: plainItems(c.Grants[helpdesk.UserSubject(u.Login)])})
	}
	for _, g := range c.Groups {
		pg := Group{Name: g.Name, Description: g.Description, Rights: plainItems(c.Grants[helpdesk.GroupSubject(g.Name)])}
		for _, m := range g.Members {
			pg.Members = append(pg.Members, Member{Subject: m, Raw: memberText(m)})
		}
		p.Groups = append(p.Groups, pg)
	}
	for _, r := range c.Resources {
		pr := Resource{Name: r.Name, Description: r.Description, Parent: r.Parent,
			Rights: plainItems(c.Grants[helpdesk.ResourceSubject(r.Name)]), Approval: templateOf(r.Approval)}
		for _, m := range r.Members {
			pr.Members = append(pr.Members, ResourceMember{Login: m.Login, Access: m.Access})
		}
		p.Resources = append(p.Resources, pr)
	}
	for _, a := range c.Actions {
		pa := Action{Name: a.Name, Category: string(a.Category), ToState: string(a.ToState),
			RequiresText: a.RequiresText, Internal: a.Internal, Description: a.Description}
		for _, st := range a.FromStates {
			pa.FromStates = append(pa.FromStates, Item{Value: string(st)})
		}
		p.Actions = append(p.Actions, pa)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Settings)) {
		p.Settings = append(p.Settings, Setting{Key: k, Value: c.Settings[k]})
	}
	return p
}

func plainItems(values []string) []Item {
	var out []Item
	for _, v := range values {
		out = append(out, Item{Value: v})
	}
	return out
}

// memberText writes a group member the way people write it: users bare,
// everything else with its kind.
func memberText(s helpdesk.Subject) string {
	if s.Kind == helpdesk.KindUser && !strings.ContainsRune(s.Name, ':') {
		return s.Name
	}
	return s.String()
}
