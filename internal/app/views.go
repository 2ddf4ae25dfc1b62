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
	OSLogin string `json:"os_login,omitempty"`
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
