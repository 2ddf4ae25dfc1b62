package access

import (
	"fmt"
	"slices"
	"sort"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// ExplainOptions narrows or widens an explanation.
type ExplainOptions struct {
	// Ticket adds the user's role on it and, per action, whether it is available now.
	Ticket *helpdesk.Ticket
	// Right lists only this right.
	Right string
	// All lists every right, overriding the display rule.
	All bool
}

// GroupMembership is one group a user (or group) is in, directly or through
// nesting, with every chain that leads there.
type GroupMembership struct {
	Group  string  `json:"group"`
	Chains []Chain `json:"chains"`
}

// RightExplanation says whether a right is held, every path that grants it
// and, when a ticket was given and the right is an action, its availability.
type RightExplanation struct {
	Right    string             `json:"right"`
	Kind     helpdesk.RightKind `json:"kind"`
	Category helpdesk.Category  `json:"category"`
	Granted  bool               `json:"granted"`
	Paths    []Path             `json:"paths"`
	Check    *Check             `json:"check"`
}

// Explanation is everything `access explain USER` reports.
type Explanation struct {
	User   string `json:"user"`
	Name   string `json:"name"`
	Active bool   `json:"active"`
	// Note explains an unusual state, e.g. a disabled user.
	Note string `json:"note"`
	// Groups are the user's effective groups (everyone included for an
	// active user), sorted by name, each with its membership chains.
	Groups    []GroupMembership             `json:"groups"`
	Resources []helpdesk.ResourceMembership `json:"resources"`
	// Supporter is true when the user is a direct member of some resource,
	// or holds dispatcher or read-all-tickets. For other users the display
	// rule lists only all-users actions and held permissions.
	Supporter bool               `json:"supporter"`
	Role      *RoleInfo          `json:"role"`
	Rights    []RightExplanation `json:"rights"`
	// Hidden counts the rights the display rule left out (ExplainOptions.All lists them).
	Hidden int `json:"hidden"`
}

// Explain reports who login is, which groups and resources they are in and,
// per right, whether it is granted and through which paths. With a ticket it
// starts with the role and, per action, gives the first failing condition
// and its fix.
//
// Display rule: for a user who is a supporter nowhere (see
// Explanation.Supporter), only all-users actions and the permissions they
// hold are listed, unless opt.All or opt.Right is set.
func (e *Engine) Explain(login string, opt ExplainOptions) (Explanation, error) {
	if err := e.loadCatalog(); err != nil {
		return Explanation{}, err
	}
	only := -1
	if opt.Right != "" {
		_, i, err := e.right(opt.Right)
		if err != nil {
			return Explanation{}, err
		}
		only = i
	}
	n, err := e.user(login)
	if err != nil {
		return Explanation{}, err
	}
	x := Explanation{User: n.u.Login, Name: n.u.Name, Active: n.u.Active,
		Resources: n.resources, Groups: []GroupMembership{}, Rights: []RightExplanation{}}
	if x.Resources == nil {
		x.Resources = []helpdesk.ResourceMembership{}
	}
	if !n.u.Active {
		x.Note = fmt.Sprintf("%s is disabled: a disabled user holds no rights and has no role on any ticket", n.u.Login)
	}
	chains, err := e.groupChains(n.subject(), n.groups)
	if err != nil {
		return Explanation{}, err
	}
	for _, g := range sortedKeys(chains) {
		x.Groups = append(x.Groups, GroupMembership{Group: g, Chains: chains[g]})
	}
	paths, err := e.allPaths(n, chains)
	if err != nil {
		return Explanation{}, err
	}
	held := func(name string) bool {
		i, ok := e.rightIdx[name]
		return ok && len(paths[i]) > 0
	}
	x.Supporter = len(n.resources) > 0 || held(helpdesk.PermDispatcher) || held(helpdesk.PermReadAllTickets)

	var role RoleInfo
	if opt.Ticket != nil {
		if role, err = e.role(n, opt.Ticket); err != nil {
			return Explanation{}, err
		}
		x.Role = &role
	}
	for i, r := range e.catalog {
		granted := len(paths[i]) > 0
		show := only == i || (only < 0 && (opt.All || x.Supporter || r.Category == helpdesk.CatAllUsers ||
			(r.Kind == helpdesk.KindPermission && granted)))
		if !show {
			if only < 0 {
				x.Hidden++
			}
			continue
		}
		re := RightExplanation{Right: r.Name, Kind: r.Kind, Category: r.Category, Granted: granted, Paths: paths[i]}
		if re.Paths == nil {
			re.Paths = []Path{}
		}
		if opt.Ticket != nil && r.Kind == helpdesk.KindAction {
			c, err := e.available(n, opt.Ticket, role, r, i)
			if err != nil {
				return Explanation{}, err
			}
			re.Check = &c
		}
		x.Rights = append(x.Rights, re)
	}
	return x, nil
}

// groupChains lists every group above start with the chains leading there
// (at most MaxChainsPerGrant each), chains sorted shortest first.
func (e *Engine) groupChains(start helpdesk.Subject, first []string) (map[string][]Chain, error) {
	out := map[string][]Chain{}
	every := func(string) (bool, error) { return true, nil }
	err := e.walkUp(start, first, every, every,
		func(g string, chain func() Chain) error {
			out[g] = append(out[g], chain())
			return nil
		})
	for _, cs := range out {
		sortChains(cs)
	}
	return out, err
}

func sortChains(cs []Chain) {
	slices.SortStableFunc(cs, func(a, b Chain) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return compareChains(a, b)
	})
}

