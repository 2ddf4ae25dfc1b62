package store

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/pgtest"
	bolt "go.etcd.io/bbolt"
)

// openTestStore creates a database in a temporary directory with the
// built-in group everyone (which deskctl's own check expects) and, when the
// test ends, closes it and runs bbolt's page-level consistency check.
func openTestStore(t *testing.T) *DB {
	t.Helper()
	if onPostgres {
		db, err := Create(pgtest.NewDatabase(t), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		mustUpdate(t, db, func(tx *Tx) error {
			return tx.PutGroup(helpdesk.Group{Name: helpdesk.Everyone})
		})
		return db
	}
	path := filepath.Join(t.TempDir(), "desk.db")
	db, err := Create(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		checkBoltPages(t, path)
	})
	mustUpdate(t, db, func(tx *Tx) error {
		return tx.PutGroup(helpdesk.Group{Name: helpdesk.Everyone})
	})
	return db
}

func checkBoltPages(t *testing.T, path string) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Errorf("reopening %s for the consistency check: %v", path, err)
		return
	}
	defer b.Close()
	_ = b.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check of %s: %v", path, err)
		}
		return nil
	})
}

func mustUpdate(t *testing.T, db *DB, fn func(*Tx) error) {
	t.Helper()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func mustView(t *testing.T, db *DB, fn func(*Tx) error) {
	t.Helper()
	if err := db.View(fn); err != nil {
		t.Fatal(err)
	}
}

// assertNoProblems runs deskctl's own check: every index matches the
// records, references resolve, the audit chain is intact.
func assertNoProblems(t *testing.T, db *DB) {
	t.Helper()
	mustView(t, db, func(tx *Tx) error {
		for _, p := range tx.Check() {
			t.Errorf("check: %s: %s", p.Area, p.Detail)
		}
		return nil
	})
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func addUsers(t *testing.T, db *DB, logins ...string) {
	t.Helper()
	mustUpdate(t, db, func(tx *Tx) error {
		for _, l := range logins {
			if err := tx.PutUser(helpdesk.User{Login: l, Name: l, Email: l + "@example.com", Active: true}); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestUserAccessors(t *testing.T) {
	db := openTestStore(t)
	addUsers(t, db, "carol", "alice", "bob")
	mustUpdate(t, db, func(tx *Tx) error {
		// Replacing a user keeps one record.
		return tx.PutUser(helpdesk.User{Login: "bob", Name: "Bob Tech", Email: "bob@example.com", Active: false})
	})
	mustView(t, db, func(tx *Tx) error {
		logins, err := tx.Users()
		equal(t, "Users()", logins, []string{"alice", "bob", "carol"})
		all, err2 := tx.AllUsers()
		var names []string
		for _, u := range all {
			names = append(names, u.Login+"/"+u.Name)
		}
		equal(t, "AllUsers()", names, []string{"alice/alice", "bob/Bob Tech", "carol/carol"})
		u, ok, err3 := tx.User("bob")
		if !ok || u.Active || u.Name != "Bob Tech" {
			t.Errorf("User(bob) = %+v, %v", u, ok)
		}
		if _, ok, _ := tx.User("dave"); ok {
			t.Error("User(dave) found a user that was never stored")
		}
		return errors.Join(err, err2, err3)
	})
}

func TestDeleteUserTakesMembershipsAndGrants(t *testing.T) {
	db := openTestStore(t)
	addUsers(t, db, "alice", "bob")
	bob := helpdesk.UserSubject("bob")
	mustUpdate(t, db, func(tx *Tx) error {
		return errors.Join(
			tx.PutGroup(helpdesk.Group{Name: "tier1", Members: []helpdesk.Subject{bob, helpdesk.UserSubject("alice")}}),
			tx.PutGroup(helpdesk.Group{Name: "tier2", Members: []helpdesk.Subject{bob}}),
			tx.PutResource(helpdesk.Resource{Name: "network", Members: []helpdesk.ResourceMember{{Login: "bob", Access: helpdesk.AccessWrite}, {Login: "alice", Access: helpdesk.AccessRead}}}),
			tx.Grant(bob, helpdesk.PermAdmin, helpdesk.ActReply),
			tx.Grant(helpdesk.UserSubject("alice"), helpdesk.ActReply),
		)
	})
	assertNoProblems(t, db)
	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteUser("bob") })
	mustView(t, db, func(tx *Tx) error {
		if _, ok, _ := tx.User("bob"); ok {
			t.Error("bob is still stored")
		}
		groups, _ := tx.GroupsOf(bob)
		equal(t, "GroupsOf(bob)", groups, []string(nil))
		members, _ := tx.GroupMembers("tier1")
		equal(t, "tier1 members", members, []helpdesk.Subject{helpdesk.UserSubject("alice")})
		members, _ = tx.GroupMembers("tier2")
		equal(t, "tier2 members", members, []helpdesk.Subject{})
		r, _, _ := tx.Resource("network")
		equal(t, "network members", r.Members, []helpdesk.ResourceMember{{Login: "alice", Access: helpdesk.AccessRead}})
		res, _ := tx.ResourcesOf("bob")
		equal(t, "ResourcesOf(bob)", res, []helpdesk.ResourceMembership(nil))
		grants, _ := tx.Grants(bob)
		equal(t, "Grants(bob)", grants, []string(nil))
		holders, _ := tx.Holders(helpdesk.ActReply)
		equal(t, "Holders(reply)", holders, []helpdesk.Subject{helpdesk.UserSubject("alice")})
		return nil
	})
	assertNoProblems(t, db)
}

func TestGroupMemberOfIndexFollowsReplaceAndDelete(t *testing.T) {
	db := openTestStore(t)
	addUsers(t, db, "bob", "carol", "dave")
	bob, carol, dave := helpdesk.UserSubject("bob"), helpdesk.UserSubject("carol"), helpdesk.UserSubject("dave")
	tier1 := helpdesk.GroupSubject("tier1")

	steps := []struct {
		name   string
		change func(tx *Tx) error
		// want maps a member to the groups that must list it directly.
		want map[helpdesk.Subject][]string
	}{
		{"create", func(tx *Tx) error {
			return errors.Join(
				tx.PutGroup(helpdesk.Group{Name: "tier1", Members: []helpdesk.Subject{bob, carol}}),
				tx.PutGroup(helpdesk.Group{Name: "support", Members: []helpdesk.Subject{tier1, carol}}),
			)
		}, map[helpdesk.Subject][]string{bob: {"tier1"}, carol: {"support", "tier1"}, tier1: {"support"}, dave: nil}},
		{"replace drops old members and adds new ones", func(tx *Tx) error {
			return tx.PutGroup(helpdesk.Group{Name: "tier1", Members: []helpdesk.Subject{dave}})
		}, map[helpdesk.Subject][]string{bob: nil, carol: {"support"}, dave: {"tier1"}, tier1: {"support"}}},
		{"grants go with a deleted group", func(tx *Tx) error {
			return tx.Grant(tier1, helpdesk.ActReply)
		}, map[helpdesk.Subject][]string{dave: {"tier1"}}},
		{"delete leaves every parent and clears its members' entries", func(tx *Tx) error {
			return tx.DeleteGroup("tier1")
		}, map[helpdesk.Subject][]string{dave: nil, tier1: nil, carol: {"support"}}},
		{"deleting a missing group is harmless", func(tx *Tx) error {
			return tx.DeleteGroup("tier1")
		}, map[helpdesk.Subject][]string{carol: {"support"}}},
	}
	for _, s := range steps {
		mustUpdate(t, db, s.change)
		mustView(t, db, func(tx *Tx) error {
			for m, want := range s.want {
				got, _ := tx.GroupsOf(m)
				equal(t, s.name+": GroupsOf("+m.String()+")", got, want)
			}
			return nil
		})
		assertNoProblems(t, db)
	}
	mustView(t, db, func(tx *Tx) error {
		groups, _ := tx.Groups()
		equal(t, "Groups()", groups, []string{"everyone", "support"})
		members, _ := tx.GroupMembers("support")
		equal(t, "support members", members, []helpdesk.Subject{carol})
		holders, _ := tx.Holders(helpdesk.ActReply)
		equal(t, "Holders(reply)", holders, []helpdesk.Subject(nil))
		return nil
	})
}

func TestResourceIndexesFollowMembersAndParent(t *testing.T) {
	db := openTestStore(t)
	addUsers(t, db, "bob", "carol")
	write, read := helpdesk.AccessWrite, helpdesk.AccessRead
	type want struct {
		children map[string][]string
		of       map[string][]helpdesk.ResourceMembership
	}
	steps := []struct {
		name   string
		change func(tx *Tx) error
		want   want
	}{
		{"create", func(tx *Tx) error {
			return errors.Join(
				tx.PutResource(helpdesk.Resource{Name: "network", Members: []helpdesk.ResourceMember{{Login: "bob", Access: write}}}),
				tx.PutResource(helpdesk.Resource{Name: "printers"}),
				tx.PutResource(helpdesk.Resource{Name: "wifi", Parent: "network", Members: []helpdesk.ResourceMember{{Login: "carol", Access: read}}}),
			)
		}, want{
			children: map[string][]string{"network": {"wifi"}, "printers": nil},
			of: map[string][]helpdesk.ResourceMembership{
				"bob":   {{Resource: "network", Access: write}},
				"carol": {{Resource: "wifi", Access: read}},
			},
		}},
		{"re-parent and change access", func(tx *Tx) error {
			return errors.Join(
				tx.PutResource(helpdesk.Resource{Name: "wifi", Parent: "printers", Members: []helpdesk.ResourceMember{{Login: "carol", Access: write}, {Login: "bob", Access: read}}}),
			)
		}, want{
			children: map[string][]string{"network": nil, "printers": {"wifi"}},
			of: map[string][]helpdesk.ResourceMembership{
				"bob":   {{Resource: "network", Access: write}, {Resource: "wifi", Access: read}},
				"carol": {{Resource: "wifi", Access: write}},
			},
		}},
		{"delete", func(tx *Tx) error {
			return errors.Join(tx.Grant(helpdesk.ResourceSubject("wifi"), helpdesk.ActReply), tx.DeleteResource("wifi"))
		}, want{
			children: map[string][]string{"network": nil, "printers": nil},
			of: map[string][]helpdesk.ResourceMembership{
				"bob":   {{Resource: "network", Access: write}},
				"carol": nil,
			},
		}},
	}
	for _, s := range steps {
		mustUpdate(t, db, s.change)
		mustView(t, db, func(tx *Tx) error {
			for parent, kids := range s.want.children {
				equal(t, s.name+": Children("+parent+")", tx.Children(parent), kids)
			}
			for login, ms := range s.want.of {
				got, _ := tx.ResourcesOf(login)
				equal(t, s.name+": ResourcesOf("+login+")", got, ms)
			}
			return nil
		})
		assertNoProblems(t, db)
	}
	mustView(t, db, func(tx *Tx) error {
		names, _ := tx.Resources()
		equal(t, "Resources()", names, []string{"network", "printers"})
		if _, ok, _ := tx.Resource("wifi"); ok {
			t.Error("wifi is still stored")
		}
		grants, _ := tx.Grants(helpdesk.ResourceSubject("wifi"))
		equal(t, "grants of the deleted resource", grants, []string(nil))
		r, _, _ := tx.Resource("printers")
		equal(t, "a resource stored without members reads back with an empty list", r.Members, []helpdesk.ResourceMember{})
		return nil
	})
}

func TestGrantsAndHolders(t *testing.T) {
	db := openTestStore(t)
	addUsers(t, db, "bob")
	bob, tier1 := helpdesk.UserSubject("bob"), helpdesk.GroupSubject("tier1")
	custom := helpdesk.Right{Name: "escalate", Kind: helpdesk.KindAction, Category: helpdesk.CatOrganizational}
	mustUpdate(t, db, func(tx *Tx) error {
		return errors.Join(
			tx.PutGroup(helpdesk.Group{Name: "tier1"}),
			tx.PutAction(custom),
			tx.Grant(bob, helpdesk.ActReply, helpdesk.PermAdmin),
			tx.Grant(bob, helpdesk.ActReply), // twice is harmless
			tx.Grant(tier1, helpdesk.ActReply, "escalate"),
		)
	})
	assertNoProblems(t, db)
	mustView(t, db, func(tx *Tx) error {
		g, _ := tx.Grants(bob)
		equal(t, "Grants(bob)", g, []string{helpdesk.PermAdmin, helpdesk.ActReply})
		h, _ := tx.Holders(helpdesk.ActReply)
		equal(t, "Holders(reply)", h, []helpdesk.Subject{tier1, bob})
		if !tx.HasGrant(bob, helpdesk.PermAdmin) || tx.HasGrant(tier1, helpdesk.PermAdmin) {
			t.Error("HasGrant disagrees with the grants stored")
		}
		all, _ := tx.AllGrants()
		equal(t, "AllGrants()", all, map[helpdesk.Subject][]string{
			bob:   {helpdesk.PermAdmin, helpdesk.ActReply},
			tier1: {"escalate", helpdesk.ActReply},
		})
		if r, ok, _ := tx.Right("escalate"); !ok || r.Category != helpdesk.CatOrganizational {
			t.Errorf("Right(escalate) = %+v, %v", r, ok)
		}
		if r, ok, _ := tx.Right(helpdesk.PermAdmin); !ok || !r.Builtin {
			t.Errorf("Right(admin) = %+v, %v", r, ok)
		}
		rights, _ := tx.Rights()
		if !slices.ContainsFunc(rights, func(r helpdesk.Right) bool { return r.Name == "escalate" }) ||
			len(rights) != len(helpdesk.Builtins())+1 {
			t.Errorf("Rights() has %d rights, want the built-ins and escalate", len(rights))
		}
		return nil
	})
	mustUpdate(t, db, func(tx *Tx) error {
		return errors.Join(tx.Revoke(bob, helpdesk.ActReply), tx.DeleteAction("escalate"))
	})
	mustView(t, db, func(tx *Tx) error {
		g, _ := tx.Grants(bob)
		equal(t, "Grants(bob) after revoke", g, []string{helpdesk.PermAdmin})
		h, _ := tx.Holders("escalate")
		equal(t, "Holders(escalate) after DeleteAction", h, []helpdesk.Subject(nil))
		g, _ = tx.Grants(tier1)
		equal(t, "Grants(tier1) after DeleteAction", g, []string{helpdesk.ActReply})
		if _, ok, _ := tx.Right("escalate"); ok {
			t.Error("the deleted custom action is still in the catalog")
		}
		return nil
	})
	assertNoProblems(t, db)
}

// ticketFixture stores six tickets (numbers 1–6) across states, resources,
// requesters and assignees.
func ticketFixture(t *testing.T) *DB {
	t.Helper()
	db := openTestStore(t)
	addUsers(t, db, "ann", "ben", "tech")
	mustUpdate(t, db, func(tx *Tx) error {
		return errors.Join(tx.PutResource(helpdesk.Resource{Name: "network"}), tx.PutResource(helpdesk.Resource{Name: "printers"}))
	})
	specs := []struct {
		state               helpdesk.State
		resource, requester string
		assignee            string
	}{
		{helpdesk.StateRequest, "", "ann", ""},
		{helpdesk.StateNew, "network", "ann", ""},
		{helpdesk.StateInProgress, "network", "ben", "tech"},
		{helpdesk.StateNew, "printers", "ben", ""},
		{helpdesk.StateNew, "network", "ben", "tech"},
		{helpdesk.StateRequest, "", "ben", ""},
	}
	mustUpdate(t, db, func(tx *Tx) error {
		for _, s := range specs {
			n, err := tx.NextTicketNumber()
			if err != nil {
				return err
			}
			if err := tx.PutTicket(helpdesk.Ticket{Number: n, Subject: "t", Requester: s.requester, Resource: s.resource,
				State: s.state, Assignee: s.assignee, Priority: helpdesk.PriorityNormal}); err != nil {
				return err
			}
		}
		return nil
	})
	return db
}

func ticketNumbers(t *testing.T, db *DB, q TicketQuery, limit int) []int {
	t.Helper()
	var out []int
	mustView(t, db, func(tx *Tx) error {
		return tx.EachTicket(q, func(tk helpdesk.Ticket) (bool, error) {
			out = append(out, tk.Number)
			return limit == 0 || len(out) < limit, nil
		})
	})
	return out
}

func TestEachTicketFiltersNewestFirst(t *testing.T) {
	db := ticketFixture(t)
	assertNoProblems(t, db)
	cases := []struct {
		name string
		q    TicketQuery
		max  int
		want []int
	}{
		{"all", TicketQuery{}, 0, []int{6, 5, 4, 3, 2, 1}},
		{"state", TicketQuery{State: "new"}, 0, []int{5, 4, 2}},
		{"requests have no resource", TicketQuery{Resource: "-"}, 0, []int{6, 1}},
		{"resource", TicketQuery{Resource: "network"}, 0, []int{5, 3, 2}},
		{"state and resource", TicketQuery{State: "new", Resource: "network"}, 0, []int{5, 2}},
		{"requester", TicketQuery{Requester: "ben"}, 0, []int{6, 5, 4, 3}},
		{"requester and state", TicketQuery{Requester: "ben", State: "request"}, 0, []int{6}},
		{"assignee", TicketQuery{Assignee: "tech"}, 0, []int{5, 3}},
		{"unassigned", TicketQuery{Assignee: "-"}, 0, []int{6, 4, 2, 1}},
		{"page before 4", TicketQuery{Before: 4}, 0, []int{3, 2, 1}},
		{"page before 5 with a filter", TicketQuery{Resource: "network", Before: 5}, 0, []int{3, 2}},
		{"stop early", TicketQuery{}, 2, []int{6, 5}},
		{"no match", TicketQuery{Requester: "nobody"}, 0, nil},
		{"unknown state", TicketQuery{State: "lost"}, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			equal(t, "tickets", ticketNumbers(t, db, c.q, c.max), c.want)
		})
	}
}

func TestPutTicketMovesIndexEntries(t *testing.T) {
	db := ticketFixture(t)
	mustUpdate(t, db, func(tx *Tx) error {
		tk, ok, err := tx.Ticket(2)
		if err != nil || !ok {
			t.Fatalf("Ticket(2) = %v, %v", ok, err)
		}
		tk.State, tk.Resource, tk.Assignee = helpdesk.StateClosed, "printers", "tech"
		return tx.PutTicket(tk)
	})
	equal(t, "new tickets", ticketNumbers(t, db, TicketQuery{State: "new"}, 0), []int{5, 4})
	equal(t, "closed tickets", ticketNumbers(t, db, TicketQuery{State: "closed"}, 0), []int{2})
	equal(t, "network tickets", ticketNumbers(t, db, TicketQuery{Resource: "network"}, 0), []int{5, 3})
	equal(t, "closed printers tickets", ticketNumbers(t, db, TicketQuery{State: "closed", Resource: "printers"}, 0), []int{2})
	equal(t, "tech's tickets", ticketNumbers(t, db, TicketQuery{Assignee: "tech"}, 0), []int{5, 3, 2})
	assertNoProblems(t, db)

	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteTicket(5) })
	equal(t, "all after delete", ticketNumbers(t, db, TicketQuery{}, 0), []int{6, 4, 3, 2, 1})
	equal(t, "tech's tickets after delete", ticketNumbers(t, db, TicketQuery{Assignee: "tech"}, 0), []int{3, 2})
	mustView(t, db, func(tx *Tx) error {
		if _, ok, _ := tx.Ticket(5); ok {
			t.Error("ticket 5 is still stored")
		}
		if _, ok, _ := tx.Ticket(0); ok {
			t.Error("Ticket(0) found a ticket")
		}
		equal(t, "TicketCount()", tx.TicketCount(), 5)
		return nil
	})
	mustUpdate(t, db, func(tx *Tx) error {
		n, err := tx.NextTicketNumber()
		equal(t, "number after a delete", n, 7)
		return err
	})
	assertNoProblems(t, db)
}

func TestImportedTicketIDs(t *testing.T) {
	db := openTestStore(t)
	mustUpdate(t, db, func(tx *Tx) error { return tx.RecordImport("jira:HD-17", 42) })
	mustView(t, db, func(tx *Tx) error {
		n, ok := tx.ImportedTicket("jira:HD-17")
		equal(t, "ImportedTicket(jira:HD-17)", [2]any{n, ok}, [2]any{42, true})
		n, ok = tx.ImportedTicket("jira:HD-18")
		equal(t, "ImportedTicket(jira:HD-18)", [2]any{n, ok}, [2]any{0, false})
		return nil
	})
}

func TestApprovalTokenIndex(t *testing.T) {
	db := ticketFixture(t)
	lookup := func(hash string) (int, bool, bool) {
		var n int
		var found, superseded bool
		mustView(t, db, func(tx *Tx) error {
			a, f, s, err := tx.ApprovalByToken(hash)
			n, found, superseded = a.Ticket, f, s
			if f && a.TokenHash == "" {
				t.Errorf("ApprovalByToken(%s) returned a record without a link hash", hash)
			}
			return err
		})
		return n, found, superseded
	}
	put := func(a helpdesk.Approval) { mustUpdate(t, db, func(tx *Tx) error { return tx.PutApproval(a) }) }

	put(helpdesk.Approval{Ticket: 2, State: helpdesk.ApprovalPending, Approver: "ann", RequestedBy: "tech", TokenHash: "hash-a"})
	put(helpdesk.Approval{Ticket: 3, State: helpdesk.ApprovalPending, Approver: "ben", RequestedBy: "tech", TokenHash: "hash-x"})
	n, found, superseded := lookup("hash-a")
	equal(t, "hash-a first", [3]any{n, found, superseded}, [3]any{2, true, false})

	// A new link supersedes the old one; the old hash still finds the record, marked superseded.
	put(helpdesk.Approval{Ticket: 2, State: helpdesk.ApprovalPending, Approver: "ann", RequestedBy: "tech", TokenHash: "hash-b", Round: 2})
	n, found, superseded = lookup("hash-a")
	equal(t, "hash-a after a new link", [3]any{n, found, superseded}, [3]any{2, true, true})
	n, found, superseded = lookup("hash-b")
	equal(t, "hash-b", [3]any{n, found, superseded}, [3]any{2, true, false})
	// Storing the same link again (e.g. a decision) keeps it current.
	put(helpdesk.Approval{Ticket: 2, State: helpdesk.ApprovalApproved, Approver: "ann", RequestedBy: "tech", TokenHash: "hash-b", Round: 2})
	n, found, superseded = lookup("hash-b")
	equal(t, "hash-b after a decision", [3]any{n, found, superseded}, [3]any{2, true, false})
	n, found, _ = lookup("hash-unknown")
	equal(t, "unknown hash", [2]any{n, found}, [2]any{0, false})
	assertNoProblems(t, db)

	mustView(t, db, func(tx *Tx) error {
		all, err := tx.Approvals()
		var tickets []int
		for _, a := range all {
			tickets = append(tickets, a.Ticket)
		}
		equal(t, "Approvals()", tickets, []int{2, 3})
		a, ok, _ := tx.Approval(2)
		equal(t, "Approval(2)", [3]any{ok, a.State, a.Round}, [3]any{true, helpdesk.ApprovalApproved, 2})
		return err
	})

	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteApproval(2) })
	for _, h := range []string{"hash-a", "hash-b"} {
		if _, found, _ := lookup(h); found {
			t.Errorf("%s still finds a record after DeleteApproval", h)
		}
	}
	if _, found, _ := lookup("hash-x"); !found {
		t.Error("DeleteApproval(2) removed ticket 3's link")
	}
	assertNoProblems(t, db)

	// A current link missing from the index could never decide: check says so.
	mustUpdate(t, db, func(tx *Tx) error { return tx.bucket(bucketTokens).Delete([]byte("hash-x")) })
	mustView(t, db, func(tx *Tx) error {
		ps := tx.Check()
		if len(ps) != 1 || ps[0].Detail != "the current link of #3 is missing from the link index" {
			t.Errorf("check after losing #3's link entry: %+v", ps)
		}
		return nil
	})
	mustUpdate(t, db, func(tx *Tx) error { return tx.bucket(bucketTokens).Put([]byte("hash-x"), be64(3)) })
}

