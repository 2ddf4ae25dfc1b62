package app

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/policy"
	"github.com/deskctl/deskctl/internal/store"
)

// dbState reads the whole directory and grant set as a policy State.
func dbState(tx *store.Tx) (policy.State, error) {
	var s policy.State
	var err error
	if s.Users, err = tx.AllUsers(); err != nil {
		return s, err
	}
	names, _ := tx.Groups()
	for _, n := range names {
		g, _, err := tx.Group(n)
		if err != nil {
			return s, err
		}
		s.Groups = append(s.Groups, g)
	}
	names, _ = tx.Resources()
	for _, n := range names {
		r, _, err := tx.Resource(n)
		if err != nil {
			return s, err
		}
		s.Resources = append(s.Resources, r)
	}
	if s.Actions, err = tx.CustomActions(); err != nil {
		return s, err
	}
	if s.Grants, err = tx.AllGrants(); err != nil {
		return s, err
	}
	s.Settings = tx.Settings()
	return s.Canonical(), nil
}

// ExportPolicy writes the database as a policy document (yaml or json).
func (s *Service) ExportPolicy(format string) ([]byte, error) {
	var out []byte
	err := s.read(func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		st, err := dbState(c.Tx)
		if err != nil {
			return err
		}
		out, err = policy.Export(st, format)
		return err
	})
	return out, err
}

// Change is one entity change in a plan.
type Change struct {
	Op      string `json:"op"` // add | update | remove | disable
	Subject string `json:"subject"`
	Detail  string `json:"detail"`
}

// AccessChange is one change of effective access.
type AccessChange struct {
	Op    string `json:"op"` // gains | loses
	User  string `json:"user"`
	Right string `json:"right"`
	// Resource is set instead of Right for a change in whose tickets the
	// user works: the tickets of Resource, with Access (read or write).
	Resource string `json:"resource"`
	Access   string `json:"access"`
	// Paths are the ways the right or the work arrives (gains) or arrived
	// (losses), as access explain reports them; Via is their text.
	Paths []access.Path `json:"paths"`
	Via   string        `json:"via"`
}

// Plan is what applying a policy would change.
type Plan struct {
	Changes []Change       `json:"changes"`
	Access  []AccessChange `json:"access"`
	Applied bool           `json:"applied"`
}

// HasChanges reports whether the plan changes anything.
func (p Plan) HasChanges() bool { return len(p.Changes) > 0 }

// LoadPolicy reads and validates policy files. Findings with errors come back
// as a usage error; warnings are returned for the caller to print.
func LoadPolicy(src PolicySource) (*policy.Policy, []policy.Finding, error) {
	p, findings := policy.Merge(src.Files)
	findings = append(findings, policy.Validate(p)...)
	if policy.HasErrors(findings) {
		return p, findings, errs.Usagef("the policy has %d problem(s)", countErrors(findings)).
			WithHint("see them with: deskctl policy validate %s", strings.Join(src.Args, " "))
	}
	return p, findings, nil
}

// PolicySource is the policy files a command names: the arguments as the
// user typed them (files or directories) and the files they stand for, read
// by the CLI, so the server never opens a path a request names.
type PolicySource struct {
	Args  []string        `json:"args"`
	Files []policy.Source `json:"files"`
}

// ReadPolicy reads the policy files args name, at most maxBytes of them
// (policy.DefaultMaxBytes when zero or less).
func ReadPolicy(maxBytes int64, args ...string) (PolicySource, error) {
	fs, err := policy.Read(maxBytes, args...)
	return PolicySource{Args: args, Files: fs}, err
}

func countErrors(fs []policy.Finding) int {
	n := 0
	for _, f := range fs {
		if f.Severity != policy.SeverityWarning {
			n++
		}
	}
	return n
}

