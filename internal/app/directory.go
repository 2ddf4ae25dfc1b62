package app

import (
	"slices"
	"sort"
	"strings"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// InitInput creates a database with its first administrator.
type InitInput struct {
	Admin, Email, Name string
}

// Init creates the database, the everyone group with the all-users actions,
// and the first administrator, all in one transaction. It refuses to touch
// an existing database, except one with no users at all: an empty bbolt file
// or one whose init was interrupted, which it completes.
func (s *Service) Init(in InitInput) (UserView, error) {
	u := helpdesk.User{Login: in.Admin, Name: in.Name, Email: in.Email, Active: true, Created: s.now()}
	if u.Name == "" {
		u.Name = in.Admin
	}
	if err := u.Validate(); err != nil {
		return UserView{}, err
	}
	fill := func(tx *store.Tx) error {
		c := &Ctx{Tx: tx, Actor: u, Now: u.Created, command: "init", id: identity{via: helpdesk.ViaFile}}
		if s.OSUser != nil {
			c.id.osUser = s.OSUser()
		}
		if err := tx.PutUser(u); err != nil {
			return err
		}
		if err := tx.PutGroup(helpdesk.Group{Name: helpdesk.Everyone, Description: "every active user (end users)", Created: u.Created}); err != nil {
			return err
		}
		if err := tx.Grant(helpdesk.GroupSubject(helpdesk.Everyone), helpdesk.AllUsersActions()...); err != nil {
			return err
		}
		if err := tx.Grant(helpdesk.UserSubject(u.Login), helpdesk.PermAdmin); err != nil {
			return err
		}
		return c.Audit("database", nil, map[string]any{
			"admin": u.Login, "everyone": helpdesk.AllUsersActions(), "schema": store.SchemaVersion,
		})
	}
	db, err := store.Create(s.DBPath, s.LockTimeout, fill)
	if err == nil {
		db.Close()
		return userView(u), nil
	}
	if !errs.Is(err, errs.Conflict) {
		return UserView{}, err
	}
	// The file exists: complete it if nobody was ever added to it.
	exists := err
	db, err = s.open(false)
	if err != nil {
		return UserView{}, exists
	}
	defer db.Close()
	err = db.Update(func(tx *store.Tx) error {
		users, err := tx.AllUsers()
		if err != nil {
			return err
		}
		if len(users) > 0 || tx.AuditSequence() > 0 {
			return exists
		}
		if _, ok, err := tx.Group(helpdesk.Everyone); err != nil || ok {
			if err == nil {
				err = exists
			}
			return err
		}
		return fill(tx)
	})
	return userView(u), err
}

// --- users ---

// UserInput is a new user or changes to one ("" keeps a field as it is).
type UserInput struct {
	Login, Name, Email string
	// OSLogin binds the user to an OS login on the server's socket.
	OSLogin string
}

// bindOSLogin sets u's OS login, refusing one that already stands for
// another user (bound explicitly, or that user's own name by default).
func bindOSLogin(tx *store.Tx, u *helpdesk.User, osLogin string) error {
	if osLogin == "" {
		return nil
	}
	if osLogin == u.Login {
		osLogin = "" // the default binding
	}
	u.OSLogin = osLogin
	if osLogin == "" {
		return nil
	}
	if err := helpdesk.ValidateOSLogin(osLogin); err != nil {
		return err
	}
	if other, ok, err := tx.UserByOSLogin(osLogin); err != nil {
		return err
	} else if ok && other.Login != u.Login {
		return errs.Conflictf("OS login %s already belongs to user %s", osLogin, other.Login).
			WithHint("bind %s elsewhere first: deskctl user update %s --os-login OTHER", other.Login, other.Login)
	}
	return nil
}

func (s *Service) AddUser(in UserInput) (UserView, error) {
	var out UserView
	_, err := s.write("user add", func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		u := helpdesk.User{Login: in.Login, Name: in.Name, Email: in.Email, Active: true, Created: c.Now}
		if u.Name == "" {
			u.Name = in.Login
		}
		if err := u.Validate(); err != nil {
			return err
		}
		if err := bindOSLogin(c.Tx, &u, in.OSLogin); err != nil {
			return err
		}
		if _, ok, err := c.Tx.User(u.Login); err != nil {
			return err
		} else if ok {
			return errs.Conflictf("user %s already exists", u.Login).WithHint("change it with: deskctl user update %s", u.Login)
		}
		if err := c.Tx.PutUser(u); err != nil {
			return err
		}
		out = userView(u)
		return c.Audit("user:"+u.Login, nil, out)
	})
	return out, err
}

