package access

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

func TestWhoCan(t *testing.T) {
	activeAll := []string{"alice", "bob", "carol", "dave", "erin", "gina", "hank", "ivan", "judy", "kim", "lena"}
	tests := []struct {
		name  string
		right string
		t     *helpdesk.Ticket
		want  []string
		roles []Role // with a ticket
	}{
		{"through nested groups, disabled member left out", "close", nil, []string{"bob"}, nil},
		{"through a resource, read members included", "forward", nil, []string{"bob", "erin", "lena"}, nil},
		{"everyone means every active user", "comment", nil, activeAll, nil},
		{"everyone nested in another group", "edit-priority", nil, activeAll, nil},
		{"a permission", "read-all-tickets", nil, []string{"gina", "hank"}, nil},
		{"nobody", "delete", nil, []string{}, nil},
		{"on a ticket: read-only members drop out", "forward", ticket(1, "carol", "network", helpdesk.StateNew),
			[]string{"bob"}, []Role{RoleResourceMember}},
		{"on a request: requester and dispatcher", "comment", ticket(2, "carol", "", helpdesk.StateRequest),
			[]string{"carol", "dave"}, []Role{RoleEndUser, RoleDispatcher}},
		{"on a sub-resource: the parent's members and edit-all holders", "comment", ticket(3, "ivan", "network-wifi", helpdesk.StateNew),
			[]string{"bob", "hank", "ivan"}, []Role{RoleResourceMember, RoleResourceMember, RoleEndUser}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs, err := New(fixture(t)).WhoCan(tc.right, tc.t)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for i, h := range hs {
				got = append(got, h.Login)
				if len(h.Paths) == 0 {
					t.Errorf("%s listed without a path", h.Login)
				}
				if tc.roles != nil && i < len(tc.roles) && h.Role != tc.roles[i] {
					t.Errorf("%s role %q, want %q", h.Login, h.Role, tc.roles[i])
				}
			}
			if !equalStrings(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := New(fixture(t)).WhoCan("admin", ticket(1, "carol", "network", helpdesk.StateNew)); !errs.Is(err, errs.Usage) {
		t.Errorf("permission with a ticket: %v", err)
	}
	if _, err := New(fixture(t)).WhoCan("nope", nil); !errs.Is(err, errs.NotFound) {
		t.Errorf("unknown right: %v", err)
	}
}

func TestMatrix(t *testing.T) {
	e := New(fixture(t))
	m, err := e.Matrix([]string{"bob", "carol", "frank", "alice"}, []string{"close", "comment", "admin", "forward"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]bool{
		{true, true, false, true},    // bob
		{false, true, false, false},  // carol
		{false, false, false, false}, // frank, disabled
		{false, true, true, false},   // alice
	}
	for i := range want {
		if !equalBools(m.Cells[i], want[i]) {
			t.Errorf("%s: %v, want %v", m.Users[i], m.Cells[i], want[i])
		}
	}
	all, err := e.Matrix(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Users) != len(fixtureUsers) || len(all.Rights) != 24 || len(all.Cells) != len(fixtureUsers) || len(all.Cells[0]) != 24 {
		t.Fatalf("full matrix %d×%d", len(all.Users), len(all.Rights))
	}
	if all.Users[0] != "alice" || all.Rights[0] != "comment" || all.Rights[23] != "read-all-tickets" {
		t.Errorf("order: users %v…, rights %v…%v", all.Users[0], all.Rights[0], all.Rights[23])
	}
	if _, err := e.Matrix([]string{"bobby"}, nil); !errs.Is(err, errs.NotFound) {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := e.Matrix(nil, []string{"closed"}); !errs.Is(err, errs.NotFound) || errs.HintOf(err) != "did you mean 'close'?" {
		t.Errorf("unknown right: %v", err)
	}
}

func TestDiff(t *testing.T) {
	e := New(fixture(t))
	d, err := e.Diff("dave", "gina")
	if err != nil {
		t.Fatal(err)
	}
	render := func(rs []RightPaths) []string {
		var out []string
		for _, r := range rs {
			s := r.Right + ":"
			for _, p := range r.Paths {
				s += " " + p.String()
			}
			out = append(out, s)
		}
		return out
	}
	if got, want := render(d.OnlyA), []string{"reply: group:dispatch", "authorize: group:dispatch", "dispatcher: group:dispatch"}; !equalStrings(got, want) {
		t.Errorf("only dave: %q, want %q", got, want)
	}
	if got, want := render(d.OnlyB), []string{"read-all-tickets: group:auditors"}; !equalStrings(got, want) {
		t.Errorf("only gina: %q, want %q", got, want)
	}
	d, err = e.Diff("carol", "kim")
	if err != nil || len(d.OnlyA) != 0 || len(render(d.OnlyB)) != 1 || render(d.OnlyB)[0] != "link: group:top ← group:left ← kim group:top ← group:right ← kim" {
		t.Errorf("carol/kim: %+v %v", d, err)
	}
	if _, err := e.Diff("dave", "nobody"); !errs.Is(err, errs.NotFound) {
		t.Errorf("unknown user: %v", err)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMatrixJSON(t *testing.T) {
	m := Matrix{Users: []string{"bob", "carol"}, Rights: []string{"reply", "close"}, Cells: [][]bool{{true, false}, {false, true}}}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"users":["bob","carol"],"rights":["reply","close"],"rows":[{"user":"bob","rights":{"reply":true,"close":false}},{"user":"carol","rights":{"reply":false,"close":true}}]}`
	if string(raw) != want {
		t.Errorf("JSON:\n got %s\nwant %s", raw, want)
	}
	var back Matrix
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Errorf("round trip: %+v, want %+v", back, m)
	}
	if raw, _ := json.Marshal(Matrix{}); string(raw) != `{"users":[],"rights":[],"rows":[]}` {
		t.Errorf("empty matrix: %s", raw)
	}
}
