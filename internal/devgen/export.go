package devgen

import (
	_ "embed"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/policy"
)

// State returns m as policy data, ready for policy.Export.
func State(m *access.Memory) policy.State {
	s := policy.State{Grants: map[helpdesk.Subject][]string{}, Settings: m.Settings()}
	logins, _ := m.Users()
	for _, l := range logins {
		u, _, _ := m.User(l)
		s.Users = append(s.Users, u)
	}
	names, _ := m.Groups()
	for _, n := range names {
		g, _, _ := m.Group(n)
		s.Groups = append(s.Groups, g)
	}
	names, _ = m.Resources()
	for _, n := range names {
		r, _, _ := m.Resource(n)
		s.Resources = append(s.Resources, r)
	}
	rights, _ := m.Rights()
	for _, r := range rights {
		if !r.Builtin {
			s.Actions = append(s.Actions, r)
		}
		holders, _ := m.Holders(r.Name)
		for _, h := range holders {
			s.Grants[h] = append(s.Grants[h], r.Name)
		}
	}
	return s.Canonical()
}

// WritePolicy writes m as a YAML policy file (what `deskctl policy export`
// would print for the generated database).
func WritePolicy(path string, m *access.Memory) error {
	out, err := policy.Export(State(m), "yaml")
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}

// Rego is the permission model written for OPA (testdata/deskctl.rego): the
// same rules as the access package, over the data OPAData exports.
//
//go:embed testdata/deskctl.rego
var Rego []byte

// OPADirectory is the directory as OPA data, shaped so that Rego can look
// everything up by key: data.directory.users[login], and so on. Tickets are
// not part of it: like any policy enforcement point, deskctl would pass the
// ticket in the input of each query.
type OPADirectory struct {
	Users map[string]OPAUser `json:"users"`
	// GroupParents maps each group to the groups it is a direct member of.
	GroupParents map[string][]string    `json:"group_parents"`
	Resources    map[string]OPAResource `json:"resources"`
	// ResourceParents maps each resource to its parent (none or one), the
	// adjacency list Rego's graph functions walk.
	ResourceParents map[string][]string `json:"resource_parents"`
	Grants          OPAGrants           `json:"grants"`
	Rights          map[string]OPARight `json:"rights"`
}

// OPAUser is a user with its direct groups (everyone not included) and
// direct resource memberships.
type OPAUser struct {
	Active    bool              `json:"active"`
	Groups    []string          `json:"groups"`
	Resources map[string]string `json:"resources"` // resource → access
}

// OPAResource is a resource with its parent and direct members.
type OPAResource struct {
	Parent  string            `json:"parent"`
	Members map[string]string `json:"members"` // login → access
}

// OPAGrants lists the rights granted directly, per subject kind and name.
type OPAGrants struct {
	User     map[string][]string `json:"user"`
	Group    map[string][]string `json:"group"`
	Resource map[string][]string `json:"resource"`
}

// OPARight is a catalog entry with what availability needs.
type OPARight struct {
	Kind          string   `json:"kind"`
	Category      string   `json:"category"`
	FromStates    []string `json:"from_states"`
	RequesterOnly bool     `json:"requester_only"`
}

// OPATicket is the part of a ticket the Rego model reads.
type OPATicket struct {
	Number    int    `json:"number"`
	Requester string `json:"requester"`
	Resource  string `json:"resource"`
	State     string `json:"state"`
}

// OPAInput is one query: a user, and for availability an action and a ticket.
type OPAInput struct {
	User   string     `json:"user"`
	Action string     `json:"action,omitempty"`
	Right  string     `json:"right,omitempty"`
	Ticket *OPATicket `json:"ticket,omitempty"`
}

// TicketInput converts a ticket for an OPA input.
func TicketInput(t helpdesk.Ticket) *OPATicket {
	return &OPATicket{Number: t.Number, Requester: t.Requester, Resource: t.Resource, State: string(t.State)}
}

// OPAData returns m as OPA data: {"directory": OPADirectory}.
func OPAData(m *access.Memory) map[string]OPADirectory {
	d := OPADirectory{
		Users: map[string]OPAUser{}, GroupParents: map[string][]string{}, Resources: map[string]OPAResource{},
		ResourceParents: map[string][]string{},
		Grants:          OPAGrants{User: map[string][]string{}, Group: map[string][]string{}, Resource: map[string][]string{}},
		Rights:          map[string]OPARight{},
	}
	logins, _ := m.Users()
	for _, l := range logins {
		u, _, _ := m.User(l)
		groups, _ := m.GroupsOf(helpdesk.UserSubject(l))
		res, _ := m.ResourcesOf(l)
		ou := OPAUser{Active: u.Active, Groups: nonNil(groups), Resources: map[string]string{}}
		for _, r := range res {
			ou.Resources[r.Resource] = string(r.Access)
		}
		d.Users[l] = ou
	}
	groups, _ := m.Groups()
	for _, g := range groups {
		parents, _ := m.GroupsOf(helpdesk.GroupSubject(g))
		d.GroupParents[g] = nonNil(parents)
	}
	resources, _ := m.Resources()
	for _, name := range resources {
		r, _, _ := m.Resource(name)
		or := OPAResource{Parent: r.Parent, Members: map[string]string{}}
		for _, mem := range r.Members {
			or.Members[mem.Login] = string(mem.Access)
		}
		d.Resources[name] = or
		d.ResourceParents[name] = []string{}
		if r.Parent != "" {
			d.ResourceParents[name] = []string{r.Parent}
		}
	}
	rights, _ := m.Rights()
	for _, r := range rights {
		or := OPARight{Kind: string(r.Kind), Category: string(r.Category), FromStates: []string{}, RequesterOnly: r.RequesterOnly}
		for _, s := range r.FromStates {
			or.FromStates = append(or.FromStates, string(s))
		}
		d.Rights[r.Name] = or
		holders, _ := m.Holders(r.Name)
		for _, h := range holders {
			switch h.Kind {
			case helpdesk.KindUser:
				d.Grants.User[h.Name] = append(d.Grants.User[h.Name], r.Name)
			case helpdesk.KindGroup:
				d.Grants.Group[h.Name] = append(d.Grants.Group[h.Name], r.Name)
			case helpdesk.KindResource:
				d.Grants.Resource[h.Name] = append(d.Grants.Resource[h.Name], r.Name)
			}
		}
	}
	return map[string]OPADirectory{"directory": d}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteOPA writes deskctl.rego and data.json into dir, creating it.
func WriteOPA(dir string, m *access.Memory) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "deskctl.rego"), Rego, 0o644); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "data.json"), OPAData(m))
}

func writeJSON(path string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}
