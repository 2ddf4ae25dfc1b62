package access

import (
	"testing"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

func TestRole(t *testing.T) {
	const (
		none = RoleNone
		eu   = RoleEndUser
		rm   = RoleResourceMember
		disp = RoleDispatcher
	)
	tests := []struct {
		name     string
		login    string
		t        *helpdesk.Ticket
		role     Role
		readOnly bool
		resource string // RoleInfo.Resource
		perm     string // RoleInfo.Permission
		reason   string
	}{
		{"requester on a request", "carol", ticket(1, "carol", "", helpdesk.StateRequest),
			eu, false, "", "", "End User: requester of #1"},
		{"stranger on a request", "ivan", ticket(1, "carol", "", helpdesk.StateRequest),
			none, false, "", "", "#1 is an unauthorized request and ivan is neither its requester nor a dispatcher"},
		{"dispatcher on a request", "dave", ticket(7, "carol", "", helpdesk.StateRequest),
			disp, false, "", helpdesk.PermDispatcher, "Dispatcher: holds dispatcher (via group:dispatch) and #7 is an unauthorized request"},
		{"dispatcher who is the requester of a request", "dave", ticket(7, "dave", "", helpdesk.StateRequest),
			disp, false, "", helpdesk.PermDispatcher, "Dispatcher: holds dispatcher (via group:dispatch) and #7 is an unauthorized request"},
		{"dispatcher on an authorized ticket is nobody", "dave", ticket(8, "carol", "network", helpdesk.StateNew),
			none, false, "", "", "dave is not a member of network, does not hold read-all-tickets and is not the requester of #8"},
		{"dispatcher who is a member", "dave", ticket(8, "carol", "printers", helpdesk.StateNew),
			rm, false, "printers", "", "Resource Member: member of printers (write)"},
		{"dispatcher who is the requester of an authorized ticket", "dave", ticket(8, "dave", "network", helpdesk.StateNew),
			eu, false, "", "", "End User: requester of #8"},
		{"write member", "bob", ticket(2, "carol", "network", helpdesk.StateNew),
			rm, false, "network", "", "Resource Member: member of network (write)"},
		{"member of the parent of a sub-resource without members", "bob", ticket(3, "carol", "network-wifi", helpdesk.StateNew),
			rm, false, "network", "", "Resource Member: member of network-wifi's parent network (write)"},
		{"member of an ancestor two levels up", "bob", ticket(3, "carol", "network-wifi-5g", helpdesk.StateNew),
			rm, false, "network", "", "Resource Member: member of network (write), the nearest resource above network-wifi-5g with members of its own"},
		{"member of the parent of a sub-resource with own members", "ivan", ticket(4, "carol", "printers-color", helpdesk.StateNew),
			none, false, "", "", "ivan is not a member of printers-color, does not hold read-all-tickets and is not the requester of #4"},
		{"own member of a sub-resource", "judy", ticket(4, "carol", "printers-color", helpdesk.StateNew),
			rm, false, "printers-color", "", "Resource Member: member of printers-color (write)"},
		{"own member of a sub-resource has no role on the parent", "judy", ticket(4, "carol", "printers", helpdesk.StateNew),
			none, false, "", "", "judy is not a member of printers, does not hold read-all-tickets and is not the requester of #4"},
		{"read-all-tickets is read-only without edit-all-tickets", "gina", ticket(5, "carol", "printers", helpdesk.StateNew),
			rm, true, "", helpdesk.PermReadAllTickets, "Resource Member: holds read-all-tickets (via group:auditors); read-only: no edit-all-tickets"},
		{"read-all-tickets with edit-all-tickets", "hank", ticket(5, "carol", "printers", helpdesk.StateNew),
			rm, false, "", helpdesk.PermReadAllTickets, "Resource Member: holds read-all-tickets (via group:auditors); not read-only: holds read-all-tickets and edit-all-tickets"},
		{"read-all-tickets gives nothing on requests", "gina", ticket(5, "carol", "", helpdesk.StateRequest),
			none, false, "", "", "#5 is an unauthorized request and gina is neither its requester nor a dispatcher"},
		{"read member is read-only", "erin", ticket(6, "carol", "network", helpdesk.StateNew),
			rm, true, "network", "", "Resource Member: member of network (read); read-only: read access and no edit-all-tickets"},
		{"read member who is the requester", "erin", ticket(6, "erin", "network", helpdesk.StateNew),
			rm, true, "network", "", "Resource Member: member of network (read); read-only: read access and no edit-all-tickets; also the requester of #6, but a member acts as Resource Member (creator rule)"},
		{"edit-all-tickets without read-all-tickets does not lift read-only", "lena", ticket(6, "carol", "network", helpdesk.StateNew),
			rm, true, "network", "", "Resource Member: member of network (read); read-only: read access and no edit-all-tickets"},
		{"creator rule", "bob", ticket(9, "bob", "network", helpdesk.StateNew),
			rm, false, "network", "", "Resource Member: member of network (write); also the requester of #9, but a member acts as Resource Member (creator rule)"},
		{"requester on an authorized ticket", "carol", ticket(10, "carol", "network", helpdesk.StateNew),
			eu, false, "", "", "End User: requester of #10"},
		{"requester keeps the role on a closed ticket", "carol", ticket(10, "carol", "network", helpdesk.StateClosed),
			eu, false, "", "", "End User: requester of #10"},
		{"stranger on an authorized ticket", "kim", ticket(10, "carol", "network", helpdesk.StateNew),
			none, false, "", "", "kim is not a member of network, does not hold read-all-tickets and is not the requester of #10"},
		{"disabled member and requester", "frank", ticket(11, "frank", "network", helpdesk.StateNew),
			none, false, "", "", "frank is disabled and has no role on any ticket"},
		{"ticket in a resource that does not exist", "bob", ticket(12, "carol", "gone", helpdesk.StateNew),
			none, false, "", "", "resource gone does not exist; bob does not hold read-all-tickets and is not the requester of #12"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := New(fixture(t)).Role(tc.login, tc.t)
			if err != nil {
				t.Fatal(err)
			}
			if got.Role != tc.role || got.ReadOnly != tc.readOnly || got.Resource != tc.resource || got.Permission != tc.perm {
				t.Errorf("got role=%q read-only=%v resource=%q permission=%q; want %q %v %q %q",
					got.Role, got.ReadOnly, got.Resource, got.Permission, tc.role, tc.readOnly, tc.resource, tc.perm)
			}
			if got.Reason != tc.reason {
				t.Errorf("reason\n got: %s\nwant: %s", got.Reason, tc.reason)
			}
			if got.Requester != (tc.t.Requester == tc.login) {
				t.Errorf("requester = %v", got.Requester)
			}
		})
	}
}

func TestRoleDisabledAndUnknown(t *testing.T) {
	e := New(fixture(t))
	got, err := e.Role("frank", ticket(1, "carol", "network", helpdesk.StateNew))
	if err != nil || !got.Disabled || got.Role != RoleNone {
		t.Fatalf("frank: %+v, %v", got, err)
	}
	_, err = e.Role("bobb", ticket(1, "carol", "network", helpdesk.StateNew))
	if !errs.Is(err, errs.NotFound) || err.Error() != "no such user 'bobb'" || errs.HintOf(err) != "did you mean 'bob'?" {
		t.Fatalf("unknown user: %v (hint %q)", err, errs.HintOf(err))
	}
}

func TestRoleTitle(t *testing.T) {
	for r, want := range map[Role]string{RoleNone: "no role", RoleEndUser: "End User", RoleResourceMember: "Resource Member", RoleDispatcher: "Dispatcher"} {
		if r.Title() != want {
			t.Errorf("%q.Title() = %q", r, r.Title())
		}
	}
}
