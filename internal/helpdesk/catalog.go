package helpdesk

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/deskctl/deskctl/internal/errs"
)

// RightKind separates ticket actions from ticket-independent permissions.
type RightKind string

const (
	KindAction     RightKind = "action"
	KindPermission RightKind = "permission"
)

// Category groups ticket actions by the roles they admit.
type Category string

const (
	CatAllUsers       Category = "all-users"      // End Users, Resource Members, Dispatchers
	CatSupporter      Category = "supporter"      // Resource Members and Dispatchers
	CatEdit           Category = "edit"           // field edits by Resource Members and Dispatchers
	CatOrganizational Category = "organizational" // Resource Members and Dispatchers
	CatPermission     Category = "permission"     // not tied to a ticket
)

// ActionCategories lists the categories a ticket action may have.
var ActionCategories = []Category{CatAllUsers, CatSupporter, CatEdit, CatOrganizational}

// ParseCategory reads an action category.
func ParseCategory(s string) (Category, error) {
	for _, c := range ActionCategories {
		if string(c) == s {
			return c, nil
		}
	}
	return "", errs.Usagef("unknown category %q", s).WithHint("use all-users, supporter, edit or organizational")
}

// Right is a ticket action or a permission.
type Right struct {
	Name         string    `json:"name"`
	Kind         RightKind `json:"kind"`
	Category     Category  `json:"category"`
	Description  string    `json:"description"`
	FromStates   []State   `json:"from_states,omitempty"` // actions: states the action applies to
	ToState      State     `json:"to_state,omitempty"`    // actions: resulting state; "" leaves it unchanged
	RequiresText bool      `json:"requires_text"`
	Internal     bool      `json:"internal"` // its log entry is hidden from the requester
	Field        string    `json:"field,omitempty"`
	Builtin      bool      `json:"builtin"`
	// RequiresRight names a right that must be held for this one to be granted (edit-all-tickets → read-all-tickets).
	RequiresRight string `json:"requires_right,omitempty"`
	// NotForResources marks permissions that cannot be granted to resources.
	NotForResources bool `json:"not_for_resources,omitempty"`
	// RequesterOnly restricts an action to the ticket's requester (withdraw).
	RequesterOnly bool `json:"requester_only,omitempty"`
}

// AppliesIn reports whether the action applies to a ticket in state s.
func (r Right) AppliesIn(s State) bool {
	for _, x := range r.FromStates {
		if x == s {
			return true
		}
	}
	return false
}

// Permission names.
const (
	PermAdmin          = "admin"
	PermDispatcher     = "dispatcher"
	PermReadAllTickets = "read-all-tickets"
	PermEditAllTickets = "edit-all-tickets"
)

// Built-in action names used by the ticket commands.
const (
	ActComment         = "comment"
	ActReopen          = "reopen"
	ActWithdraw        = "withdraw"
	ActReply           = "reply"
	ActNote            = "note"
	ActStart           = "start"
	ActWait            = "wait"
	ActClose           = "close"
	ActAssign          = "assign"
	ActTakeOver        = "take-over"
	ActRequestApproval = "request-approval"
	ActEditSubject     = "edit-subject"
	ActEditDescription = "edit-description"
	ActEditPriority    = "edit-priority"
	ActEditCategory    = "edit-category"
	ActEditDueDate     = "edit-due-date"
	ActAuthorize       = "authorize"
	ActForward         = "forward"
	ActLink            = "link"
	ActDelete          = "delete"
)

var (
	open     = []State{StateRequest, StateNew, StateInProgress, StateWaiting}
	working  = []State{StateNew, StateInProgress, StateWaiting}
	anyState = []State{StateRequest, StateNew, StateInProgress, StateWaiting, StateClosed}
)

func action(name string, cat Category, desc string, from []State, to State, text, internal bool) Right {
	return Right{Name: name, Kind: KindAction, Category: cat, Description: desc, FromStates: from, ToState: to,
		RequiresText: text, Internal: internal, Builtin: true}
}

func edit(name, field, desc string) Right {
	r := action(name, CatEdit, desc, open, "", false, false)
	r.Field = field
	return r
}

// Builtins returns the built-in rights catalog, sorted by kind then name.
// The catalog is built once; callers get their own copy of the list.
func Builtins() []Right { return slices.Clone(builtinCatalog()) }

// Builtin looks up one built-in right by name.
func Builtin(name string) (Right, bool) {
	r, ok := builtinIndex()[name]
	return r, ok
}

var builtinCatalog = sync.OnceValue(buildBuiltins)

var builtinIndex = sync.OnceValue(func() map[string]Right {
	m := map[string]Right{}
	for _, r := range builtinCatalog() {
		m[r.Name] = r
	}
	return m
})

