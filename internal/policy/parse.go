package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Source is one policy file: the name findings cite and its contents.
type Source struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// Read reads policy files. A directory stands for the *.yaml, *.yml and
// *.json files directly inside it, in name order, except *.schema.json: the
// schema that editors find through the modeline of an exported policy
// lives beside the files it describes. The error is for files
// that cannot be read at all, or that together hold more than maxBytes
// (DefaultMaxBytes when zero or less).
func Read(maxBytes int64, paths ...string) ([]Source, error) {
	if len(paths) == 0 {
		return nil, errs.Usagef("no policy file given").WithHint("name one or more policy files or directories")
	}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, errs.Wrap(errs.Usage, err, "cannot read policy").WithHint("check the path")
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := policyFilesIn(p)
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	out := make([]Source, 0, len(files))
	b := newBudget("policy", maxBytes)
	for _, f := range files {
		data, err := b.readFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, Source{f, data})
	}
	return out, nil
}

// Load reads and merges policy files (see Read). The findings are those of
// Parse (syntax and shape); Validate checks the merged policy's meaning.
func Load(maxBytes int64, paths ...string) (*Policy, []Finding, error) {
	srcs, err := Read(maxBytes, paths...)
	if err != nil {
		return nil, nil, err
	}
	p, fs := Merge(srcs)
	return p, fs, nil
}

// Merge parses and merges policy files already read.
func Merge(srcs []Source) (*Policy, []Finding) {
	pol := &Policy{}
	var all []Finding
	for _, f := range srcs {
		q, fs := Parse(f.Name, f.Data)
		pol.merge(q)
		all = append(all, fs...)
	}
	return pol, sortFindings(all)
}

// schemaSuffix ends the names of JSON Schema files, which a directory of
// policy files may hold but which are no policy.
const schemaSuffix = ".schema.json"

func policyFilesIn(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, errs.Wrap(errs.Usage, err, "cannot read policy directory").WithHint("check the path and its permissions")
	}
	var out []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".yaml", ".yml", ".json":
			if !e.IsDir() && !strings.HasSuffix(strings.ToLower(e.Name()), schemaSuffix) {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	if len(out) == 0 {
		return nil, errs.Usagef("no policy files in %s", dir).WithHint("policy files end in .yaml, .yml or .json")
	}
	return out, nil // ReadDir already sorts by name
}

func (p *Policy) merge(q *Policy) {
	p.Files = append(p.Files, q.Files...)
	p.Users = append(p.Users, q.Users...)
	p.Groups = append(p.Groups, q.Groups...)
	p.Resources = append(p.Resources, q.Resources...)
	p.Actions = append(p.Actions, q.Actions...)
	p.Settings = append(p.Settings, q.Settings...)
}

// Check loads paths and validates the merged policy: Load's and Validate's
// findings together, sorted. It is what `policy validate` reports.
func Check(maxBytes int64, paths ...string) (*Policy, []Finding, error) {
	p, _, fs, err := check(maxBytes, false, paths...)
	return p, fs, err
}

// CheckForTests is Check for `policy test`: while Validate runs, the
// policy is also loaded into the in-memory source the tests run against
// (see Suite.RunOn), on another core when there is one. The source is nil
// when the findings hold an error.
func CheckForTests(maxBytes int64, paths ...string) (*Policy, *access.Memory, []Finding, error) {
	return check(maxBytes, true, paths...)
}

func check(maxBytes int64, load bool, paths ...string) (*Policy, *access.Memory, []Finding, error) {
	p, fs, err := Load(maxBytes, paths...)
	if err != nil {
		return nil, nil, nil, err
	}
	// A file that is not valid YAML was read only in part; checking the
	// meaning of that part would report things missing that are there.
	for _, f := range fs {
		if f.Code == CodeSyntax {
			return p, nil, fs, nil
		}
	}
	var loaded chan *access.Memory
	if load && !HasErrors(fs) {
		loaded = make(chan *access.Memory, 1)
		go func() { loaded <- ToMemory(p) }() // reads p, as Validate does
	}
	fs = sortFindings(append(fs, Validate(p)...))
	if loaded == nil {
		return p, nil, fs, nil
	}
	m := <-loaded
	if HasErrors(fs) {
		return p, nil, fs, nil
	}
	return p, m, fs, nil
}

// Parse reads one file's content, YAML or JSON, possibly several YAML
// documents separated by "---". name appears in every position. Parse
// reports syntax, unknown keys and values of the wrong type; it returns
// whatever it could read even when there are findings, so that Validate can
// still check the rest. It never panics.
func Parse(name string, data []byte) (*Policy, []Finding) {
	return parse(name, data, scanStreamed)
}