func TestOutbox(t *testing.T) {
	db := openTestStore(t)
	var ids []uint64
	mustUpdate(t, db, func(tx *Tx) error {
		for _, m := range []OutboxMail{
			{Ticket: 1, Kind: "approval-request", To: "ann@example.com"},
			{Ticket: 1, Kind: "reminder", To: "ann@example.com"},
			{Ticket: 2, Kind: "approval-request", To: "ben@example.com"},
			{Ticket: 1, Kind: "decision", To: "tech@example.com", State: MailSent},
		} {
			stored, err := tx.EnqueueMail(m)
			if err != nil {
				return err
			}
			ids = append(ids, stored.ID)
		}
		return nil
	})
	equal(t, "outbox ids", ids, []uint64{1, 2, 3, 4})
	mustUpdate(t, db, func(tx *Tx) error {
		m, ok, err := tx.Mail(1)
		if !ok || m.State != MailQueued || m.Kind != "approval-request" {
			t.Errorf("Mail(1) = %+v, %v", m, ok)
		}
		m.State, m.Attempts = MailSent, 1
		return errors.Join(err, tx.PutMail(m))
	})
	mustUpdate(t, db, func(tx *Tx) error {
		n, err := tx.DropTicketMail(1)
		equal(t, "mails dropped for ticket 1", n, 1) // only the unsent reminder
		return err
	})
	mustView(t, db, func(tx *Tx) error {
		all, err := tx.Outbox()
		var got []string
		for _, m := range all {
			got = append(got, m.Kind+"/"+m.State)
		}
		equal(t, "Outbox()", got, []string{"approval-request/sent", "approval-request/queued", "decision/sent"})
		if _, ok, _ := tx.Mail(2); ok {
			t.Error("the dropped reminder is still in the outbox")
		}
		return err
	})
}

