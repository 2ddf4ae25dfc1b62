package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Validate checks what a (merged) policy means: names and addresses,
// references between entities, rights and where they may be granted, group
// and resource-parent cycles, custom actions, settings, and that at least one
// active user holds admin. It needs no database: the policy must define
// every user, group and resource it mentions (the group everyone always
// exists). Findings are sorted by file, line and column.
func Validate(p *Policy) []Finding {
	if p == nil {
		return nil
	}
	v := &validator{
		p:         p,
		users:     make(map[string]*User, len(p.Users)),
		groups:    make(map[string]*Group, len(p.Groups)),
		resources: make(map[string]*Resource, len(p.Resources)),
		actions:   map[string]*Action{},
		builtins:  map[string]helpdesk.Right{},

		seenMembers: map[helpdesk.Subject]Pos{},
	}
	for _, r := range helpdesk.Builtins() {
		v.builtins[r.Name] = r
	}
	v.index()
	for i := range p.Users {
		v.user(&p.Users[i])
	}
	for i := range p.Groups {
		v.group(&p.Groups[i])
	}
	v.groupCycles()
	for i := range p.Resources {
		v.resource(&p.Resources[i])
	}
	v.parentCycles()
	for i := range p.Actions {
		v.action(&p.Actions[i])
	}
	v.settings()
	v.admin()
	return sortFindings(v.fs)
}

type validator struct {
	p         *Policy
	fs        findings
	users     map[string]*User
	groups    map[string]*Group
	resources map[string]*Resource
	actions   map[string]*Action
	builtins  map[string]helpdesk.Right

	seenMembers map[helpdesk.Subject]Pos // one group's members, reused from group to group
}

// index records the first definition of every name and reports the others.
func (v *validator) index() {
	for i := range v.p.Users {
		u := &v.p.Users[i]
		if first, ok := v.users[u.Login]; ok && u.Login != "" {
			v.fs.add(u.At(keyLogin), CodeDuplicate, "user '%s' is defined twice (first at %s)", u.Login, first.At(keyLogin))
		} else if !ok {
			v.users[u.Login] = u
		}
	}
	// Two users cannot answer to one OS login on a server's socket.
	bound := map[string]*User{}
	for _, u := range v.p.Users {
		if u.OSLogin != "" && u.OSLogin != u.Login {
			if first, ok := bound[u.OSLogin]; ok {
				v.fs.add(u.At(keyOSLogin), CodeDuplicate, "user '%s' has os_login %s, which user '%s' already has", u.Login, u.OSLogin, first.Login)
			} else {
				bound[u.OSLogin] = v.users[u.Login]
			}
		}
	}
	for login, u := range bound {
		if other, ok := v.users[login]; ok && other != u && (other.OSLogin == "" || other.OSLogin == login) {
			v.fs.add(u.At(keyOSLogin), CodeDuplicate, "user '%s' has os_login %s, which is the login of user '%s'", u.Login, login, login)
		}
	}
	for i := range v.p.Groups {
		g := &v.p.Groups[i]
		if first, ok := v.groups[g.Name]; ok && g.Name != "" {
			v.fs.add(g.At(keyName), CodeDuplicate, "group '%s' is defined twice (first at %s)", g.Name, first.At(keyName))
		} else if !ok {
			v.groups[g.Name] = g
		}
	}
	for i := range v.p.Resources {
		r := &v.p.Resources[i]
		if first, ok := v.resources[r.Name]; ok && r.Name != "" {
			v.fs.add(r.At(keyName), CodeDuplicate, "resource '%s' is defined twice (first at %s)", r.Name, first.At(keyName))
		} else if !ok {
			v.resources[r.Name] = r
		}
	}
	for i := range v.p.Actions {
		a := &v.p.Actions[i]
		if first, ok := v.actions[a.Name]; ok && a.Name != "" {
			v.fs.add(a.At(keyName), CodeDuplicate, "action '%s' is defined twice (first at %s)", a.Name, first.At(keyName))
		} else if !ok {
			v.actions[a.Name] = a
		}
	}
}

// message is an error's text with its hint when the hint speaks of values
// rather than command-line flags.
func message(err error) string {
	if h := errs.HintOf(err); h != "" && !strings.Contains(h, "--") {
		return err.Error() + "; " + h
	}
	return err.Error()
}