// scanMode says whether and how documents tries the block scanner before
// yaml.v3. Tests compare the three.
type scanMode int

const (
	scanNone     scanMode = iota // yaml.v3 only
	scanWhole                    // the scanner builds the whole tree
	scanStreamed                 // the top-level lists are scanned entry by entry as the decoder reads them
)

func parse(name string, data []byte, mode scanMode) (*Policy, []Finding) {
	d := newDecoder(name, data)
	if !d.documents(data, mode, d.document) {
		d = newDecoder(name, data)
		d.documents(data, scanNone, d.document)
	}
	return d.pol, sortFindings(d.fs)
}

func newDecoder(name string, data []byte) *decoder {
	return &decoder{file: name, budget: 2*len(data) + 10000, pol: &Policy{Files: []string{name}}}
}

// documents hands each YAML document of data to read: through the block
// scanner when the file is in the plain subset it reads, otherwise through
// yaml.v3, whose syntax errors become findings. It returns false when a
// streamed list turned out to hold something the scanner leaves to
// yaml.v3 after read had begun: the caller starts again with scanNone.
func (d *decoder) documents(data []byte, mode scanMode, read func(*yaml.Node)) (done bool) {
	if mode != scanNone {
		s := newBlockScanner(data, mode == scanStreamed)
		if doc, ok := s.document(); ok {
			if doc == nil {
				return true
			}
			d.stream = s
			defer func() {
				d.stream = nil
				if r := recover(); r != nil {
					if r != errNotBlock {
						panic(r)
					}
					done = false
				}
			}()
			read(doc)
			return s.finish()
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for !d.exhausted {
		var doc yaml.Node
		err := decodeSafely(dec, &doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d.syntax(err)
			break
		}
		read(&doc)
	}
	return true
}

// decodeSafely turns a panic inside the YAML library into an error, so that
// no input can crash a caller such as `policy validate`.
func decodeSafely(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the parser failed on this input (%v)", r)
		}
	}()
	return dec.Decode(n)
}

var yamlLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): `) })

func (d *decoder) syntax(err error) {
	msg := err.Error()
	p := Pos{File: d.file}
	if m := yamlLine().FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	d.fs.add(p, CodeSyntax, "%s", msg)
}

type decoder struct {
	file      string
	fs        findings
	budget    int // nodes left to visit; aliases can make a small file expand enormously
	exhausted bool
	pol       *Policy
	stream    *blockScanner // while it reads a document whose top-level lists are streamed
}

type pair struct{ key, val *yaml.Node }

func (d *decoder) pos(n *yaml.Node) Pos { return Pos{d.file, n.Line, n.Column} }

var nullNode = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}

// resolve follows aliases to the node they name and charges the budget.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 1000; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
		n = nullNode
	}
	d.budget--
	if d.budget < 0 && !d.exhausted {
		d.exhausted = true
		d.fs.add(Pos{File: d.file}, CodeTooComplex, "aliases expand this file beyond reason; write the entries out instead")
	}
	return n
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!null":
		return "empty"
	case "!!bool":
		return "true/false"
	case "!!int", "!!float":
		return "a number"
	}
	return "a string"
}

// shown is describe with the value itself for scalars: "'yes'" rather than
// "a string".
func shown(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return describe(n)
	}
	v := n.Value
	if r := []rune(v); len(r) > 40 {
		v = string(r[:40]) + "…"
	}
	return "'" + v + "'"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func (d *decoder) document(doc *yaml.Node) {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return
	}
	root := d.resolve(doc.Content[0])
	if isNull(root) {
		return
	}
	if root.Kind != yaml.MappingNode {
		d.fs.add(d.pos(root), CodeType, "a policy document is a mapping with the keys %s; found %s",
			strings.Join(keysOf(topFields()), ", "), describe(root))
		return
	}
	for _, kv := range d.pairs(root) {
		switch kv.key.Value {
		case keyVersion:
			d.version(kv.val)
		case keyUsers:
			d.list(kv.val, keyUsers, "user", d.user)
		case keyGroups:
			d.list(kv.val, keyGroups, "group", d.group)
		case keyResources:
			d.list(kv.val, keyResources, "resource", d.resource)
		case keyActions:
			d.list(kv.val, keyActions, "action", d.action)
		case keySettings:
			d.settings(kv.val)
		case keySchema:
			d.schemaRef(kv.val)
		default:
			// x- keys are free for the file's own use, typically templates
			// that entries merge with "<<: *name".
			if !strings.HasPrefix(kv.key.Value, extensionPrefix) {
				d.unknownKey(kv.key, "the policy", topFields())
			}
		}
	}
}

// pairs returns a mapping's key/value pairs. Keys must be scalars and
// appear once; YAML merge keys ("<<: *defaults") contribute the keys the
// mapping does not set itself.
func (d *decoder) pairs(m *yaml.Node) []pair {
	var out, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content) && !d.exhausted; i += 2 {
		k := d.resolve(m.Content[i])
		v := m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fs.add(d.pos(k), CodeType, "a key must be a plain word, not %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergePairs(v)...)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.fs.add(d.pos(k), CodeDuplicateKey, "key '%s' is repeated (first at %s)", k.Value, d.pos(first))
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, v})
	}
	for _, kv := range merged {
		if _, ok := seen[kv.key.Value]; !ok {
			seen[kv.key.Value] = kv.key
			out = append(out, kv)
		}
	}
	return out
}

func (d *decoder) mergePairs(v *yaml.Node) []pair {
	v = d.resolve(v)
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v)
	case yaml.SequenceNode:
		var out []pair
		seen := map[string]bool{}
		for _, item := range v.Content {
			if d.exhausted {
				break
			}
			item = d.resolve(item)
			if item.Kind != yaml.MappingNode {
				d.fs.add(d.pos(item), CodeType, "'<<' merges mappings, not %s", describe(item))
				continue
			}
			for _, kv := range d.pairs(item) {
				if !seen[kv.key.Value] { // earlier mappings in the list win
					seen[kv.key.Value] = true
					out = append(out, kv)
				}
			}
		}
		return out
	}
	d.fs.add(d.pos(v), CodeType, "'<<' merges a mapping or a list of mappings, not %s", describe(v))
	return nil
}

func (d *decoder) unknownKey(k *yaml.Node, where string, valid []field) {
	keys := keysOf(valid)
	if near := helpdesk.Closest(k.Value, keys); len(near) > 0 {
		d.fs.add(d.pos(k), CodeUnknownKey, "unknown key '%s' in %s (did you mean '%s'?)", k.Value, where, near[0])
		return
	}
	d.fs.add(d.pos(k), CodeUnknownKey, "unknown key '%s' in %s; valid keys are %s", k.Value, where, strings.Join(keys, ", "))
}

func (d *decoder) version(n *yaml.Node) {
	n = d.resolve(n)
	if n.Kind != yaml.ScalarNode {
		d.fs.add(d.pos(n), CodeType, "version must be the number %d, not %s", Version, describe(n))
		return
	}
	if n.Value != strconv.Itoa(Version) {
		d.fs.add(d.pos(n), CodeVersion, "unsupported version %q; this deskctl reads version %d", n.Value, Version)
	}
}

// schemaRef checks "$schema", which only editors read: JSON editors take
// the schema of a document from it.
func (d *decoder) schemaRef(n *yaml.Node) {
	n = d.resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) || n.ShortTag() != "!!str" {
		d.fs.add(d.pos(n), CodeType, "$schema must be the path or URL of the schema, not %s", describe(n))
	}
}

// list walks a list of mappings, handing each entry to entry.
func (d *decoder) list(n *yaml.Node, key, what string, entry func(*yaml.Node)) {
	n = d.resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fs.add(d.pos(n), CodeType, "%s must be a list of entries (\"- %s: …\"), not %s", key, keysOf(fieldsFor(what))[0], describe(n))
		return
	}
	each := func(item *yaml.Node) bool {
		if d.exhausted {
			return false
		}
		item = d.resolve(item)
		if item.Kind != yaml.MappingNode {
			d.fs.add(d.pos(item), CodeType, "each %s entry is a mapping with the keys %s; found %s",
				what, strings.Join(keysOf(fieldsFor(what)), ", "), describe(item))
			return true
		}
		entry(item)
		return true
	}
	if d.stream != nil {
		if count, ok := d.stream.streamed(n); ok {
			d.pol.reserve(what, count)
			d.stream.entries(n, each)
			return
		}
	}
	d.pol.reserve(what, len(n.Content))
	for _, item := range n.Content {
		if !each(item) {
			return
		}
	}
}

// reserve makes room for n more entries of the list what, so that a large
// file does not grow the list many times over.
func (p *Policy) reserve(what string, n int) {
	switch what {
	case "user":
		p.Users = slices.Grow(p.Users, n)
	case "group":
		p.Groups = slices.Grow(p.Groups, n)
	case "resource":
		p.Resources = slices.Grow(p.Resources, n)
	case "action":
		p.Actions = slices.Grow(p.Actions, n)
	}
}

func fieldsFor(what string) []field {
	switch what {
	case "user":
		return userFields()
	case "group":
		return groupFields()
	case "resource":
		return resourceFields()
	case "action":
		return actionFields()
	case "resource member":
		return resourceMemberFields()
	}
	return topFields()
}

// str reads a scalar as its text; null reads as "". Numbers and booleans are
// taken as written, so `name: 2024` is the name "2024".
func (d *decoder) str(o *Origin, key string, n *yaml.Node) string {
	n = d.resolve(n)
	o.set(key, d.pos(n))
	if n.Kind != yaml.ScalarNode {
		o.markBad(key)
		d.fs.add(d.pos(n), CodeType, "%s must be a string, not %s", key, describe(n))
		return ""
	}
	if isNull(n) {
		return ""
	}
	return n.Value
}

func (d *decoder) boolean(o *Origin, key string, n *yaml.Node, def bool) bool {
	n = d.resolve(n)
	o.set(key, d.pos(n))
	if isNull(n) {
		return def
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		if b, err := strconv.ParseBool(strings.ToLower(n.Value)); err == nil {
			return b
		}
	}
	o.markBad(key)
	d.fs.add(d.pos(n), CodeType, "%s must be true or false, not %s", key, shown(n))
	return def
}

// items reads a list of strings such as rights or states.
func (d *decoder) items(o *Origin, key string, n *yaml.Node) []Item {
	n = d.resolve(n)
	o.set(key, d.pos(n))
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		o.markBad(key)
		d.fs.add(d.pos(n), CodeType, "%s must be a list such as [a, b], not %s", key, describe(n))
		return nil
	}
	out := make([]Item, 0, len(n.Content))
	for _, x := range n.Content {
		if d.exhausted {
			break
		}
		x = d.resolve(x)
		if x.Kind != yaml.ScalarNode || isNull(x) {
			o.markBad(key)
			d.fs.add(d.pos(x), CodeType, "each entry of %s must be a name, not %s", key, describe(x))
			continue
		}
		out = append(out, Item{Value: x.Value, Pos: d.pos(x)})
	}
	return out
}

func (d *decoder) user(n *yaml.Node) {
	u := User{Active: true}
	u.Pos = d.pos(n)
	for _, kv := range d.pairs(n) {
		switch k := kv.key.Value; k {
		case keyLogin:
			u.Login = d.str(&u.Origin, k, kv.val)
		case keyName:
			u.Name = d.str(&u.Origin, k, kv.val)
		case keyEmail:
			u.Email = d.str(&u.Origin, k, kv.val)
		case keyActive:
			u.Active = d.boolean(&u.Origin, k, kv.val, true)
		case keyOSLogin:
			u.OSLogin = d.str(&u.Origin, k, kv.val)
		case keyRights:
			u.Rights = d.items(&u.Origin, k, kv.val)
		default:
			d.unknownKey(kv.key, "user", userFields())
		}
	}
	d.pol.Users = append(d.pol.Users, u)
}

func (d *decoder) group(n *yaml.Node) {
	var g Group
	g.Pos = d.pos(n)
	for _, kv := range d.pairs(n) {
		switch k := kv.key.Value; k {
		case keyName:
			g.Name = d.str(&g.Origin, k, kv.val)
		case keyDescription:
			g.Description = d.str(&g.Origin, k, kv.val)
		case keyMembers:
			its := d.items(&g.Origin, k, kv.val)
			g.Members = make([]Member, 0, len(its))
			for _, it := range its {
				g.Members = append(g.Members, Member{Subject: memberSubject(it.Value), Raw: it.Value, Pos: it.Pos})
			}
		case keyRights:
			g.Rights = d.items(&g.Origin, k, kv.val)
		default:
			d.unknownKey(kv.key, "group", groupFields())
		}
	}
	d.pol.Groups = append(d.pol.Groups, g)
}

// memberSubject reads a group member: a bare name is a user.
func memberSubject(raw string) helpdesk.Subject {
	kind, name, found := strings.Cut(raw, ":")
	if !found {
		return helpdesk.UserSubject(raw)
	}
	return helpdesk.Subject{Kind: helpdesk.SubjectKind(kind), Name: name}
}

func (d *decoder) resource(n *yaml.Node) {
	var r Resource
	r.Pos = d.pos(n)
	for _, kv := range d.pairs(n) {
		switch k := kv.key.Value; k {
		case keyName:
			r.Name = d.str(&r.Origin, k, kv.val)
		case keyDescription:
			r.Description = d.str(&r.Origin, k, kv.val)
		case keyParent:
			r.Parent = d.str(&r.Origin, k, kv.val)
		case keyMembers:
			d.mappings(&r.Origin, k, kv.val, "members must be a list such as [{user: bob, access: write}]",
				"each resource member is a mapping such as {user: bob, access: write}", func(item *yaml.Node) {
					r.Members = append(r.Members, d.resourceMember(item))
				})
		case keyRights:
			r.Rights = d.items(&r.Origin, k, kv.val)
		case keyApproval:
			v := d.resolve(kv.val)
			r.set(k, d.pos(v))
			if isNull(v) {
				continue
			}
			if v.Kind != yaml.MappingNode {
				r.markBad(k)
				d.fs.add(d.pos(v), CodeType, "approval must be a mapping such as {approvers: [carol], gates: [close]}, not %s", describe(v))
				continue
			}
			r.Approval = d.template(v)
		default:
			d.unknownKey(kv.key, "resource", resourceFields())
		}
	}
	d.pol.Resources = append(d.pol.Resources, r)
}

// mappings reads key's value as a list of mappings, handing each to read.
// A value that is not a list is a finding with listMsg (and marks key bad
// in o, when there is an o); an item that is not a mapping is a finding
// with itemMsg and is left out.
func (d *decoder) mappings(o *Origin, key string, n *yaml.Node, listMsg, itemMsg string, read func(*yaml.Node)) {
	v := d.resolve(n)
	if o != nil {
		o.set(key, d.pos(v))
	}
	if isNull(v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		if o != nil {
			o.markBad(key)
		}
		d.fs.add(d.pos(v), CodeType, "%s, not %s", listMsg, describe(v))
		return
	}
	for _, item := range v.Content {
		if d.exhausted {
			break
		}
		item = d.resolve(item)
		if item.Kind != yaml.MappingNode {
			d.fs.add(d.pos(item), CodeType, "%s; found %s", itemMsg, describe(item))
			continue
		}
		read(item)
	}
}

func (d *decoder) resourceMember(n *yaml.Node) ResourceMember {
	var m ResourceMember
	m.Pos = d.pos(n)
	for _, kv := range d.pairs(n) {
		switch k := kv.key.Value; k {
		case keyUser:
			m.Login = d.str(&m.Origin, k, kv.val)
		case keyAccess:
			m.Access = helpdesk.Access(d.str(&m.Origin, k, kv.val))
		default:
			d.unknownKey(kv.key, "resource member", resourceMemberFields())
		}
	}
	return m
}

func (d *decoder) action(n *yaml.Node) {
	var a Action
	a.Pos = d.pos(n)
	for _, kv := range d.pairs(n) {
		switch k := kv.key.Value; k {
		case keyName:
			a.Name = d.str(&a.Origin, k, kv.val)
		case keyCategory:
			a.Category = d.str(&a.Origin, k, kv.val)
		case keyFromStates:
			a.FromStates = d.items(&a.Origin, k, kv.val)
		case keyToState:
			a.ToState = d.str(&a.Origin, k, kv.val)
		case keyRequiresText:
			a.RequiresText = d.boolean(&a.Origin, k, kv.val, false)
		case keyInternal:
			a.Internal = d.boolean(&a.Origin, k, kv.val, false)
		case keyDescription:
			a.Description = d.str(&a.Origin, k, kv.val)
		default:
			d.unknownKey(kv.key, "action", actionFields())
		}
	}
	d.pol.Actions = append(d.pol.Actions, a)
}

func (d *decoder) settings(n *yaml.Node) {
	n = d.resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fs.add(d.pos(n), CodeType, "settings must be a mapping of key: value, not %s", describe(n))
		return
	}
	for _, kv := range d.pairs(n) {
		v := d.resolve(kv.val)
		if v.Kind != yaml.ScalarNode {
			d.fs.add(d.pos(v), CodeType, "the value of setting %s must be a single value, not %s", kv.key.Value, describe(v))
			continue
		}
		val := v.Value
		switch v.ShortTag() {
		case "!!null":
			val = ""
		case "!!bool":
			val = strings.ToLower(val) // True and TRUE are YAML's spellings of true
		}
		d.pol.Settings = append(d.pol.Settings, Setting{Key: kv.key.Value, Value: val, Pos: d.pos(kv.key), ValuePos: d.pos(v)})
	}
}