// target merges the file into the database state: entities the file names
// are taken from the file (with their grants); others are kept, or removed
// with prune.
func target(db, file policy.State, prune bool) policy.State {
	t := policy.State{Grants: map[helpdesk.Subject][]string{}, Settings: map[string]string{}}
	named := map[helpdesk.Subject]bool{}
	for _, u := range file.Users {
		named[helpdesk.UserSubject(u.Login)] = true
	}
	for _, g := range file.Groups {
		named[helpdesk.GroupSubject(g.Name)] = true
	}
	for _, r := range file.Resources {
		named[helpdesk.ResourceSubject(r.Name)] = true
	}
	for s := range file.Grants {
		named[s] = true
	}
	// A file user without os_login keeps the binding the database has;
	// os_login equal to the login restores the default.
	bound := map[string]string{}
	for _, u := range db.Users {
		bound[u.Login] = u.OSLogin
	}
	for _, u := range file.Users {
		switch u.OSLogin {
		case "":
			u.OSLogin = bound[u.Login]
		case u.Login:
			u.OSLogin = ""
		}
		t.Users = append(t.Users, u)
	}
	t.Groups = append(t.Groups, file.Groups...)
	t.Resources = append(t.Resources, file.Resources...)
	t.Actions = append(t.Actions, file.Actions...)
	maps.Copy(t.Grants, file.Grants)
	maps.Copy(t.Settings, file.Settings)
	if !prune {
		t.Users = append(t.Users, db.Users...) // Canonical keeps the first of a name: the file's
		t.Groups = append(t.Groups, db.Groups...)
		t.Resources = append(t.Resources, db.Resources...)
		t.Actions = append(t.Actions, db.Actions...)
		for s, rs := range db.Grants {
			if !named[s] {
				t.Grants[s] = rs
			}
		}
		for k, v := range db.Settings {
			if _, ok := t.Settings[k]; !ok {
				t.Settings[k] = v
			}
		}
	} else {
		// everyone always exists; without a file entry it keeps its grants.
		if !named[helpdesk.GroupSubject(helpdesk.Everyone)] {
			t.Groups = append(t.Groups, helpdesk.Group{Name: helpdesk.Everyone})
			t.Grants[helpdesk.GroupSubject(helpdesk.Everyone)] = db.Grants[helpdesk.GroupSubject(helpdesk.Everyone)]
		}
	}
	// everyone listed without a description keeps the one it has.
	for i, g := range t.Groups {
		if g.Name != helpdesk.Everyone || g.Description != "" {
			continue
		}
		t.Groups[i].Description = "every active user (end users)"
		for _, old := range db.Groups {
			if old.Name == helpdesk.Everyone {
				t.Groups[i].Description = old.Description
			}
		}
	}
	return t.Canonical()
}

