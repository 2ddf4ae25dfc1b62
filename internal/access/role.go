package access

import (
	"fmt"
	"slices"
	"strings"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Role is the one role a user has on a ticket, or none.
type Role string

const (
	RoleNone           Role = ""
	RoleEndUser        Role = "end-user"
	RoleResourceMember Role = "resource-member"
	RoleDispatcher     Role = "dispatcher"
)

// Title is the role's name in prose: "End User", "Resource Member",
// "Dispatcher" or "no role".
func (r Role) Title() string {
	switch r {
	case RoleEndUser:
		return "End User"
	case RoleResourceMember:
		return "Resource Member"
	case RoleDispatcher:
		return "Dispatcher"
	}
	return "no role"
}

// RoleInfo is a user's role on a ticket with the reason for it.
type RoleInfo struct {
	Ticket    int  `json:"ticket"`
	Role      Role `json:"role"`
	ReadOnly  bool `json:"read_only"`
	Requester bool `json:"requester"`
	Disabled  bool `json:"disabled"`
	// Reason is one sentence for people, e.g. "Resource Member: member of
	// network-wifi's parent network (write)".
	Reason string `json:"reason"`
	// Resource is the resource whose membership gives the Resource Member
	// role: the ticket's resource, or the ancestor whose members stand in for
	// a sub-resource without members of its own.
	Resource string          `json:"resource"`
	Access   helpdesk.Access `json:"access"`
	// Permission is dispatcher or read-all-tickets when the role comes from
	// that permission, with the paths through which it is held.
	Permission string `json:"permission"`
	Paths      []Path `json:"paths"`
}

// Role returns login's role on t, following these rules in order:
//
//  1. t is a request (no resource): holding dispatcher → Dispatcher; else the
//     requester → End User; else no role.
//  2. t is authorized into R: a member of R, or of the nearest ancestor of R
//     with members when R and the resources between have none of their own,
//     → Resource Member (a requester who is such a member too is a Resource
//     Member: the creator rule); else holding read-all-tickets → Resource
//     Member; else the requester → End User; else no role. dispatcher alone
//     gives nothing here.
//  3. A Resource Member is read-only unless the membership giving the role
//     has write access, or the user holds both read-all-tickets and
//     edit-all-tickets. A read-all-tickets holder who is no write member and
//     lacks edit-all-tickets is therefore read-only.
//
// Disabled users have no role.
func (e *Engine) Role(login string, t *helpdesk.Ticket) (RoleInfo, error) {
	n, err := e.user(login)
	if err != nil {
		return RoleInfo{}, err
	}
	return e.role(n, t)
}

func (e *Engine) role(n *userNode, t *helpdesk.Ticket) (RoleInfo, error) {
	login := n.u.Login
	info := RoleInfo{Ticket: t.Number, Requester: t.Requester == login, Paths: []Path{}}
	if !n.u.Active {
		info.Disabled = true
		info.Reason = fmt.Sprintf("%s is disabled and has no role on any ticket", login)
		return info, nil
	}
	if t.Resource == "" {
		return e.requestRole(n, t, info)
	}
	res, err := e.resolve(t.Resource)
	if err != nil {
		return RoleInfo{}, err
	}
	readAll, err := e.holdsName(n, helpdesk.PermReadAllTickets)
	if err != nil {
		return RoleInfo{}, err
	}
	editAll, err := e.holdsName(n, helpdesk.PermEditAllTickets)
	if err != nil {
		return RoleInfo{}, err
	}
	editAll = editAll && readAll // edit-all-tickets counts only together with read-all-tickets

	var why []string
	if m, ok := res.member(login); ok {
		info.Role, info.Resource, info.Access = RoleResourceMember, res.From, m.Access
		why = append(why, "member of "+memberOf(res, m.Access))
		info.ReadOnly = m.Access != helpdesk.AccessWrite && !editAll
	} else if readAll {
		info.Role, info.Permission = RoleResourceMember, helpdesk.PermReadAllTickets
		if info.Paths, err = e.pathsByName(n, helpdesk.PermReadAllTickets); err != nil {
			return RoleInfo{}, err
		}
		why = append(why, fmt.Sprintf("holds %s (%s)", helpdesk.PermReadAllTickets, viaText(info.Paths)))
		info.ReadOnly = !editAll
	}
	switch {
	case info.Role == RoleResourceMember:
		if info.ReadOnly && info.Permission != "" {
			why = append(why, "read-only: no edit-all-tickets")
		} else if info.ReadOnly {
			why = append(why, "read-only: read access and no edit-all-tickets")
		} else if info.Access != helpdesk.AccessWrite {
			why = append(why, "not read-only: holds read-all-tickets and edit-all-tickets")
		}
		if info.Requester {
			why = append(why, fmt.Sprintf("also the requester of #%d, but a member acts as Resource Member (creator rule)", t.Number))
		}
		info.Reason = "Resource Member: " + strings.Join(why, "; ")
	case info.Requester:
		info.Role = RoleEndUser
		info.Reason = fmt.Sprintf("End User: requester of #%d", t.Number)
	default:
		info.Reason = fmt.Sprintf("%s is not a member of %s, does not hold read-all-tickets and is not the requester of #%d",
			login, memberOf(res, ""), t.Number)
		if res.From == "" {
			info.Reason = fmt.Sprintf("%s has no members, nor has any resource above it; %s does not hold read-all-tickets and is not the requester of #%d",
				res.Resource, login, t.Number)
			if !res.Exists {
				info.Reason = fmt.Sprintf("resource %s does not exist; %s does not hold read-all-tickets and is not the requester of #%d",
					res.Resource, login, t.Number)
			}
		}
	}
	return info, nil
}

func (e *Engine) requestRole(n *userNode, t *helpdesk.Ticket, info RoleInfo) (RoleInfo, error) {
	paths, err := e.pathsByName(n, helpdesk.PermDispatcher)
	if err != nil {
		return RoleInfo{}, err
	}
	switch {
	case len(paths) > 0:
		info.Role, info.Permission, info.Paths = RoleDispatcher, helpdesk.PermDispatcher, paths
		info.Reason = fmt.Sprintf("Dispatcher: holds dispatcher (%s) and #%d is an unauthorized request", viaText(paths), t.Number)
	case info.Requester:
		info.Role = RoleEndUser
		info.Reason = fmt.Sprintf("End User: requester of #%d", t.Number)
	default:
		info.Reason = fmt.Sprintf("#%d is an unauthorized request and %s is neither its requester nor a dispatcher", t.Number, n.u.Login)
	}
	return info, nil
}

// pathsByName is paths for a right known by name; nil when the catalog lacks it.
func (e *Engine) pathsByName(n *userNode, right string) ([]Path, error) {
	if err := e.loadCatalog(); err != nil {
		return nil, err
	}
	i, ok := e.rightIdx[right]
	if !ok {
		return []Path{}, nil
	}
	return e.paths(n, i)
}

// memberOf names the resource whose members count for the ticket's resource,
// with the access when given: "network (write)", "network-wifi's parent
// network (write)" or "network (write), the nearest resource above
// network-wifi-5g with members of its own".
func memberOf(r *resolution, access helpdesk.Access) string {
	acc := ""
	if access != "" {
		acc = " (" + string(access) + ")"
	}
	switch {
	case r.From == "" || r.From == r.Resource:
		return r.Resource + acc
	case len(r.Skipped) == 1:
		return fmt.Sprintf("%s's parent %s%s", r.Resource, r.From, acc)
	}
	return fmt.Sprintf("%s%s, the nearest resource above %s with members of its own", r.From, acc, r.Resource)
}

// Visibility is which tickets a user has a role on, in terms a ticket index
// can answer: the user's own requests, plus the parts below.
type Visibility struct {
	// None: the user is disabled and has no role on any ticket.
	None bool
	// AllAuthorized: read-all-tickets, a role on every ticket in a resource.
	AllAuthorized bool
	// Requests: dispatcher, a role on every unauthorized request.
	Requests bool
	// Resources whose tickets the user is a Resource Member of through
	// membership, sorted. Tickets of other resources (and of resources that
	// no longer exist) are seen only through the rules above.
	Resources []string
}

// Visibility works out which tickets login has a role on, following Role's
// rules: children lists a resource's direct sub-resources, which is how the
// resources whose members stand in for their sub-resources are found.
func (e *Engine) Visibility(login string, children func(parent string) []string) (Visibility, error) {
	var v Visibility
	n, err := e.user(login)
	if err != nil || !n.u.Active {
		v.None = err == nil
		return v, err
	}
	if v.AllAuthorized, err = e.holdsName(n, helpdesk.PermReadAllTickets); err != nil {
		return v, err
	}
	if v.Requests, err = e.holdsName(n, helpdesk.PermDispatcher); err != nil {
		return v, err
	}
	// From each resource the user is a member of, walk down through
	// sub-resources without members of their own; resolve confirms each.
	seen := map[string]bool{}
	todo := make([]string, 0, len(n.resources))
	for _, m := range n.resources {
		todo = append(todo, m.Resource)
	}
	for len(todo) > 0 {
		name := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[name] {
			continue
		}
		seen[name] = true
		res, err := e.resolve(name)
		if err != nil {
			return v, err
		}
		if _, ok := res.member(login); !ok {
			continue
		}
		v.Resources = append(v.Resources, name)
		for _, c := range children(name) {
			if r, err := e.resource(c); err != nil {
				return v, err
			} else if r.exists && len(r.r.Members) == 0 {
				todo = append(todo, c)
			}
		}
	}
	slices.Sort(v.Resources)
	return v, nil
}
