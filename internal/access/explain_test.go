package access

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func listed(x Explanation) []string {
	var out []string
	for _, r := range x.Rights {
		out = append(out, r.Right)
	}
	return out
}

func TestExplainDisplayRule(t *testing.T) {
	allUsers := []string{"comment", "reopen", "withdraw"}
	tests := []struct {
		name      string
		login     string
		opt       ExplainOptions
		supporter bool
		want      []string // nil: every right
		hidden    int
	}{
		{"end user sees all-users actions only", "carol", ExplainOptions{}, false, allUsers, 21},
		{"held permissions of a non-supporter are listed", "alice", ExplainOptions{}, false, append(allUsers, "admin"), 20},
		{"--all lists everything", "carol", ExplainOptions{All: true}, false, nil, 0},
		{"--right lists that right", "carol", ExplainOptions{Right: "close"}, false, []string{"close"}, 0},
		{"resource member is a supporter", "ivan", ExplainOptions{}, true, nil, 0},
		{"dispatcher is a supporter", "dave", ExplainOptions{}, true, nil, 0},
		{"read-all-tickets holder is a supporter", "gina", ExplainOptions{}, true, nil, 0},
		{"group membership alone does not make a supporter", "kim", ExplainOptions{}, false, allUsers, 21},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, err := New(fixture(t)).Explain(tc.login, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if x.Supporter != tc.supporter || x.Hidden != tc.hidden {
				t.Errorf("supporter %v hidden %d, want %v %d", x.Supporter, x.Hidden, tc.supporter, tc.hidden)
			}
			got := listed(x)
			if tc.want == nil && len(got) != 24 || tc.want != nil && !equalStrings(got, tc.want) {
				t.Errorf("listed %v, want %v", got, tc.want)
			}
		})
	}
}

func TestExplainUser(t *testing.T) {
	e := New(fixture(t))
	x, err := e.Explain("kim", ExplainOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, g := range x.Groups {
		for _, c := range g.Chains {
			groups = append(groups, g.Group+": "+c.String())
		}
	}
	want := []string{
		"everyone: group:everyone ← kim",
		"left: group:left ← kim",
		"right: group:right ← kim",
		"staff: group:staff ← group:everyone ← kim",
		"top: group:top ← group:left ← kim",
		"top: group:top ← group:right ← kim",
	}
	if !equalStrings(groups, want) {
		t.Errorf("groups\n got %q\nwant %q", groups, want)
	}
	// Explain's paths agree with Paths for every right.
	for _, r := range x.Rights {
		ps, err := e.Paths("kim", r.Right)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != len(r.Paths) || r.Granted != (len(ps) > 0) {
			t.Errorf("%s: explain %v, Paths %v", r.Right, r.Paths, ps)
		}
		for i := range ps {
			if ps[i].String() != r.Paths[i].String() {
				t.Errorf("%s: explain %v, Paths %v", r.Right, r.Paths, ps)
			}
		}
	}

	x, err = e.Explain("frank", ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if x.Active || x.Note != "frank is disabled: a disabled user holds no rights and has no role on any ticket" {
		t.Errorf("frank: active %v note %q", x.Active, x.Note)
	}
	for _, r := range x.Rights {
		if r.Granted {
			t.Errorf("disabled frank shown holding %s", r.Right)
		}
	}
	if len(x.Groups) != 2 || x.Groups[0].Group != "support" || x.Groups[1].Group != "tier1" {
		t.Errorf("frank's groups (no implicit everyone): %+v", x.Groups)
	}
	if _, err := e.Explain("frank", ExplainOptions{Right: "clos"}); !errs.Is(err, errs.NotFound) {
		t.Errorf("unknown right: %v", err)
	}
}

func TestExplainWithTicketGolden(t *testing.T) {
	x, err := New(fixture(t)).Explain("erin", ExplainOptions{Ticket: ticket(12, "erin", "network-wifi", helpdesk.StateClosed)})
	if err != nil {
		t.Fatal(err)
	}
	if x.Role == nil || x.Role.Role != RoleResourceMember || !x.Role.ReadOnly {
		t.Fatalf("role %+v", x.Role)
	}
	for _, r := range x.Rights {
		if r.Kind == helpdesk.KindAction && r.Check == nil || r.Kind == helpdesk.KindPermission && r.Check != nil {
			t.Errorf("%s: check %v", r.Right, r.Check)
		}
	}
	got, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "explain-erin-ticket.json", append(got, '\n'))
}

func TestExplainSubject(t *testing.T) {
	e := New(fixture(t))
	x, err := e.ExplainSubject(helpdesk.GroupSubject("tier1"))
	if err != nil {
		t.Fatal(err)
	}
	if !equalStrings(x.Granted, []string{"edit-subject"}) || !equalStrings(x.Members, []string{"bob"}) || x.MemberCount != 1 {
		t.Errorf("tier1: granted %v members %v", x.Granted, x.Members)
	}
	if len(x.Inherited) != 8 || x.Inherited[0].Right != "assign" || x.Inherited[0].Paths[0].String() != "group:support" {
		t.Errorf("tier1 inherited: %+v", x.Inherited)
	}
	if len(x.Groups) != 1 || x.Groups[0].Group != "support" {
		t.Errorf("tier1 groups: %+v", x.Groups)
	}

	x, err = e.ExplainSubject(helpdesk.GroupSubject(helpdesk.Everyone))
	if err != nil {
		t.Fatal(err)
	}
	if x.MemberCount != 11 || !equalStrings(x.Granted, []string{"comment", "reopen", "withdraw"}) ||
		len(x.Inherited) != 1 || x.Inherited[0].Right != "edit-priority" {
		t.Errorf("everyone: %d members, granted %v, inherited %+v", x.MemberCount, x.Granted, x.Inherited)
	}

	x, err = e.ExplainSubject(helpdesk.ResourceSubject("network-wifi"))
	if err != nil {
		t.Fatal(err)
	}
	if x.Parent != "network" || x.TicketMembersFrom != "network" || len(x.TicketMembers) != 4 || x.MemberCount != 0 {
		t.Errorf("network-wifi: %+v", x)
	}
	x, err = e.ExplainSubject(helpdesk.ResourceSubject("network"))
	if err != nil {
		t.Fatal(err)
	}
	if !equalStrings(x.Granted, []string{"forward"}) || !equalStrings(x.Members, []string{"bob", "erin", "lena"}) {
		t.Errorf("network: %+v", x)
	}

	if _, err := e.ExplainSubject(helpdesk.GroupSubject("tier")); !errs.Is(err, errs.NotFound) || errs.HintOf(err) != "did you mean 'tier1'?" {
		t.Errorf("unknown group: %v (%q)", err, errs.HintOf(err))
	}
	if _, err := e.ExplainSubject(helpdesk.ResourceSubject("netwrk")); !errs.Is(err, errs.NotFound) {
		t.Errorf("unknown resource: %v", err)
	}
	if _, err := e.ExplainSubject(helpdesk.UserSubject("bob")); !errs.Is(err, errs.Usage) {
		t.Errorf("user: %v", err)
	}
}

// golden compares got with testdata/name; go test -update rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", path, got)
	}
}
