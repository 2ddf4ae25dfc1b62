package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"go.yaml.in/yaml/v3"

	"github.com/deskctl/deskctl/internal/access"
)

// yamlDocuments is what yaml.v3 reads from data: every document, or the
// error that stopped it.
func yamlDocuments(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var doc yaml.Node
		err := decodeSafely(dec, &doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, &doc)
	}
}

// sameTree reports where two node trees differ in anything the decoder
// reads: kind, tag, style, value, position and children. Comments are not
// compared, and neither is the document node's own position.
func sameTree(path string, a, b *yaml.Node) error {
	if a.Kind != b.Kind || a.ShortTag() != b.ShortTag() || a.Tag != b.Tag || a.Style != b.Style || a.Value != b.Value ||
		a.Kind != yaml.DocumentNode && (a.Line != b.Line || a.Column != b.Column) || len(a.Content) != len(b.Content) ||
		a.Anchor != b.Anchor || a.Alias != nil || b.Alias != nil {
		return fmt.Errorf("%s: scanned %s, yaml.v3 %s", path, nodeText(a), nodeText(b))
	}
	for i := range a.Content {
		if err := sameTree(fmt.Sprintf("%s/%d", path, i), a.Content[i], b.Content[i]); err != nil {
			return err
		}
	}
	return nil
}

func nodeText(n *yaml.Node) string {
	return fmt.Sprintf("{kind %d tag %q style %d value %q at %d:%d, %d children}", n.Kind, n.Tag, n.Style, n.Value, n.Line, n.Column, len(n.Content))
}

// agree checks scanBlock against yaml.v3 on data: when the scanner reads
// it, yaml.v3 must read the same single document (or none), and Parse and
// ParseTests must return the same values and findings on either path. It
// reports whether the scanner read data.
func agree(t *testing.T, name string, data []byte) bool {
	t.Helper()
	p1, f1 := parse(name, data, scanStreamed)
	p2, f2 := parse(name, data, scanNone)
	if !reflect.DeepEqual(p1, p2) || !reflect.DeepEqual(f1, f2) {
		t.Fatalf("%s: Parse differs between streaming and yaml.v3:\n%+v\n%q\n%+v\n%q", name, p1, strs(f1), p2, strs(f2))
	}
	got, ok := scanBlock(data)
	if !ok {
		return false
	}
	docs, err := yamlDocuments(data)
	if err != nil {
		t.Fatalf("%s: the scanner read what yaml.v3 rejects (%v):\n%s", name, err, data)
	}
	switch {
	case got == nil && len(docs) != 0:
		t.Fatalf("%s: the scanner found no document, yaml.v3 %d:\n%s", name, len(docs), data)
	case got != nil && len(docs) != 1:
		t.Fatalf("%s: the scanner found one document, yaml.v3 %d:\n%s", name, len(docs), data)
	case got != nil:
		if err := sameTree("", got, docs[0]); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, data)
		}
	}
	p1, f1 = parse(name, data, scanWhole)
	if !reflect.DeepEqual(p1, p2) || !reflect.DeepEqual(f1, f2) {
		t.Fatalf("%s: Parse differs between the scanner and yaml.v3:\n%+v\n%q\n%+v\n%q", name, p1, strs(f1), p2, strs(f2))
	}
	s1, f1 := parseTests(name, data, scanWhole)
	s2, f2 := parseTests(name, data, scanNone)
	if !reflect.DeepEqual(s1, s2) || !reflect.DeepEqual(f1, f2) {
		t.Fatalf("%s: ParseTests differs between the paths:\n%+v\n%q\n%+v\n%q", name, s1, strs(f1), s2, strs(f2))
	}
	return true
}

