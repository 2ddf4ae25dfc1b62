package cli

// The JSON contract, docs/json.md, against the real output: every command
// runs in this process with -o json on the fixture of TestEveryWriteIsAudited,
// and what it prints must have exactly the documented fields, of the
// documented types, in every object, so a key can neither come and go nor
// be left out of the docs. The tree walk makes a new command fail the test
// until docs/json.md lists it.

import (
	"bytes"
	"encoding/binary"
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
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/config"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/mail/mailtest"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/deskctl/deskctl/internal/policy"
	"github.com/spf13/cobra"
	bolt "go.etcd.io/bbolt"
)

var jsonDoc = filepath.Join("..", "..", "docs", "json.md")

// jsonExtra are invocations beyond auditCases' valid one, so that the
// output shows every documented object and the fields that are null or
// empty in the simpler cases. They run on the fixture after jsonSetup.
// "<dir>" is the fixture directory.
var jsonExtra = map[string][][]string{
	"access explain": {
		as("alice", "access", "explain", "bob", "--ticket", "1"),
		as("alice", "access", "explain", "dave", "--ticket", "4", "--all"),
		as("alice", "access", "explain", "group:tier2"),
		as("alice", "access", "explain", "resource:network"),
	},
	"access can":     {as("alice", "access", "can", "dave", "close")},
	"access who-can": {as("alice", "access", "who-can", "admin")},
	"access matrix":  {as("alice", "access", "matrix", "--users", "bob,dave", "--rights", "close,admin")},
	"ticket show":    {as("alice", "ticket", "show", "2")},
	"ticket log":     {as("bob", "ticket", "log", "3")},
	"policy plan":    {as("alice", "policy", "plan", "<dir>/setup.yaml", "<dir>/more.yaml")},
	"policy test": {
		{"policy", "test", "<dir>/setup.yaml", "--tests", "<dir>/failing.yaml", "--coverage"},
	},
	"policy validate": {{"policy", "validate", "<dir>/broken.yaml"}},
	"audit verify":    {{"audit", "verify", "--anchor", "1:0000000000000000000000000000000000000000000000000000000000000000"}},
	"mail queue":      {as("alice", "mail", "queue", "--all")},
	"approval show":   {as("alice", "approval", "show", "2")},
	"approval remind": {as("alice", "approval", "remind", "--due")},
}

// jsonOnDamaged run on a copy of the fixture with a ticket whose state no
// deskctl writes.
var jsonOnDamaged = map[string][][]string{
	"db check": {{"db", "check"}},
}

// jsonExtraFiles are the files jsonExtra names.
var jsonExtraFiles = map[string]string{
	"more.yaml": `groups:
  - {name: scanning, members: [dave], rights: [note]}
resources:
  - {name: scanners, members: [{user: dave, access: write}]}
  - {name: scanners-east, parent: scanners}
`,
	"failing.yaml": `fixtures:
  t1: {state: new, resource: network, requester: dave}
tests:
  - {name: dave cannot administer, cannot: {user: dave, right: admin}}
  - {name: dave may close t1, can: {user: dave, right: close, ticket: t1}}
  - {name: dave has no role on t1, role: {user: dave, ticket: t1, is: none}}
  - {name: only alice administers, who-can: {right: admin, users: [alice]}}
`,
	"broken.yaml": "users:\n  - {login: alice, name: Alice, email: alice@example.com, rights: [admin, admin, clse]}\n",
}

// jsonNotRun are documented commands this test cannot run, and why.
var jsonNotRun = map[string]string{
	"access graph": "it draws with its own -o mermaid|dot|svg and refuses -o json (pointing at access explain -o json); its script test runs it",
	"login":        "needs a server; it prints what auth status prints, which runs here",
}