// allPaths computes the paths of every right at once from the user's group
// chains: one walk of the ancestry instead of one per right. The result
// equals paths(n, i) for every i.
func (e *Engine) allPaths(n *userNode, chains map[string][]Chain) (map[int][]Path, error) {
	out := map[int][]Path{}
	if !n.u.Active {
		return out, nil
	}
	add := func(s helpdesk.Subject, mk func() []Path) error {
		set, err := e.grantsOf(s)
		if err != nil {
			return err
		}
		for i := range e.catalog {
			if set.has(i) {
				out[i] = append(out[i], mk()...)
			}
		}
		return nil
	}
	if err := add(n.subject(), func() []Path {
		return []Path{{Grant: n.subject(), Chain: Chain{n.subject()}}}
	}); err != nil {
		return nil, err
	}
	for g, cs := range chains {
		gs := helpdesk.GroupSubject(g)
		if err := add(gs, func() []Path {
			ps := make([]Path, len(cs))
			for j, c := range cs {
				ps[j] = Path{Grant: gs, Chain: c}
			}
			return ps
		}); err != nil {
			return nil, err
		}
	}
	for _, m := range n.resources {
		rs := helpdesk.ResourceSubject(m.Resource)
		if err := add(rs, func() []Path {
			return []Path{{Grant: rs, Chain: Chain{rs, n.subject()}, Access: m.Access}}
		}); err != nil {
			return nil, err
		}
	}
	for _, ps := range out {
		sortPaths(ps)
	}
	return out, nil
}

// InheritedRight is a right a group receives from a group it is nested in.
type InheritedRight struct {
	Right string `json:"right"`
	Paths []Path `json:"paths"`
}

// SubjectExplanation is what `access explain group:G` or `resource:R` reports.
type SubjectExplanation struct {
	Subject     string `json:"subject"`
	Description string `json:"description"`
	// Parent is a resource's parent resource.
	Parent string `json:"parent"`
	// Granted lists the rights granted to the subject itself, in catalog order.
	Granted []string `json:"granted"`
	// Inherited lists, for a group, the rights granted to groups it is nested
	// in, with the chains. Resources inherit nothing.
	Inherited []InheritedRight `json:"inherited"`
	// Groups are, for a group, the groups it is nested in, with chains;
	// empty for a resource.
	Groups []GroupMembership `json:"groups"`
	// Members are the active users who receive the subject's rights: for a
	// group every user in it directly or through nested groups (every active
	// user for everyone), for a resource its direct members.
	Members     []string `json:"members"`
	MemberCount int      `json:"member_count"`
	// TicketMembers are, for a resource, the users who are Resource Members
	// of its tickets: its own members, or those of TicketMembersFrom, the
	// nearest ancestor with members, when it has none of its own. Empty
	// for a group.
	TicketMembers     []helpdesk.ResourceMember `json:"ticket_members"`
	TicketMembersFrom string                    `json:"ticket_members_from"`
}