func (s *Service) UpdateUser(in UserInput) (UserView, error) {
	var out UserView
	_, err := s.write("user update", func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		u, err := mustUser(c.Tx, in.Login)
		if err != nil {
			return err
		}
		before := userView(u)
		if in.Name != "" {
			u.Name = in.Name
		}
		if in.Email != "" {
			u.Email = in.Email
		}
		if err := u.Validate(); err != nil {
			return err
		}
		if err := bindOSLogin(c.Tx, &u, in.OSLogin); err != nil {
			return err
		}
		out = userView(u)
		if out == before {
			return errNothingToWrite
		}
		if err := c.Tx.PutUser(u); err != nil {
			return err
		}
		return c.Audit("user:"+u.Login, before, out)
	})
	return out, err
}

// SetUserActive disables or enables a user.
func (s *Service) SetUserActive(login string, active bool) (UserView, error) {
	cmd := "user enable"
	if !active {
		cmd = "user disable"
	}
	var out UserView
	_, err := s.write(cmd, func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		u, err := mustUser(c.Tx, login)
		if err != nil {
			return err
		}
		before := userView(u)
		if u.Active == active {
			out = before
			return errNothingToWrite
		}
		u.Active = active
		if err := c.Tx.PutUser(u); err != nil {
			return err
		}
		if !active {
			if err := requireActiveAdmin(c); err != nil {
				return err
			}
		}
		out = userView(u)
		return c.Audit("user:"+u.Login, before, out)
	})
	return out, err
}

// RemoveUser deletes a user nothing refers to; otherwise it explains why and
// suggests disabling.
func (s *Service) RemoveUser(login string) error {
	_, err := s.write("user remove", func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		u, err := mustUser(c.Tx, login)
		if err != nil {
			return err
		}
		if reason := userReferences(c.Tx, login); reason != "" {
			return errs.Conflictf("user %s cannot be removed: %s", login, reason).
				WithHint("disable the account instead: deskctl user disable %s", login)
		}
		// The record shows what went with the user: memberships and grants.
		before := userDetail(c.Tx, u)
		if err := c.Tx.DeleteUser(login); err != nil {
			return err
		}
		if err := requireActiveAdmin(c); err != nil {
			return err
		}
		return c.Audit("user:"+login, before, nil)
	})
	return err
}

func userReferences(tx *store.Tx, login string) string {
	var refs []string
	for _, q := range []store.TicketQuery{{Requester: login}, {Assignee: login}} {
		found := 0
		_ = tx.EachTicket(q, func(t helpdesk.Ticket) (bool, error) {
			found = t.Number
			return false, nil
		})
		if found > 0 {
			refs = append(refs, "tickets refer to them (e.g. #"+itoa(found)+")")
			break
		}
	}
	if n, ok := tx.ActedOnTicket(login); ok && len(refs) == 0 {
		refs = append(refs, "ticket logs name them (e.g. #"+itoa(n)+")")
	}
	approvals, _ := tx.Approvals()
	for _, a := range approvals {
		if a.Approver == login || a.RequestedBy == login || a.DecidedBy == login || a.OnBehalfOf == login {
			refs = append(refs, "the approval of #"+itoa(a.Ticket)+" refers to them")
			break
		}
	}
	if ds, _ := tx.Delegations(); len(ds) > 0 {
		for _, d := range ds {
			if d.Delegate == login {
				refs = append(refs, "they are "+d.User+"'s delegate for approvals (clear it: deskctl approval delegate "+d.User+" --clear)")
				break
			}
		}
	}
	return strings.Join(refs, "; ")
}

