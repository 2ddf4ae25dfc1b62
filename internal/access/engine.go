package access

import (
	"slices"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// MaxChainsPerGrant bounds how many membership chains are reported from one
// granted subject to one user. Real directories stay far below it; it only
// keeps a pathological group graph (many diamonds stacked on each other) from
// producing an exponential answer. Every granted subject is still reported,
// so the set of grants to revoke stays exact.
const MaxChainsPerGrant = 64

// Engine answers permission questions over one Source. A Source is a
// consistent snapshot, so the Engine memoizes what it reads (users, group
// parents, grants, per-group right closures, resource member resolution) for
// its lifetime: the first question about a user reads that user's ancestry,
// later questions reuse it, and Matrix or WhoCan over thousands of users walk
// each group once.
//
// An Engine is not safe for concurrent use. Create one per snapshot (one per
// read transaction); it must not outlive changes to its Source.
type Engine struct {
	src Source

	catalog  []helpdesk.Right
	rightIdx map[string]int

	users     map[string]*userNode
	groups    map[string]*groupNode
	resources map[string]*resourceNode
	grants    map[helpdesk.Subject]rightSet
	logins    []string
	// approvals caches approvals.enabled: nil until first read.
	approvals *bool
	// gates caches approvals.gate-actions: nil until first read.
	gates map[string]bool
	// ticketApprovals caches approval records by ticket number.
	ticketApprovals map[int]approvalRecord
}

type approvalRecord struct {
	a  helpdesk.Approval
	ok bool
}

// New returns an Engine reading src.
func New(src Source) *Engine {
	return &Engine{
		src: src,
		// Sized for one user's question (tens of groups); Matrix and
		// WhoCan grow them as they go.
		users:     make(map[string]*userNode, 4),
		groups:    make(map[string]*groupNode, 64),
		resources: make(map[string]*resourceNode, 4),
		grants:    make(map[helpdesk.Subject]rightSet, 64),
	}
}

type userNode struct {
	u         helpdesk.User
	groups    []string // direct groups, everyone included when active
	explicit  []string // direct groups as recorded (no implicit everyone)
	resources []helpdesk.ResourceMembership
	rights    rightSet
	rightsOK  bool
}

func (n *userNode) subject() helpdesk.Subject { return helpdesk.UserSubject(n.u.Login) }

type closureState uint8

const (
	closureNone closureState = iota
	closureBusy              // on the recursion stack; only a cycle finds it here
	closureDone
)

type groupNode struct {
	parents   []string
	parentsOK bool
	closure   rightSet // rights granted to the group or any group it is nested in
	state     closureState
	group     helpdesk.Group
	exists    bool
	groupOK   bool
}

type resourceNode struct {
	r      helpdesk.Resource
	exists bool
	res    *resolution
}

// rightSet is a bit set over catalog indexes.
type rightSet []uint64

func (s rightSet) has(i int) bool {
	w := i / 64
	return w < len(s) && s[w]&(1<<(uint(i)%64)) != 0
}

func (s *rightSet) add(i int) {
	for len(*s) <= i/64 {
		*s = append(*s, 0)
	}
	(*s)[i/64] |= 1 << (uint(i) % 64)
}

func (s *rightSet) union(o rightSet) {
	for len(*s) < len(o) {
		*s = append(*s, 0)
	}
	for i, w := range o {
		(*s)[i] |= w
	}
}

func (e *Engine) loadCatalog() error {
	if e.rightIdx != nil {
		return nil
	}
	rs, err := e.src.Rights()
	if err != nil {
		return err
	}
	e.catalog = rs
	e.rightIdx = make(map[string]int, len(rs))
	for i, r := range rs {
		e.rightIdx[r.Name] = i
	}
	return nil
}

// right looks a right up in the catalog; unknown names give a not-found
// error with suggestions.
func (e *Engine) right(name string) (helpdesk.Right, int, error) {
	if err := e.loadCatalog(); err != nil {
		return helpdesk.Right{}, 0, err
	}
	i, ok := e.rightIdx[name]
	if !ok {
		names := make([]string, len(e.catalog))
		for j, r := range e.catalog {
			names[j] = r.Name
		}
		return helpdesk.Right{}, 0, helpdesk.NotFound("right", name, names)
	}
	return e.catalog[i], i, nil
}

func (e *Engine) allLogins() ([]string, error) {
	if e.logins == nil {
		ls, err := e.src.Users()
		if err != nil {
			return nil, err
		}
		e.logins = ls
	}
	return e.logins, nil
}

// user loads a user with its direct groups and resources.
func (e *Engine) user(login string) (*userNode, error) {
	if n, ok := e.users[login]; ok {
		if n == nil {
			return nil, e.unknownUser(login)
		}
		return n, nil
	}
	u, ok, err := e.src.User(login)
	if err != nil {
		return nil, err
	}
	if !ok {
		e.users[login] = nil
		return nil, e.unknownUser(login)
	}
	n := &userNode{u: u}
	if n.explicit, err = e.src.GroupsOf(n.subject()); err != nil {
		return nil, err
	}
	n.groups = n.explicit
	if u.Active && !slices.Contains(n.explicit, helpdesk.Everyone) {
		n.groups = append(slices.Clone(n.explicit), helpdesk.Everyone)
		slices.Sort(n.groups)
	}
	if n.resources, err = e.src.ResourcesOf(login); err != nil {
		return nil, err
	}
	e.users[login] = n
	return n, nil
}

func (e *Engine) unknownUser(login string) error {
	all, err := e.allLogins()
	if err != nil {
		return err
	}
	return helpdesk.NotFound("user", login, all)
}

func (e *Engine) groupNode(name string) *groupNode {
	n := e.groups[name]
	if n == nil {
		n = &groupNode{}
		e.groups[name] = n
	}
	return n
}

// parents lists the groups that name group g as a direct member.
func (e *Engine) parents(g string) ([]string, error) {
	n := e.groupNode(g)
	if !n.parentsOK {
		ps, err := e.src.GroupsOf(helpdesk.GroupSubject(g))
		if err != nil {
			return nil, err
		}
		n.parents, n.parentsOK = ps, true
	}
	return n.parents, nil
}

// group reads a group record.
func (e *Engine) group(name string) (helpdesk.Group, bool, error) {
	n := e.groupNode(name)
	if !n.groupOK {
		g, ok, err := e.src.Group(name)
		if err != nil {
			return helpdesk.Group{}, false, err
		}
		n.group, n.exists, n.groupOK = g, ok, true
	}
	return n.group, n.exists, nil
}

// grantsOf returns the rights granted directly to s. Names missing from the
// catalog are ignored: no such right can be held.
func (e *Engine) grantsOf(s helpdesk.Subject) (rightSet, error) {
	if g, ok := e.grants[s]; ok {
		return g, nil
	}
	if err := e.loadCatalog(); err != nil {
		return nil, err
	}
	names, err := e.src.Grants(s)
	if err != nil {
		return nil, err
	}
	var set rightSet
	for _, name := range names {
		if i, ok := e.rightIdx[name]; ok {
			set.add(i)
		}
	}
	e.grants[s] = set
	return set, nil
}

// closure returns the rights a member of group g receives through g: those
// granted to g or to any group g is nested in. Memoized per group, so a walk
// over many users visits each group once. Groups never form cycles (the
// store and policy validation refuse them); should one slip through, the
// walk still ends.
func (e *Engine) closure(g string) (rightSet, error) {
	n := e.groupNode(g)
	switch n.state {
	case closureDone:
		return n.closure, nil
	case closureBusy:
		return nil, nil
	}
	n.state = closureBusy
	own, err := e.grantsOf(helpdesk.GroupSubject(g))
	if err != nil {
		n.state = closureNone
		return nil, err
	}
	c := slices.Clone(own)
	ps, err := e.parents(g)
	if err != nil {
		n.state = closureNone
		return nil, err
	}
	for _, p := range ps {
		pc, err := e.closure(p)
		if err != nil {
			n.state = closureNone
			return nil, err
		}
		c.union(pc)
	}
	n.closure, n.state = c, closureDone
	return c, nil
}

// userRights is the set of rights the user holds; empty for disabled users.
func (e *Engine) userRights(n *userNode) (rightSet, error) {
	if n.rightsOK {
		return n.rights, nil
	}
	var set rightSet
	if n.u.Active {
		own, err := e.grantsOf(n.subject())
		if err != nil {
			return nil, err
		}
		set.union(own)
		for _, g := range n.groups {
			c, err := e.closure(g)
			if err != nil {
				return nil, err
			}
			set.union(c)
		}
		for _, m := range n.resources {
			rs, err := e.grantsOf(helpdesk.ResourceSubject(m.Resource))
			if err != nil {
				return nil, err
			}
			set.union(rs)
		}
	}
	n.rights, n.rightsOK = set, true
	return set, nil
}

func (e *Engine) holds(n *userNode, idx int) (bool, error) {
	set, err := e.userRights(n)
	if err != nil {
		return false, err
	}
	return set.has(idx), nil
}

// holdsName is holds for a catalog right known by name; a right missing
// from the catalog is simply not held.
func (e *Engine) holdsName(n *userNode, right string) (bool, error) {
	if err := e.loadCatalog(); err != nil {
		return false, err
	}
	i, ok := e.rightIdx[right]
	if !ok {
		return false, nil
	}
	return e.holds(n, i)
}

func (e *Engine) resource(name string) (*resourceNode, error) {
	if n, ok := e.resources[name]; ok {
		return n, nil
	}
	r, ok, err := e.src.Resource(name)
	if err != nil {
		return nil, err
	}
	n := &resourceNode{r: r, exists: ok}
	e.resources[name] = n
	return n, nil
}

// resolution says whose members count as Resource Members for tickets of a
// resource: the resource's own members, or, when it has none, those of the
// nearest ancestor that has some.
type resolution struct {
	Exists   bool     // the ticket's resource exists
	From     string   // resource whose members count; "" when no resource up the chain has members
	Skipped  []string // the ticket's resource and ancestors without own members, below From
	Members  []helpdesk.ResourceMember
	Resource string // the ticket's resource
}

func (e *Engine) resolve(name string) (*resolution, error) {
	start, err := e.resource(name)
	if err != nil {
		return nil, err
	}
	if start.res != nil {
		return start.res, nil
	}
	res := &resolution{Resource: name, Exists: start.exists}
	seen := map[string]bool{}
	for cur := name; cur != "" && !seen[cur]; {
		seen[cur] = true
		n, err := e.resource(cur)
		if err != nil {
			return nil, err
		}
		if !n.exists {
			break
		}
		if len(n.r.Members) > 0 {
			res.From, res.Members = cur, n.r.Members
			break
		}
		res.Skipped = append(res.Skipped, cur)
		cur = n.r.Parent
	}
	start.res = res
	return res, nil
}

func (r *resolution) member(login string) (helpdesk.ResourceMember, bool) {
	for _, m := range r.Members {
		if m.Login == login {
			return m, true
		}
	}
	return helpdesk.ResourceMember{}, false
}

// fixTarget is the subject a "grant …" fix names: the first group the user is
// explicitly in (so the fix follows how the directory is organised), or the
// user itself.
func fixTarget(n *userNode) string {
	for _, g := range n.explicit {
		if g != helpdesk.Everyone {
			return "group:" + g
		}
	}
	return "user:" + n.u.Login
}