func TestJSONContract(t *testing.T) {
	doc := parseJSONDoc(t)
	if doc.version != output.ContractVersion {
		t.Errorf("docs/json.md documents contract version %d, output.ContractVersion is %d", doc.version, output.ContractVersion)
	}

	dir := t.TempDir()
	smtp := mailtest.Start(t)
	config := writeFile(t, dir, "config.yaml", fmt.Appendf(nil,
		"public-url: http://127.0.0.1:9\nsmtp:\n  host: %s\n  port: %d\n  tls: none\n  from: helpdesk@example.com\n", smtp.Host(), smtp.Port()))
	fixture, token := auditFixture(t, dir, config, smtp)
	for name, data := range jsonExtraFiles {
		writeFile(t, dir, name, []byte(data))
	}
	fixtureBytes := readOrNil(fixture)
	// jsonExtra runs on a copy with a decided approval and linked tickets,
	// so that the optional parts of tickets and approvals have values.
	extended := filepath.Join(t.TempDir(), "extended.db")
	writeFile(t, filepath.Dir(extended), "extended.db", fixtureBytes)
	for _, args := range [][]string{
		as("carol", "approval", "reject", "2", "--comment", "not this quarter"),
		as("bob", "ticket", "link", "1", "--ticket", "2"),
		as("alice", "group", "add-member", "tier1", "group:tier2"),
	} {
		if p := runInProcess(extended, config, args); p.code != ExitOK {
			t.Fatalf("fixture: %v", p)
		}
	}
	extendedBytes := readOrNil(extended)
	damaged := filepath.Join(t.TempDir(), "damaged.db")
	writeFile(t, filepath.Dir(damaged), "damaged.db", extendedBytes)
	if err := rawUpdate(damaged, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("tickets"))
		key := binary.BigEndian.AppendUint64(nil, 1)
		var rec map[string]any
		if err := json.Unmarshal(b.Get(key), &rec); err != nil {
			return err
		}
		rec["state"] = "reopened"
		raw, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return b.Put(key, raw)
	}); err != nil {
		t.Fatal(err)
	}
	damagedBytes := readOrNil(damaged)

	root := NewRootCmd(NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}))
	var paths []string
	walk(root, func(c *cobra.Command) {
		if c.Runnable() && !c.HasSubCommands() && !c.Hidden && c.Name() != "help" && !isHelpTopic(c) {
			paths = append(paths, strings.TrimPrefix(c.CommandPath(), root.Name()+" "))
		}
	})
	for name := range doc.commands {
		if !slices.Contains(paths, name) {
			t.Errorf("docs/json.md lists %q, which is not a command", name)
		}
	}
	cov := coverage{types: map[string]int{}}
	for _, path := range paths {
		out, ok := doc.commands[path]
		if !ok {
			t.Errorf("docs/json.md does not say what deskctl %s prints with -o json: add it to the Commands table", path)
			continue
		}
		c, _, _ := root.Find(strings.Fields(path))
		_, annotated := c.Annotations[noJSONAnnotation]
		if annotated != (out == noneType) {
			t.Errorf("deskctl %s: docs/json.md says %q, but withoutJSON lists it: %v", path, out, annotated)
		}
		if reason, ok := jsonNotRun[path]; ok {
			t.Logf("deskctl %s not run: %s", path, reason)
			continue
		}
		tc := auditCases[path]
		if tc.skip != "" {
			if out != noneType {
				t.Errorf("deskctl %s is documented as printing %s, but nothing here runs it (%s)", path, out, tc.skip)
			}
			continue
		}
		invocations := append([][]string{tc.valid}, jsonExtra[path]...)
		invocations = append(invocations, jsonOnDamaged[path]...)
		for i, args := range invocations {
			work := t.TempDir()
			db := filepath.Join(work, "desk.db")
			switch {
			case i > len(jsonExtra[path]):
				writeFile(t, work, "desk.db", damagedBytes)
			case i > 0:
				writeFile(t, work, "desk.db", extendedBytes)
			case !tc.fresh:
				writeFile(t, work, "desk.db", fixtureBytes)
			}
			expanded := make([]string, len(args))
			for i, a := range args {
				a = strings.ReplaceAll(strings.ReplaceAll(a, "<db>", db), "<work>", work)
				expanded[i] = strings.ReplaceAll(strings.ReplaceAll(a, "<dir>", dir), tokenArg, token)
			}
			p := runInProcess(db, config, append(expanded, "-o", "json"))
			if p.code != ExitOK && p.code != ExitNegative {
				t.Errorf("%v", p)
				continue
			}
			checkCommandJSON(t, doc, &cov, path, flagVariant(out, expanded), p)
		}
	}
	for _, name := range slices.Sorted(mapKeys(doc.types)) {
		if cov.types[name] == 0 {
			t.Errorf("no command printed a %s: give jsonExtra an invocation that does, or drop it from docs/json.md", name)
		}
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func checkCommandJSON(t *testing.T, doc *jsonContract, cov *coverage, path, out string, p deskProc) {
	t.Helper()
	switch out {
	case noneType:
		if p.stdout != "" {
			t.Errorf("deskctl %s is documented as printing no JSON, but printed:\n%s", path, p.stdout)
		}
		return
	case externalType:
		if !json.Valid([]byte(p.stdout)) {
			t.Errorf("deskctl %s: -o json is not JSON:\n%s", path, p.stdout)
		}
		return
	}
	dec := json.NewDecoder(strings.NewReader(p.stdout))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Errorf("deskctl %s: -o json is not JSON (%v):\n%s", path, err, p.stdout)
		return
	}
	c := &typeChecker{doc: doc, cov: cov}
	c.check("", out, v)
	if len(c.errs) > 0 {
		t.Errorf("deskctl %s (%s) does not print what docs/json.md says:\n  %s", path, strings.Join(p.args, " "), strings.Join(c.errs, "\n  "))
	}
}

