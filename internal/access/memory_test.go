package access

import (
	"reflect"
	"testing"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

func TestMemoryIndexes(t *testing.T) {
	m := NewMemory()
	g, u := helpdesk.GroupSubject, helpdesk.UserSubject
	if gs, _ := m.Groups(); !equalStrings(gs, []string{"everyone"}) {
		t.Fatalf("a new Memory has groups %v", gs)
	}
	if rs, _ := m.Rights(); len(rs) != len(helpdesk.Builtins()) {
		t.Fatalf("catalog has %d rights", len(rs))
	}
	m.PutGroup(helpdesk.Group{Name: "b", Members: []helpdesk.Subject{u("bob")}})
	m.PutGroup(helpdesk.Group{Name: "a", Members: []helpdesk.Subject{u("bob"), g("b")}})
	if got, _ := m.GroupsOf(u("bob")); !equalStrings(got, []string{"a", "b"}) {
		t.Errorf("GroupsOf bob = %v", got)
	}
	m.PutGroup(helpdesk.Group{Name: "a", Members: []helpdesk.Subject{g("b")}}) // replaces the member list
	if got, _ := m.GroupsOf(u("bob")); !equalStrings(got, []string{"b"}) {
		t.Errorf("after replacing a: GroupsOf bob = %v", got)
	}
	m.AddGroupMember("a", u("carol"))
	m.AddGroupMember("a", u("carol"))
	if grp, _, _ := m.Group("a"); len(grp.Members) != 2 {
		t.Errorf("a = %v", grp.Members)
	}

	m.AddResourceMember("net", "bob", helpdesk.AccessRead)
	m.AddResourceMember("net", "bob", helpdesk.AccessWrite)
	if got, _ := m.ResourcesOf("bob"); !reflect.DeepEqual(got, []helpdesk.ResourceMembership{{Resource: "net", Access: helpdesk.AccessWrite}}) {
		t.Errorf("ResourcesOf bob = %v", got)
	}
	m.PutResource(helpdesk.Resource{Name: "net"})
	if got, _ := m.ResourcesOf("bob"); len(got) != 0 {
		t.Errorf("after replacing net: %v", got)
	}

	m.Grant(u("bob"), "close", "admin")
	m.Grant(g("a"), "close")
	if got, _ := m.Holders("close"); !reflect.DeepEqual(got, []helpdesk.Subject{g("a"), u("bob")}) {
		t.Errorf("Holders close = %v", got)
	}
	m.Revoke(u("bob"), "close", "never-granted")
	if got, _ := m.Grants(u("bob")); !equalStrings(got, []string{"admin"}) {
		t.Errorf("Grants bob = %v", got)
	}
	if got, _ := m.Holders("close"); len(got) != 1 {
		t.Errorf("Holders close after revoke = %v", got)
	}
}

func TestMemoryClone(t *testing.T) {
	m := fixture(t)
	m.PutRight(helpdesk.Right{Name: "escalate", Kind: helpdesk.KindAction, Category: helpdesk.CatSupporter, FromStates: []helpdesk.State{helpdesk.StateNew}})
	c := m.Clone()
	before := snapshotOf(t, m)
	if !reflect.DeepEqual(before, snapshotOf(t, c)) {
		t.Fatal("a clone answers differently")
	}
	c.Revoke(helpdesk.GroupSubject(helpdesk.Everyone), "comment")
	c.AddGroupMember("support", helpdesk.UserSubject("carol"))
	c.AddResourceMember("printers", "kim", helpdesk.AccessWrite)
	c.PutUser(helpdesk.User{Login: "zed", Active: true})
	if !reflect.DeepEqual(before, snapshotOf(t, m)) {
		t.Fatal("changing a clone changed the original")
	}
}

// Reserve changes what a Memory can hold without growing, never what it
// holds: every answer stays the same, and it keeps working afterwards.
func TestMemoryReserve(t *testing.T) {
	m := fixture(t)
	c := m.Clone()
	c.Reserve(10000, 1000, 200)
	if !reflect.DeepEqual(snapshotOf(t, m), snapshotOf(t, c)) {
		t.Fatal("Reserve changed the answers")
	}
	c.PutUser(helpdesk.User{Login: "zed", Active: true})
	c.AddGroupMember("support", helpdesk.UserSubject("zed"))
	if got, _ := c.GroupsOf(helpdesk.UserSubject("zed")); !equalStrings(got, []string{"support"}) {
		t.Errorf("after Reserve: GroupsOf zed = %v", got)
	}
}

// snapshotOf is every user's full matrix row.
func snapshotOf(t *testing.T, m *Memory) Matrix {
	t.Helper()
	x, err := New(m).Matrix(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestGenerateMemory(t *testing.T) {
	a, b := GenerateMemory(7, 500, 80, 20), GenerateMemory(7, 500, 80, 20)
	if !reflect.DeepEqual(snapshotOf(t, a), snapshotOf(t, b)) {
		t.Fatal("same seed, different directories")
	}
	if reflect.DeepEqual(snapshotOf(t, a), snapshotOf(t, GenerateMemory(8, 500, 80, 20))) {
		t.Fatal("the seed makes no difference")
	}
	rights, _ := a.Rights()
	users, _ := a.Users()
	groups, _ := a.Groups()
	resources, _ := a.Resources()
	if len(rights) != 40 || len(users) != 500 || len(groups) != 81 || len(resources) != 20 {
		t.Fatalf("%d rights, %d users, %d groups, %d resources", len(rights), len(users), len(groups), len(resources))
	}
	if err := New(a).RequireAdmin("user00000"); err != nil {
		t.Fatalf("the generated administrator: %v", err)
	}
	// Nesting reaches the full depth: some user has a chain of GenDepth groups.
	deepest := 0
	e := New(a)
	for _, u := range users[:50] {
		x, err := e.Explain(u, ExplainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range x.Groups {
			for _, c := range g.Chains {
				deepest = max(deepest, len(c)-1)
			}
		}
	}
	if deepest != GenDepth {
		t.Errorf("deepest chain has %d groups, want %d", deepest, GenDepth)
	}
	tks := GenerateTickets(7, a, 200)
	requests := 0
	for i, tk := range tks {
		if tk.Number != i+1 || (tk.Resource == "") != (tk.State == helpdesk.StateRequest) {
			t.Fatalf("ticket %+v", tk)
		}
		if tk.Resource == "" {
			requests++
		}
	}
	if requests == 0 || requests > 60 {
		t.Errorf("%d requests among 200 tickets", requests)
	}
}