func TestSettingsAccessors(t *testing.T) {
	db := openTestStore(t)
	mustUpdate(t, db, func(tx *Tx) error {
		return errors.Join(tx.PutSetting("approvals.enabled", "true"), tx.PutSetting("approvals.link-ttl", "72h"))
	})
	mustUpdate(t, db, func(tx *Tx) error { return tx.PutSetting("approvals.link-ttl", "") })
	mustView(t, db, func(tx *Tx) error {
		v, ok := tx.Setting("approvals.enabled")
		equal(t, "approvals.enabled", [2]any{v, ok}, [2]any{"true", true})
		v, ok = tx.Setting("approvals.link-ttl")
		equal(t, "a setting stored empty is removed", [2]any{v, ok}, [2]any{"", false})
		equal(t, "Settings()", tx.Settings(), map[string]string{"approvals.enabled": "true"})
		return nil
	})
}

func TestCheckFindsStaleIndexEntries(t *testing.T) {
	db := openTestStore(t)
	addUsers(t, db, "bob")
	mustUpdate(t, db, func(tx *Tx) error {
		return tx.bucket(bucketMemberOf).Put(pair("user:bob", "ghosts"), nil)
	})
	mustView(t, db, func(tx *Tx) error {
		ps := tx.Check()
		if len(ps) != 1 || !strings.Contains(ps[0].Detail, "member_of index has a stale entry") {
			t.Errorf("Check() = %+v, want the stale member_of entry", ps)
		}
		return nil
	})
}