// requireActiveAdmin refuses a change that leaves no active administrator.
func requireActiveAdmin(c *Ctx) error {
	// A fresh engine: c.Engine has memoized the directory as it was before
	// this use case changed it.
	holders, err := access.New(c.Tx).WhoCan(helpdesk.PermAdmin, nil)
	if err != nil {
		return err
	}
	if len(holders) == 0 {
		return errs.Conflictf("this change would leave no active administrator").
			WithHint("grant admin to someone else first: deskctl access grant admin --to user:LOGIN")
	}
	return nil
}

func (s *Service) ListUsers() ([]UserView, error) {
	var out []UserView
	err := s.readAnon(func(tx *store.Tx) error {
		us, err := tx.AllUsers()
		for _, u := range us {
			out = append(out, userView(u))
		}
		return err
	})
	return out, err
}

// UserDetail is a user with their memberships.
type UserDetail struct {
	UserView
	Groups    []string             `json:"groups"`
	Resources []ResourceMembership `json:"resources"`
	Rights    []string             `json:"direct_rights"`
}

// ResourceMembership is a user's direct membership in a resource.
type ResourceMembership struct {
	Resource string `json:"resource"`
	Access   string `json:"access"`
}

func (s *Service) ShowUser(login string) (UserDetail, error) {
	var out UserDetail
	err := s.readAnon(func(tx *store.Tx) error {
		u, err := mustUser(tx, login)
		if err != nil {
			return err
		}
		out = userDetail(tx, u)
		return nil
	})
	return out, err
}

// userDetail is a user with their direct memberships and grants.
func userDetail(tx *store.Tx, u helpdesk.User) UserDetail {
	out := UserDetail{UserView: userView(u)}
	out.Groups, _ = tx.GroupsOf(helpdesk.UserSubject(u.Login))
	out.Groups = nonNil(out.Groups)
	rs, _ := tx.ResourcesOf(u.Login)
	out.Resources = []ResourceMembership{}
	for _, r := range rs {
		out.Resources = append(out.Resources, ResourceMembership{r.Resource, string(r.Access)})
	}
	out.Rights, _ = tx.Grants(helpdesk.UserSubject(u.Login))
	out.Rights = nonNil(out.Rights)
	return out
}

func mustUser(tx *store.Tx, login string) (helpdesk.User, error) {
	if err := helpdesk.ValidateLogin(login); err != nil {
		return helpdesk.User{}, err
	}
	u, ok, err := tx.User(login)
	if err != nil || ok {
		return u, err
	}
	all, _ := tx.Users()
	return u, helpdesk.NotFound("user", login, all)
}

// --- groups ---

func (s *Service) AddGroup(name, description string) (GroupView, error) {
	var out GroupView
	_, err := s.write("group add", func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		if err := helpdesk.ValidateName("group", name); err != nil {
			return err
		}
		if err := helpdesk.ValidateLine("description", description, 500); err != nil {
			return err
		}
		if _, ok, err := c.Tx.Group(name); err != nil {
			return err
		} else if ok {
			return errs.Conflictf("group %s already exists", name)
		}
		g := helpdesk.Group{Name: name, Description: description, Created: c.Now}
		if err := c.Tx.PutGroup(g); err != nil {
			return err
		}
		out = groupView(g)
		return c.Audit("group:"+name, nil, out)
	})
	return out, err
}

