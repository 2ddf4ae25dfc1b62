package store

import (
	"sort"
	"strings"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// User returns the user with login.
func (tx *Tx) User(login string) (helpdesk.User, bool, error) {
	var u helpdesk.User
	ok, err := decodeRecord(tx.bucket(bucketUsers).Get([]byte(login)), []byte(login), &u, decodeUser)
	return u, ok, err
}

// Users lists every login, sorted.
func (tx *Tx) Users() ([]string, error) { return keys(tx.bucket(bucketUsers)), nil }

// AllUsers returns every user record, sorted by login.
func (tx *Tx) AllUsers() ([]helpdesk.User, error) {
	var out []helpdesk.User
	err := tx.bucket(bucketUsers).ForEach(func(_, v []byte) error {
		var u helpdesk.User
		if err := decodeUser(v, &u); err != nil {
			return damaged(err, "a %s record", recordKind(&u))
		}
		out = append(out, u)
		return nil
	})
	return out, err
}

// PutUser creates or replaces a user, keeping the OS login index.
func (tx *Tx) PutUser(u helpdesk.User) error {
	old, existed, err := tx.User(u.Login)
	if err != nil {
		return err
	}
	idx := tx.bucket(bucketOSLogins)
	if existed && old.OSLogin != "" && old.OSLogin != u.OSLogin {
		if err := idx.Delete([]byte(old.OSLogin)); err != nil {
			return err
		}
	}
	if u.OSLogin != "" {
		if err := idx.Put([]byte(u.OSLogin), []byte(u.Login)); err != nil {
			return err
		}
	}
	return putJSON(tx.bucket(bucketUsers), []byte(u.Login), u)
}

// UserByOSLogin finds the user bound to an operating-system login: the one
// whose os-login names it, else the user of that login without an os-login
// of its own.
func (tx *Tx) UserByOSLogin(osLogin string) (helpdesk.User, bool, error) {
	if login := tx.bucket(bucketOSLogins).Get([]byte(osLogin)); login != nil {
		return tx.User(string(login))
	}
	u, ok, err := tx.User(osLogin)
	if !ok || err != nil || u.OSLogin != "" {
		return helpdesk.User{}, false, err
	}
	return u, true, nil
}

// DeleteUser removes a user record and every membership and direct grant it has.
func (tx *Tx) DeleteUser(login string) error {
	s := helpdesk.UserSubject(login)
	groups, _ := tx.GroupsOf(s)
	for _, g := range groups {
		grp, ok, err := tx.Group(g)
		if err != nil {
			return err
		}
		if ok {
			grp.Members = removeSubject(grp.Members, s)
			if err := tx.PutGroup(grp); err != nil {
				return err
			}
		}
	}
	for _, m := range prefixKeys(tx.bucket(bucketUserRes), login) {
		r, ok, err := tx.Resource(m)
		if err != nil {
			return err
		}
		if ok {
			r.Members = removeResourceMember(r.Members, login)
			if err := tx.PutResource(r); err != nil {
				return err
			}
		}
	}
	rights, _ := tx.Grants(s)
	if err := tx.Revoke(s, rights...); err != nil {
		return err
	}
	if u, ok, err := tx.User(login); err != nil {
		return err
	} else if ok && u.OSLogin != "" {
		if err := tx.bucket(bucketOSLogins).Delete([]byte(u.OSLogin)); err != nil {
			return err
		}
	}
	// An approver who is gone is away for good; their window goes with them.
	if err := tx.DeleteDelegation(login); err != nil {
		return err
	}
	if err := tx.bucket(bucketDigests).Delete([]byte(login)); err != nil {
		return err
	}
	tokens, err := tx.APITokens(login)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		if err := tx.DeleteAPIToken(t.Hash); err != nil {
			return err
		}
	}
	return tx.bucket(bucketUsers).Delete([]byte(login))
}