// policyFiles gathers the policy and tests files the repository holds:
// this package's testdata and fuzz corpus, and the files of the CLI's
// scripts.
func policyFiles(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir("testdata", func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasPrefix(string(data), "go test fuzz v1\n") {
			var s string
			if _, err := fmt.Sscanf(strings.TrimPrefix(string(data), "go test fuzz v1\n[]byte("), "%q", &s); err == nil {
				data = []byte(s)
			}
		}
		out[path] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := filepath.Glob("../../testdata/script/*.txtar")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, sc := range scripts {
		a, err := txtar.ParseFile(sc)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range a.Files {
			if ext := filepath.Ext(f.Name); ext == ".yaml" || ext == ".yml" || ext == ".json" {
				out[sc+":"+f.Name] = f.Data
			}
		}
	}
	return out
}

// TestScanBlockAgreesWithYAML holds the scanner to yaml.v3 on every policy
// and tests file in the repository, on a generated directory of 10 000
// users, and on the subset's edge cases; and checks that the scanner reads
// the common shapes instead of leaving them all to yaml.v3.
func TestScanBlockAgreesWithYAML(t *testing.T) {
	read := 0
	files := policyFiles(t)
	for name, data := range files {
		if agree(t, name, data) {
			read++
		}
	}
	t.Logf("the scanner read %d of %d files", read, len(files))
	if read < len(files)/2 {
		t.Errorf("the scanner read only %d of %d files", read, len(files))
	}

	m := access.GenerateMemory(1, 10000, 1000, 200)
	exported, err := Marshal(FromState(memoryState(t, m)), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !agree(t, "generated", exported) {
		t.Errorf("the scanner left an exported policy to yaml.v3")
	}

	for _, c := range []struct {
		doc  string
		read bool // whether the scanner must read it
	}{
		{"", true},
		{"# only a comment\n\n", true},
		{examplePolicy, true},
		{"version: 1\nusers:\n- login: a\n  name: 'A ''quoted'' name'\n  email: \"a@example.com\"\n  rights: [admin, 'close']\n", true},
		{"users:\n  -   login: a   # trailing comment\n      active: false\n", true},
		{"settings:\n  approvals.enabled: TRUE\n  x: ~\n  y: null\n  z:\n  w: 0x1F\n  v: 2024-01-02\n", true},
		{"groups:\n  - name: g\n    members:\n      - group:h\n      - user:a\n    rights: []\n", true},
		{"resources:\n  - {name: r, members: [], description: \"a: b\"}\n  - {}\n", true},
		{"name: Zoë Ærø\nemail: ünï@example.com\nx: [é, \"ü\"]\n", true},
		{"a : b\n'k': v\n\"q\" : w\n", true},
		{"a: b # c\nd: e#f\ng: h:i\nj: -k\n", true},
		{"  indented: root\n  second: key\n", true},
		{"- a\n- b\n", true},
		{"key:\n  - a\n  -  b\nnext:\n", true},
		{"<<: {a: b}\nc: d\n", true},
		// Left to yaml.v3.
		{"a: &x 1\nb: *x\n", false},
		// A question mark ends a plain scalar in a flow collection, and
		// yaml.v3 then fails; the scanner leaves such text to it.
		{"resources:\n  - {name: r, description: Who approves?}\n", false},
		{"x: [a?b, c]\n", false},
		{"x: Who approves? Carol.\n", true},
		{"a: !!str 1\n", false},
		{"a: |\n  text\n", false},
		{"a: b\n  c\n", false},
		{"a: \"x\\ty\"\n", false},
		{"---\na: b\n", false},
		{"a: b\n---\nc: d\n", false},
		{"a:\tb\n", false},
		{"a: b\r\n", false},
		{"{\"a\": 1,\n \"b\": 2}\n", false},
		{"a: [b,\n  c]\n", false},
		{"a: b: c\n", false},
		{"a:\n- b\n - c\n", false},
		{"a: [b, ]\n", false},
		{"a: {b}\n", false},
		{"a: {b: }\n", false},
		{"a: [[b], {c: [d]}]\n", true},
		{"- - a\n", false},
		{"-\n", false},
		{"a: 'b\n", false},
		{"a: \"b\"c\n", false},
		{"? a\n: b\n", false},
		{"@a: b\n", false},
		{"a: `b`\n", false},
		{"a:#b\n", true},
		{"a: #b\n", true},
		{"a: b#c\n", true},
		{"a:\n  b: c\n d: e\n", false},
		{"\ufeffa: b\n", false},
		{"a: b\u2028c\n", false},
		{"a\n", true},
		{"a\nb\n", false},
		// Streamed lists whose later entries send the file to yaml.v3.
		{"users:\n  - {login: a, name: A}\n  - login: &x b\n    name: *x\n", false},
		{"users:\n- login: a\n- login: b\n  name: c\n   d\ngroups:\n", false},
		{"users:\n  - login: a\nusers:\n  - login: b: c\n", false},
		{"x-users:\n  - a\nusers:\n  - login: a\n  - [b\nversion: 1\n", false},
		{"groups:\n  - name: g\n  -\n", false},
		{"users:\n  - login: a\nusers:\n  - login: b\n", true},
		{"resources:\n- name: r\n  members:\n  - {user: a, access: read}\nactions:\n  - name: x\n    from-states: [new]\n", true},
	} {
		got := agree(t, fmt.Sprintf("%q", c.doc), []byte(c.doc))
		if got != c.read {
			t.Errorf("%q: read by the scanner %v, want %v", c.doc, got, c.read)
		}
	}
}

// TestScanBlockRandom compares the two paths on documents built at random
// from the pieces of the subset and from what lies just outside it, and on
// byte-level mutations of them.
func TestScanBlockRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	n := 3000
	if testing.Short() {
		n = 300
	}
	read := 0
	for i := range n {
		doc := randomDoc(rng)
		if agree(t, fmt.Sprintf("random %d", i), doc) {
			read++
		}
		for range 3 {
			mut := mutate(rng, doc)
			agree(t, fmt.Sprintf("mutation of random %d", i), mut)
		}
	}
	t.Logf("the scanner read %d of %d random documents", read, n)
	if read < n/4 {
		t.Errorf("the scanner read only %d of %d random documents", read, n)
	}
}

var randomScalars = []string{
	"a", "bob", "user:a", "group:g", "a b", "Zoë", "1", "-1", "0.5", "true", "No", "~", "null", "''", "'it''s'",
	"\"q\"", "\"\"", "2024-01-02", "<<", "a:b", "a#b", "http://x", "-a", "a, b", "x]", "x}", "x,", "[]", "{}",
	"[a, b]", "[a,b]", "{a: b}", "{a: b, c: d}", "[ a ]", "{ a: b }", "\"a\\\"b\"", "&x a", "*x", "!t a", "|", ">",
	"a # c", "a  ", "' a '", "\"a:b\"", "@", "`", "%", "?", ": a", "-",
}

var randomKeys = []string{"login", "name", "email", "rights", "users", "groups", "resources", "actions", "members", "x-y", "$schema", "'q k'", "\"d\"", "a b", "<<", "k"}

// randomDoc writes a document of nested block mappings and sequences with
// random indentation, blank lines, comments and scalars.
func randomDoc(rng *rand.Rand) []byte {
	var b strings.Builder
	var block func(indent, depth int, inSeq bool)
	value := func(indent, depth int) {
		switch r := rng.Intn(10); {
		case r < 6 || depth > 3:
			b.WriteString(" " + randomScalars[rng.Intn(len(randomScalars))])
			if rng.Intn(8) == 0 {
				b.WriteString(" # note")
			}
			b.WriteString("\n")
		case r < 7:
			b.WriteString("\n") // empty
		default:
			b.WriteString("\n")
			if rng.Intn(4) == 0 {
				block(indent, depth+1, true) // a sequence at the key's indentation
				return
			}
			block(indent+1+rng.Intn(3), depth+1, rng.Intn(2) == 0)
		}
	}
	block = func(indent, depth int, inSeq bool) {
		pad := strings.Repeat(" ", indent)
		for i, n := 0, 1+rng.Intn(4); i < n; i++ {
			if rng.Intn(10) == 0 {
				b.WriteString("\n" + strings.Repeat(" ", rng.Intn(6)) + "# comment\n")
			}
			if inSeq {
				b.WriteString(pad + "-")
				if rng.Intn(3) == 0 && depth < 4 {
					// an entry that is a mapping, its keys after "- "
					sp := 1 + rng.Intn(2)
					b.WriteString(strings.Repeat(" ", sp))
					keys := 1 + rng.Intn(3)
					for k := range keys {
						if k > 0 {
							b.WriteString(strings.Repeat(" ", indent+1+sp))
						}
						b.WriteString(randomKeys[rng.Intn(len(randomKeys))] + ":")
						value(indent+1+sp, depth+1)
					}
					continue
				}
				value(indent, depth)
				continue
			}
			b.WriteString(pad + randomKeys[rng.Intn(len(randomKeys))] + ":")
			value(indent, depth)
		}
	}
	block(0, 0, rng.Intn(5) == 0)
	return []byte(b.String())
}

func mutate(rng *rand.Rand, doc []byte) []byte {
	out := bytes.Clone(doc)
	if len(out) == 0 {
		return out
	}
	i := rng.Intn(len(out))
	switch rng.Intn(4) {
	case 0:
		out = append(out[:i], out[i+1:]...)
	case 1:
		out[i] = " :-#[]{},'\"\n\tab"[rng.Intn(15)]
	case 2:
		out = append(out[:i], append([]byte{' '}, out[i:]...)...)
	default:
		j := rng.Intn(len(out))
		out = append(out[:i], append(bytes.Clone(out[j:min(len(out), j+1+rng.Intn(10))]), out[i:]...)...)
	}
	return out
}

// FuzzScanBlock compares the scanner with yaml.v3 on arbitrary input.
func FuzzScanBlock(f *testing.F) {
	for _, s := range randomScalars {
		f.Add([]byte("k: " + s + "\n"))
	}
	f.Add([]byte(examplePolicy))
	f.Add([]byte("users:\n- login: a\n  rights: [admin]\ngroups:\n  - {name: g, members: [a]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		agree(t, "fuzz", data)
	})
}

// BenchmarkLoadLarge measures what `policy test` and `policy validate` do
// before any test runs, on an exported policy of 10 001 users, 1 000
// groups and 200 resources (about 1.5 MB): parse it through each reader,
// then validate it and load it into the in-memory engine source.
func BenchmarkLoadLarge(b *testing.B) {
	m := access.GenerateMemory(1, 10000, 1000, 200)
	data, err := Marshal(FromState(memoryState(b, m)), "yaml")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		mode scanMode
	}{{"yaml.v3", scanNone}, {"scanner", scanWhole}, {"streamed", scanStreamed}} {
		b.Run("parse/"+c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, fs := parse("bench.yaml", data, c.mode); len(fs) != 0 {
					b.Fatalf("findings: %q", strs(fs)[:min(5, len(fs))])
				}
			}
		})
	}
	p, _ := Parse("bench.yaml", data)
	b.Run("validate", func(b *testing.B) {
		for b.Loop() {
			Validate(p)
		}
	})
	b.Run("memory", func(b *testing.B) {
		for b.Loop() {
			ToMemory(p)
		}
	})
}
