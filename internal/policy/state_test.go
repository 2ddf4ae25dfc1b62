package policy

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale; run go test ./internal/policy -update and review the diff.\ngot:\n%s", path, got)
	}
}

var (
	user  = helpdesk.UserSubject
	group = helpdesk.GroupSubject
	res   = helpdesk.ResourceSubject
)

func TestCanonical(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	messy := State{
		Users: []helpdesk.User{
			{Login: "bob", Name: "Bob", Email: "bob@example.com", Active: true, Created: created},
			{Login: "alice", Name: "Alice", Email: "alice@example.com", Active: false},
			{Login: "bob", Name: "Second Bob", Email: "b2@example.com"},
		},
		Groups: []helpdesk.Group{
			{Name: "tier1", Members: []helpdesk.Subject{group("tier2"), user("bob"), user("alice"), user("bob")}, Created: created},
			{Name: "empty", Members: []helpdesk.Subject{}},
		},
		Resources: []helpdesk.Resource{
			{Name: "net", Members: []helpdesk.ResourceMember{{Login: "bob", Access: helpdesk.AccessWrite}, {Login: "alice", Access: helpdesk.AccessRead}, {Login: "bob", Access: helpdesk.AccessRead}}},
		},
		Actions: append(helpdesk.Builtins()[:2], helpdesk.Right{Name: "escalate", Kind: helpdesk.KindAction, Category: helpdesk.CatSupporter,
			FromStates: []helpdesk.State{helpdesk.StateWaiting, helpdesk.StateNew, helpdesk.StateWaiting}, Field: "subject"}),
		Grants: map[helpdesk.Subject][]string{
			user("bob"):   {"reply", "close", "reply"},
			group("none"): {},
		},
		Settings: map[string]string{},
	}
	want := State{
		Users: []helpdesk.User{
			{Login: "alice", Name: "Alice", Email: "alice@example.com", Active: false},
			{Login: "bob", Name: "Bob", Email: "bob@example.com", Active: true},
		},
		Groups: []helpdesk.Group{
			{Name: "empty"},
			{Name: "tier1", Members: []helpdesk.Subject{user("alice"), user("bob"), group("tier2")}},
		},
		Resources: []helpdesk.Resource{
			{Name: "net", Members: []helpdesk.ResourceMember{{Login: "alice", Access: helpdesk.AccessRead}, {Login: "bob", Access: helpdesk.AccessWrite}}},
		},
		Actions: []helpdesk.Right{{Name: "escalate", Kind: helpdesk.KindAction, Category: helpdesk.CatSupporter,
			FromStates: []helpdesk.State{helpdesk.StateNew, helpdesk.StateWaiting}}},
		Grants: map[helpdesk.Subject][]string{user("bob"): {"close", "reply"}},
	}
	got := messy.Canonical()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("canonical:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(got.Canonical(), got) {
		t.Error("Canonical is not idempotent")
	}
	// The copy shares nothing with the input.
	got.Groups[1].Members[0] = user("mallory")
	got.Grants[user("bob")][0] = "admin"
	if messy.Groups[0].Members[2] != user("alice") || messy.Grants[user("bob")][1] != "close" {
		t.Error("Canonical shares slices with its input")
	}
}

// examplePolicy is a small helpdesk touching every part of the format.
const examplePolicy = `version: 1
users:
  - {login: alice, name: Alice Adams, email: alice@example.com, rights: [admin]}
  - {login: bob, name: Bob Brown, email: bob@example.com}
  - {login: carol, name: "Carol: the second", email: carol@example.com, active: false}
  - {login: "2024", name: "true", email: y2k@example.com}
groups:
  - name: everyone
    rights: [comment, reopen, withdraw]
  - name: tier1
    description: "first line: phones & mail"
    members: [bob, group:tier2, user:carol]
    rights: [reply, note, start, wait, close, take-over, edit-priority, edit-category, escalate]
  - name: tier2
    members: ["2024"]
    rights: [assign, forward]
resources:
  - name: network
    members:
      - {user: bob, access: write}
      - {user: carol, access: read}
    rights: [link]
  - {name: network-wifi, parent: network, description: office wireless}
actions:
  - name: escalate
    category: supporter
    from-states: [waiting, new]
    to-state: in-progress
    requires-text: true
    internal: true
    description: hand over to second-line support
settings:
  approvals.link-ttl: 72h
  approvals.enabled: "true"
`

func TestRoundTrip(t *testing.T) {
	p, fs := Parse("example.yaml", []byte(examplePolicy))
	if fs = append(fs, Validate(p)...); len(fs) != 0 {
		t.Fatalf("the example has findings: %q", strs(fs))
	}
	want := p.State()
	for _, format := range []string{"yaml", "json"} {
		t.Run(format, func(t *testing.T) {
			out, err := Marshal(p, format)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "export."+format), out)
			q, fs := Parse("exported."+format, out)
			if fs = append(fs, Validate(q)...); len(fs) != 0 {
				t.Fatalf("the exported policy has findings: %q\n%s", strs(fs), out)
			}
			if got := q.State(); !reflect.DeepEqual(got, want) {
				t.Errorf("state changed in the round trip:\n got %+v\nwant %+v", got, want)
			}
			again, err := Marshal(q, format)
			if err != nil || !bytes.Equal(again, out) {
				t.Errorf("marshalling the re-read policy gives different bytes (err %v):\n%s", err, again)
			}
		})
	}
}

