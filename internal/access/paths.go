package access

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Chain is a membership chain from a group (or resource) down to a member:
// [group:support, group:tier1, user:bob] says support contains tier1, which
// contains bob. In JSON and YAML it is a list of "kind:name" strings.
type Chain []helpdesk.Subject

// String renders the chain top-down with "←", users by bare login:
// "group:support ← group:tier1 ← bob".
func (c Chain) String() string {
	parts := make([]string, len(c))
	for i, s := range c {
		if s.Kind == helpdesk.KindUser {
			parts[i] = s.Name
		} else {
			parts[i] = s.String()
		}
	}
	return strings.Join(parts, " ← ")
}

func (c Chain) strings() []string {
	out := make([]string, len(c))
	for i, s := range c {
		out[i] = s.String()
	}
	return out
}

// MarshalJSON writes the chain as ["group:support", "group:tier1", "user:bob"].
func (c Chain) MarshalJSON() ([]byte, error) { return json.Marshal(c.strings()) }

// MarshalYAML writes the chain like MarshalJSON does.
func (c Chain) MarshalYAML() (any, error) { return c.strings(), nil }

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Chain) UnmarshalJSON(b []byte) error {
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return err
	}
	out := make(Chain, len(ss))
	for i, s := range ss {
		sub, err := helpdesk.ParseSubject(s, "")
		if err != nil {
			return err
		}
		out[i] = sub
	}
	*c = out
	return nil
}

// Path is one way a right reaches a user: the subject the right is granted
// to, and the membership chain from that subject down to the user. A direct
// grant has Grant == the user and a one-element Chain. A path through a
// resource carries the user's access to that resource.
type Path struct {
	Grant  helpdesk.Subject
	Chain  Chain
	Access helpdesk.Access
}

// Direct reports whether the right is granted to the user itself.
func (p Path) Direct() bool { return p.Grant.Kind == helpdesk.KindUser }

// String renders the path the way explain prints it: "direct",
// "group:everyone" (the user is a direct member of the granted group),
// "group:support ← group:tier1 ← bob" (nested groups, down to the user) or
// "resource:network (write)".
func (p Path) String() string {
	switch {
	case p.Direct():
		return "direct"
	case p.Grant.Kind == helpdesk.KindResource:
		if p.Access != "" {
			return fmt.Sprintf("%s (%s)", p.Grant, p.Access)
		}
		return p.Grant.String()
	case len(p.Chain) <= 2:
		return p.Grant.String()
	}
	return p.Chain.String()
}

type pathJSON struct {
	Grant  string          `json:"grant" yaml:"grant"`
	Chain  Chain           `json:"chain" yaml:"chain"`
	Access helpdesk.Access `json:"access" yaml:"access"`
	Text   string          `json:"text" yaml:"text"`
}

func (p Path) export() pathJSON {
	return pathJSON{Grant: p.Grant.String(), Chain: p.Chain, Access: p.Access, Text: p.String()}
}

// MarshalJSON writes {"grant": "group:support", "chain": [...], "access": "write", "text": "…"};
// access is empty except for resource paths, and text is String().
func (p Path) MarshalJSON() ([]byte, error) { return json.Marshal(p.export()) }

// MarshalYAML writes the same fields as MarshalJSON.
func (p Path) MarshalYAML() (any, error) { return p.export(), nil }

// UnmarshalJSON reads what MarshalJSON writes (text is derived, so ignored).
func (p *Path) UnmarshalJSON(b []byte) error {
	var x pathJSON
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	g, err := helpdesk.ParseSubject(x.Grant, "")
	if err != nil {
		return err
	}
	*p = Path{Grant: g, Chain: x.Chain, Access: x.Access}
	return nil
}

var kindRank = map[helpdesk.SubjectKind]int{helpdesk.KindUser: 0, helpdesk.KindGroup: 1, helpdesk.KindResource: 2}

