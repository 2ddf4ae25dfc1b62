package policy

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/deskctl/deskctl/internal/errs"
)

// SchemaModeline is the first line of an exported YAML policy: it tells
// editors with the YAML language server where the format's JSON Schema is,
// the file `deskctl policy schema` writes (docs/policy.md, Editor support).
const SchemaModeline = "# yaml-language-server: $schema=policy.schema.json\n"

// Export writes the policy describing s; see Marshal. YAML starts with
// SchemaModeline.
func Export(s State, format string) ([]byte, error) {
	out, err := Marshal(FromState(s), format)
	if err != nil || (format != "yaml" && format != "") {
		return out, err
	}
	return append([]byte(SchemaModeline), out...), nil
}

// Marshal writes p in canonical form as "yaml" or "json": entities sorted
// by name, lists sorted, repeats dropped, defaults left out. The same
// policy therefore always gives the same bytes, and marshalling a parsed
// file gives what Export would for the directory it describes.
func Marshal(p *Policy, format string) ([]byte, error) {
	if p == nil {
		p = &Policy{}
	}
	doc := document(FromState(p.State()))
	switch format {
	case "yaml", "":
		out, err := writeYAML(doc)
		if err != nil {
			return nil, errs.Wrap(errs.Internal, err, "write policy as YAML")
		}
		return out, nil
	case "json":
		var buf bytes.Buffer
		if err := writeJSON(&buf, doc, ""); err != nil {
			return nil, errs.Wrap(errs.Internal, err, "write policy as JSON")
		}
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	}
	return nil, errs.Usagef("unknown policy format %q", format).WithHint("use yaml or json")
}

// writeYAML encodes the document one entry at a time and indents each
// under its section. The result is what encoding the whole tree gives, but
// the YAML emitter keeps every event of a document in memory, which makes
// one large document many times slower than its entries one by one.
func writeYAML(doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		if v.Kind != yaml.SequenceNode {
			m := mapping()
			m.Content = []*yaml.Node{k, v}
			b, err := encodeNode(m)
			if err != nil {
				return nil, err
			}
			buf.Write(b)
			continue
		}
		buf.WriteString(k.Value + ":\n")
		for _, item := range v.Content {
			b, err := encodeNode(item)
			if err != nil {
				return nil, err
			}
			for j, line := range bytes.SplitAfter(b, []byte("\n")) {
				switch {
				case j == 0:
					buf.WriteString("  - ")
				case len(bytes.TrimSpace(line)) > 0:
					buf.WriteString("    ")
				}
				buf.Write(line)
			}
		}
	}
	return buf.Bytes(), nil
}

func encodeNode(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// document builds the node tree of a canonical policy.
func document(p *Policy) *yaml.Node {
	root := mapping()
	add(root, keyVersion, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(Version)})
	if len(p.Users) > 0 {
		seq := sequence()
		for _, u := range p.Users {
			m := mapping()
			add(m, keyLogin, str(u.Login))
			add(m, keyName, str(u.Name))
			add(m, keyEmail, str(u.Email))
			if !u.Active {
				add(m, keyActive, boolean(false))
			}
			if u.OSLogin != "" {
				add(m, keyOSLogin, str(u.OSLogin))
			}
			addList(m, keyRights, values(u.Rights))
			seq.Content = append(seq.Content, m)
		}
		add(root, keyUsers, seq)
	}
	if len(p.Groups) > 0 {
		seq := sequence()
		for _, g := range p.Groups {
			m := mapping()
			add(m, keyName, str(g.Name))
			addString(m, keyDescription, g.Description)
			var members []string
			for _, x := range g.Members {
				members = append(members, x.Raw)
			}
			addList(m, keyMembers, members)
			addList(m, keyRights, values(g.Rights))
			seq.Content = append(seq.Content, m)
		}
		add(root, keyGroups, seq)
	}
	if len(p.Resources) > 0 {
		seq := sequence()
		for _, r := range p.Resources {
			m := mapping()
			add(m, keyName, str(r.Name))
			addString(m, keyDescription, r.Description)
			addString(m, keyParent, r.Parent)
			if len(r.Members) > 0 {
				ms := sequence()
				for _, x := range r.Members {
					item := mapping()
					item.Style = yaml.FlowStyle
					add(item, keyUser, str(x.Login))
					add(item, keyAccess, str(string(x.Access)))
					ms.Content = append(ms.Content, item)
				}
				add(m, keyMembers, ms)
			}
			addList(m, keyRights, values(r.Rights))
			if r.Approval != nil {
				add(m, keyApproval, templateNode(r.Approval))
			}
			seq.Content = append(seq.Content, m)
		}
		add(root, keyResources, seq)
	}
	if len(p.Actions) > 0 {
		seq := sequence()
		for _, a := range p.Actions {
			m := mapping()
			add(m, keyName, str(a.Name))
			add(m, keyCategory, str(a.Category))
			addList(m, keyFromStates, values(a.FromStates))
			addString(m, keyToState, a.ToState)
			if a.RequiresText {
				add(m, keyRequiresText, boolean(true))
			}
			if a.Internal {
				add(m, keyInternal, boolean(true))
			}
			addString(m, keyDescription, a.Description)
			seq.Content = append(seq.Content, m)
		}
		add(root, keyActions, seq)
	}
	if len(p.Settings) > 0 {
		m := mapping()
		for _, s := range p.Settings {
			add(m, s.Key, str(s.Value))
		}
		add(root, keySettings, m)
	}
	return root
}

