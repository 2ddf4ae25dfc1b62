package policy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/schemacheck"
)

var (
	schemaFile = filepath.Join("..", "..", "docs", "policy.schema.json")
	docsFile   = filepath.Join("..", "..", "docs", "policy.md")
)

func TestSchemaFileIsCurrent(t *testing.T) {
	golden(t, schemaFile, JSONSchema())
}

// docExamples returns the YAML blocks of docs/policy.md, and separately the
// complete policies among them: those that declare a version.
func docExamples(t *testing.T) (all, complete []string) {
	t.Helper()
	md, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range regexp.MustCompile("(?s)\n *```yaml\n(.*?)```").FindAllStringSubmatch(string(md), -1) {
		all = append(all, block[1])
		if strings.Contains(block[1], "\nversion: 1\n") {
			complete = append(complete, block[1])
		}
	}
	if len(complete) == 0 {
		t.Fatal("docs/policy.md has no complete example")
	}
	return all, complete
}

func TestDocsExampleIsValid(t *testing.T) {
	all, complete := docExamples(t)
	for i, doc := range all {
		// Snippets are indented inside list items; YAML minds only the relative indentation.
		if _, fs := Parse(fmt.Sprintf("policy.md snippet %d", i+1), []byte(dedent(doc))); len(fs) != 0 {
			t.Errorf("snippet %d does not parse cleanly: %q", i+1, strs(fs))
		}
	}
	for i, doc := range complete {
		name := fmt.Sprintf("policy.md example %d", i+1)
		p, fs := Parse(name, []byte(doc))
		if fs = append(fs, Validate(p)...); len(fs) != 0 {
			t.Errorf("%s has findings: %q", name, strs(fs))
		}
		if errs := schemaErrors(t, []byte(doc)); len(errs) != 0 {
			t.Errorf("%s does not match the schema: %q", name, errs)
		}
	}
}

func dedent(s string) string {
	ls := strings.Split(s, "\n")
	indent := len(ls[0]) - len(strings.TrimLeft(ls[0], " "))
	for i, l := range ls {
		if len(l) >= indent {
			ls[i] = l[indent:]
		}
	}
	return strings.Join(ls, "\n")
}

func TestDocsListEveryKey(t *testing.T) {
	md, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, fs := range [][]field{topFields(), userFields(), groupFields(), resourceFields(), resourceMemberFields(), actionFields(), templateFields(), stageFields()} {
		keys = append(keys, keysOf(fs)...)
	}
	keys = append(keys, SettingKeys()...)
	for _, c := range ValidationCodes {
		keys = append(keys, string(c.Code))
	}
	for _, k := range keys {
		if !strings.Contains(string(md), "`"+k+"`") {
			t.Errorf("docs/policy.md does not mention `%s`", k)
		}
	}
}

func TestSchemaAgreesWithTheLoader(t *testing.T) {
	valid := []string{examplePolicy, "", "x-templates: {a: 1}\n", "users: ~\nsettings: {approvals.enabled: false}\n",
		"groups: [{name: g, description: ~, members: ~, rights: ~}]\nusers: [{login: a, name: A, email: a@example.com, active: ~}]\n",
		`{"$schema": "https://example.com/policy.schema.json", "users": []}`}
	for _, doc := range valid {
		if errs := schemaErrors(t, []byte(doc)); len(errs) != 0 {
			t.Errorf("schema refuses a valid policy: %q\n%s", errs, doc)
		}
	}
	// Each of these is a shape error the loader reports too.
	invalid := map[string]string{
		"unknown top-level key": "user: []\n",
		"unknown user key":      "users: [{login: a, name: A, email: a@example.com, mail: x}]\n",
		"missing email":         "users: [{login: a, name: A}]\n",
		"login with capitals":   "users: [{login: Alice, name: A, email: a@example.com}]\n",
		"active as a word":      "users: [{login: a, name: A, email: a@example.com, active: yes}]\n",
		"version 2":             "version: 2\n",
		"resource member":       "resources: [{name: r, members: [{user: a, access: rw}]}]\n",
		"group member kind":     "groups: [{name: g, members: [resource:r]}]\n",
		"state":                 "actions: [{name: a, category: edit, from-states: [done]}]\n",
		"to-state request":      "actions: [{name: a, category: edit, from-states: [new], to-state: request}]\n",
		"category":              "actions: [{name: a, category: misc, from-states: [new]}]\n",
		"unknown setting":       "settings: {approvals.enable: true}\n",
		"duration":              "settings: {approvals.link-ttl: 3d}\n",
		"rights as a string":    "groups: [{name: g, rights: close}]\n",
		"$schema as a number":   `{"$schema": 3}`,
	}
	for name, doc := range invalid {
		if errs := schemaErrors(t, []byte(doc)); len(errs) == 0 {
			t.Errorf("%s: schema accepts %q", name, doc)
		}
	}
}