func removeSubject(list []helpdesk.Subject, s helpdesk.Subject) []helpdesk.Subject {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func removeResourceMember(list []helpdesk.ResourceMember, login string) []helpdesk.ResourceMember {
	out := list[:0:0]
	for _, x := range list {
		if x.Login != login {
			out = append(out, x)
		}
	}
	return out
}

// Group returns the group with name.
func (tx *Tx) Group(name string) (helpdesk.Group, bool, error) {
	var g helpdesk.Group
	ok, err := getJSON(tx.bucket(bucketGroups), []byte(name), &g)
	return g, ok, err
}

// Groups lists every group name, sorted.
func (tx *Tx) Groups() ([]string, error) { return keys(tx.bucket(bucketGroups)), nil }

// PutGroup creates or replaces a group and keeps the member_of index in step.
func (tx *Tx) PutGroup(g helpdesk.Group) error {
	idx := tx.bucket(bucketMemberOf)
	old, existed, err := tx.Group(g.Name)
	if err != nil {
		return err
	}
	if existed {
		for _, m := range old.Members {
			if err := idx.Delete(pair(m.String(), g.Name)); err != nil {
				return err
			}
		}
	}
	for _, m := range g.Members {
		if err := idx.Put(pair(m.String(), g.Name), nil); err != nil {
			return err
		}
	}
	if err := tx.refreshParents(old.Members, g.Members); err != nil {
		return err
	}
	if g.Members == nil {
		g.Members = []helpdesk.Subject{}
	}
	return putJSON(tx.bucket(bucketGroups), []byte(g.Name), g)
}

// DeleteGroup removes a group, its memberships in other groups and its grants.
func (tx *Tx) DeleteGroup(name string) error {
	g, ok, err := tx.Group(name)
	if err != nil || !ok {
		return err
	}
	g.Members = nil
	if err := tx.PutGroup(g); err != nil { // clears the index for its members
		return err
	}
	s := helpdesk.GroupSubject(name)
	parents, _ := tx.GroupsOf(s)
	for _, p := range parents {
		pg, ok, err := tx.Group(p)
		if err != nil {
			return err
		}
		if ok {
			pg.Members = removeSubject(pg.Members, s)
			if err := tx.PutGroup(pg); err != nil {
				return err
			}
		}
	}
	rights, _ := tx.Grants(s)
	if err := tx.Revoke(s, rights...); err != nil {
		return err
	}
	return tx.bucket(bucketGroups).Delete([]byte(name))
}

// GroupsOf lists the groups naming m as a direct member.
func (tx *Tx) GroupsOf(m helpdesk.Subject) ([]string, error) {
	tx.prefetchAncestors(m)
	return decodeParents(tx.bucket(bucketParents).Get([]byte(m.String()))), nil
}

// prefetchAncestors reads ahead, where each read is a round trip, what the
// permission engine asks next after the groups of m: the groups above
// those, level by level, and the grants of each, since it walks every
// group a subject is in and reads its grants. One round trip per level of
// the hierarchy replaces two per group. The groups of an active user
// include "everyone", which the engine adds itself; it is read ahead for
// every user.
func (tx *Tx) prefetchAncestors(m helpdesk.Subject) {
	p, ok := tx.kv.(kvPrefetcher)
	if !ok || !p.readAhead(bucketParents, []byte(m.String())) {
		return
	}
	level := []string{m.String()}
	seen := map[string]bool{m.String(): true}
	if m.Kind == helpdesk.KindUser {
		everyone := helpdesk.GroupSubject(helpdesk.Everyone).String()
		level, seen[everyone] = append(level, everyone), true
	}
	for len(level) > 0 {
		var keys, prefixes [][]byte
		for _, s := range level {
			// A group read ahead by an earlier walk needs no second trip.
			if !p.prefetched(bucketParents, []byte(s)) {
				keys, prefixes = append(keys, []byte(s)), append(prefixes, pair(s, ""))
			}
		}
		p.prefetch([]kvPrefetch{{bucket: bucketParents, keys: keys}, {bucket: bucketGrants, prefixes: prefixes}})
		var next []string
		for _, s := range level {
			for _, g := range decodeParents(tx.bucket(bucketParents).Get([]byte(s))) {
				if s := helpdesk.GroupSubject(g).String(); !seen[s] {
					seen[s] = true
					next = append(next, s)
				}
			}
		}
		level = next
	}
}

// refreshParents rewrites the parents record of every subject whose
// membership a group change touched (members before and after), from the
// member_of index already updated in the same transaction.
func (tx *Tx) refreshParents(before, after []helpdesk.Subject) error {
	idx, parents := tx.bucket(bucketMemberOf), tx.bucket(bucketParents)
	done := make(map[helpdesk.Subject]bool, len(before)+len(after))
	for _, list := range [][]helpdesk.Subject{before, after} {
		for _, m := range list {
			if done[m] {
				continue
			}
			done[m] = true
			if err := putParents(parents, m.String(), prefixKeys(idx, m.String())); err != nil {
				return err
			}
		}
	}
	return nil
}

// putParents stores a subject's groups as one record, or removes the record
// when there are none.
func putParents(b kvBucket, subject string, groups []string) error {
	if len(groups) == 0 {
		return b.Delete([]byte(subject))
	}
	return b.Put([]byte(subject), []byte(strings.Join(groups, "\x00")))
}

func decodeParents(v []byte) []string {
	if len(v) == 0 {
		return nil
	}
	return strings.Split(string(v), "\x00")
}

// GroupMembers returns a group's direct members.
func (tx *Tx) GroupMembers(name string) ([]helpdesk.Subject, error) {
	g, _, err := tx.Group(name)
	return g.Members, err
}

// Resource returns the resource with name.
func (tx *Tx) Resource(name string) (helpdesk.Resource, bool, error) {
	var r helpdesk.Resource
	ok, err := getJSON(tx.bucket(bucketResources), []byte(name), &r)
	return r, ok, err
}

// Resources lists every resource name, sorted.
func (tx *Tx) Resources() ([]string, error) { return keys(tx.bucket(bucketResources)), nil }

// Children lists the direct sub-resources of parent.
func (tx *Tx) Children(parent string) []string {
	return prefixKeys(tx.bucket(bucketChildren), parent)
}

// PutResource creates or replaces a resource and keeps its indexes in step.
func (tx *Tx) PutResource(r helpdesk.Resource) error {
	idx := tx.bucket(bucketUserRes)
	children := tx.bucket(bucketChildren)
	old, existed, err := tx.Resource(r.Name)
	if err != nil {
		return err
	}
	if existed {
		for _, m := range old.Members {
			if err := idx.Delete(pair(m.Login, r.Name)); err != nil {
				return err
			}
		}
		if old.Parent != "" {
			if err := children.Delete(pair(old.Parent, r.Name)); err != nil {
				return err
			}
		}
	}
	for _, m := range r.Members {
		if err := idx.Put(pair(m.Login, r.Name), []byte(m.Access)); err != nil {
			return err
		}
	}
	if r.Parent != "" {
		if err := children.Put(pair(r.Parent, r.Name), nil); err != nil {
			return err
		}
	}
	if r.Members == nil {
		r.Members = []helpdesk.ResourceMember{}
	}
	return putJSON(tx.bucket(bucketResources), []byte(r.Name), r)
}

// DeleteResource removes a resource, its member index entries and its grants.
func (tx *Tx) DeleteResource(name string) error {
	r, ok, err := tx.Resource(name)
	if err != nil || !ok {
		return err
	}
	r.Members = nil
	r.Parent = ""
	if err := tx.PutResource(r); err != nil {
		return err
	}
	s := helpdesk.ResourceSubject(name)
	rights, _ := tx.Grants(s)
	if err := tx.Revoke(s, rights...); err != nil {
		return err
	}
	return tx.bucket(bucketResources).Delete([]byte(name))
}

// ResourcesOf lists the resources login is a direct member of.
func (tx *Tx) ResourcesOf(login string) ([]helpdesk.ResourceMembership, error) {
	b := tx.bucket(bucketUserRes)
	var out []helpdesk.ResourceMembership
	for _, res := range prefixKeys(b, login) {
		out = append(out, helpdesk.ResourceMembership{Resource: res, Access: helpdesk.Access(b.Get(pair(login, res)))})
	}
	return out, nil
}

// Grants lists the rights granted directly to s, sorted.
func (tx *Tx) Grants(s helpdesk.Subject) ([]string, error) {
	return prefixKeys(tx.bucket(bucketGrants), s.String()), nil
}

// Holders lists the subjects a right is granted to directly.
func (tx *Tx) Holders(right string) ([]helpdesk.Subject, error) {
	var out []helpdesk.Subject
	for _, s := range prefixKeys(tx.bucket(bucketHolders), right) {
		subj, err := helpdesk.ParseSubject(s, "")
		if err != nil {
			return nil, err
		}
		out = append(out, subj)
	}
	return out, nil
}

// AllGrants returns every grant as subject → rights.
func (tx *Tx) AllGrants() (map[helpdesk.Subject][]string, error) {
	out := map[helpdesk.Subject][]string{}
	err := tx.bucket(bucketGrants).ForEach(func(k, _ []byte) error {
		for i, c := range k {
			if c == 0 {
				s, err := helpdesk.ParseSubject(string(k[:i]), "")
				if err != nil {
					return err
				}
				out[s] = append(out[s], string(k[i+1:]))
				break
			}
		}
		return nil
	})
	return out, err
}

// Grant records rights on s; granting a right twice is harmless.
func (tx *Tx) Grant(s helpdesk.Subject, rights ...string) error {
	for _, r := range rights {
		if err := tx.bucket(bucketGrants).Put(pair(s.String(), r), nil); err != nil {
			return err
		}
		if err := tx.bucket(bucketHolders).Put(pair(r, s.String()), nil); err != nil {
			return err
		}
	}
	return nil
}

// Revoke removes rights from s.
func (tx *Tx) Revoke(s helpdesk.Subject, rights ...string) error {
	for _, r := range rights {
		if err := tx.bucket(bucketGrants).Delete(pair(s.String(), r)); err != nil {
			return err
		}
		if err := tx.bucket(bucketHolders).Delete(pair(r, s.String())); err != nil {
			return err
		}
	}
	return nil
}

// HasGrant reports whether right is granted directly to s.
func (tx *Tx) HasGrant(s helpdesk.Subject, right string) bool {
	return tx.bucket(bucketGrants).Get(pair(s.String(), right)) != nil
}

// Right returns a built-in or custom right.
func (tx *Tx) Right(name string) (helpdesk.Right, bool, error) {
	if r, ok := helpdesk.Builtin(name); ok {
		return r, true, nil
	}
	var r helpdesk.Right
	ok, err := getJSON(tx.bucket(bucketActions), []byte(name), &r)
	return r, ok, err
}

// Rights returns the whole catalog.
func (tx *Tx) Rights() ([]helpdesk.Right, error) {
	custom, err := tx.cachedCustomActions()
	if err != nil {
		return nil, damaged(err, "the custom action catalog")
	}
	return helpdesk.WithBuiltins(custom), nil
}

// CustomActions returns the admin-defined actions, sorted by name.
func (tx *Tx) CustomActions() ([]helpdesk.Right, error) {
	var out []helpdesk.Right
	err := tx.bucket(bucketActions).ForEach(func(_, v []byte) error {
		var r helpdesk.Right
		if err := unmarshal(v, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// PutAction stores a custom action.
func (tx *Tx) PutAction(r helpdesk.Right) error {
	if err := putJSON(tx.bucket(bucketActions), []byte(r.Name), r); err != nil {
		return err
	}
	return tx.refreshCatalog()
}

// DeleteAction removes a custom action and every grant of it.
func (tx *Tx) DeleteAction(name string) error {
	for _, s := range prefixKeys(tx.bucket(bucketHolders), name) {
		subj, err := helpdesk.ParseSubject(s, "")
		if err != nil {
			return err
		}
		if err := tx.Revoke(subj, name); err != nil {
			return err
		}
	}
	if err := tx.bucket(bucketActions).Delete([]byte(name)); err != nil {
		return err
	}
	return tx.refreshCatalog()
}