// ExplainSubject explains a group or a resource (users go through Explain).
func (e *Engine) ExplainSubject(s helpdesk.Subject) (SubjectExplanation, error) {
	if err := e.loadCatalog(); err != nil {
		return SubjectExplanation{}, err
	}
	x := SubjectExplanation{Subject: s.String(), Granted: []string{}, Inherited: []InheritedRight{}, Members: []string{},
		Groups: []GroupMembership{}, TicketMembers: []helpdesk.ResourceMember{}}
	switch s.Kind {
	case helpdesk.KindGroup:
		g, ok, err := e.group(s.Name)
		if err != nil {
			return x, err
		}
		if !ok {
			all, err := e.src.Groups()
			if err != nil {
				return x, err
			}
			return x, helpdesk.NotFound("group", s.Name, all)
		}
		x.Description = g.Description
		ps, err := e.parents(s.Name)
		if err != nil {
			return x, err
		}
		chains, err := e.groupChains(s, ps)
		if err != nil {
			return x, err
		}
		inherited := map[int][]Path{}
		for _, a := range sortedKeys(chains) {
			x.Groups = append(x.Groups, GroupMembership{Group: a, Chains: chains[a]})
			set, err := e.grantsOf(helpdesk.GroupSubject(a))
			if err != nil {
				return x, err
			}
			for i := range e.catalog {
				if set.has(i) {
					for _, c := range chains[a] {
						inherited[i] = append(inherited[i], Path{Grant: helpdesk.GroupSubject(a), Chain: c})
					}
				}
			}
		}
		for i, r := range e.catalog {
			if ps := inherited[i]; len(ps) > 0 {
				sortPaths(ps)
				x.Inherited = append(x.Inherited, InheritedRight{Right: r.Name, Paths: ps})
			}
		}
	case helpdesk.KindResource:
		rn, err := e.resource(s.Name)
		if err != nil {
			return x, err
		}
		if !rn.exists {
			all, err := e.src.Resources()
			if err != nil {
				return x, err
			}
			return x, helpdesk.NotFound("resource", s.Name, all)
		}
		x.Description, x.Parent = rn.r.Description, rn.r.Parent
		res, err := e.resolve(s.Name)
		if err != nil {
			return x, err
		}
		x.TicketMembersFrom = res.From
		x.TicketMembers = append(x.TicketMembers, res.Members...)
	default:
		return x, errs.Usagef("explain %s with the user form", s).WithHint("run: deskctl access explain %s", s.Name)
	}
	set, err := e.grantsOf(s)
	if err != nil {
		return x, err
	}
	for i, r := range e.catalog {
		if set.has(i) {
			x.Granted = append(x.Granted, r.Name)
		}
	}
	users := map[string]bool{}
	if err := e.expand(s, users, map[string]bool{}); err != nil {
		return x, err
	}
	if x.Members, err = e.activeLogins(users); err != nil {
		return x, err
	}
	x.MemberCount = len(x.Members)
	return x, nil
}

// expand collects the users reached from s going down: a group's members,
// recursively (every user for everyone), a resource's direct members.
// Each group is entered once.
func (e *Engine) expand(s helpdesk.Subject, into map[string]bool, seen map[string]bool) error {
	switch s.Kind {
	case helpdesk.KindUser:
		into[s.Name] = true
	case helpdesk.KindResource:
		n, err := e.resource(s.Name)
		if err != nil {
			return err
		}
		for _, m := range n.r.Members {
			into[m.Login] = true
		}
	case helpdesk.KindGroup:
		if seen[s.Name] {
			return nil
		}
		seen[s.Name] = true
		if s.Name == helpdesk.Everyone {
			all, err := e.allLogins()
			if err != nil {
				return err
			}
			for _, l := range all {
				into[l] = true
			}
		}
		g, _, err := e.group(s.Name)
		if err != nil {
			return err
		}
		for _, m := range g.Members {
			if err := e.expand(m, into, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// activeLogins returns the known, active users of a set, sorted.
func (e *Engine) activeLogins(set map[string]bool) ([]string, error) {
	out := []string{}
	for l := range set {
		n, err := e.user(l)
		if errs.Is(err, errs.NotFound) {
			continue // a stale member reference; no such user holds anything
		}
		if err != nil {
			return nil, err
		}
		if n.u.Active {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out, nil
}