// missing reports an absent or empty required value, unless the parser
// already reported it as having the wrong type.
func (v *validator) missing(o Origin, key string, format string, a ...any) {
	if o.bad[key] {
		return
	}
	v.fs.add(o.At(key), CodeMissing, format, a...)
}

func (v *validator) user(u *User) {
	switch {
	case u.Login == "":
		v.missing(u.Origin, keyLogin, "user entry has no login")
	default:
		if err := helpdesk.ValidateLogin(u.Login); err != nil {
			v.fs.add(u.At(keyLogin), CodeInvalidLogin, "%s", message(err))
		}
	}
	who := "user '" + u.Login + "'"
	switch {
	case strings.TrimSpace(u.Name) == "":
		v.missing(u.Origin, keyName, "%s has no name", who)
	default:
		if err := helpdesk.ValidateLine("name", u.Name, maxUserName); err != nil {
			v.fs.add(u.At(keyName), CodeInvalidText, "%s: %s", who, message(err))
		}
	}
	switch {
	case u.Email == "":
		v.missing(u.Origin, keyEmail, "%s has no email", who)
	default:
		if err := helpdesk.ValidateEmail(u.Email); err != nil {
			v.fs.add(u.At(keyEmail), CodeInvalidEmail, "%s: %s", who, err.Error())
		}
	}
	if u.OSLogin != "" {
		if err := helpdesk.ValidateOSLogin(u.OSLogin); err != nil {
			v.fs.add(u.At(keyOSLogin), CodeInvalidText, "%s: %s", who, message(err))
		}
	}
	v.rights(who, u.Rights, false)
}

func (v *validator) name(o Origin, kind, name string) {
	if name == "" {
		v.missing(o, keyName, "%s entry has no name", kind)
		return
	}
	if err := helpdesk.ValidateName(kind, name); err != nil {
		v.fs.add(o.At(keyName), CodeInvalidName, "%s", message(err))
	}
}

func (v *validator) description(o Origin, who, d string) {
	if err := helpdesk.ValidateLine("description", d, maxDescription); err != nil {
		v.fs.add(o.At(keyDescription), CodeInvalidText, "%s: %s", who, message(err))
	}
}

func (v *validator) group(g *Group) {
	v.name(g.Origin, "group", g.Name)
	who := "group '" + g.Name + "'"
	v.description(g.Origin, who, g.Description)
	if g.Name == helpdesk.Everyone && len(g.Members) > 0 {
		v.fs.add(g.At(keyMembers), CodeEveryoneMembers,
			"group everyone cannot list members: every active user belongs to it; remove its members and keep only its rights")
	}
	seen := v.seenMembers
	clear(seen)
	for _, m := range g.Members {
		if first, dup := seen[m.Subject]; dup {
			v.fs.warn(m.Pos, CodeRepeated, "%s is listed twice in the members of %s (first at %s)", m.Raw, who, first)
			continue
		}
		seen[m.Subject] = m.Pos
		switch m.Subject.Kind {
		case helpdesk.KindUser:
			if _, ok := v.users[m.Subject.Name]; !ok || m.Subject.Name == "" {
				v.fs.add(m.Pos, CodeUnknownMember, "unknown user '%s' in the members of %s%s", m.Subject.Name, who,
					suggest(m.Subject.Name, v.userNames()))
			}
		case helpdesk.KindGroup:
			if _, ok := v.groups[m.Subject.Name]; (!ok || m.Subject.Name == "") && m.Subject.Name != helpdesk.Everyone {
				v.fs.add(m.Pos, CodeUnknownMember, "unknown group '%s' in the members of %s%s", m.Subject.Name, who,
					suggest(m.Subject.Name, v.groupNames()))
			}
		default:
			v.fs.add(m.Pos, CodeInvalidMember, "'%s' cannot be a member of %s: members are users (bob or user:bob) and groups (group:tier1)", m.Raw, who)
		}
	}
	v.rights(who, g.Rights, false)
}

