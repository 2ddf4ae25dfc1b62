package access

import (
	"testing"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// The fixture directory used by the example-based tests:
//
//	groups     support ⊃ tier1 ⊃ bob;  dispatch ⊃ dave;  auditors ⊃ gina, hank;
//	           editors ⊃ hank;  staff ⊃ everyone;  top ⊃ left, right ⊃ kim (a diamond)
//	resources  network (bob write, erin read) ⊃ network-wifi (no members) ⊃ network-wifi-5g (none)
//	           printers (ivan write, dave write) ⊃ printers-color (judy write)
//	users      alice admin; carol an end user; frank disabled (in tier1, member of network);
//	           lena holds edit-all-tickets without read-all-tickets and reads network
//	grants     everyone: all-users actions;  support: supporter actions;  tier1: edit-subject;
//	           dispatch: dispatcher, authorize;  auditors: read-all-tickets;  editors: edit-all-tickets;
//	           resource:network: forward (write members and read members alike);  top: link;
//	           staff: edit-priority;  alice: admin
var fixtureUsers = []string{"alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivan", "judy", "kim", "lena"}

func fixture(t testing.TB) *Memory {
	t.Helper()
	m := NewMemory()
	for _, l := range fixtureUsers {
		m.PutUser(helpdesk.User{Login: l, Name: l, Email: l + "@example.com", Active: l != "frank"})
	}
	g := helpdesk.GroupSubject
	u := helpdesk.UserSubject
	m.PutGroup(helpdesk.Group{Name: "support", Members: []helpdesk.Subject{g("tier1")}})
	m.PutGroup(helpdesk.Group{Name: "tier1", Members: []helpdesk.Subject{u("bob"), u("frank")}})
	m.PutGroup(helpdesk.Group{Name: "dispatch", Members: []helpdesk.Subject{u("dave")}})
	m.PutGroup(helpdesk.Group{Name: "auditors", Members: []helpdesk.Subject{u("gina"), u("hank")}})
	m.PutGroup(helpdesk.Group{Name: "editors", Members: []helpdesk.Subject{u("hank"), u("lena")}})
	m.PutGroup(helpdesk.Group{Name: "staff", Members: []helpdesk.Subject{g(helpdesk.Everyone)}})
	m.PutGroup(helpdesk.Group{Name: "top", Members: []helpdesk.Subject{g("left"), g("right")}})
	m.PutGroup(helpdesk.Group{Name: "left", Members: []helpdesk.Subject{u("kim")}})
	m.PutGroup(helpdesk.Group{Name: "right", Members: []helpdesk.Subject{u("kim")}})

	w, r := helpdesk.AccessWrite, helpdesk.AccessRead
	m.PutResource(helpdesk.Resource{Name: "network", Members: []helpdesk.ResourceMember{{Login: "bob", Access: w}, {Login: "erin", Access: r}, {Login: "frank", Access: w}, {Login: "lena", Access: r}}})
	m.PutResource(helpdesk.Resource{Name: "network-wifi", Parent: "network"})
	m.PutResource(helpdesk.Resource{Name: "network-wifi-5g", Parent: "network-wifi"})
	m.PutResource(helpdesk.Resource{Name: "printers", Members: []helpdesk.ResourceMember{{Login: "ivan", Access: w}, {Login: "dave", Access: w}}})
	m.PutResource(helpdesk.Resource{Name: "printers-color", Parent: "printers", Members: []helpdesk.ResourceMember{{Login: "judy", Access: w}}})

	m.Grant(g(helpdesk.Everyone), helpdesk.AllUsersActions()...)
	for _, right := range helpdesk.Builtins() {
		if right.Category == helpdesk.CatSupporter {
			m.Grant(g("support"), right.Name)
		}
	}
	m.Grant(g("tier1"), helpdesk.ActEditSubject)
	m.Grant(g("dispatch"), helpdesk.PermDispatcher, helpdesk.ActAuthorize, helpdesk.ActReply)
	m.Grant(g("auditors"), helpdesk.PermReadAllTickets)
	m.Grant(g("editors"), helpdesk.PermEditAllTickets)
	m.Grant(helpdesk.ResourceSubject("network"), helpdesk.ActForward)
	m.Grant(g("top"), helpdesk.ActLink)
	m.Grant(g("staff"), helpdesk.ActEditPriority)
	m.Grant(u("alice"), helpdesk.PermAdmin)
	return m
}

// ticket builds a ticket fixture; resource "" makes a request.
func ticket(n int, requester, resource string, state helpdesk.State) *helpdesk.Ticket {
	return &helpdesk.Ticket{Number: n, Requester: requester, Resource: resource, State: state, Subject: "fixture"}
}
