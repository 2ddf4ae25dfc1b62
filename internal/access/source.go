// Package access is deskctl's permission engine: which rights a user holds and
// through which paths, which role a user has on a ticket, and whether a ticket
// action is available. It reads the directory and grants through Source, so
// the same engine answers for a database transaction (internal/store) and for
// an in-memory policy model (internal/policy). It does no I/O of its own.
package access

import "github.com/deskctl/deskctl/internal/helpdesk"

// Source is the read-only view of directory, catalog and grants the engine
// needs. Implementations read lazily: the engine asks only for what a
// question needs, so one `can` touches a handful of records, not the whole
// directory. Lists are returned sorted by name.
type Source interface {
	// User returns the user with login; ok is false when there is none.
	User(login string) (u helpdesk.User, ok bool, err error)
	// Users lists every login.
	Users() ([]string, error)
	// GroupsOf lists the groups that name m (a user or a group) as a direct
	// member. The implicit membership of active users in "everyone" is not
	// included; the engine adds it.
	GroupsOf(m helpdesk.Subject) ([]string, error)
	// Group returns the group; ok is false when there is none.
	Group(name string) (g helpdesk.Group, ok bool, err error)
	// Groups lists every group name, "everyone" included.
	Groups() ([]string, error)
	// Resource returns the resource with its direct members; ok is false when there is none.
	Resource(name string) (r helpdesk.Resource, ok bool, err error)
	// Resources lists every resource name.
	Resources() ([]string, error)
	// ResourcesOf lists the resources login is a direct member of.
	ResourcesOf(login string) ([]helpdesk.ResourceMembership, error)
	// Grants lists the rights granted directly to s.
	Grants(s helpdesk.Subject) ([]string, error)
	// Holders lists the subjects the right is granted to directly.
	Holders(right string) ([]helpdesk.Subject, error)
	// Right returns a right from the catalog (built-in or custom); ok is false when there is none.
	Right(name string) (r helpdesk.Right, ok bool, err error)
	// Rights lists the whole catalog in helpdesk.SortRights order.
	Rights() ([]helpdesk.Right, error)
	// Setting returns a stored helpdesk setting (approvals.enabled is a
	// condition of availability); ok is false when it is not set.
	Setting(key string) (value string, ok bool)
	// Approval returns the approval record of a ticket (approvals.gate-actions
	// holds actions back while it is pending or rejected); ok is false when
	// the ticket has none.
	Approval(ticket int) (a helpdesk.Approval, ok bool, err error)
}
