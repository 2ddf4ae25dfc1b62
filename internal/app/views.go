package app

import (
	"strconv"
	"time"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// The view types below are deskctl's documented JSON/YAML output. Their
// field names are a stable contract (docs/json.md); storage records may
// change without changing them.

// UserView is a user as printed.
type UserView struct {
	Login   string    `json:"login"`
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	Active  bool      `json:"active"`
	Created time.Time `json:"created"`
	// OSLogin is set when the user is bound to an OS login other than
	// their own name (the server's Unix socket).
	OSLogin string `json:"os_login"`
}

func userView(u helpdesk.User) UserView {
	return UserView{u.Login, u.Name, u.Email, u.Active, u.Created, u.OSLogin}
}

// GroupView is a group as printed; members are "user:x" / "group:y".
type GroupView struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Members     []string  `json:"members"`
	Created     time.Time `json:"created"`
}

func groupView(g helpdesk.Group) GroupView {
	ms := make([]string, len(g.Members))
	for i, m := range g.Members {
		ms[i] = m.String()
	}
	return GroupView{g.Name, g.Description, ms, g.Created}
}

// ResourceMember is a resource membership as printed.
type ResourceMember struct {
	Login  string `json:"login"`
	Access string `json:"access"`
}

// ResourceView is a resource as printed.
type ResourceView struct {
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Parent      string           `json:"parent"`
	Members     []ResourceMember `json:"members"`
	Created     time.Time        `json:"created"`
}

func memberViews(ms []helpdesk.ResourceMember) []ResourceMember {
	out := make([]ResourceMember, len(ms))
	for i, m := range ms {
		out[i] = ResourceMember{m.Login, string(m.Access)}
	}
	return out
}

func resourceView(r helpdesk.Resource) ResourceView {
	return ResourceView{r.Name, r.Description, r.Parent, memberViews(r.Members), r.Created}
}

func itoa(n int) string { return strconv.Itoa(n) }

// OptTime is a time that may be unset: zero prints as null, never as the
// year 1, and reads back from null as zero.
type OptTime struct{ time.Time }

// MarshalJSON writes null for the zero time, else an RFC 3339 time.
func (t OptTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return t.Time.MarshalJSON()
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *OptTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = OptTime{}
		return nil
	}
	return t.Time.UnmarshalJSON(b)
}

// RightView is a ticket action or permission as printed.
type RightView struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Category    string `json:"category"`
	Description string `json:"description"`
	// FromStates and ToState are for actions: the states the action applies
	// to and the one it leads to ("" leaves the state as it is).
	FromStates   []string `json:"from_states"`
	ToState      string   `json:"to_state"`
	RequiresText bool     `json:"requires_text"`
	Internal     bool     `json:"internal"`
	// Field is the ticket field an edit action changes.
	Field           string `json:"field"`
	Builtin         bool   `json:"builtin"`
	RequiresRight   string `json:"requires_right"`
	NotForResources bool   `json:"not_for_resources"`
	RequesterOnly   bool   `json:"requester_only"`
}

// RightViews converts catalog entries for printing.
func RightViews(rs []helpdesk.Right) []RightView {
	out := make([]RightView, len(rs))
	for i, r := range rs {
		states := make([]string, len(r.FromStates))
		for j, s := range r.FromStates {
			states[j] = string(s)
		}
		out[i] = RightView{r.Name, string(r.Kind), string(r.Category), r.Description, states, string(r.ToState),
			r.RequiresText, r.Internal, r.Field, r.Builtin, r.RequiresRight, r.NotForResources, r.RequesterOnly}
	}
	return out
}

// RightDetail is `action show`: the right and the subjects it is granted
// to directly.
type RightDetail struct {
	RightView
	GrantedTo []string `json:"granted_to"`
}
