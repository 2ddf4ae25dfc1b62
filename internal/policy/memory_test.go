package policy

import (
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

func TestToMemory(t *testing.T) {
	p, fs := Parse("example.yaml", []byte(examplePolicy))
	if len(fs) != 0 {
		t.Fatalf("findings: %q", strs(fs))
	}
	m := ToMemory(p)
	e := access.New(m)
	tests := []struct {
		login, right string
		want         bool
	}{
		{"alice", helpdesk.PermAdmin, true},         // direct
		{"bob", helpdesk.ActClose, true},            // group tier1
		{"2024", helpdesk.ActClose, true},           // tier2 nested in tier1
		{"2024", helpdesk.ActAssign, true},          // tier2 itself
		{"bob", helpdesk.ActAssign, false},          // tier1 does not get tier2's rights
		{"bob", "escalate", true},                   // a custom action
		{"bob", helpdesk.ActLink, true},             // resource network
		{"alice", helpdesk.ActComment, true},        // everyone
		{"carol", helpdesk.ActComment, false},       // inactive users hold nothing
		{"alice", helpdesk.PermDispatcher, false},   // granted to nobody
		{"2024", helpdesk.ActLink, false},           // not a member of network
		{"bob", helpdesk.PermReadAllTickets, false}, // nobody holds it
	}
	for _, tt := range tests {
		got, err := e.Holds(tt.login, tt.right)
		if err != nil || got != tt.want {
			t.Errorf("Holds(%s, %s) = %v, %v; want %v", tt.login, tt.right, got, err, tt.want)
		}
	}

	r, ok, _ := m.Right("escalate")
	if !ok || r.Builtin || r.ToState != helpdesk.StateInProgress || !r.RequiresText {
		t.Errorf("custom action in the catalog = %+v, %v", r, ok)
	}
	// everyone is listed in the file only for its rights; its description stays.
	if g, _, _ := m.Group(helpdesk.Everyone); g.Description == "" || len(g.Members) != 0 {
		t.Errorf("everyone = %+v", g)
	}
	if res, _, _ := m.Resource("network-wifi"); res.Parent != "network" {
		t.Errorf("network-wifi = %+v", res)
	}
}

// The engine and Validate must agree on who holds admin, or the no-admin
// finding would be wrong.
func TestNoAdminFindingMatchesEngine(t *testing.T) {
	docs := map[string]string{
		"direct":      withAdmin(),
		"nested":      lines("users:", "  - {login: a, name: A, email: a@example.com}", "groups:", "  - {name: x, members: [group:y], rights: [admin]}", "  - {name: y, members: [a]}"),
		"resource":    lines("users:", "  - {login: a, name: A, email: a@example.com}", "resources:", "  - {name: r, members: [{user: a, access: read}], rights: [admin]}"),
		"everyone":    lines("users:", "  - {login: a, name: A, email: a@example.com}", "groups:", "  - {name: everyone, rights: [admin]}"),
		"inactive":    lines("users:", "  - {login: a, name: A, email: a@example.com, active: false, rights: [admin]}"),
		"empty group": lines("users:", "  - {login: a, name: A, email: a@example.com}", "groups:", "  - {name: x, rights: [admin]}"),
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			p, fs := Parse("p.yaml", []byte(doc))
			if len(fs) != 0 {
				t.Fatalf("findings: %q", strs(fs))
			}
			e := access.New(ToMemory(p))
			var engine []string
			for _, u := range p.Users {
				if ok, _ := e.Holds(u.Login, helpdesk.PermAdmin); ok {
					engine = append(engine, u.Login)
				}
			}
			noAdmin := slices.ContainsFunc(Validate(p), func(f Finding) bool { return f.Code == CodeNoAdmin })
			if noAdmin != (len(engine) == 0) {
				t.Errorf("no-admin finding %v, but the engine says admins are %v", noAdmin, engine)
			}
		})
	}
}

// CheckForTests reports what Check reports and loads the same directory
// ToMemory does, or none when the policy has errors.
func TestCheckForTests(t *testing.T) {
	dir := t.TempDir()
	for name, doc := range map[string]string{
		"good.yaml":    examplePolicy,
		"invalid.yaml": withAdmin("groups:", "  - {name: g, members: [nobody]}"),
		"typed.yaml":   withAdmin("users:", "  - {login: x, name: [X], email: x@example.com}"),
		"syntax.yaml":  "users: [\n",
	} {
		path := dir + "/" + name
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		p, m, fs, err := CheckForTests(0, path)
		wantP, wantFs, wantErr := Check(0, path)
		if err != nil || wantErr != nil {
			t.Fatalf("%s: %v, %v", name, err, wantErr)
		}
		if !reflect.DeepEqual(fs, wantFs) || !reflect.DeepEqual(p, wantP) {
			t.Errorf("%s: findings %q, Check's %q", name, strs(fs), strs(wantFs))
		}
		switch {
		case name == "good.yaml" && (m == nil || len(fs) != 0):
			t.Errorf("%s: findings %q, directory %v", name, strs(fs), m != nil)
		case HasErrors(fs) && m != nil:
			t.Errorf("%s: a directory from a policy with errors", name)
		case !HasErrors(fs) && m == nil:
			t.Errorf("%s: no directory", name)
		case m != nil && !reflect.DeepEqual(memoryState(t, m), memoryState(t, ToMemory(p))):
			t.Errorf("%s: the directory differs from ToMemory's", name)
		}
	}
}