// groupCycles adds memberships in document order and reports each one that
// would close a cycle, exactly as the group commands would refuse it. A
// membership that closes a cycle is left out, so every cycle is reported once.
func (v *validator) groupCycles() {
	accepted := map[string][]helpdesk.Subject{}
	members := func(g string) ([]helpdesk.Subject, error) { return accepted[g], nil }
	for _, g := range v.p.Groups {
		if g.Name == "" || g.Name == helpdesk.Everyone {
			continue
		}
		for _, m := range g.Members {
			if m.Subject.Kind != helpdesk.KindGroup {
				continue
			}
			cycle, _ := helpdesk.FindGroupCycle(g.Name, m.Subject, members)
			if cycle != nil {
				parts := make([]string, len(cycle))
				for i, c := range cycle {
					parts[i] = "group:" + c
				}
				v.fs.add(m.Pos, CodeGroupCycle, "group cycle: %s; groups may nest but never contain themselves",
					strings.Join(parts, " → "))
				continue
			}
			accepted[g.Name] = append(accepted[g.Name], m.Subject)
		}
	}
}

func (v *validator) resource(r *Resource) {
	v.name(r.Origin, "resource", r.Name)
	who := "resource '" + r.Name + "'"
	v.description(r.Origin, who, r.Description)
	if r.Parent != "" && r.Parent != r.Name {
		if _, ok := v.resources[r.Parent]; !ok {
			v.fs.add(r.At(keyParent), CodeUnknownParent, "unknown parent resource '%s' of %s%s", r.Parent, who,
				suggest(r.Parent, v.resourceNames()))
		}
	}
	seen := map[string]Pos{}
	for _, m := range r.Members {
		if m.Login == "" {
			v.missing(m.Origin, keyUser, "member entry of %s has no user", who)
		} else if first, dup := seen[m.Login]; dup {
			v.fs.add(m.At(keyUser), CodeDuplicate, "%s is listed twice in the members of %s (first at %s)", m.Login, who, first)
		} else {
			seen[m.Login] = m.At(keyUser)
			if _, ok := v.users[m.Login]; !ok {
				v.fs.add(m.At(keyUser), CodeUnknownMember, "unknown user '%s' in the members of %s%s", m.Login, who,
					suggest(m.Login, v.userNames()))
			}
		}
		switch {
		case m.Access == "":
			v.missing(m.Origin, keyAccess, "member %s of %s needs access: read or write", m.Login, who)
		case m.Access != helpdesk.AccessRead && m.Access != helpdesk.AccessWrite:
			v.fs.add(m.At(keyAccess), CodeInvalidValue, "access must be read or write, not '%s'", m.Access)
		}
	}
	v.rights(who, r.Rights, true)
	v.template(r)
}

// parentCycles reports every resource-parent cycle once, at the resource of
// the cycle that comes first in the files.
func (v *validator) parentCycles() {
	reported := map[string]bool{}
	for i := range v.p.Resources {
		start := &v.p.Resources[i]
		if v.resources[start.Name] != start || start.Parent == "" {
			continue
		}
		chain := []*Resource{start}
		for cur := start; ; {
			next, ok := v.resources[cur.Parent]
			if !ok || cur.Parent == "" {
				break
			}
			if idx := slices.Index(chain, next); idx >= 0 {
				if idx == 0 {
					v.reportParentCycle(chain, reported)
				}
				break // a cycle further up is reported from one of its own members
			}
			chain = append(chain, next)
			cur = next
		}
	}
}

func (v *validator) reportParentCycle(cycle []*Resource, reported map[string]bool) {
	names := make([]string, len(cycle))
	first := 0
	for i, r := range cycle {
		names[i] = r.Name
		if r.At(keyParent).before(cycle[first].At(keyParent)) {
			first = i
		}
	}
	key := strings.Join(slices.Sorted(slices.Values(names)), "\x00")
	if reported[key] {
		return
	}
	reported[key] = true
	var parts []string
	for i := range len(cycle) + 1 {
		parts = append(parts, "resource:"+cycle[(first+i)%len(cycle)].Name)
	}
	if len(cycle) == 1 {
		v.fs.add(cycle[0].At(keyParent), CodeParentCycle, "resource '%s' cannot be its own parent", cycle[0].Name)
		return
	}
	v.fs.add(cycle[first].At(keyParent), CodeParentCycle, "resource parent cycle: %s (each arrow points to the parent)",
		strings.Join(parts, " → "))
}

