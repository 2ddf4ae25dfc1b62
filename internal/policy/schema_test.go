package policy

import (
	"encoding/json"
	"fmt"
	"math"
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
	for _, fs := range [][]field{topFields, userFields, groupFields, resourceFields, resourceMemberFields, actionFields} {
		keys = append(keys, keysOf(fs)...)
	}
	keys = append(keys, SettingKeys()...)
	for _, c := range []Code{CodeSyntax, CodeUnknownKey, CodeDuplicateKey, CodeType, CodeMissing, CodeVersion, CodeTooComplex,
		CodeDuplicate, CodeRepeated, CodeInvalidLogin, CodeInvalidName, CodeInvalidEmail, CodeInvalidText, CodeInvalidValue,
		CodeInvalidMember, CodeInvalidAction, CodeUnknownRight, CodeUnknownMember, CodeUnknownParent, CodeUnknownSetting,
		CodeGroupCycle, CodeParentCycle, CodeNotForResources, CodeRequiresRight, CodeEveryoneMembers, CodeNoAdmin} {
		keys = append(keys, string(c))
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
	if want := keysOf(topFields); !reflect.DeepEqual(slices.Sorted(slices.Values(top)), slices.Sorted(slices.Values(want))) {
		t.Errorf("top-level keys %v, want %v", top, want)
	}
}

// schemaErrors checks a YAML document against JSONSchema() with a small
// validator covering the keywords the schema uses.
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
	c := schemaChecker{root: schema}
	c.check("$", schema, v)
	return c.errs
}

type schemaChecker struct {
	root map[string]any
	errs []string
}

func (c *schemaChecker) fail(path, format string, a ...any) {
	c.errs = append(c.errs, path+": "+fmt.Sprintf(format, a...))
}

func (c *schemaChecker) matches(s map[string]any, v any) bool {
	sub := schemaChecker{root: c.root}
	sub.check("", s, v)
	return len(sub.errs) == 0
}

func normalize(v any) any {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return v
}

func (c *schemaChecker) check(path string, s map[string]any, v any) {
	if ref, ok := s["$ref"].(string); ok {
		def := c.root["$defs"].(map[string]any)[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		c.check(path, def, v)
	}
	if alts, ok := s["anyOf"].([]any); ok {
		if !slices.ContainsFunc(alts, func(x any) bool { return c.matches(x.(map[string]any), v) }) {
			c.fail(path, "matches no alternative")
		}
	}
	if not, ok := s["not"].(map[string]any); ok && c.matches(not, v) {
		c.fail(path, "matches what is excluded")
	}
	if want, ok := s["const"]; ok && !reflect.DeepEqual(normalize(want), normalize(v)) {
		c.fail(path, "want %v", want)
	}
	if enum, ok := s["enum"].([]any); ok {
		if !slices.ContainsFunc(enum, func(x any) bool { return reflect.DeepEqual(normalize(x), normalize(v)) }) {
			c.fail(path, "%v is not one of %v", v, enum)
		}
	}
	if typ, ok := s["type"]; ok {
		var types []string
		switch x := typ.(type) {
		case string:
			types = []string{x}
		case []any:
			for _, y := range x {
				types = append(types, y.(string))
			}
		}
		if !slices.Contains(types, jsonType(v)) && !(slices.Contains(types, "number") && jsonType(v) == "integer") {
			c.fail(path, "is %s, want %v", jsonType(v), types)
			return
		}
	}
	switch x := v.(type) {
	case string:
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(x) {
			c.fail(path, "%q does not match %s", x, p)
		}
		if n, ok := s["minLength"].(float64); ok && float64(len([]rune(x))) < n {
			c.fail(path, "too short")
		}
		if n, ok := s["maxLength"].(float64); ok && float64(len([]rune(x))) > n {
			c.fail(path, "too long")
		}
	case []any:
		if n, ok := s["minItems"].(float64); ok && float64(len(x)) < n {
			c.fail(path, "too few items")
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, item := range x {
				c.check(fmt.Sprintf("%s[%d]", path, i), items, item)
			}
		}
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		patterns, _ := s["patternProperties"].(map[string]any)
		required, _ := s["required"].([]any)
		for _, r := range required {
			if _, ok := x[r.(string)]; !ok {
				c.fail(path, "missing %s", r)
			}
		}
		for k, val := range x {
			if ps, ok := props[k]; ok {
				c.check(path+"."+k, ps.(map[string]any), val)
				continue
			}
			matched := false
			for p, ps := range patterns {
				if regexp.MustCompile(p).MatchString(k) {
					matched = true
					c.check(path+"."+k, ps.(map[string]any), val)
				}
			}
			if !matched && s["additionalProperties"] == false {
				c.fail(path, "unknown key %s", k)
			}
		}
	}
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case int, int64:
		return "integer"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