func (s *Service) RemoveGroup(name string) error {
	_, err := s.write("group remove", func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		if name == helpdesk.Everyone {
			return errs.Conflictf("the everyone group is built in and cannot be removed")
		}
		g, err := mustGroup(c.Tx, name)
		if err != nil {
			return err
		}
		grants, _ := c.Tx.Grants(helpdesk.GroupSubject(name))
		parents, _ := c.Tx.GroupsOf(helpdesk.GroupSubject(name))
		if err := c.Tx.DeleteGroup(name); err != nil {
			return err
		}
		if err := requireActiveAdmin(c); err != nil {
			return err
		}
		// The record shows what went with the group: its grants and its
		// memberships in other groups.
		before := groupView(g)
		return c.Audit("group:"+name, map[string]any{"group": before, "rights": nonNil(grants), "member_of": nonNil(parents)}, nil)
	})
	return err
}

// SetGroupMember adds or removes a member (user or group:NAME).
func (s *Service) SetGroupMember(group, member string, add bool) (GroupView, error) {
	cmd := "group add-member"
	if !add {
		cmd = "group remove-member"
	}
	var out GroupView
	_, err := s.write(cmd, func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		if group == helpdesk.Everyone {
			return errs.Conflictf("membership of everyone is implicit: every active user belongs to it").
				WithHint("grant rights to everyone instead, or use another group")
		}
		g, err := mustGroup(c.Tx, group)
		if err != nil {
			return err
		}
		m, err := helpdesk.ParseSubject(member, helpdesk.KindUser)
		if err != nil {
			return err
		}
		switch m.Kind {
		case helpdesk.KindUser:
			if _, err := mustUser(c.Tx, m.Name); err != nil {
				return err
			}
		case helpdesk.KindGroup:
			// group:everyone may be a member: every active user then is.
			if _, err := mustGroup(c.Tx, m.Name); err != nil {
				return err
			}
		default:
			return errs.Usagef("groups contain users and groups, not %s", m.Kind).WithHint("resources get members with: deskctl resource add-member")
		}
		before := groupView(g)
		if add {
			if g.HasMember(m) {
				return errs.Conflictf("%s is already a member of group %s", m, group)
			}
			cycle, err := helpdesk.FindGroupCycle(group, m, c.Tx.GroupMembers)
			if err != nil {
				return err
			}
			if cycle != nil {
				return helpdesk.CycleError(cycle)
			}
			g.Members = append(g.Members, m)
		} else {
			if !g.HasMember(m) {
				return errs.NotFoundf("%s is not a member of group %s", m, group)
			}
			g.Members = slices.DeleteFunc(g.Members, func(x helpdesk.Subject) bool { return x == m })
		}
		if err := c.Tx.PutGroup(g); err != nil {
			return err
		}
		if !add {
			if err := requireActiveAdmin(c); err != nil {
				return err
			}
		}
		out = groupView(g)
		return c.Audit("group:"+group, before, out)
	})
	return out, err
}

func (s *Service) ListGroups() ([]GroupView, error) {
	var out []GroupView
	err := s.readAnon(func(tx *store.Tx) error {
		names, _ := tx.Groups()
		for _, n := range names {
			g, _, err := tx.Group(n)
			if err != nil {
				return err
			}
			out = append(out, groupView(g))
		}
		return nil
	})
	return out, err
}

// GroupDetail is a group with its effective members.
type GroupDetail struct {
	GroupView
	Effective []string `json:"effective_members"` // every user, through nested groups
	ParentOf  []string `json:"member_of"`
	Rights    []string `json:"direct_rights"`
}