// --- opening, creating and migrating ---

func TestCreateFileModesAndRefusal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "deskctl")
	path := filepath.Join(dir, "desk.db")
	db, err := Create(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s has mode %#o, want %#o", p, st.Mode().Perm(), want)
		}
	}
	before, _ := os.ReadFile(path)
	_, err = Create(path, time.Second)
	if errs.KindOf(err) != errs.Conflict || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("Create over an existing file: %v (kind %v), want a conflict", err, errs.KindOf(err))
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("Create changed the existing file it refused")
	}
	checkBoltPages(t, path)
}

func TestOpenRefusesWhatItCannotUse(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		want       []string // fragments of the message and hint
	}{
		{"missing", filepath.Join(dir, "missing.db"), []string{"no database at " + filepath.Join(dir, "missing.db"), "deskctl init"}},
		{"directory", dir, []string{"is a directory"}},
		{"not bbolt", garbage, []string{"not a usable deskctl database"}},
	}
	for _, c := range cases {
		for _, ro := range []bool{true, false} {
			_, err := Open(Options{Path: c.path, ReadOnly: ro, LockTimeout: time.Second})
			if errs.KindOf(err) != errs.Unusable {
				t.Errorf("%s (read-only %v): %v (kind %v), want unusable", c.name, ro, err, errs.KindOf(err))
				continue
			}
			text := err.Error() + " / " + errs.HintOf(err)
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("%s (read-only %v): %q lacks %q", c.name, ro, text, w)
				}
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("Open created the missing database")
	}
}

