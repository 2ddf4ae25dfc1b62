package access

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"go.yaml.in/yaml/v3"
)

func TestPathString(t *testing.T) {
	u, g, r := helpdesk.UserSubject, helpdesk.GroupSubject, helpdesk.ResourceSubject
	tests := []struct {
		p    Path
		want string
	}{
		{Path{Grant: u("bob"), Chain: Chain{u("bob")}}, "direct"},
		{Path{Grant: g("everyone"), Chain: Chain{g("everyone"), u("bob")}}, "group:everyone"},
		{Path{Grant: g("tier1"), Chain: Chain{g("tier1"), u("bob")}}, "group:tier1"},
		{Path{Grant: g("support"), Chain: Chain{g("support"), g("tier1"), u("bob")}}, "group:support ← group:tier1 ← bob"},
		{Path{Grant: r("network"), Chain: Chain{r("network"), u("bob")}, Access: helpdesk.AccessWrite}, "resource:network (write)"},
		{Path{Grant: r("network"), Chain: Chain{r("network"), u("erin")}, Access: helpdesk.AccessRead}, "resource:network (read)"},
		// A group's inherited right (explain group:tier1) ends at the group.
		{Path{Grant: g("staff"), Chain: Chain{g("staff"), g("support"), g("tier1")}}, "group:staff ← group:support ← group:tier1"},
	}
	for _, tc := range tests {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.p.Chain, got, tc.want)
		}
	}
}