func mapping() *yaml.Node  { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }
func sequence() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"} }

// str is a string scalar; the encoder quotes it when it would otherwise read
// back as a number, boolean or null. A value with a line break is always
// double-quoted: the encoder would pick a block scalar, and for a value made
// only of line breaks it writes one that reads back as a different string.
func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.ContainsAny(s, "\n\r\u0085\u2028\u2029") {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func add(m *yaml.Node, key string, v *yaml.Node) { m.Content = append(m.Content, str(key), v) }

func addString(m *yaml.Node, key, v string) {
	if v != "" {
		add(m, key, str(v))
	}
}

// flowLimit keeps short lists on one line ([close, reply]) and puts long
// ones one entry per line, which reads and diffs better.
const flowLimit = 72

func addList(m *yaml.Node, key string, vs []string) {
	if len(vs) == 0 {
		return
	}
	seq := sequence()
	width := 0
	for _, v := range vs {
		seq.Content = append(seq.Content, str(v))
		width += len(v) + 2
	}
	if width <= flowLimit {
		seq.Style = yaml.FlowStyle
	}
	add(m, key, seq)
}

func values(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Value)
	}
	return out
}

// writeJSON writes a node tree built by document as indented JSON, keeping
// the key order.
func writeJSON(buf *bytes.Buffer, n *yaml.Node, indent string) error {
	inner := indent + "  "
	switch n.Kind {
	case yaml.MappingNode:
		buf.WriteString("{")
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteString(",")
			}
			buf.WriteString("\n" + inner)
			if err := writeJSONString(buf, n.Content[i].Value); err != nil {
				return err
			}
			buf.WriteString(": ")
			if err := writeJSON(buf, n.Content[i+1], inner); err != nil {
				return err
			}
		}
		if len(n.Content) > 0 {
			buf.WriteString("\n" + indent)
		}
		buf.WriteString("}")
	case yaml.SequenceNode:
		buf.WriteString("[")
		for i, x := range n.Content {
			if i > 0 {
				buf.WriteString(",")
			}
			buf.WriteString("\n" + inner)
			if err := writeJSON(buf, x, inner); err != nil {
				return err
			}
		}
		if len(n.Content) > 0 {
			buf.WriteString("\n" + indent)
		}
		buf.WriteString("]")
	default:
		switch n.Tag {
		case "!!int", "!!bool":
			buf.WriteString(n.Value)
		default:
			return writeJSONString(buf, n.Value)
		}
	}
	return nil
}

func writeJSONString(buf *bytes.Buffer, s string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "<" in a description stays readable
	if err := enc.Encode(s); err != nil {
		return err
	}
	buf.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return nil
}