func TestExportApplyExport(t *testing.T) {
	// What a database might hold: creation times, built-in rights in the
	// catalog, lists in insertion order.
	db := State{
		Users: []helpdesk.User{
			{Login: "root", Name: "Root", Email: "root@example.com", Active: true, Created: time.Unix(1, 0)},
			{Login: "ann", Name: "Ann", Email: "ann@example.com", Active: true, Created: time.Unix(2, 0)},
		},
		Groups: []helpdesk.Group{
			{Name: helpdesk.Everyone, Description: "every active user"},
			{Name: "ops", Members: []helpdesk.Subject{user("root"), user("ann")}},
		},
		Resources: []helpdesk.Resource{{Name: "net", Members: []helpdesk.ResourceMember{{Login: "ann", Access: helpdesk.AccessRead}}}},
		Actions:   helpdesk.Builtins(),
		Grants: map[helpdesk.Subject][]string{
			group(helpdesk.Everyone): helpdesk.AllUsersActions(),
			user("root"):             {helpdesk.PermAdmin},
			res("net"):               {"start"},
		},
		Settings: map[string]string{"approvals.enabled": "false"},
	}
	first, err := Export(db, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	// "Apply" to a fresh database: the file's state is all it would hold.
	p, fs := Parse("export.yaml", first)
	if fs = append(fs, Validate(p)...); len(fs) != 0 {
		t.Fatalf("findings: %q\n%s", strs(fs), first)
	}
	second, err := Export(p.State(), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("export → apply → export differs:\n%s\n---\n%s", first, second)
	}
	if !reflect.DeepEqual(p.State(), db.Canonical()) {
		t.Errorf("state:\n got %+v\nwant %+v", p.State(), db.Canonical())
	}
}

func TestFromStateWritesGrantsOfUnlistedSubjects(t *testing.T) {
	s := State{
		Users:  []helpdesk.User{{Login: "root", Name: "Root", Email: "root@example.com", Active: true}},
		Grants: map[helpdesk.Subject][]string{user("root"): {"admin"}, group(helpdesk.Everyone): {"comment"}, user("ghost"): {"close"}},
	}
	out, err := Export(s, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := `# yaml-language-server: $schema=policy.schema.json
version: 1
users:
  - login: ghost
    name: ""
    email: ""
    rights: [close]
  - login: root
    name: Root
    email: root@example.com
    rights: [admin]
groups:
  - name: everyone
    rights: [comment]
`
	if string(out) != want {
		t.Errorf("export:\n%s\nwant:\n%s", out, want)
	}
	// The dangling grant shows up as a finding rather than vanishing.
	p, _ := Parse("x.yaml", out)
	if got, want := strs(Validate(p)), []string{"x.yaml:5:11: user 'ghost' has no name", "x.yaml:6:12: user 'ghost' has no email"}; !reflect.DeepEqual(got, want) {
		t.Errorf("findings = %q", got)
	}
}

func TestMarshalUnknownFormat(t *testing.T) {
	if _, err := Marshal(&Policy{}, "toml"); err == nil {
		t.Error("want an error for an unknown format")
	}
	out, err := Marshal(&Policy{}, "json")
	if err != nil || string(out) != "{\n  \"version\": 1\n}\n" {
		t.Errorf("empty policy as JSON = %q, %v", out, err)
	}
}

// genState builds a directory of n users in g groups, each group nesting the
// next, and a resource per ten groups.
func genState(n, g int) State {
	s := State{Grants: map[helpdesk.Subject][]string{}}
	for i := range n {
		login := fmt.Sprintf("user%05d", i)
		s.Users = append(s.Users, helpdesk.User{Login: login, Name: "User " + login, Email: login + "@example.com", Active: i%50 != 0})
	}
	s.Grants[user("user00001")] = []string{helpdesk.PermAdmin}
	for i := range g {
		grp := helpdesk.Group{Name: fmt.Sprintf("group%04d", i)}
		for j := i; j < n; j += g {
			grp.Members = append(grp.Members, user(fmt.Sprintf("user%05d", j)))
		}
		if i+1 < g {
			grp.Members = append(grp.Members, group(fmt.Sprintf("group%04d", i+1)))
		}
		s.Groups = append(s.Groups, grp)
		s.Grants[group(grp.Name)] = []string{helpdesk.AllUsersActions()[i%3], helpdesk.ActReply}
		if i%10 == 0 {
			r := helpdesk.Resource{Name: fmt.Sprintf("res%04d", i)}
			r.Members = append(r.Members, helpdesk.ResourceMember{Login: fmt.Sprintf("user%05d", i), Access: helpdesk.AccessWrite})
			s.Resources = append(s.Resources, r)
		}
	}
	return s
}

func TestLargePolicyRoundTrip(t *testing.T) {
	s := genState(10000, 1000)
	out, err := Export(s, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, fs := Parse("big.yaml", out)
	if fs = append(fs, Validate(p)...); len(fs) != 0 {
		t.Fatalf("%d findings, first %s", len(fs), fs[0])
	}
	if !reflect.DeepEqual(p.State(), s.Canonical()) {
		t.Error("state changed in the round trip")
	}
}