func (s *Service) ShowGroup(name string) (GroupDetail, error) {
	var out GroupDetail
	err := s.readAnon(func(tx *store.Tx) error {
		g, err := mustGroup(tx, name)
		if err != nil {
			return err
		}
		out.GroupView = groupView(g)
		out.Effective, err = effectiveGroupUsers(tx, name)
		if err != nil {
			return err
		}
		out.ParentOf, _ = tx.GroupsOf(helpdesk.GroupSubject(name))
		out.Rights, _ = tx.Grants(helpdesk.GroupSubject(name))
		out.ParentOf = nonNil(out.ParentOf)
		out.Rights = nonNil(out.Rights)
		return nil
	})
	return out, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// effectiveGroupUsers walks nested groups down to users; everyone, wherever
// it is nested, stands for every active user.
func effectiveGroupUsers(tx *store.Tx, name string) ([]string, error) {
	seenG := map[string]bool{name: true}
	users := map[string]bool{}
	queue := []string{name}
	for len(queue) > 0 {
		if queue[0] == helpdesk.Everyone {
			us, err := tx.AllUsers()
			if err != nil {
				return nil, err
			}
			var out []string
			for _, u := range us {
				if u.Active {
					out = append(out, u.Login)
				}
			}
			return nonNil(out), nil
		}
		g, _, err := tx.Group(queue[0])
		if err != nil {
			return nil, err
		}
		queue = queue[1:]
		for _, m := range g.Members {
			switch {
			case m.Kind == helpdesk.KindUser:
				users[m.Name] = true
			case !seenG[m.Name]:
				seenG[m.Name] = true
				queue = append(queue, m.Name)
			}
		}
	}
	out := make([]string, 0, len(users))
	for u := range users {
		out = append(out, u)
	}
	sort.Strings(out)
	return out, nil
}

func mustGroup(tx *store.Tx, name string) (helpdesk.Group, error) {
	if err := helpdesk.ValidateName("group", name); err != nil {
		return helpdesk.Group{}, err
	}
	g, ok, err := tx.Group(name)
	if err != nil || ok {
		return g, err
	}
	all, _ := tx.Groups()
	return g, helpdesk.NotFound("group", name, all)
}

// --- resources ---

func (s *Service) AddResource(name, parent, description string) (ResourceView, error) {
	var out ResourceView
	_, err := s.write("resource add", func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		if err := helpdesk.ValidateName("resource", name); err != nil {
			return err
		}
		if err := helpdesk.ValidateLine("description", description, 500); err != nil {
			return err
		}
		if _, ok, err := c.Tx.Resource(name); err != nil {
			return err
		} else if ok {
			return errs.Conflictf("resource %s already exists", name)
		}
		if parent != "" {
			if _, err := mustResource(c.Tx, parent); err != nil {
				return err
			}
		}
		r := helpdesk.Resource{Name: name, Parent: parent, Description: description, Created: c.Now}
		if err := c.Tx.PutResource(r); err != nil {
			return err
		}
		out = resourceView(r)
		return c.Audit("resource:"+name, nil, out)
	})
	return out, err
}

func (s *Service) RemoveResource(name string) error {
	_, err := s.write("resource remove", func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		r, err := mustResource(c.Tx, name)
		if err != nil {
			return err
		}
		if kids := c.Tx.Children(name); len(kids) > 0 {
			return errs.Conflictf("resource %s has sub-resources: %s", name, strings.Join(kids, ", ")).
				WithHint("remove or re-parent the sub-resources first")
		}
		found := 0
		_ = c.Tx.EachTicket(store.TicketQuery{Resource: name}, func(t helpdesk.Ticket) (bool, error) {
			found = t.Number
			return false, nil
		})
		if found > 0 {
			return errs.Conflictf("resource %s still has tickets (e.g. #%d)", name, found).
				WithHint("forward its tickets to another resource first: deskctl ticket forward %d --resource OTHER", found)
		}
		grants, _ := c.Tx.Grants(helpdesk.ResourceSubject(name))
		if err := c.Tx.DeleteResource(name); err != nil {
			return err
		}
		if err := requireActiveAdmin(c); err != nil {
			return err
		}
		return c.Audit("resource:"+name, map[string]any{"resource": resourceView(r), "rights": nonNil(grants)}, nil)
	})
	return err
}