func (v *validator) action(a *Action) {
	before := len(v.fs)
	v.name(a.Origin, "action", a.Name)
	if b, ok := v.builtins[a.Name]; ok {
		v.fs.add(a.At(keyName), CodeInvalidAction, "'%s' is a built-in %s; choose another name for the custom action", a.Name, b.Kind)
	}
	who := "action '" + a.Name + "'"
	if a.Category == "" {
		v.missing(a.Origin, keyCategory, "%s has no category; use one of %s", who, joinCategories())
	} else if _, err := helpdesk.ParseCategory(a.Category); err != nil {
		v.fs.add(a.At(keyCategory), CodeInvalidValue, "%s: %s", who, message(err))
	}
	if len(a.FromStates) == 0 {
		v.missing(a.Origin, keyFromStates, "%s applies to no state; list the states in from-states", who)
	}
	seen := map[string]Pos{}
	for _, s := range a.FromStates {
		if first, dup := seen[s.Value]; dup {
			v.fs.warn(s.Pos, CodeRepeated, "state %s is listed twice in from-states of %s (first at %s)", s.Value, who, first)
			continue
		}
		seen[s.Value] = s.Pos
		v.state(s.Value, s.Pos)
	}
	if a.ToState != "" {
		if v.state(a.ToState, a.At(keyToState)) && a.ToState == string(helpdesk.StateRequest) {
			v.fs.add(a.At(keyToState), CodeInvalidValue, "an action cannot turn a ticket back into a request; use new, in-progress, waiting or closed")
		}
	}
	v.description(a.Origin, who, a.Description)
	if len(v.fs) == before && len(a.bad) == 0 {
		// The catalog's own rules have the last word on anything not checked above.
		if err := helpdesk.ValidateCustomAction(a.Right()); err != nil {
			v.fs.add(a.At(keyName), CodeInvalidAction, "%s: %s", who, message(err))
		}
	}
}

// state checks a ticket state name and reports whether it is one.
func (v *validator) state(s string, p Pos) bool {
	if _, err := helpdesk.ParseState(s); err != nil {
		var names []string
		for _, st := range helpdesk.States {
			names = append(names, string(st))
		}
		v.fs.add(p, CodeInvalidValue, "unknown ticket state '%s'%s", s, suggestOr(s, names, "use one of "+strings.Join(names, ", ")))
		return false
	}
	return true
}

func joinCategories() string {
	var names []string
	for _, c := range helpdesk.ActionCategories {
		names = append(names, string(c))
	}
	return strings.Join(names, ", ")
}

// rights checks a subject's granted rights: known, listed once, grantable to
// the kind of subject, and accompanied by the rights they require.
func (v *validator) rights(who string, items []Item, resource bool) {
	held := map[string]bool{}
	for _, it := range items {
		held[it.Value] = true
	}
	seen := map[string]Pos{}
	for _, it := range items {
		if first, dup := seen[it.Value]; dup {
			v.fs.warn(it.Pos, CodeRepeated, "right %s is listed twice for %s (first at %s)", it.Value, who, first)
			continue
		}
		seen[it.Value] = it.Pos
		b, builtin := v.builtins[it.Value]
		if _, custom := v.actions[it.Value]; !builtin && !custom {
			v.fs.add(it.Pos, CodeUnknownRight, "unknown right '%s'%s", it.Value,
				suggestOr(it.Value, v.rightNames(), "it is neither built in nor defined under actions"))
			continue
		}
		if resource && b.NotForResources {
			v.fs.add(it.Pos, CodeNotForResources, "%s cannot be granted to a resource; grant it to the users or a group instead", it.Value)
			continue
		}
		if b.RequiresRight != "" && !held[b.RequiresRight] {
			v.fs.add(it.Pos, CodeRequiresRight, "%s requires %s on the same subject; add %s to the rights of %s",
				it.Value, b.RequiresRight, b.RequiresRight, who)
		}
	}
}

