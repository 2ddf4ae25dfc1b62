package policy

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// lines joins lines with newlines; tests write documents this way so that
// line numbers in expectations are easy to count.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func strs(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.String())
	}
	return out
}

func TestParseFindings(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"empty file", "", nil},
		{"only a comment", "# nothing yet\n", nil},
		{"null document", "~\n", nil},
		{"syntax error", lines(
			"users:",
			"  - login: bob",
			"    name: Bob: Jr"),
			[]string{"p.yaml:3: mapping values are not allowed in this context"}},
		{"top level is a list", "- a\n- b\n",
			[]string{"p.yaml:1:1: a policy document is a mapping with the keys version, users, groups, resources, actions, settings, $schema; found a list"}},
		{"$schema is for editors and must be a string", lines(
			"$schema: [policy.schema.json]",
			"version: 1"),
			[]string{"p.yaml:1:10: $schema must be the path or URL of the schema, not a list"}},
		{"$schema as a number", "$schema: 3\n",
			[]string{"p.yaml:1:10: $schema must be the path or URL of the schema, not a number"}},
		{"x- keys are left alone at the top level only", lines(
			"x-anything: [1, 2]",
			"users:",
			"  - {login: a, x-note: b}"),
			[]string{"p.yaml:3:16: unknown key 'x-note' in user; valid keys are login, name, email, active, os_login, rights"}},
		{"unknown top-level key close to a valid one", lines(
			"version: 1",
			"user:",
			"  - login: bob"),
			[]string{"p.yaml:2:1: unknown key 'user' in the policy (did you mean 'users'?)"}},
		{"unknown key far from any", lines(
			"users:",
			"  - login: bob",
			"    shoe-size: 44"),
			[]string{"p.yaml:3:5: unknown key 'shoe-size' in user; valid keys are login, name, email, active, os_login, rights"}},
		{"unknown key in every kind of entry", lines(
			"groups:",
			"  - name: g",
			"    member: [bob]",
			"resources:",
			"  - name: r",
			"    parnet: x",
			"    members:",
			"      - {user: bob, acess: read}",
			"actions:",
			"  - name: a",
			"    from_states: [new]"),
			[]string{
				"p.yaml:3:5: unknown key 'member' in group (did you mean 'members'?)",
				"p.yaml:6:5: unknown key 'parnet' in resource (did you mean 'parent'?)",
				"p.yaml:8:21: unknown key 'acess' in resource member (did you mean 'access'?)",
				"p.yaml:11:5: unknown key 'from_states' in action (did you mean 'from-states'?)",
			}},
		{"unsupported version", "version: 2\n",
			[]string{`p.yaml:1:10: unsupported version "2"; this deskctl reads version 1`}},
		{"version of the wrong type", "version: [1]\n",
			[]string{"p.yaml:1:10: version must be the number 1, not a list"}},
		{"section of the wrong type", lines(
			"users: bob",
			"settings: [a]"),
			[]string{
				`p.yaml:1:8: users must be a list of entries ("- login: …"), not a string`,
				"p.yaml:2:11: settings must be a mapping of key: value, not a list",
			}},
		{"entry that is not a mapping", lines(
			"users:",
			"  - bob"),
			[]string{"p.yaml:2:5: each user entry is a mapping with the keys login, name, email, active, os_login, rights; found a string"}},
		{"field types", lines(
			"users:",
			"  - login: [bob]",
			"    active: yes",
			"    rights: admin",
			"groups:",
			"  - name: g",
			"    members: [bob, {user: carol}]",
			"resources:",
			"  - name: r",
			"    members: bob",
			"  - name: s",
			"    members: [bob]",
			"actions:",
			"  - name: a",
			"    internal: 1",
			"settings:",
			"  approvals.enabled: {a: b}"),
			[]string{
				"p.yaml:2:12: login must be a string, not a list",
				"p.yaml:3:13: active must be true or false, not 'yes'",
				"p.yaml:4:13: rights must be a list such as [a, b], not a string",
				"p.yaml:7:20: each entry of members must be a name, not a mapping",
				"p.yaml:10:14: members must be a list such as [{user: bob, access: write}], not a string",
				"p.yaml:12:15: each resource member is a mapping such as {user: bob, access: write}; found a string",
				"p.yaml:15:15: internal must be true or false, not '1'",
				"p.yaml:17:22: the value of setting approvals.enabled must be a single value, not a mapping",
			}},
		{"repeated key", lines(
			"users:",
			"  - login: bob",
			"    login: robert"),
			[]string{"p.yaml:3:5: key 'login' is repeated (first at p.yaml:2:5)"}},
		{"key that is not a word", "? [a]\n: b\n",
			[]string{"p.yaml:1:3: a key must be a plain word, not a list"}},
		{"merge of something that is not a mapping", lines(
			"users:",
			"  - <<: 3",
			"    login: bob"),
			[]string{"p.yaml:2:9: '<<' merges a mapping or a list of mappings, not a number"}},
		{"control characters are escaped in findings", "\"a\\x1b[2Jb\": 1\n",
			[]string{`p.yaml:1:1: unknown key 'a\x1b[2Jb' in the policy; valid keys are version, users, groups, resources, actions, settings, $schema`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fs := Parse("p.yaml", []byte(tt.doc))
			if got := strs(fs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("findings:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParseModel(t *testing.T) {
	doc := lines(
		"version: 1", // 1
		"users:",
		"  - login: alice",
		"    name: Alice",
		"    email: alice@example.com", // 5
		"    rights: [admin]",
		"  - login: bob",
		"    name: Bob",
		"    email: bob@example.com",
		"    active: false", // 10
		"groups:",
		"  - name: tier1",
		"    description: first line",
		"    members: [bob, user:alice, group:tier2]",
		"    rights: [close, reply]", // 15
		"resources:",
		"  - name: network-wifi",
		"    parent: network",
		"    members:",
		"      - {user: bob, access: read}", // 20
		"    rights: [start]",
		"actions:",
		"  - name: escalate",
		"    category: supporter",
		"    from-states: [new, in-progress]", // 25
		"    to-state: in-progress",
		"    requires-text: true",
		"    internal: true",
		"    description: hand over",
		"settings:", // 30
		"  approvals.enabled: true",
		"  approvals.link-ttl: 72h")
	p, fs := Parse("p.yaml", []byte(doc))
	if len(fs) != 0 {
		t.Fatalf("unexpected findings: %q", strs(fs))
	}
	at := func(l, c int) Pos { return Pos{"p.yaml", l, c} }

	if len(p.Users) != 2 {
		t.Fatalf("users: %+v", p.Users)
	}
	alice, bob := p.Users[0], p.Users[1]
	if alice.Login != "alice" || alice.Name != "Alice" || alice.Email != "alice@example.com" || !alice.Active {
		t.Errorf("alice = %+v", alice)
	}
	if bob.Active {
		t.Errorf("bob should be inactive")
	}
	checkPos := func(what string, got, want Pos) {
		t.Helper()
		if got != want {
			t.Errorf("%s at %v, want %v", what, got, want)
		}
	}
	checkPos("alice", alice.Pos, at(3, 5))
	checkPos("alice's email", alice.At("email"), at(5, 12))
	checkPos("alice's admin right", alice.Rights[0].Pos, at(6, 14))
	checkPos("bob's unset rights fall back to the entry", bob.At("rights"), at(7, 5))

	g := p.Groups[0]
	wantMembers := []helpdesk.Subject{helpdesk.UserSubject("bob"), helpdesk.UserSubject("alice"), helpdesk.GroupSubject("tier2")}
	for i, m := range g.Members {
		if m.Subject != wantMembers[i] {
			t.Errorf("member %d = %v, want %v", i, m.Subject, wantMembers[i])
		}
	}
	checkPos("group:tier2", g.Members[2].Pos, at(14, 32))
	if g.Description != "first line" || len(g.Rights) != 2 || g.Rights[1].Value != "reply" {
		t.Errorf("group = %+v", g)
	}

	r := p.Resources[0]
	if r.Parent != "network" || len(r.Members) != 1 || r.Members[0].Login != "bob" || r.Members[0].Access != helpdesk.AccessRead {
		t.Errorf("resource = %+v", r)
	}
	checkPos("bob's access", r.Members[0].At("access"), at(20, 29))

	a := p.Actions[0]
	want := helpdesk.Right{Name: "escalate", Kind: helpdesk.KindAction, Category: helpdesk.CatSupporter,
		FromStates: []helpdesk.State{helpdesk.StateNew, helpdesk.StateInProgress}, ToState: helpdesk.StateInProgress,
		RequiresText: true, Internal: true, Description: "hand over"}
	if got := a.Right(); !reflect.DeepEqual(got, want) {
		t.Errorf("action = %+v, want %+v", got, want)
	}
	checkPos("to-state", a.At("to-state"), at(26, 15))

	wantSettings := []Setting{
		{Key: "approvals.enabled", Value: "true", Pos: at(31, 3), ValuePos: at(31, 22)},
		{Key: "approvals.link-ttl", Value: "72h", Pos: at(32, 3), ValuePos: at(32, 23)},
	}
	if !reflect.DeepEqual(p.Settings, wantSettings) {
		t.Errorf("settings = %+v", p.Settings)
	}
}

func TestParseDefaultsAndNulls(t *testing.T) {
	p, fs := Parse("p.yaml", []byte(lines(
		"users:",
		"  - login: bob",
		"    name: 2024",
		"    active: ~",
		"    rights: ~",
		"resources:",
		"  - name: r",
		"    parent: ~",
		"groups:")))
	if len(fs) != 0 {
		t.Fatalf("unexpected findings: %q", strs(fs))
	}
	u := p.Users[0]
	if !u.Active || u.Name != "2024" || u.Rights != nil {
		t.Errorf("user = %+v; want active, name taken as written, no rights", u)
	}
	if p.Resources[0].Parent != "" {
		t.Errorf("null parent read as %q", p.Resources[0].Parent)
	}
}

func TestParseAnchorsAndMergeKeys(t *testing.T) {
	p, fs := Parse("p.yaml", []byte(lines(
		"x-support: &support",
		"  rights: [reply, note]",
		"  description: from the template",
		"groups:",
		"  - name: tier1",
		"    <<: *support",
		"  - <<: [{name: ignored, rights: [close]}, *support]",
		"    name: tier2",
		"    description: own")))
	if len(fs) != 0 {
		t.Fatalf("findings = %q", strs(fs))
	}
	tier1, tier2 := p.Groups[0], p.Groups[1]
	if tier1.Description != "from the template" || values(tier1.Rights)[1] != "note" {
		t.Errorf("tier1 = %+v", tier1)
	}
	// Own keys beat merged ones; earlier merged mappings beat later ones.
	if tier2.Name != "tier2" || tier2.Description != "own" || !reflect.DeepEqual(values(tier2.Rights), []string{"close"}) {
		t.Errorf("tier2 = %+v", tier2)
	}
	if got := tier1.Rights[0].Pos; got != (Pos{"p.yaml", 2, 12}) {
		t.Errorf("a merged right keeps the template's position, got %v", got)
	}
}

func TestParseAliasBombStops(t *testing.T) {
	// 20 000 references to one group whose rights list has 20 000 entries:
	// without a budget the walk would visit 4·10^8 nodes.
	const n = 20000
	var b strings.Builder
	b.WriteString("x-rights: &r [" + strings.Repeat("close, ", n-1) + "close]\n")
	b.WriteString("x-group: &g {name: g, rights: *r}\n")
	b.WriteString("groups: [" + strings.Repeat("*g, ", n-1) + "*g]\n")
	_, fs := Parse("bomb.yaml", []byte(b.String()))
	var tooComplex []Finding
	for _, f := range fs {
		if f.Code == CodeTooComplex {
			tooComplex = append(tooComplex, f)
		}
	}
	if len(tooComplex) != 1 || tooComplex[0].String() != "bomb.yaml: aliases expand this file beyond reason; write the entries out instead" {
		t.Fatalf("too-complex findings: %q", strs(tooComplex))
	}
}

func TestParseJSON(t *testing.T) {
	// Editors read "$schema" in JSON the way YAML editors read the modeline.
	json := "{\n\t\"$schema\": \"policy.schema.json\",\n\t\"version\": 1,\n\t\"users\": [\n\t\t{\"login\": \"alice\", \"name\": \"Alice\", \"email\": \"alice@example.com\", \"rights\": [\"admin\"], \"active\": true}\n\t],\n" +
		"\t\"resources\": [{\"name\": \"net\", \"members\": [{\"user\": \"alice\", \"access\": \"write\"}]}],\n" +
		"\t\"settings\": {\"approvals.enabled\": \"false\"}\n}\n"
	p, fs := Parse("p.json", []byte(json))
	fs = append(fs, Validate(p)...)
	if len(fs) != 0 {
		t.Fatalf("unexpected findings: %q", strs(fs))
	}
	yml := lines(
		"users:",
		"  - {login: alice, name: Alice, email: alice@example.com, rights: [admin]}",
		"resources:",
		"  - name: net",
		"    members: [{user: alice, access: write}]",
		"settings: {approvals.enabled: \"false\"}")
	q, _ := Parse("p.yaml", []byte(yml))
	if !reflect.DeepEqual(p.State(), q.State()) {
		t.Errorf("JSON and YAML describe different states:\n%+v\n%+v", p.State(), q.State())
	}
	if got := p.Users[0].At("email"); got != (Pos{"p.json", 5, 48}) {
		t.Errorf("email at %v", got)
	}
	// A JSON syntax error is reported with its line.
	_, fs = Parse("bad.json", []byte("{\n  \"users\": [\n    {\"login\": \"a\",,}\n  ]\n}\n"))
	if len(fs) != 1 || fs[0].Code != CodeSyntax || fs[0].Line != 2 {
		t.Errorf("findings = %q", strs(fs))
	}
}

func TestParseSeveralDocuments(t *testing.T) {
	p, fs := Parse("p.yaml", []byte(lines(
		"users:",
		"  - {login: a, name: A, email: a@example.com}",
		"---",
		"users:",
		"  - {login: b, name: B, email: b@example.com}")))
	if len(fs) != 0 || len(p.Users) != 2 || p.Users[1].Pos.Line != 5 {
		t.Errorf("users = %+v, findings %q", p.Users, strs(fs))
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadMergesFiles(t *testing.T) {
	dir := t.TempDir()
	users := writeFile(t, dir, "users.yaml", lines(
		"users:",
		"  - {login: alice, name: Alice, email: alice@example.com, rights: [admin]}",
		"  - {login: bob, name: Bob, email: bob@example.com}",
		"settings:",
		"  approvals.enabled: true"))
	groups := writeFile(t, dir, "groups.yaml", lines(
		"groups:",
		"  - name: tier1",
		"    members: [bob]",
		"    rights: [close]",
		"users:",
		"  - {login: bob, name: Robert, email: bob@example.com}",
		"settings:",
		"  approvals.enabled: false"))

	p, fs, err := Check(0, users, groups)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		groups + ":6:13: user 'bob' is defined twice (first at " + users + ":3:13)",
		groups + ":8:3: setting approvals.enabled is set twice (first at " + users + ":5:3)",
	}
	if got := strs(fs); !reflect.DeepEqual(got, want) {
		t.Errorf("findings:\n got %q\nwant %q", got, want)
	}
	if !reflect.DeepEqual(p.Files, []string{users, groups}) || len(p.Users) != 3 || len(p.Groups) != 1 {
		t.Errorf("merged policy: files %v, %d users, %d groups", p.Files, len(p.Users), len(p.Groups))
	}
	// The first definition wins in the state.
	if st := p.State(); st.Users[1].Name != "Bob" || st.Settings["approvals.enabled"] != "true" {
		t.Errorf("state = %+v", st)
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "b.yml", "groups: [{name: g, members: [alice]}]\n")
	writeFile(t, dir, "a.json", `{"users": [{"login": "alice", "name": "A", "email": "a@example.com", "rights": ["admin"]}]}`)
	writeFile(t, dir, "notes.txt", "not a policy")
	writeFile(t, dir, "policy.schema.json", string(JSONSchema()))
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o700); err != nil {
		t.Fatal(err)
	}
	p, fs, err := Check(0, dir)
	if err != nil || len(fs) != 0 {
		t.Fatalf("err %v, findings %q", err, strs(fs))
	}
	want := []string{filepath.Join(dir, "a.json"), filepath.Join(dir, "b.yml")}
	if !reflect.DeepEqual(p.Files, want) {
		t.Errorf("files = %v, want %v", p.Files, want)
	}
}

func TestLoadErrors(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		name  string
		paths []string
		want  string
	}{
		{"no paths", nil, "no policy file given"},
		{"missing file", []string{filepath.Join(empty, "nope.yaml")}, "cannot read policy"},
		{"directory without policy files", []string{empty}, "no policy files in " + empty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load(0, tc.paths...)
			if !errs.Is(err, errs.Usage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v (kind %v), want a usage error containing %q", err, errs.KindOf(err), tc.want)
			}
		})
	}
}

func TestParseSettingValues(t *testing.T) {
	p, fs := Parse("p.yaml", []byte(lines(
		"settings:",
		"  approvals.enabled: TRUE",
		"  approvals.link-ttl: ~",
		"  a: \"True\"",
		"  b: 10")))
	if len(fs) != 0 {
		t.Fatalf("findings: %q", strs(fs))
	}
	var got []string
	for _, s := range p.Settings {
		got = append(got, s.Key+"="+s.Value)
	}
	// Booleans are normalized, quoted strings and numbers are kept as written.
	if want := []string{"approvals.enabled=true", "approvals.link-ttl=", "a=True", "b=10"}; !reflect.DeepEqual(got, want) {
		t.Errorf("settings = %q, want %q", got, want)
	}
}