func buildBuiltins() []Right {
	withdraw := action(ActWithdraw, CatAllUsers, "the requester closes their own ticket", open, StateClosed, false, false)
	withdraw.RequesterOnly = true
	rs := []Right{
		action(ActComment, CatAllUsers, "add a comment everyone on the ticket can read", open, "", true, false),
		action(ActReopen, CatAllUsers, "reopen a closed ticket", []State{StateClosed}, StateNew, false, false),
		withdraw,
		action(ActReply, CatSupporter, "public answer to the requester", open, "", true, false),
		action(ActNote, CatSupporter, "internal note, technicians only", anyState, "", true, true),
		action(ActStart, CatSupporter, "start work", []State{StateNew, StateWaiting}, StateInProgress, false, false),
		action(ActWait, CatSupporter, "wait for the requester or a third party", []State{StateNew, StateInProgress}, StateWaiting, false, false),
		action(ActClose, CatSupporter, "close the ticket", working, StateClosed, false, false),
		action(ActAssign, CatSupporter, "assign to a member of the ticket's resource", working, "", false, false),
		action(ActTakeOver, CatSupporter, "assign the ticket to oneself", working, "", false, false),
		action(ActRequestApproval, CatSupporter, "ask any user to approve the ticket", working, "", false, true),
		edit(ActEditSubject, "subject", "change the subject"),
		edit(ActEditDescription, "description", "change the description"),
		edit(ActEditPriority, "priority", "change the priority"),
		edit(ActEditCategory, "category", "change the category"),
		edit(ActEditDueDate, "due", "change the due date"),
		action(ActAuthorize, CatOrganizational, "authorize a request into a resource", []State{StateRequest}, StateNew, false, false),
		action(ActForward, CatOrganizational, "forward the ticket to another resource", working, StateNew, false, false),
		action(ActLink, CatOrganizational, "relate two tickets", anyState, "", false, false),
		action(ActDelete, CatOrganizational, "delete the ticket and its approval", anyState, "", false, false),
		{Name: PermAdmin, Kind: KindPermission, Category: CatPermission, Builtin: true,
			Description: "manage directory, catalog, grants and settings; cancel approvals"},
		{Name: PermDispatcher, Kind: KindPermission, Category: CatPermission, Builtin: true, NotForResources: true,
			Description: "work requests that are not yet authorized into a resource"},
		{Name: PermReadAllTickets, Kind: KindPermission, Category: CatPermission, Builtin: true, NotForResources: true,
			Description: "be a Resource Member of every authorized ticket"},
		{Name: PermEditAllTickets, Kind: KindPermission, Category: CatPermission, Builtin: true, NotForResources: true,
			RequiresRight: PermReadAllTickets, Description: "never read-only, whatever the resource access"},
	}
	SortRights(rs)
	return rs
}

// SortRights orders actions before permissions, each by category then name.
func SortRights(rs []Right) {
	slices.SortStableFunc(rs, CompareRights)
}

// CompareRights orders rights as the catalog lists them: actions before
// permissions, then by category, then by name.
func CompareRights(a, b Right) int {
	if a.Kind != b.Kind {
		if a.Kind == KindAction {
			return -1
		}
		if b.Kind == KindAction {
			return 1
		}
		return 0
	}
	if c := cmp.Compare(categoryOrder(a.Category), categoryOrder(b.Category)); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// WithBuiltins returns the whole catalog in SortRights order: the built-in
// rights and custom, which it sorts in place. It merges the custom rights
// into the built-ins, which are sorted once per process.
func WithBuiltins(custom []Right) []Right {
	builtin := sortedBuiltins()
	SortRights(custom)
	rs := make([]Right, 0, len(builtin)+len(custom))
	for len(builtin) > 0 && len(custom) > 0 {
		if CompareRights(custom[0], builtin[0]) < 0 {
			rs, custom = append(rs, custom[0]), custom[1:]
		} else {
			rs, builtin = append(rs, builtin[0]), builtin[1:]
		}
	}
	return append(append(rs, builtin...), custom...)
}

var sortedBuiltins = sync.OnceValue(func() []Right {
	rs := Builtins()
	SortRights(rs)
	return rs
})

// categoryOrder is a category's place in the catalog; unknown ones sort first.
func categoryOrder(c Category) int {
	switch c {
	case CatAllUsers:
		return 0
	case CatSupporter:
		return 1
	case CatEdit:
		return 2
	case CatOrganizational:
		return 3
	case CatPermission:
		return 4
	}
	return 0
}

// AllUsersActions names the built-in all-users actions; init grants them to everyone.
func AllUsersActions() []string {
	var names []string
	for _, r := range Builtins() {
		if r.Category == CatAllUsers {
			names = append(names, r.Name)
		}
	}
	return names
}

// ValidateCustomAction checks an admin-defined action.
func ValidateCustomAction(r Right) error {
	if err := ValidateName("action", r.Name); err != nil {
		return err
	}
	if _, ok := Builtin(r.Name); ok {
		return errs.Conflictf("'%s' is a built-in right", r.Name).WithHint("choose another name; built-in rights cannot be redefined")
	}
	if r.Kind != KindAction {
		return errs.Usagef("custom rights must be ticket actions")
	}
	if _, err := ParseCategory(string(r.Category)); err != nil {
		return err
	}
	if len(r.FromStates) == 0 {
		return errs.Usagef("action %s applies to no state", r.Name).WithHint("pass --from-states, e.g. --from-states new,in-progress")
	}
	if r.ToState != "" {
		if _, err := ParseState(string(r.ToState)); err != nil {
			return err
		}
		if r.ToState == StateRequest {
			return errs.Usagef("an action cannot turn a ticket back into a request").WithHint("pick new, in-progress, waiting or closed")
		}
	}
	return ValidateLine("description", r.Description, 500)
}