func TestSchemaPatternsMatchTheRules(t *testing.T) {
	name := regexp.MustCompile(namePattern)
	for _, s := range []string{"a", "bob", "b.o_b-1", "0", strings.Repeat("a", 64), strings.Repeat("a", 65), "", "-a", ".a", "Bob", "a b", "a:b", "é", "a\n"} {
		if got, want := name.MatchString(s), helpdesk.ValidateName("group", s) == nil; got != want {
			t.Errorf("name pattern on %q: %v, ValidateName: %v", s, got, want)
		}
	}
	member := regexp.MustCompile(memberPattern)
	for _, s := range []string{"bob", "user:bob", "group:tier1", "resource:r", "group:", "user:Bob", "x:y", ":bob"} {
		sub := memberSubject(s)
		ok := (sub.Kind == helpdesk.KindUser || sub.Kind == helpdesk.KindGroup) && helpdesk.ValidateName("x", sub.Name) == nil
		if member.MatchString(s) != ok {
			t.Errorf("member pattern on %q: %v, want %v", s, member.MatchString(s), ok)
		}
	}
	dur, zero := regexp.MustCompile(durationPattern), regexp.MustCompile(zeroDurationPattern)
	ttl, _ := findSetting("approvals.link-ttl")
	for _, s := range []string{"0.0s", "0h0.m", "0.01s", "10s", "168h", "1h30m", "1.5h", "90s", "300ms", "2us", "2µs", "5ns", "3d", "h", "1", "-1h", "+1h", "1h 30m", ".5h", "1.h", "3μs", "0", "0s", "."} {
		if got, problem := dur.MatchString(s) && !zero.MatchString(s), ttl.check(s); got != (problem == "") {
			t.Errorf("duration pattern on %q: %v; the loader says %q", s, got, problem)
		}
	}
}

func TestSchemaListsTheCatalog(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(JSONSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	defs := schema["$defs"].(map[string]any)
	enum := defs["right"].(map[string]any)["anyOf"].([]any)[0].(map[string]any)["enum"].([]any)
	var got, want []string
	for _, r := range enum {
		got = append(got, r.(string))
	}
	for _, r := range helpdesk.Builtins() {
		want = append(want, r.Name)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("schema rights %v, catalog %v", got, want)
	}
	props := schema["properties"].(map[string]any)
	var top []string
	for k := range props {
		top = append(top, k)
	}
	if want := keysOf(topFields()); !reflect.DeepEqual(slices.Sorted(slices.Values(top)), slices.Sorted(slices.Values(want))) {
		t.Errorf("top-level keys %v, want %v", top, want)
	}
}

// schemaErrors checks a YAML document against JSONSchema().
func schemaErrors(t *testing.T, doc []byte) []string {
	t.Helper()
	var schema map[string]any
	if err := json.Unmarshal(JSONSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	if v == nil {
		v = map[string]any{} // an empty file is an empty policy
	}
	return schemacheck.Errors(schema, v)
}