const (
	noneType     = "none"
	externalType = "external"
)

// jsonContract is what docs/json.md says: the version, per command the
// type it prints, and the object types with their fields.
type jsonContract struct {
	version  int
	commands map[string]string
	types    map[string][]jsonField
}

type jsonField struct{ name, typ string }

var (
	linkRE    = regexp.MustCompile(`\[([A-Za-z]+)\]\(#[a-z0-9-]+\)`)
	versionRE = regexp.MustCompile(`(?m)^\*\*Contract version: (\d+)\*\*`)
)

// cells splits a table row into its cells, without the backticks of code
// and with links reduced to their text.
func cells(line string) []string {
	parts := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(linkRE.ReplaceAllString(p, "$1"))
	}
	return parts
}

func parseJSONDoc(t *testing.T) *jsonContract {
	t.Helper()
	md, err := os.ReadFile(jsonDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := &jsonContract{commands: map[string]string{}, types: map[string][]jsonField{}}
	if m := versionRE.FindSubmatch(md); m != nil {
		fmt.Sscan(string(m[1]), &doc.version)
	} else {
		t.Fatal("docs/json.md has no **Contract version: N** line")
	}
	section, typeName := "", ""
	extends := map[string]string{}
	for _, line := range strings.Split(string(md), "\n") {
		switch {
		case strings.HasPrefix(line, "Extends ") && typeName != "":
			extends[typeName] = strings.TrimSuffix(linkRE.ReplaceAllString(strings.TrimPrefix(line, "Extends "), "$1"), ".")
			continue
		case strings.HasPrefix(line, "## "):
			section, typeName = strings.TrimPrefix(line, "## "), ""
			continue
		case strings.HasPrefix(line, "### ") && section == "Objects":
			typeName = strings.TrimPrefix(line, "### ")
			if _, dup := doc.types[typeName]; dup {
				t.Errorf("docs/json.md documents %s twice", typeName)
			}
			doc.types[typeName] = nil
			continue
		case !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") || strings.HasPrefix(line, "| Command") || strings.HasPrefix(line, "| Field"):
			continue
		}
		cs := cells(line)
		switch {
		case section == "Commands" && len(cs) >= 2:
			typ, _, _ := strings.Cut(cs[1], ", ") // "array of User, sorted by login"
			if strings.HasPrefix(typ, "none") {
				typ = noneType
			} else if strings.HasPrefix(typ, "external") {
				typ = externalType
			}
			for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cs[0], -1) {
				if _, dup := doc.commands[m[1]]; dup {
					t.Errorf("docs/json.md lists %s twice", m[1])
				}
				doc.commands[m[1]] = typ
			}
		case section == "Objects" && typeName != "" && len(cs) >= 3:
			doc.types[typeName] = append(doc.types[typeName], jsonField{strings.Trim(cs[0], "`"), cs[1]})
		}
	}
	// "Extends T." gives a type T's fields first, then its own.
	var resolve func(name string, depth int) []jsonField
	resolve = func(name string, depth int) []jsonField {
		base, ok := extends[name]
		if !ok || depth > 5 {
			return doc.types[name]
		}
		if _, known := doc.types[base]; !known {
			t.Errorf("docs/json.md: %s extends %s, which it does not describe", name, base)
		}
		return append(slices.Clone(resolve(base, depth+1)), doc.types[name]...)
	}
	resolved := map[string][]jsonField{}
	for name := range doc.types {
		resolved[name] = resolve(name, 0)
	}
	doc.types = resolved
	if len(doc.commands) < 60 || len(doc.types) < 20 {
		t.Fatalf("docs/json.md: read %d commands and %d types; is the layout still ## Commands / ## Objects?", len(doc.commands), len(doc.types))
	}
	return doc
}

type coverage struct{ types map[string]int }

// typeChecker checks a decoded value against a documented type:
//
//	string | integer | number | boolean | time | any | Name
//	array of T | map of T | T or null
type typeChecker struct {
	doc  *jsonContract
	cov  *coverage
	errs []string
}

func (c *typeChecker) fail(path, format string, a ...any) {
	if path == "" {
		path = "."
	}
	c.errs = append(c.errs, path+": "+fmt.Sprintf(format, a...))
}