// diffStates lists entity changes from a to b.
func diffStates(a, b policy.State) []Change {
	var out []Change
	users := map[string]helpdesk.User{}
	for _, u := range a.Users {
		users[u.Login] = u
	}
	seen := map[string]bool{}
	for _, u := range b.Users {
		seen[u.Login] = true
		old, ok := users[u.Login]
		switch {
		case !ok:
			out = append(out, Change{"add", "user:" + u.Login, u.Email})
		case old != u:
			out = append(out, Change{"update", "user:" + u.Login, userDelta(old, u)})
		}
	}
	for _, u := range a.Users {
		if !seen[u.Login] {
			out = append(out, Change{"remove", "user:" + u.Login, ""})
		}
	}
	groups := map[string]helpdesk.Group{}
	for _, g := range a.Groups {
		groups[g.Name] = g
	}
	seen = map[string]bool{}
	for _, g := range b.Groups {
		seen[g.Name] = true
		old, ok := groups[g.Name]
		switch {
		case !ok:
			out = append(out, Change{"add", "group:" + g.Name, "members " + subjects(g.Members)})
		case old.Description != g.Description || !slices.Equal(old.Members, g.Members):
			var d []string
			if !slices.Equal(old.Members, g.Members) {
				d = append(d, "members "+subjects(old.Members)+" → "+subjects(g.Members))
			}
			if old.Description != g.Description {
				d = append(d, fmt.Sprintf("description %q → %q", old.Description, g.Description))
			}
			out = append(out, Change{"update", "group:" + g.Name, strings.Join(d, "; ")})
		}
	}
	for _, g := range a.Groups {
		if !seen[g.Name] {
			out = append(out, Change{"remove", "group:" + g.Name, ""})
		}
	}
	res := map[string]helpdesk.Resource{}
	for _, r := range a.Resources {
		res[r.Name] = r
	}
	seen = map[string]bool{}
	for _, r := range b.Resources {
		seen[r.Name] = true
		old, ok := res[r.Name]
		switch {
		case !ok:
			what := "members " + resMembers(r.Members)
			if r.Approval != nil {
				what += "; approval " + r.Approval.String()
			}
			out = append(out, Change{"add", "resource:" + r.Name, what})
		case old.Description != r.Description || old.Parent != r.Parent || !slices.Equal(old.Members, r.Members) ||
			!sameTemplate(old.Approval, r.Approval):
			var d []string
			if !slices.Equal(old.Members, r.Members) {
				d = append(d, "members "+resMembers(old.Members)+" → "+resMembers(r.Members))
			}
			if old.Parent != r.Parent {
				d = append(d, fmt.Sprintf("parent %q → %q", old.Parent, r.Parent))
			}
			if old.Description != r.Description {
				d = append(d, fmt.Sprintf("description %q → %q", old.Description, r.Description))
			}
			if !sameTemplate(old.Approval, r.Approval) {
				d = append(d, "approval "+templateText(old.Approval)+" → "+templateText(r.Approval))
			}
			out = append(out, Change{"update", "resource:" + r.Name, strings.Join(d, "; ")})
		}
	}
	for _, r := range a.Resources {
		if !seen[r.Name] {
			out = append(out, Change{"remove", "resource:" + r.Name, ""})
		}
	}
	acts := map[string]helpdesk.Right{}
	for _, r := range a.Actions {
		acts[r.Name] = r
	}
	seen = map[string]bool{}
	for _, r := range b.Actions {
		seen[r.Name] = true
		old, ok := acts[r.Name]
		if !ok {
			out = append(out, Change{"add", "action:" + r.Name, string(r.Category)})
		} else if fmt.Sprint(old) != fmt.Sprint(r) {
			out = append(out, Change{"update", "action:" + r.Name, ""})
		}
	}
	for _, r := range a.Actions {
		if !seen[r.Name] {
			out = append(out, Change{"remove", "action:" + r.Name, ""})
		}
	}
	subjs := map[helpdesk.Subject]bool{}
	for s := range a.Grants {
		subjs[s] = true
	}
	for s := range b.Grants {
		subjs[s] = true
	}
	keys := slices.SortedFunc(maps.Keys(subjs), func(x, y helpdesk.Subject) int { return strings.Compare(x.String(), y.String()) })
	for _, s := range keys {
		add, del := setDiff(b.Grants[s], a.Grants[s]), setDiff(a.Grants[s], b.Grants[s])
		if len(add) > 0 {
			out = append(out, Change{"grant", s.String(), strings.Join(add, ", ")})
		}
		if len(del) > 0 {
			out = append(out, Change{"revoke", s.String(), strings.Join(del, ", ")})
		}
	}
	setKeys := map[string]bool{}
	for k := range a.Settings {
		setKeys[k] = true
	}
	for k := range b.Settings {
		setKeys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(setKeys)) {
		if a.Settings[k] != b.Settings[k] {
			out = append(out, Change{"set", "setting:" + k, a.Settings[k] + " → " + b.Settings[k]})
		}
	}
	return out
}

func userDelta(a, b helpdesk.User) string {
	var d []string
	if a.Name != b.Name {
		d = append(d, "name "+a.Name+" → "+b.Name)
	}
	if a.Email != b.Email {
		d = append(d, "email "+a.Email+" → "+b.Email)
	}
	if a.Active != b.Active {
		d = append(d, fmt.Sprintf("active %v → %v", a.Active, b.Active))
	}
	if a.OSLogin != b.OSLogin {
		d = append(d, "os_login "+a.EffectiveOSLogin()+" → "+b.EffectiveOSLogin())
	}
	return strings.Join(d, "; ")
}

func subjects(ms []helpdesk.Subject) string {
	var p []string
	for _, m := range ms {
		p = append(p, m.String())
	}
	if len(p) == 0 {
		return "(none)"
	}
	return strings.Join(p, ",")
}