// SetResourceMember adds, updates or removes a user's membership.
func (s *Service) SetResourceMember(resource, login string, acc helpdesk.Access, add bool) (ResourceView, error) {
	cmd := "resource add-member"
	if !add {
		cmd = "resource remove-member"
	}
	var out ResourceView
	_, err := s.write(cmd, func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		r, err := mustResource(c.Tx, resource)
		if err != nil {
			return err
		}
		m, err := helpdesk.ParseSubject(login, helpdesk.KindUser)
		if err != nil {
			return err
		}
		if m.Kind != helpdesk.KindUser {
			return errs.Usagef("resource members are users, not %s", m.Kind).
				WithHint("to give a group's users access, grant rights to the group; resource membership is per user")
		}
		if _, err := mustUser(c.Tx, m.Name); err != nil {
			return err
		}
		before := resourceView(r)
		existing, has := r.Member(m.Name)
		if add {
			if has && existing.Access == acc {
				return errs.Conflictf("%s is already a member of %s with %s access", m.Name, resource, acc)
			}
			r.Members = slices.DeleteFunc(r.Members, func(x helpdesk.ResourceMember) bool { return x.Login == m.Name })
			r.Members = append(r.Members, helpdesk.ResourceMember{Login: m.Name, Access: acc})
		} else {
			if !has {
				return errs.NotFoundf("%s is not a member of resource %s", m.Name, resource)
			}
			r.Members = slices.DeleteFunc(r.Members, func(x helpdesk.ResourceMember) bool { return x.Login == m.Name })
		}
		if err := c.Tx.PutResource(r); err != nil {
			return err
		}
		if !add {
			if err := requireActiveAdmin(c); err != nil {
				return err
			}
		}
		out = resourceView(r)
		return c.Audit("resource:"+resource, before, out)
	})
	return out, err
}

func (s *Service) ListResources() ([]ResourceView, error) {
	var out []ResourceView
	err := s.readAnon(func(tx *store.Tx) error {
		names, _ := tx.Resources()
		for _, n := range names {
			r, _, err := tx.Resource(n)
			if err != nil {
				return err
			}
			out = append(out, resourceView(r))
		}
		return nil
	})
	return out, err
}

// ResourceDetail is a resource with the members that actually work its tickets.
type ResourceDetail struct {
	ResourceView
	// EffectiveFrom names the resource whose members apply: itself, or the
	// nearest ancestor with members when it has none of its own.
	EffectiveFrom    string           `json:"effective_from"`
	EffectiveMembers []ResourceMember `json:"effective_members"`
	Children         []string         `json:"children"`
	Rights           []string         `json:"direct_rights"`
}

func (s *Service) ShowResource(name string) (ResourceDetail, error) {
	var out ResourceDetail
	err := s.readAnon(func(tx *store.Tx) error {
		r, err := mustResource(tx, name)
		if err != nil {
			return err
		}
		out.ResourceView = resourceView(r)
		from, members, err := effectiveResourceMembers(tx, r)
		if err != nil {
			return err
		}
		out.EffectiveFrom = from
		out.EffectiveMembers = memberViews(members)
		out.Children = nonNil(tx.Children(name))
		out.Rights, _ = tx.Grants(helpdesk.ResourceSubject(name))
		out.Rights = nonNil(out.Rights)
		return nil
	})
	return out, err
}

// effectiveResourceMembers applies the sub-resource rule: a resource without
// members of its own uses its parent's (recursively).
func effectiveResourceMembers(tx *store.Tx, r helpdesk.Resource) (string, []helpdesk.ResourceMember, error) {
	seen := map[string]bool{}
	for len(r.Members) == 0 && r.Parent != "" && !seen[r.Parent] {
		seen[r.Parent] = true
		p, ok, err := tx.Resource(r.Parent)
		if err != nil || !ok {
			return r.Name, nil, err
		}
		r = p
	}
	return r.Name, r.Members, nil
}

func mustResource(tx *store.Tx, name string) (helpdesk.Resource, error) {
	if err := helpdesk.ValidateName("resource", name); err != nil {
		return helpdesk.Resource{}, err
	}
	r, ok, err := tx.Resource(name)
	if err != nil || ok {
		return r, err
	}
	all, _ := tx.Resources()
	return r, helpdesk.NotFound("resource", name, all)
}