func writeSchema(t *testing.T, path string, v uint64) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return meta.Put(schemaKey, be64(v))
	}); err != nil {
		t.Fatal(err)
	}
}

func readSchema(t *testing.T, path string) uint64 {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var v uint64
	_ = b.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil && len(meta.Get(schemaKey)) == 8 {
			v = fromBE64(meta.Get(schemaKey))
		}
		return nil
	})
	return v
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "desk.db")
	db, err := Create(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	writeSchema(t, path, SchemaVersion+1)
	before, _ := os.ReadFile(path)
	for _, ro := range []bool{true, false} {
		_, err := Open(Options{Path: path, ReadOnly: ro, LockTimeout: time.Second})
		if errs.KindOf(err) != errs.Unusable {
			t.Fatalf("read-only %v: %v (kind %v), want unusable", ro, err, errs.KindOf(err))
		}
		if !strings.Contains(err.Error(), "schema version") || !strings.Contains(errs.HintOf(err), "upgrade deskctl") {
			t.Errorf("read-only %v: %q / hint %q does not explain the newer schema", ro, err, errs.HintOf(err))
		}
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("a refused database was changed")
	}
	checkBoltPages(t, path)
}

func TestMigrateFromEmptyV0(t *testing.T) {
	for _, ro := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "desk.db")
		// A bare bbolt file: no buckets, no schema key (schema 0).
		b, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
		db, err := Open(Options{Path: path, ReadOnly: ro, LockTimeout: time.Second})
		if err != nil {
			t.Fatalf("read-only %v: %v", ro, err)
		}
		_ = db.Bolt().View(func(tx *bolt.Tx) error {
			for _, name := range allBuckets {
				if tx.Bucket(name) == nil {
					t.Errorf("read-only %v: bucket %s missing after migration", ro, name)
				}
			}
			return nil
		})
		db.Close()
		if v := readSchema(t, path); v != SchemaVersion {
			t.Errorf("read-only %v: schema %d after migration, want %d", ro, v, SchemaVersion)
		}
		checkBoltPages(t, path)
	}
}

// TestMigrateV1BuildsChildIndex runs the 1 → 2 step on data: sub-resources
// stored before the parent → child index existed get their index entries.
// fileAtSchema writes a bbolt file as schema v left it, with fill's data,
// then opens it, which migrates it to the current schema.
func fileAtSchema(t *testing.T, v int, fill func(*bolt.Tx) error) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "desk.db")
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for i := 0; i < v; i++ {
			if err := migrations[i](boltTx{tx}); err != nil {
				return err
			}
		}
		if err := fill(tx); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(schemaKey, be64(uint64(v)))
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(Options{Path: path, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db, path
}

func TestMigrateV1BuildsChildIndex(t *testing.T) {
	db, path := fileAtSchema(t, 1, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketChildren) != nil {
			t.Fatal("schema 1 already has the child index; the test no longer exercises step 1 → 2")
		}
		res := tx.Bucket(bucketResources)
		for name, parent := range map[string]string{"network": "", "wifi": "network", "vpn": "network", "guest": "wifi"} {
			raw, _ := json.Marshal(map[string]any{"name": name, "parent": parent, "members": []any{}})
			if err := res.Put([]byte(name), raw); err != nil {
				return err
			}
		}
		return nil
	})
	mustView(t, db, func(tx *Tx) error {
		equal(t, "Children(network)", tx.Children("network"), []string{"vpn", "wifi"})
		equal(t, "Children(wifi)", tx.Children("wifi"), []string{"guest"})
		equal(t, "Children(guest)", tx.Children("guest"), []string(nil))
		return nil
	})
	db.Close()
	if v := readSchema(t, path); v != SchemaVersion {
		t.Errorf("schema %d after migration, want %d", v, SchemaVersion)
	}
}