func (c *typeChecker) check(path, typ string, v any) {
	if base, ok := strings.CutSuffix(typ, " or null"); ok {
		if v == nil {
			return
		}
		typ = base
	}
	if v == nil {
		c.fail(path, "null, documented as %s (write \"%s or null\" if null is right)", typ, typ)
		return
	}
	if elem, ok := strings.CutPrefix(typ, "array of "); ok {
		list, ok := v.([]any)
		if !ok {
			c.fail(path, "%s, documented as %s", describeJSON(v), typ)
			return
		}
		for i, e := range list {
			c.check(fmt.Sprintf("%s[%d]", path, i), elem, e)
		}
		return
	}
	if elem, ok := strings.CutPrefix(typ, "map of "); ok {
		m, ok := v.(map[string]any)
		if !ok {
			c.fail(path, "%s, documented as %s", describeJSON(v), typ)
			return
		}
		for _, k := range slices.Sorted(mapKeys(m)) {
			c.check(path+"["+k+"]", elem, m[k])
		}
		return
	}
	ok := true
	switch typ {
	case "any":
	case "string":
		_, ok = v.(string)
	case "time":
		s, isString := v.(string)
		_, err := time.Parse(time.RFC3339Nano, s)
		ok = isString && err == nil
	case "integer":
		n, isNumber := v.(json.Number)
		_, err := n.Int64()
		ok = isNumber && err == nil
	case "number":
		_, ok = v.(json.Number)
	case "boolean":
		_, ok = v.(bool)
	default:
		fields, known := c.doc.types[typ]
		if !known {
			c.fail(path, "documented as %q, which is no type docs/json.md describes", typ)
			return
		}
		obj, isObject := v.(map[string]any)
		if !isObject {
			c.fail(path, "%s, documented as %s", describeJSON(v), typ)
			return
		}
		c.cov.types[typ]++
		seen := map[string]bool{}
		for _, f := range fields {
			seen[f.name] = true
			val, present := obj[f.name]
			if !present {
				c.fail(path, "no %q, which %s always has", f.name, typ)
				continue
			}
			c.check(path+"."+f.name, f.typ, val)
		}
		for _, k := range slices.Sorted(mapKeys(obj)) {
			if !seen[k] {
				c.fail(path, "%q is not among the fields of %s in docs/json.md", k, typ)
			}
		}
		return
	}
	if !ok {
		c.fail(path, "%s, documented as %s", describeJSON(v), typ)
	}
}

func describeJSON(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 60 {
		b = append(b[:60], "…"...)
	}
	return fmt.Sprintf("%T %s", v, b)
}

// TestJSONTypesHaveNoOptionalKeys finds omitempty and omitzero in the
// types commands print, which would make keys come and go. Types with
// their own MarshalJSON are left to TestJSONContract, which sees what they
// write.
func TestJSONTypesHaveNoOptionalKeys(t *testing.T) {
	// Returned by use cases but printed through another type.
	printedAs := map[reflect.Type]string{
		reflect.TypeFor[helpdesk.Right](): "app.RightView",
	}
	var roots []reflect.Type
	uc := reflect.TypeFor[app.UseCases]()
	for i := range uc.NumMethod() {
		m := uc.Method(i).Type
		for j := range m.NumOut() {
			roots = append(roots, m.Out(j))
		}
	}
	roots = append(roots, reflect.TypeFor[VersionInfo](), reflect.TypeFor[policyTestOutput](), reflect.TypeFor[policy.Finding](),
		reflect.TypeFor[config.Entry](), reflect.TypeFor[app.RightDetail]())
	marshaler := reflect.TypeFor[json.Marshaler]()
	seen := map[reflect.Type]bool{}
	var problems []string
	var visit func(reflect.Type, string)
	visit = func(typ reflect.Type, via string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map || typ.Kind() == reflect.Array {
			typ = typ.Elem()
		}
		if seen[typ] || typ.Kind() != reflect.Struct || typ.Implements(marshaler) || reflect.PointerTo(typ).Implements(marshaler) {
			return
		}
		seen[typ] = true
		if _, ok := printedAs[typ]; ok {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || !f.IsExported() {
				continue
			}
			if strings.Contains(tag, ",omitempty") || strings.Contains(tag, ",omitzero") {
				problems = append(problems, fmt.Sprintf("%s.%s `json:%q` (reached through %s)", typ, f.Name, tag, via))
			}
			visit(f.Type, via)
		}
	}
	for _, r := range roots {
		if r == reflect.TypeFor[error]() {
			continue
		}
		visit(r, r.String())
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		t.Errorf("fields that leave their key out when empty (docs/json.md promises every key):\n  %s", strings.Join(problems, "\n  "))
	}
	if len(seen) < 30 {
		t.Errorf("walked only %d types", len(seen))
	}
}

// flagVariant picks the documented type of one invocation: a command
// documented as "A; B with `--flag`" prints B when run with --flag, else A.
func flagVariant(typ string, args []string) string {
	base, alt, ok := strings.Cut(typ, "; ")
	if !ok {
		return typ
	}
	name, flag, ok := strings.Cut(alt, " with ")
	if ok && slices.Contains(args, strings.Trim(flag, "`")) {
		return name
	}
	return base
}