// sameTemplate reports whether two resources' approval templates mean the
// same; none equals none only.
func sameTemplate(a, b *helpdesk.ApprovalTemplate) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// templateText shows a template in a plan: "(none)" when there is none.
func templateText(t *helpdesk.ApprovalTemplate) string {
	if t == nil {
		return "(none)"
	}
	return "[" + t.String() + "]"
}

func resMembers(ms []helpdesk.ResourceMember) string {
	var p []string
	for _, m := range ms {
		p = append(p, m.Login+"("+string(m.Access)+")")
	}
	if len(p) == 0 {
		return "(none)"
	}
	return strings.Join(p, ",")
}

func setDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// accessDiff compares the effective rights before and after of every user,
// or, when only is not nil, of the users it names (the others' are the
// same on both sides).
func accessDiff(before, after policy.State, only map[string]bool) ([]AccessChange, error) {
	eb, ea := access.New(policy.StateToMemory(before)), access.New(policy.StateToMemory(after))
	matrix := func(e *access.Engine, s policy.State) (access.Matrix, error) {
		if only == nil {
			return e.Matrix(nil, nil)
		}
		var users []string
		for _, u := range s.Users {
			if only[u.Login] {
				users = append(users, u.Login)
			}
		}
		if len(users) == 0 {
			return access.Matrix{}, nil // Matrix(nil, …) would mean everyone
		}
		return e.Matrix(users, nil)
	}
	mb, err := matrix(eb, before)
	if err != nil {
		return nil, err
	}
	ma, err := matrix(ea, after)
	if err != nil {
		return nil, err
	}
	held := func(m access.Matrix) map[string]map[string]bool {
		out := map[string]map[string]bool{}
		for i, u := range m.Users {
			out[u] = map[string]bool{}
			for j, r := range m.Rights {
				if m.Cells[i][j] {
					out[u][r] = true
				}
			}
		}
		return out
	}
	hb, ha := held(mb), held(ma)
	wb, wa := ticketWork(eb, before), ticketWork(ea, after)
	var out []AccessChange
	users := map[string]bool{}
	for _, m := range []map[string]map[string]bool{hb, ha} {
		for u := range m {
			users[u] = true
		}
	}
	for _, m := range []map[string]map[string]work{wb, wa} {
		for u := range m {
			users[u] = true
		}
	}
	for _, u := range slices.Sorted(maps.Keys(users)) {
		for _, r := range ma.Rights {
			if ha[u][r] && !hb[u][r] {
				paths, _ := ea.Paths(u, r)
				out = append(out, rightChange("gains", u, r, paths))
			}
		}
		for _, r := range mb.Rights {
			if hb[u][r] && !ha[u][r] {
				paths, _ := eb.Paths(u, r)
				out = append(out, rightChange("loses", u, r, paths))
			}
		}
		for _, r := range slices.Sorted(maps.Keys(wb[u])) {
			if b, a := wb[u][r], wa[u][r]; a.access != b.access {
				out = append(out, b.change("loses", u, r))
			}
		}
		for _, r := range slices.Sorted(maps.Keys(wa[u])) {
			if b, a := wb[u][r], wa[u][r]; a.access != b.access {
				out = append(out, a.change("gains", u, r))
			}
		}
	}
	return out, nil
}

func rightChange(op, user, right string, paths []access.Path) AccessChange {
	if paths == nil {
		paths = []access.Path{}
	}
	return AccessChange{Op: op, User: user, Right: right, Paths: paths, Via: pathText(paths)}
}

// work is how a user works a resource's tickets: with access, as a member
// of staff (the resource itself, or the nearest ancestor with members).
type work struct{ access, staff, via string }

// change is the access change of user in the tickets of resource: its path
// is the membership of staff.
func (w work) change(op, user, resource string) AccessChange {
	staff := helpdesk.ResourceSubject(w.staff)
	p := access.Path{Grant: staff, Chain: access.Chain{staff, helpdesk.UserSubject(user)}, Access: helpdesk.Access(w.access)}
	return AccessChange{Op: op, User: user, Resource: resource, Access: w.access, Paths: []access.Path{p}, Via: w.via}
}