// TestMigrateV7BuildsParents runs the 7 → 8 step on data: a custom action
// recorded only as JSON reaches the catalog record, and memberships
// recorded only in member_of get one parents record per subject, with its
// groups in order, and later group changes keep the records in step.
func TestMigrateV7BuildsParents(t *testing.T) {
	groups := map[string][]helpdesk.Subject{
		"everyone": {},
		"staff":    {helpdesk.UserSubject("ann"), helpdesk.UserSubject("bob"), helpdesk.GroupSubject("night")},
		"night":    {helpdesk.UserSubject("bob")},
		"admins":   {helpdesk.UserSubject("bob"), helpdesk.GroupSubject("night")},
	}
	db, _ := fileAtSchema(t, 7, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketParents) != nil {
			t.Fatal("schema 7 already has the parents records; the test no longer exercises step 7 → 8")
		}
		for _, login := range []string{"ann", "bob"} {
			raw, _ := json.Marshal(helpdesk.User{Login: login, Active: true})
			if err := tx.Bucket(bucketUsers).Put([]byte(login), raw); err != nil {
				return err
			}
		}
		raw, _ := json.Marshal(helpdesk.Right{Name: "escalate", Kind: helpdesk.KindAction, Category: helpdesk.CatSupporter,
			Description: "hand on", FromStates: []helpdesk.State{helpdesk.StateNew}})
		if err := tx.Bucket(bucketActions).Put([]byte("escalate"), raw); err != nil {
			return err
		}
		for name, members := range groups {
			raw, _ := json.Marshal(helpdesk.Group{Name: name, Members: members})
			if err := tx.Bucket(bucketGroups).Put([]byte(name), raw); err != nil {
				return err
			}
			for _, m := range members {
				if err := tx.Bucket(bucketMemberOf).Put(pair(m.String(), name), nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
	parentsOf := func(tx *Tx, s helpdesk.Subject) []string {
		ps, err := tx.GroupsOf(s)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	mustView(t, db, func(tx *Tx) error {
		equal(t, "GroupsOf(bob)", parentsOf(tx, helpdesk.UserSubject("bob")), []string{"admins", "night", "staff"})
		equal(t, "GroupsOf(ann)", parentsOf(tx, helpdesk.UserSubject("ann")), []string{"staff"})
		equal(t, "GroupsOf(group:night)", parentsOf(tx, helpdesk.GroupSubject("night")), []string{"admins", "staff"})
		equal(t, "GroupsOf(group:staff)", parentsOf(tx, helpdesk.GroupSubject("staff")), []string(nil))
		if r, ok, err := tx.Right("escalate"); err != nil || !ok {
			t.Fatalf("Right(escalate) = %v, %v", ok, err)
		} else if rs, err := tx.Rights(); err != nil || !slices.ContainsFunc(rs, func(x helpdesk.Right) bool { return reflect.DeepEqual(x, r) }) {
			t.Errorf("Rights() = %v, %v; want it to hold %+v", rs, err, r)
		}
		return nil
	})
	assertNoProblems(t, db)
	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.PutGroup(helpdesk.Group{Name: "night", Members: []helpdesk.Subject{helpdesk.UserSubject("ann")}}); err != nil {
			return err
		}
		return tx.DeleteGroup("admins")
	})
	mustView(t, db, func(tx *Tx) error {
		equal(t, "GroupsOf(bob) after changes", parentsOf(tx, helpdesk.UserSubject("bob")), []string{"staff"})
		equal(t, "GroupsOf(ann) after changes", parentsOf(tx, helpdesk.UserSubject("ann")), []string{"night", "staff"})
		equal(t, "GroupsOf(group:night) after changes", parentsOf(tx, helpdesk.GroupSubject("night")), []string{"staff"})
		return nil
	})
	assertNoProblems(t, db)
}

func TestOpenWaitsForTheLockThenGivesUp(t *testing.T) {
	db := openTestStore(t)
	path := db.Path()
	// db holds the write lock; a second open in the same process uses its own flock.
	_, err := Open(Options{Path: path, LockTimeout: 50 * time.Millisecond})
	if errs.KindOf(err) != errs.Busy || !strings.Contains(err.Error(), "another deskctl process holds the database") {
		t.Errorf("Open while locked: %v (kind %v), want busy", err, errs.KindOf(err))
	}
	if !strings.Contains(errs.HintOf(err), "--lock-timeout (now 50ms)") {
		t.Errorf("hint %q does not name the timeout", errs.HintOf(err))
	}
	db.Close()
	again, err := Open(Options{Path: path, LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after release: %v", err)
	}
	again.Close()
}

func TestReadOnlyRefusesUpdate(t *testing.T) {
	db := openTestStore(t)
	path := db.Path()
	if onPostgres {
		path = db.source
	}
	db.Close()
	ro, err := Open(Options{Path: path, ReadOnly: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	err = ro.Update(func(tx *Tx) error { return tx.PutSetting("approvals.enabled", "true") })
	if errs.KindOf(err) != errs.Unusable {
		t.Errorf("Update on a read-only database: %v, want unusable", err)
	}
}

// --- audit chain ---

func appendAudit(t *testing.T, db *DB, recs ...helpdesk.AuditRecord) {
	t.Helper()
	mustUpdate(t, db, func(tx *Tx) error {
		for _, r := range recs {
			if _, err := tx.AppendAudit(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// auditFixture appends five records an hour apart.
func auditFixture(t *testing.T) (*DB, time.Time) {
	t.Helper()
	db := openTestStore(t)
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	recs := []helpdesk.AuditRecord{
		{Actor: "alice", Command: "init", Subject: "database"},
		{Actor: "alice", Command: "user add", Subject: "user:bob", After: json.RawMessage(`{"login":"bob"}`)},
		{Actor: "bob", Command: "ticket create", Subject: "ticket:1"},
		{Actor: "bob", Command: "approval request", Subject: "ticket:1/approval"},
		{Actor: "alice", Command: "ticket create", Subject: "ticket:10"},
	}
	for i := range recs {
		recs[i].Time = start.Add(time.Duration(i) * time.Hour)
	}
	appendAudit(t, db, recs...)
	return db, start
}

func auditSeqs(t *testing.T, db *DB, f AuditFilter) []uint64 {
	t.Helper()
	var out []uint64
	mustView(t, db, func(tx *Tx) error {
		recs, err := tx.Audit(f)
		for _, r := range recs {
			out = append(out, r.Seq)
		}
		return err
	})
	return out
}

func TestAuditAppendAndFilter(t *testing.T) {
	db, start := auditFixture(t)
	mustView(t, db, func(tx *Tx) error {
		recs, err := tx.Audit(AuditFilter{})
		prev := ""
		for i, r := range recs {
			if r.Seq != uint64(i+1) || r.Prev != prev || r.Hash != r.ComputeHash() {
				t.Errorf("record %d: seq %d, prev %q (want %q), hash ok %v", i+1, r.Seq, r.Prev, prev, r.Hash == r.ComputeHash())
			}
			prev = r.Hash
		}
		n, p, err2 := tx.VerifyAudit()
		if n != 5 || p != nil {
			t.Errorf("VerifyAudit() = %d, %+v; want 5 records and no problem", n, p)
		}
		return errors.Join(err, err2)
	})
	since := func(t0 time.Time) func(helpdesk.AuditRecord) bool {
		return func(r helpdesk.AuditRecord) bool { return !r.Time.Before(t0) }
	}
	cases := []struct {
		name string
		f    AuditFilter
		want []uint64
	}{
		{"all, oldest first", AuditFilter{}, []uint64{1, 2, 3, 4, 5}},
		{"actor", AuditFilter{Actor: "bob"}, []uint64{3, 4}},
		{"subject matches itself and what lies below it", AuditFilter{Subject: "ticket:1"}, []uint64{3, 4}},
		{"subject exact", AuditFilter{Subject: "user:bob"}, []uint64{2}},
		{"limit keeps the newest", AuditFilter{Limit: 2}, []uint64{4, 5}},
		{"limit after the other filters", AuditFilter{Actor: "alice", Limit: 2}, []uint64{2, 5}},
		{"since", AuditFilter{Since: since(start.Add(150 * time.Minute))}, []uint64{4, 5}},
		{"since with actor", AuditFilter{Since: since(start.Add(time.Hour)), Actor: "alice"}, []uint64{2, 5}},
		{"nothing", AuditFilter{Actor: "carol"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			equal(t, "seqs", auditSeqs(t, db, c.f), c.want)
		})
	}
}

// rawAuditEdit changes the stored audit bucket directly, as someone editing
// the file with a bbolt tool would.
func rawAuditEdit(t *testing.T, db *DB, fn func(b kvBucket) error) {
	t.Helper()
	if err := db.Update(func(tx *Tx) error { return fn(tx.bucket(bucketAudit)) }); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyAuditDetectsTampering(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func(b kvBucket) error
		wantSeq uint64
		reason  string
	}{
		{"edited field", func(b kvBucket) error {
			var r map[string]any
			if err := json.Unmarshal(b.Get(be64(3)), &r); err != nil {
				return err
			}
			r["actor"] = "mallory"
			raw, _ := json.Marshal(r)
			return b.Put(be64(3), raw)
		}, 3, "edited"},
		{"edited change with its hash recomputed", func(b kvBucket) error {
			var r helpdesk.AuditRecord
			if err := json.Unmarshal(b.Get(be64(2)), &r); err != nil {
				return err
			}
			r.After = json.RawMessage(`{"login":"eve"}`)
			r.Hash = r.ComputeHash()
			raw, _ := json.Marshal(r)
			return b.Put(be64(2), raw)
		}, 3, "previous-hash link"},
		{"deleted in the middle", func(b kvBucket) error { return b.Delete(be64(3)) }, 4, "sequence jumps from 2 to 4"},
		{"deleted first", func(b kvBucket) error { return b.Delete(be64(1)) }, 2, "sequence jumps from 0 to 2"},
		{"reordered", func(b kvBucket) error {
			two, three := append([]byte(nil), b.Get(be64(2))...), append([]byte(nil), b.Get(be64(3))...)
			return errors.Join(b.Put(be64(2), three), b.Put(be64(3), two))
		}, 2, "stored under key 2 but claims sequence 3"},
		{"undecodable", func(b kvBucket) error { return b.Put(be64(4), []byte("{not json")) }, 4, "cannot be decoded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, _ := auditFixture(t)
			rawAuditEdit(t, db, c.tamper)
			mustView(t, db, func(tx *Tx) error {
				_, p, err := tx.VerifyAudit()
				if p == nil {
					t.Fatal("VerifyAudit found no problem")
				}
				if p.Seq != c.wantSeq || !strings.Contains(p.Reason, c.reason) {
					t.Errorf("problem = %+v, want record %d with %q", p, c.wantSeq, c.reason)
				}
				if ps := tx.Check(); !slices.ContainsFunc(ps, func(p Problem) bool { return p.Area == "audit" }) {
					t.Errorf("Check() = %+v, want the audit problem", ps)
				}
				return err
			})
		})
	}
}

// Deleting the newest records leaves a chain that is consistent in itself;
// the audit bucket's sequence still remembers how many records were written.
func TestVerifyAuditDetectsDeletedNewestRecord(t *testing.T) {
	db, _ := auditFixture(t)
	rawAuditEdit(t, db, func(b kvBucket) error { return b.Delete(be64(5)) })
	mustView(t, db, func(tx *Tx) error {
		_, p, err := tx.VerifyAudit()
		if p == nil {
			t.Error("VerifyAudit found no problem after the newest record was deleted")
		}
		return err
	})
}

func TestAppendAuditAfterUndecodableLastRecordFails(t *testing.T) {
	db, _ := auditFixture(t)
	rawAuditEdit(t, db, func(b kvBucket) error { return b.Put(be64(5), []byte("{")) })
	err := db.Update(func(tx *Tx) error {
		_, err := tx.AppendAudit(helpdesk.AuditRecord{Actor: "alice", Command: "x", Subject: "y"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("AppendAudit after a damaged record: %v, want an error naming the damage", err)
	}
}

// A record with stages indexes each link as ticket and link; a link given
// a new hash leaves its old one superseded, and deleting the record removes
// every hash.
func TestApprovalLinkIndex(t *testing.T) {
	db := ticketFixture(t)
	stages := []helpdesk.ApprovalStage{
		{State: helpdesk.ApprovalPending, Approvers: []helpdesk.ApproverSlot{
			{Approver: "ann", Links: []helpdesk.ApprovalLink{{Login: "ann", TokenHash: "h-ann"}}},
			{Approver: "group:fin", Links: []helpdesk.ApprovalLink{{Login: "ben", TokenHash: "h-ben"}, {Login: "cy", TokenHash: "h-cy"}}},
		}},
		{Approvers: []helpdesk.ApproverSlot{{Approver: "dee", Links: []helpdesk.ApprovalLink{{Login: "dee"}}}}},
	}
	a := helpdesk.Approval{Ticket: 2, State: helpdesk.ApprovalPending, Approver: "ann, group:fin then dee", RequestedBy: "tech", Stages: stages}
	mustUpdate(t, db, func(tx *Tx) error { return tx.PutApproval(a) })
	type hit struct {
		ticket     int
		ref        helpdesk.LinkRef
		found, sup bool
	}
	lookup := func(hash string) hit {
		var h hit
		mustView(t, db, func(tx *Tx) error {
			a, ref, f, s, err := tx.ApprovalLinkByToken(hash)
			h = hit{a.Ticket, ref, f, s}
			return err
		})
		return h
	}
	equal(t, "h-cy", lookup("h-cy"), hit{2, helpdesk.LinkRef{Stage: 0, Slot: 1, Link: 1}, true, false})
	equal(t, "h-ann", lookup("h-ann"), hit{2, helpdesk.LinkRef{}, true, false})
	assertNoProblems(t, db)

	a.SetLink(helpdesk.LinkRef{Stage: 0, Slot: 1, Link: 1}, "h-cy2", time.Time{})
	mustUpdate(t, db, func(tx *Tx) error { return tx.PutApproval(a) })
	equal(t, "h-cy after a new link", lookup("h-cy"), hit{2, helpdesk.LinkRef{Stage: 0, Slot: 1, Link: 1}, true, true})
	equal(t, "h-cy2", lookup("h-cy2"), hit{2, helpdesk.LinkRef{Stage: 0, Slot: 1, Link: 1}, true, false})
	assertNoProblems(t, db)

	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteApproval(2) })
	for _, h := range []string{"h-ann", "h-ben", "h-cy", "h-cy2"} {
		if lookup(h).found {
			t.Errorf("%s still finds a record after DeleteApproval", h)
		}
	}
	assertNoProblems(t, db)
}

// TestMigrateV8FillsAssigneeValues runs the 8 → 9 step on data: tickets
// indexed before assignee keys held the ticket's resource get it, so lists
// of one assignee's tickets within resources find them, and db check finds
// the index in order.
func TestMigrateV8FillsAssigneeValues(t *testing.T) {
	tickets := []helpdesk.Ticket{
		{Number: 1, Requester: "ann", State: helpdesk.StateRequest, Assignee: "bob"},
		{Number: 2, Requester: "ann", Resource: "net", State: helpdesk.StateNew, Assignee: "bob"},
		{Number: 3, Requester: "ann", Resource: "wifi", State: helpdesk.StateNew, Assignee: "bob"},
		{Number: 4, Requester: "bob", Resource: "net", State: helpdesk.StateInProgress, Assignee: "bob"},
		{Number: 5, Requester: "ann", Resource: "net", State: helpdesk.StateNew},
		{Number: 7, Requester: "ann", Resource: "net", State: helpdesk.StateNew, Assignee: "ann"},
	}
	db, _ := fileAtSchema(t, 8, func(tx *bolt.Tx) error {
		for _, login := range []string{"ann", "bob"} {
			raw, _ := json.Marshal(helpdesk.User{Login: login, Active: true})
			if err := tx.Bucket(bucketUsers).Put([]byte(login), raw); err != nil {
				return err
			}
		}
		raw, _ := json.Marshal(helpdesk.Group{Name: helpdesk.Everyone})
		if err := tx.Bucket(bucketGroups).Put([]byte(helpdesk.Everyone), raw); err != nil {
			return err
		}
		for _, r := range []string{"net", "wifi"} {
			raw, _ := json.Marshal(helpdesk.Resource{Name: r})
			if err := tx.Bucket(bucketResources).Put([]byte(r), raw); err != nil {
				return err
			}
		}
		for _, tk := range tickets {
			tk.Subject, tk.Priority = "t", helpdesk.PriorityNormal
			raw, _ := json.Marshal(tk)
			if err := tx.Bucket(bucketTickets).Put(be64(uint64(tk.Number)), raw); err != nil {
				return err
			}
			for _, k := range ticketIndexKeys(tk) {
				if err := tx.Bucket(bucketTicketIndex).Put(k, nil); err != nil { // schema 8: no values
					return err
				}
			}
		}
		return nil
	})
	numbers := func(scope *TicketScope, q TicketQuery) (out []int) {
		t.Helper()
		collect := func(tk helpdesk.Ticket) (bool, error) { out = append(out, tk.Number); return true, nil }
		mustView(t, db, func(tx *Tx) error {
			if scope != nil {
				return tx.EachTicketIn(*scope, q, collect)
			}
			return tx.EachTicket(q, collect)
		})
		return out
	}
	equal(t, "bob's in net", numbers(nil, TicketQuery{Assignee: "bob", Resource: "net"}), []int{4, 2})
	equal(t, "bob's new in net", numbers(nil, TicketQuery{Assignee: "bob", Resource: "net", State: "new"}), []int{2})
	equal(t, "bob's requests", numbers(nil, TicketQuery{Assignee: "bob", Resource: "-"}), []int{1})
	equal(t, "unassigned in net", numbers(nil, TicketQuery{Assignee: "-", Resource: "net"}), []int{5})
	netOnly := &TicketScope{Resources: []string{"net"}}
	equal(t, "bob's seen through net", numbers(netOnly, TicketQuery{Assignee: "bob"}), []int{4, 2})
	equal(t, "bob's new seen through net", numbers(netOnly, TicketQuery{Assignee: "bob", State: "new"}), []int{2})
	assertNoProblems(t, db)
}

// A ticket record that does not decode keeps the 8 → 9 step from filling
// its assignee value, not the database from opening: db check then names
// the record.
func TestMigrateV8PassesOverAnUndecodableTicket(t *testing.T) {
	db, _ := fileAtSchema(t, 8, func(tx *bolt.Tx) error {
		raw, _ := json.Marshal(helpdesk.User{Login: "ann", Active: true})
		if err := tx.Bucket(bucketUsers).Put([]byte("ann"), raw); err != nil {
			return err
		}
		raw, _ = json.Marshal(helpdesk.Group{Name: helpdesk.Everyone})
		if err := tx.Bucket(bucketGroups).Put([]byte(helpdesk.Everyone), raw); err != nil {
			return err
		}
		good := helpdesk.Ticket{Number: 1, Subject: "t", Requester: "ann", State: helpdesk.StateRequest,
			Priority: helpdesk.PriorityNormal, Assignee: "ann"}
		raw, _ = json.Marshal(good)
		if err := tx.Bucket(bucketTickets).Put(be64(1), raw); err != nil {
			return err
		}
		for _, k := range ticketIndexKeys(good) {
			if err := tx.Bucket(bucketTicketIndex).Put(k, nil); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketTickets).Put(be64(2), []byte(`{"number": 2, "subject": `))
	})
	mustView(t, db, func(tx *Tx) error {
		var got []string
		for _, p := range tx.Check() {
			got = append(got, p.Area+": "+p.Detail)
		}
		if len(got) != 1 || !strings.HasPrefix(got[0], "tickets: ticket 2 cannot be decoded") {
			t.Errorf("check after the migration = %q, want only ticket 2 named", got)
		}
		var mine []int
		err := tx.EachTicketIn(TicketScope{Resources: []string{"-"}}, TicketQuery{Assignee: "ann"}, func(tk helpdesk.Ticket) (bool, error) {
			mine = append(mine, tk.Number)
			return true, nil
		})
		equal(t, "ann's requests", mine, []int{1})
		return err
	})
}