func (v *validator) settings() {
	seen := map[string]Pos{}
	for _, s := range v.p.Settings {
		if first, dup := seen[s.Key]; dup {
			v.fs.add(s.Pos, CodeDuplicate, "setting %s is set twice (first at %s)", s.Key, first)
			continue
		}
		seen[s.Key] = s.Pos
		spec, ok := findSetting(s.Key)
		if !ok {
			v.fs.add(s.Pos, CodeUnknownSetting, "unknown setting '%s'%s", s.Key,
				suggestOr(s.Key, SettingKeys(), "known settings are "+strings.Join(SettingKeys(), ", ")))
			continue
		}
		if problem := spec.check(s.Value); problem != "" {
			v.fs.add(s.ValuePos, CodeInvalidValue, "%s %s, not '%s'", s.Key, problem, s.Value)
			continue
		}
		if s.Key == helpdesk.SettingGateActions {
			catalog := helpdesk.Builtins()
			for _, a := range v.p.Actions {
				catalog = append(catalog, a.Right())
			}
			if err := helpdesk.CheckGateActions(s.Value, catalog); err != nil {
				msg := err.Error()
				if hint := errs.HintOf(err); hint != "" {
					msg += " (" + hint + ")"
				}
				v.fs.add(s.ValuePos, CodeInvalidValue, "%s: %s", s.Key, msg)
			}
		}
	}
}

// admin reports a policy in which no active user would hold admin, directly,
// through nested groups (everyone included) or through a resource; applying
// it would lock every administrator out.
func (v *validator) admin() {
	if len(v.activeAdmins()) > 0 {
		return
	}
	var p Pos
	if len(v.p.Files) > 0 {
		p = Pos{File: v.p.Files[0], Line: 1, Col: 1}
	}
	v.fs.add(p, CodeNoAdmin, "no active user holds admin; grant admin to an active user (rights: [admin]) or to a group with an active member")
}

// activeAdmins lists the active users that hold admin in this policy.
func (v *validator) activeAdmins() []string {
	holders := map[string]bool{}
	var queue []string // groups whose members hold admin
	done := map[string]bool{}
	for _, u := range v.users {
		if slices.ContainsFunc(u.Rights, isAdmin) {
			holders[u.Login] = true
		}
	}
	for _, g := range v.groups {
		if slices.ContainsFunc(g.Rights, isAdmin) {
			queue = append(queue, g.Name)
		}
	}
	for _, r := range v.resources {
		if slices.ContainsFunc(r.Rights, isAdmin) {
			for _, m := range r.Members {
				holders[m.Login] = true
			}
		}
	}
	everyone := false
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		if done[g] {
			continue
		}
		done[g] = true
		if g == helpdesk.Everyone {
			everyone = true
		}
		grp, ok := v.groups[g]
		if !ok || g == helpdesk.Everyone {
			continue
		}
		for _, m := range grp.Members {
			switch m.Subject.Kind {
			case helpdesk.KindUser:
				holders[m.Subject.Name] = true
			case helpdesk.KindGroup:
				queue = append(queue, m.Subject.Name)
			}
		}
	}
	var out []string
	for login, u := range v.users {
		if u.Active && (everyone || holders[login]) && login != "" {
			out = append(out, login)
		}
	}
	slices.Sort(out)
	return out
}

func isAdmin(it Item) bool { return it.Value == helpdesk.PermAdmin }

func (v *validator) userNames() []string     { return sortedKeys(v.users) }
func (v *validator) resourceNames() []string { return sortedKeys(v.resources) }

func (v *validator) groupNames() []string {
	names := sortedKeys(v.groups)
	if _, ok := v.groups[helpdesk.Everyone]; !ok {
		names = append(names, helpdesk.Everyone)
	}
	return names
}

func (v *validator) rightNames() []string {
	var names []string
	for n := range v.builtins {
		names = append(names, n)
	}
	names = append(names, sortedKeys(v.actions)...)
	slices.Sort(names)
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// suggest returns " (did you mean 'x' or 'y'?)" naming the closest
// candidates, or "".
func suggest(name string, candidates []string) string {
	near := helpdesk.Closest(name, candidates)
	if len(near) == 0 {
		return ""
	}
	for i, n := range near {
		near[i] = "'" + n + "'"
	}
	last := near[len(near)-1]
	if len(near) == 1 {
		return fmt.Sprintf(" (did you mean %s?)", last)
	}
	return fmt.Sprintf(" (did you mean %s or %s?)", strings.Join(near[:len(near)-1], ", "), last)
}

// suggestOr is suggest with a fallback explanation when nothing is close.
func suggestOr(name string, candidates []string, otherwise string) string {
	if s := suggest(name, candidates); s != "" {
		return s
	}
	return "; " + otherwise
}