// ticketWork maps each active user to the resources whose tickets they work
// as members, with their access and whose membership gives it: a resource's
// own members, or those of the nearest ancestor with members.
func ticketWork(e *access.Engine, s policy.State) map[string]map[string]work {
	active := map[string]bool{}
	for _, u := range s.Users {
		active[u.Login] = u.Active
	}
	byName := map[string]helpdesk.Resource{}
	for _, r := range s.Resources {
		byName[r.Name] = r
	}
	out := map[string]map[string]work{}
	for _, r := range s.Resources {
		staff, err := e.StaffResource(r.Name)
		if err != nil {
			continue
		}
		via := "member of " + staff
		if staff != r.Name {
			via = "member of " + staff + ", which " + r.Name + " inherits"
		}
		for _, m := range byName[staff].Members {
			if !active[m.Login] {
				continue
			}
			if out[m.Login] == nil {
				out[m.Login] = map[string]work{}
			}
			out[m.Login][r.Name] = work{string(m.Access), staff, via}
		}
	}
	return out
}

func pathText(ps []access.Path) string {
	var p []string
	for _, x := range ps {
		p = append(p, x.String())
	}
	return strings.Join(p, "; ")
}

// PlanPolicy compares policy files with the database.
func (s *Service) PlanPolicy(src PolicySource, prune bool) (Plan, []policy.Finding, error) {
	p, findings, err := LoadPolicy(src)
	if err != nil {
		return Plan{}, findings, err
	}
	var plan Plan
	err = s.read(func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		db, err := dbState(c.Tx)
		if err != nil {
			return err
		}
		plan, err = makePlan(c.Tx, db, target(db, p.State(), prune))
		return err
	})
	return plan, findings, err
}

func makePlan(tx *store.Tx, db, t policy.State) (Plan, error) {
	changes := diffStates(db, t)
	access, err := planAccess(changes, db, t)
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{Changes: []Change{}, Access: access}
	for _, ch := range changes {
		if ch.Op == "remove" && strings.HasPrefix(ch.Subject, "user:") {
			login := strings.TrimPrefix(ch.Subject, "user:")
			if reason := userReferences(tx, login); reason != "" {
				if u, ok, _ := tx.User(login); ok && !u.Active {
					continue // already kept and disabled by an earlier prune
				}
				ch = Change{"disable", ch.Subject, "kept and disabled: " + reason}
			}
		}
		plan.Changes = append(plan.Changes, ch)
	}
	return plan, nil
}

// planAccess is the access diff between db and t, whose changes diffStates
// found. It compares every field access depends on, so states without a
// change grant the same access, and the two matrices of every user and
// right (most of the time of a plan that finds no drift) are not built.
func planAccess(changes []Change, db, t policy.State) ([]AccessChange, error) {
	if len(changes) == 0 {
		return []AccessChange{}, nil
	}
	out, err := accessDiff(db, t, affectedUsers(changes, db, t))
	if out == nil {
		out = []AccessChange{}
	}
	return out, err
}

// affectedUsers is who may hold other rights, or work other resources'
// tickets, after changes between before and after: nil means everyone. It
// errs on the side of more users: a changed user is affected; a changed
// group (its members, or its grants) affects every user under it on either
// side; a changed resource affects the members of every resource of its
// tree on either side; a changed action, setting or the group everyone
// affects everyone.
func affectedUsers(changes []Change, before, after policy.State) map[string]bool {
	out := map[string]bool{}
	for _, ch := range changes {
		kind, name, _ := strings.Cut(ch.Subject, ":")
		switch {
		case kind == string(helpdesk.KindUser):
			out[name] = true
		case kind == string(helpdesk.KindGroup) && name != helpdesk.Everyone:
			for _, s := range []policy.State{before, after} {
				if !usersUnderGroup(s, name, out) {
					return nil
				}
			}
		case kind == string(helpdesk.KindResource):
			for _, s := range []policy.State{before, after} {
				membersOfTree(s, name, out)
			}
		default:
			return nil
		}
	}
	return out
}

