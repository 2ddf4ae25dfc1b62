package helpdesk

import (
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

// Everyone is the built-in end-user group: every active user is implicitly a
// member. It cannot be removed and its membership cannot be edited.
const Everyone = "everyone"

// User is a registered person. Login is the stable key.
type User struct {
	Login   string    `json:"login"`
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	Active  bool      `json:"active"`
	Created time.Time `json:"created"`
	// OSLogin is the operating-system login bound to this user on the
	// server's Unix socket; "" means the same name as Login.
	OSLogin string `json:"os_login,omitempty"`
}

// EffectiveOSLogin is the OS login that authenticates as u on the socket.
func (u User) EffectiveOSLogin() string {
	if u.OSLogin != "" {
		return u.OSLogin
	}
	return u.Login
}

// Validate checks a user's fields.
func (u User) Validate() error {
	if err := ValidateLogin(u.Login); err != nil {
		return err
	}
	if err := ValidateLine("name", u.Name, 200); err != nil {
		return err
	}
	if strings.TrimSpace(u.Name) == "" {
		return errs.Usagef("user %s needs a display name", u.Login).WithHint("pass --name \"First Last\"")
	}
	if u.OSLogin != "" {
		if err := ValidateOSLogin(u.OSLogin); err != nil {
			return err
		}
	}
	return ValidateEmail(u.Email)
}

// Group is a named set of users and other groups.
type Group struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Members     []Subject `json:"members"` // users and groups, in the order added
	Created     time.Time `json:"created"`
}

// HasMember reports whether m is a direct member of g.
func (g Group) HasMember(m Subject) bool {
	for _, x := range g.Members {
		if x == m {
			return true
		}
	}
	return false
}

// Access is a resource member's level.
type Access string

const (
	AccessRead  Access = "read"
	AccessWrite Access = "write"
)

// Accesses lists every access level.
var Accesses = []Access{AccessRead, AccessWrite}

// ParseAccess reads "read" or "write".
func ParseAccess(s string) (Access, error) {
	switch Access(s) {
	case AccessRead, AccessWrite:
		return Access(s), nil
	}
	return "", errs.Usagef("invalid access %q", s).WithHint("use --access read or --access write")
}

// ResourceMember is a user's membership in a resource.
type ResourceMember struct {
	Login  string `json:"login"`
	Access Access `json:"access"`
}

// Resource is a unit tickets are authorized into (e.g. "network").
type Resource struct {
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Parent      string           `json:"parent,omitempty"`
	Members     []ResourceMember `json:"members"`
	// Approval is the resource's approval template; nil when it has none.
	Approval *ApprovalTemplate `json:"approval,omitempty"`
	Created  time.Time         `json:"created"`
}

// Member returns login's direct membership in r.
func (r Resource) Member(login string) (ResourceMember, bool) {
	for _, m := range r.Members {
		if m.Login == login {
			return m, true
		}
	}
	return ResourceMember{}, false
}

// ResourceMembership is one resource a user belongs to directly.
type ResourceMembership struct {
	Resource string `json:"resource"`
	Access   Access `json:"access"`
}

// FindGroupCycle reports the cycle that adding member m to group g would
// create, as the chain g → … → g, or nil. parents(x) returns the groups that
// list group x as a direct member.
func FindGroupCycle(g string, m Subject, members func(group string) ([]Subject, error)) ([]string, error) {
	if m.Kind != KindGroup {
		return nil, nil
	}
	if m.Name == g {
		return []string{g, g}, nil
	}
	// Search from m downwards through its member groups for g.
	type node struct {
		name string
		path []string
	}
	seen := map[string]bool{m.Name: true}
	queue := []node{{m.Name, []string{g, m.Name}}}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		ms, err := members(n.name)
		if err != nil {
			return nil, err
		}
		for _, x := range ms {
			if x.Kind != KindGroup {
				continue
			}
			path := append(append([]string(nil), n.path...), x.Name)
			if x.Name == g {
				return path, nil
			}
			if !seen[x.Name] {
				seen[x.Name] = true
				queue = append(queue, node{x.Name, path})
			}
		}
	}
	return nil, nil
}

// CycleError formats a group cycle for the user.
func CycleError(cycle []string) error {
	parts := make([]string, len(cycle))
	for i, c := range cycle {
		parts[i] = "group:" + c
	}
	return errs.Conflictf("membership would create a cycle: %s", strings.Join(parts, " → ")).
		WithHint("groups may nest to any depth but never contain themselves; remove one membership of the cycle first")
}