func TestPathJSON(t *testing.T) {
	u, g, r := helpdesk.UserSubject, helpdesk.GroupSubject, helpdesk.ResourceSubject
	tests := []struct {
		p    Path
		want string
	}{
		{Path{Grant: g("support"), Chain: Chain{g("support"), g("tier1"), u("bob")}},
			`{"grant":"group:support","chain":["group:support","group:tier1","user:bob"],"access":"","text":"group:support ← group:tier1 ← bob"}`},
		{Path{Grant: r("network"), Chain: Chain{r("network"), u("bob")}, Access: helpdesk.AccessWrite},
			`{"grant":"resource:network","chain":["resource:network","user:bob"],"access":"write","text":"resource:network (write)"}`},
		{Path{Grant: u("bob"), Chain: Chain{u("bob")}},
			`{"grant":"user:bob","chain":["user:bob"],"access":"","text":"direct"}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("marshal\n got: %s\nwant: %s", b, tc.want)
		}
		var back Path
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, tc.p) {
			t.Errorf("round trip: %+v != %+v", back, tc.p)
		}
	}
	var p Path
	if err := json.Unmarshal([]byte(`{"grant":"bob","chain":[]}`), &p); err == nil {
		t.Error("a grant without kind must not parse")
	}
}

func TestPaths(t *testing.T) {
	m := fixture(t)
	m.Grant(helpdesk.UserSubject("bob"), helpdesk.ActForward)
	e := New(m)
	tests := []struct {
		login, right string
		want         []string
	}{
		{"bob", "comment", []string{"group:everyone"}},
		{"bob", "close", []string{"group:support ← group:tier1 ← bob"}},
		{"bob", "edit-subject", []string{"group:tier1"}},
		{"bob", "forward", []string{"direct", "resource:network (write)"}},
		{"erin", "forward", []string{"resource:network (read)"}},
		{"kim", "link", []string{"group:top ← group:left ← kim", "group:top ← group:right ← kim"}}, // a diamond: both chains
		{"kim", "edit-priority", []string{"group:staff ← group:everyone ← kim"}},                   // everyone nested in staff
		{"hank", "read-all-tickets", []string{"group:auditors"}},
		{"kim", "close", nil},
		{"frank", "comment", nil}, // disabled: nothing, though everyone and tier1 would grant
		{"frank", "edit-subject", nil},
	}
	for _, tc := range tests {
		ps, err := e.Paths(tc.login, tc.right)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.String())
		}
		if !equalStrings(got, tc.want) {
			t.Errorf("%s %s: got %q, want %q", tc.login, tc.right, got, tc.want)
		}
		held, err := e.Holds(tc.login, tc.right)
		if err != nil || held != (len(tc.want) > 0) {
			t.Errorf("Holds(%s, %s) = %v, %v", tc.login, tc.right, held, err)
		}
	}
	if _, err := e.Paths("bob", "nope"); !errs.Is(err, errs.NotFound) {
		t.Errorf("unknown right: %v", err)
	}
	if _, err := e.Holds("nobody", "close"); !errs.Is(err, errs.NotFound) {
		t.Errorf("unknown user: %v", err)
	}
}

func TestGrantsOfPaths(t *testing.T) {
	ps, err := New(fixture(t)).Paths("kim", "link")
	if err != nil {
		t.Fatal(err)
	}
	if got := Grants(ps); len(got) != 1 || got[0] != helpdesk.GroupSubject("top") {
		t.Fatalf("two chains from one grant name one subject to revoke: %v", got)
	}
}

// A group graph with stacked diamonds has exponentially many chains (2^40
// here); the engine reports a bounded number per granted subject, still names
// every granted subject, and walks only as far as the chains it reports: an
// exhaustive walk would not finish.
func TestPathsBoundedChains(t *testing.T) {
	m := NewMemory()
	m.PutUser(helpdesk.User{Login: "bob", Active: true})
	prev := []helpdesk.Subject{helpdesk.UserSubject("bob")}
	for level := range 40 {
		var cur []helpdesk.Subject
		for _, side := range []string{"a", "b"} {
			name := fmt.Sprintf("l%02d%s", level, side)
			m.PutGroup(helpdesk.Group{Name: name, Members: prev})
			cur = append(cur, helpdesk.GroupSubject(name))
		}
		prev = cur
	}
	m.PutGroup(helpdesk.Group{Name: "top", Members: prev})
	m.Grant(helpdesk.GroupSubject("top"), "close")
	m.Grant(helpdesk.GroupSubject("l07a"), "close")
	e := New(m)
	ps, err := e.Paths("bob", "close")
	if err != nil {
		t.Fatal(err)
	}
	grants := Grants(ps)
	if len(ps) != 2*MaxChainsPerGrant || len(grants) != 2 {
		t.Fatalf("%d paths over %v", len(ps), grants)
	}
	x, err := e.Explain("bob", ExplainOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Groups) != 82 {
		t.Errorf("explain lists %d groups, want 82 (everyone, 80 in the diamonds, top)", len(x.Groups))
	}
	for _, g := range x.Groups {
		if len(g.Chains) == 0 || len(g.Chains) > MaxChainsPerGrant {
			t.Errorf("group %s: %d chains", g.Group, len(g.Chains))
		}
	}
	tk := &helpdesk.Ticket{Number: 1, State: helpdesk.StateNew, Resource: "r", Requester: "bob"}
	if _, err := e.Available("bob", tk, "close"); err != nil {
		t.Fatal(err)
	}
}

func TestPathYAML(t *testing.T) {
	p := Path{Grant: helpdesk.ResourceSubject("network"),
		Chain: Chain{helpdesk.ResourceSubject("network"), helpdesk.UserSubject("bob")}, Access: helpdesk.AccessWrite}
	b, err := yaml.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := "grant: resource:network\nchain:\n    - resource:network\n    - user:bob\naccess: write\ntext: resource:network (write)\n"
	if string(b) != want {
		t.Errorf("got:\n%s\nwant:\n%s", b, want)
	}
}

// A damaged directory whose groups form a cycle through stacked diamonds
// still answers without walking every chain: a walk that found nothing is
// not repeated, whoever the engine answered for before (u2's question fills
// the closures that let u1's walk into the diamonds).
func TestPathsCycleThroughDiamonds(t *testing.T) {
	const k = 26
	m := NewMemory()
	m.PutUser(helpdesk.User{Login: "u1", Active: true})
	m.PutUser(helpdesk.User{Login: "u2", Active: true})
	a := func(i int) string { return fmt.Sprintf("a%02d", i) }
	for i := 0; i <= k; i++ {
		m.PutGroup(helpdesk.Group{Name: a(i)})
	}
	for i := range k { // a(i) is nested in l and r, both nested in a(i+1)
		for _, side := range []string{"l", "r"} {
			n := fmt.Sprintf("%s%02d", side, i)
			m.PutGroup(helpdesk.Group{Name: n, Members: []helpdesk.Subject{helpdesk.GroupSubject(a(i))}})
			m.AddGroupMember(a(i+1), helpdesk.GroupSubject(n))
		}
	}
	// The cycle: a(k) is nested in y, and y in a(0).
	m.PutGroup(helpdesk.Group{Name: "y", Members: []helpdesk.Subject{helpdesk.GroupSubject(a(k)), helpdesk.UserSubject("u1")}})
	m.AddGroupMember(a(0), helpdesk.GroupSubject("y"))
	m.AddGroupMember(a(0), helpdesk.UserSubject("u2"))
	m.Grant(helpdesk.GroupSubject("y"), "close")
	e := New(m)
	for _, u := range []string{"u2", "u1"} {
		ps, err := e.Paths(u, "close")
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 || len(ps) > MaxChainsPerGrant {
			t.Errorf("%s: %d paths", u, len(ps))
		}
	}
}