// usersUnderGroup adds the users under group g in s to out; false when
// everyone is among them.
func usersUnderGroup(s policy.State, g string, out map[string]bool) bool {
	members := make(map[string][]helpdesk.Subject, len(s.Groups))
	for _, gr := range s.Groups {
		members[gr.Name] = gr.Members
	}
	seen := map[string]bool{}
	next := []string{g}
	for len(next) > 0 {
		name := next[len(next)-1]
		next = next[:len(next)-1]
		if name == helpdesk.Everyone {
			return false
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		for _, m := range members[name] {
			if m.Kind == helpdesk.KindGroup {
				next = append(next, m.Name)
			} else {
				out[m.Name] = true
			}
		}
	}
	return true
}

// membersOfTree adds to out the members of every resource in s under the
// topmost ancestor of resource r.
func membersOfTree(s policy.State, r string, out map[string]bool) {
	parent := make(map[string]string, len(s.Resources))
	for _, res := range s.Resources {
		parent[res.Name] = res.Parent
	}
	root := func(name string) string {
		seen := map[string]bool{}
		for parent[name] != "" && !seen[name] {
			seen[name] = true
			name = parent[name]
		}
		return name
	}
	top := root(r)
	for _, res := range s.Resources {
		if root(res.Name) == top {
			for _, m := range res.Members {
				out[m.Login] = true
			}
		}
	}
}

// ApplyPolicy makes the database match the policy in one transaction.
// progress, when set, is told what the apply is doing ("writing 512/40000
// policy records").
//
// confirmed, when not nil, is the plan the user agreed to: if the database
// changed since and the plan is no longer the same, nothing is applied.
func (s *Service) ApplyPolicy(src PolicySource, prune, dryRun bool, confirmed []Change, progress func(status string)) (Plan, []policy.Finding, error) {
	say := func(status string) {
		if progress != nil {
			progress(status)
		}
	}
	say(fmt.Sprintf("checking %d policy file(s)", len(src.Files)))
	p, findings, err := LoadPolicy(src)
	if err != nil {
		return Plan{}, findings, err
	}
	var plan Plan
	_, err = s.write("policy apply", func(c *Ctx) error {
		say("comparing the policy with the database")
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		db, err := dbState(c.Tx)
		if err != nil {
			return err
		}
		t := target(db, p.State(), prune)
		if fs := policy.Validate(policy.FromState(t)); policy.HasErrors(fs) {
			for _, f := range fs {
				if f.Severity != policy.SeverityWarning {
					return errs.Usagef("the result would be invalid: %s", f.Message).
						WithHint("fix the policy (it conflicts with what the database keeps), or use --prune")
				}
			}
		}
		if plan, err = makePlan(c.Tx, db, t); err != nil {
			return err
		}
		if confirmed != nil && !slices.Equal(confirmed, plan.Changes) {
			return errs.Conflictf("the database changed after the plan was shown; nothing was applied").
				WithHint("run the command again to see the plan as it is now")
		}
		if dryRun || !plan.HasChanges() {
			return errNothingToWrite
		}
		if err := writeState(c, db, t, plan, say); err != nil {
			return err
		}
		if err := requireActiveAdmin(c); err != nil {
			return err
		}
		plan.Applied = true
		say("committing")
		return c.Audit("policy", nil, map[string]any{"files": src.Args, "prune": prune, "changes": len(plan.Changes)})
	})
	return plan, findings, err
}

// writeState writes t over db inside the transaction.
func writeState(c *Ctx, db, t policy.State, plan Plan, say func(string)) error {
	total := len(t.Users) + len(t.Groups) + len(t.Resources) + len(t.Actions) + len(t.Grants) + len(t.Settings) + len(plan.Changes)
	done := 0
	step := func() {
		done++
		if done%256 == 0 || done == total {
			say(fmt.Sprintf("writing %d/%d policy records", done, total))
		}
	}
	tx := c.Tx
	// Users first: groups and resources refer to them.
	for _, u := range t.Users {
		old, ok, err := tx.User(u.Login)
		if err != nil {
			return err
		}
		if ok {
			u.Created = old.Created
		} else {
			u.Created = c.Now
		}
		if !ok || old.Name != u.Name || old.Email != u.Email || old.Active != u.Active || old.OSLogin != u.OSLogin {
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		step()
	}
	for _, a := range t.Actions {
		a.Kind = helpdesk.KindAction
		if err := tx.PutAction(a); err != nil {
			return err
		}
		step()
	}
	for _, g := range t.Groups {
		old, ok, err := tx.Group(g.Name)
		if err != nil {
			return err
		}
		g.Created = c.Now
		if ok {
			g.Created = old.Created
		}
		if g.Name == helpdesk.Everyone {
			g.Members = nil
			if g.Description == "" {
				g.Description = old.Description
			}
		}
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		step()
	}
	for _, r := range t.Resources {
		old, ok, err := tx.Resource(r.Name)
		if err != nil {
			return err
		}
		r.Created = c.Now
		if ok {
			r.Created = old.Created
		}
		if err := tx.PutResource(r); err != nil {
			return err
		}
		step()
	}
	// Grants: make every subject's direct grants exactly what t says.
	for s, rights := range db.Grants {
		if del := setDiff(rights, t.Grants[s]); len(del) > 0 {
			if err := tx.Revoke(s, del...); err != nil {
				return err
			}
		}
	}
	for s, rights := range t.Grants {
		if err := tx.Grant(s, rights...); err != nil {
			return err
		}
		step()
	}
	for k := range db.Settings {
		if _, ok := t.Settings[k]; !ok {
			if err := tx.PutSetting(k, ""); err != nil {
				return err
			}
		}
	}
	for k, v := range t.Settings {
		st, err := helpdesk.LookupSetting(k)
		if err != nil {
			return err
		}
		if err := checkSetting(c, st, v); err != nil {
			return err
		}
		if err := tx.PutSetting(k, v); err != nil {
			return err
		}
		step()
	}
	// Removals last, dependants before what they depend on.
	for _, ch := range plan.Changes {
		kind, name, _ := strings.Cut(ch.Subject, ":")
		var err error
		switch {
		case ch.Op == "remove" && kind == "group":
			err = tx.DeleteGroup(name)
		case ch.Op == "remove" && kind == "action":
			err = tx.DeleteAction(name)
		}
		if err != nil {
			return err
		}
	}
	var resRemovals []string
	for _, ch := range plan.Changes {
		if kind, name, _ := strings.Cut(ch.Subject, ":"); ch.Op == "remove" && kind == "resource" {
			resRemovals = append(resRemovals, name)
		}
	}
	// Children before parents: removing in reverse name-depth order is not
	// enough, so repeat until nothing is left that still has children.
	for len(resRemovals) > 0 {
		progressed := false
		var rest []string
		for _, name := range resRemovals {
			if len(tx.Children(name)) > 0 {
				rest = append(rest, name)
				continue
			}
			found := 0
			_ = tx.EachTicket(store.TicketQuery{Resource: name}, func(tk helpdesk.Ticket) (bool, error) { found = tk.Number; return false, nil })
			if found > 0 {
				return errs.Conflictf("resource %s still has tickets (e.g. #%d); --prune cannot remove it", name, found).
					WithHint("forward its tickets first, or keep the resource in the policy")
			}
			if err := tx.DeleteResource(name); err != nil {
				return err
			}
			progressed = true
		}
		if !progressed {
			return errs.Conflictf("cannot remove resources %s: they still have sub-resources", strings.Join(rest, ", "))
		}
		resRemovals = rest
	}
	for _, ch := range plan.Changes {
		kind, name, _ := strings.Cut(ch.Subject, ":")
		if kind != "user" {
			continue
		}
		switch ch.Op {
		case "remove":
			if err := tx.DeleteUser(name); err != nil {
				return err
			}
		case "disable":
			u, ok, err := tx.User(name)
			if err != nil || !ok {
				return err
			}
			u.Active = false
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		step()
	}
	for _, ch := range plan.Changes {
		if err := c.Audit(ch.Subject, nil, map[string]string{"op": ch.Op, "detail": ch.Detail}); err != nil {
			return err
		}
	}
	return nil
}