// sortPaths orders paths: direct first, then groups, then resources; by
// granted subject, then shorter chains first.
func sortPaths(ps []Path) {
	slices.SortStableFunc(ps, func(a, b Path) int {
		if a.Grant.Kind != b.Grant.Kind {
			return kindRank[a.Grant.Kind] - kindRank[b.Grant.Kind]
		}
		if c := strings.Compare(a.Grant.Name, b.Grant.Name); c != 0 {
			return c
		}
		if len(a.Chain) != len(b.Chain) {
			return len(a.Chain) - len(b.Chain)
		}
		return compareChains(a.Chain, b.Chain)
	})
}

// compareChains orders chains element by element, each subject by kind then
// name (the order of their "kind:name" forms), without building strings.
func compareChains(a, b Chain) int {
	return slices.CompareFunc(a, b, func(x, y helpdesk.Subject) int {
		if c := strings.Compare(string(x.Kind), string(y.Kind)); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
}

// Grants returns the distinct subjects the paths name: exactly the grants
// that would have to be revoked to take the right away.
func Grants(ps []Path) []helpdesk.Subject {
	var out []helpdesk.Subject
	for _, p := range ps {
		if !slices.Contains(out, p.Grant) {
			out = append(out, p.Grant)
		}
	}
	return out
}

// walkUp enumerates the simple chains from start upward through the groups
// it is nested in. first is start's direct groups. keep decides whether to
// enter a group (a pruning hook). wanted marks the groups whose chains are
// collected: visit receives each of them with the chain from that group
// down to start (top-down, built only on request), at most
// MaxChainsPerGrant times per group.
//
// Stacked diamonds give exponentially many chains, so the walk remembers the
// groups from which a walk collected nothing: groups form no cycles, so what
// lies above a group does not depend on the way up to it, and the caps only
// fill, so such a group would give nothing again and is not entered again.
// Every walk then either collects a chain or retires a group, which bounds
// the work by the chains reported.
func (e *Engine) walkUp(start helpdesk.Subject, first []string,
	keep, wanted func(g string) (bool, error), visit func(g string, chain func() Chain) error) error {
	stack := []helpdesk.Subject{start}
	onStack := map[string]bool{}
	seen := map[string]int{} // chains visited per wanted group
	// Groups a walk from which collected nothing; on real directories it
	// stays empty until some wanted group has all its chains (keep only
	// lets in groups with a wanted group above them), so it is made lazily.
	var done map[string]bool
	collected := 0
	chain := func() Chain {
		c := make(Chain, len(stack))
		for i, s := range stack {
			c[len(stack)-1-i] = s
		}
		return c
	}
	var walk func(groups []string) error
	walk = func(groups []string) error {
		for _, g := range groups {
			if onStack[g] || done[g] {
				continue
			}
			ok, err := keep(g)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			before := collected
			stack = append(stack, helpdesk.GroupSubject(g))
			onStack[g] = true
			if seen[g] < MaxChainsPerGrant {
				w, err := wanted(g)
				if err != nil {
					return err
				}
				if w {
					seen[g]++
					collected++
					if err := visit(g, chain); err != nil {
						return err
					}
				}
			}
			ps, err := e.parents(g)
			if err != nil {
				return err
			}
			if err := walk(ps); err != nil {
				return err
			}
			stack = stack[:len(stack)-1]
			onStack[g] = false
			if collected == before {
				if done == nil {
					done = map[string]bool{}
				}
				done[g] = true
			}
		}
		return nil
	}
	return walk(first)
}

// paths lists every way right idx reaches user n.
func (e *Engine) paths(n *userNode, idx int) ([]Path, error) {
	if !n.u.Active {
		return []Path{}, nil
	}
	out := []Path{}
	own, err := e.grantsOf(n.subject())
	if err != nil {
		return nil, err
	}
	if own.has(idx) {
		out = append(out, Path{Grant: n.subject(), Chain: Chain{n.subject()}})
	}
	err = e.walkUp(n.subject(), n.groups,
		func(g string) (bool, error) { // only groups that lead to a grant
			c, err := e.closure(g)
			return c.has(idx), err
		},
		func(g string) (bool, error) {
			gs, err := e.grantsOf(helpdesk.GroupSubject(g))
			return gs.has(idx), err
		},
		func(g string, chain func() Chain) error {
			out = append(out, Path{Grant: helpdesk.GroupSubject(g), Chain: chain()})
			return nil
		})
	if err != nil {
		return nil, err
	}
	for _, m := range n.resources {
		rs := helpdesk.ResourceSubject(m.Resource)
		set, err := e.grantsOf(rs)
		if err != nil {
			return nil, err
		}
		if set.has(idx) {
			out = append(out, Path{Grant: rs, Chain: Chain{rs, n.subject()}, Access: m.Access})
		}
	}
	sortPaths(out)
	return out, nil
}

// Paths lists every way right reaches login: direct, through each chain of
// nested groups (diamonds give one path per chain), through each resource
// the user is a direct member of. Empty when the right is not held, and
// always empty for a disabled user.
func (e *Engine) Paths(login, right string) ([]Path, error) {
	_, idx, err := e.right(right)
	if err != nil {
		return nil, err
	}
	n, err := e.user(login)
	if err != nil {
		return nil, err
	}
	return e.paths(n, idx)
}

// Holds reports whether login holds right. It reads only the user, the
// groups above the user and the grants of those subjects.
func (e *Engine) Holds(login, right string) (bool, error) {
	_, idx, err := e.right(right)
	if err != nil {
		return false, err
	}
	n, err := e.user(login)
	if err != nil {
		return false, err
	}
	return e.holds(n, idx)
}

// Can answers `access can`: with a ticket, whether the action is available
// on it (see Available); without one, whether the right is held at all.
func (e *Engine) Can(login, right string, t *helpdesk.Ticket) (Check, error) {
	if t != nil {
		return e.Available(login, t, right)
	}
	r, idx, err := e.right(right)
	if err != nil {
		return Check{}, err
	}
	n, err := e.user(login)
	if err != nil {
		return Check{}, err
	}
	c := Check{Action: r.Name}
	if !n.u.Active {
		return disabledCheck(c, n), nil
	}
	if c.Paths, err = e.paths(n, idx); err != nil {
		return Check{}, err
	}
	c.Granted = len(c.Paths) > 0
	if !c.Granted {
		c.Condition = CondNotGranted
		c.Reason = fmt.Sprintf("%s does not hold %s", n.u.Login, r.Name)
		c.Fix = grantFix(r.Name, n)
		return c, nil
	}
	c.Available, c.Condition = true, CondAvailable
	c.Reason = fmt.Sprintf("%s holds %s (%s)", n.u.Login, r.Name, viaText(c.Paths))
	return c, nil
}

// viaText renders paths for a sentence: "via group:tier1, granted directly".
func viaText(ps []Path) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		if p.Direct() {
			parts[i] = "granted directly"
		} else {
			parts[i] = "via " + p.String()
		}
	}
	return strings.Join(parts, ", ")
}

func grantFix(right string, n *userNode) string {
	return fmt.Sprintf("deskctl access grant %s --to %s", right, fixTarget(n))
}

func disabledCheck(c Check, n *userNode) Check {
	c.Condition = CondUserDisabled
	c.Reason = fmt.Sprintf("%s is disabled; a disabled user holds no rights and has no role on any ticket", n.u.Login)
	c.Fix = "deskctl user enable " + n.u.Login
	if c.Paths == nil {
		c.Paths = []Path{}
	}
	return c
}

// notAction is the usage error for a permission passed where a ticket action belongs.
func notAction(r helpdesk.Right) error {
	return errs.Usagef("%s is a permission, not a ticket action", r.Name).
		WithHint("ticket questions take actions; see deskctl action list")
}
