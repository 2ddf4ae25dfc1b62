package output

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"unicode"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// GraphFormat is a way of drawing a Graph.
type GraphFormat string

const (
	Mermaid GraphFormat = "mermaid"
	Dot     GraphFormat = "dot"
	SVG     GraphFormat = "svg"
)

// GraphFormats lists the drawing formats, for help and completion.
var GraphFormats = []GraphFormat{Mermaid, Dot, SVG}

// ParseGraphFormat reads the -o value of a command that draws.
func ParseGraphFormat(s string) (GraphFormat, error) {
	for _, f := range GraphFormats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", errs.Usagef("unknown graph format %q", s).WithHint("use one of mermaid, dot, svg")
}

// Shape is how a node is drawn.
type Shape int

const (
	ShapeBox Shape = iota
	ShapeRounded
	ShapeCylinder
	ShapePill
	ShapeHexagon
	ShapeNote
)

// Node is one box of a graph. Lines are its label, one per line, as plain
// text: the writers escape them for their language.
type Node struct {
	ID     string
	Lines  []string
	Shape  Shape
	Dashed bool
}

// Edge is an arrow between two nodes, optionally labelled.
type Edge struct {
	From, To string
	Label    string
	Dashed   bool
}

// Graph is a directed graph drawn left to right. Nodes and edges keep the
// order they were added in, so the same graph always gives the same text.
type Graph struct {
	Nodes []Node
	Edges []Edge
	index map[string]int
	edges map[Edge]bool
}

// Node adds a node unless one with the same ID exists, and returns it for
// changes; the first Lines and Shape given for an ID stay.
func (g *Graph) Node(id string, shape Shape, lines ...string) *Node {
	if i, ok := g.index[id]; ok {
		return &g.Nodes[i]
	}
	if g.index == nil {
		g.index = map[string]int{}
	}
	g.index[id] = len(g.Nodes)
	g.Nodes = append(g.Nodes, Node{ID: id, Lines: lines, Shape: shape})
	return &g.Nodes[len(g.Nodes)-1]
}

// Has reports whether a node with this ID was added.
func (g *Graph) Has(id string) bool {
	_, ok := g.index[id]
	return ok
}

// Edge adds an arrow between two added nodes; the same arrow twice is drawn once.
func (g *Graph) Edge(from, to, label string, dashed bool) {
	e := Edge{From: from, To: to, Label: label, Dashed: dashed}
	if g.edges[e] {
		return
	}
	if g.edges == nil {
		g.edges = map[Edge]bool{}
	}
	g.edges[e] = true
	g.Edges = append(g.Edges, e)
}

// ids gives every node a short identifier of the drawing (n0, n1, …), so
// that no name has to be valid as an identifier in either language.
func (g *Graph) ids() map[string]string {
	out := make(map[string]string, len(g.Nodes))
	for i, n := range g.Nodes {
		out[n.ID] = fmt.Sprintf("n%d", i)
	}
	return out
}

// WriteGraph draws g as Mermaid or dot text, or as SVG through Graphviz's
// dot program (dotProgram: its name or path, normally "dot").
func WriteGraph(w io.Writer, g *Graph, f GraphFormat, dotProgram string) error {
	switch f {
	case Mermaid:
		return WriteMermaid(w, g)
	case Dot:
		return WriteDot(w, g)
	case SVG:
		return WriteSVG(w, g, dotProgram)
	}
	return errs.Usagef("unknown graph format %q", f)
}

// WriteMermaid writes g as a Mermaid flowchart.
func WriteMermaid(w io.Writer, g *Graph) error {
	id := g.ids()
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	byShape := map[Shape][]string{}
	var dashed []string
	for _, n := range g.Nodes {
		opening, closing := mermaidShape(n.Shape)
		fmt.Fprintf(&b, "  %s%s\"%s\"%s\n", id[n.ID], opening, mermaidLines(n.Lines), closing)
		byShape[n.Shape] = append(byShape[n.Shape], id[n.ID])
		if n.Dashed {
			dashed = append(dashed, id[n.ID])
		}
	}
	for _, e := range g.Edges {
		arrow := "-->"
		if e.Dashed {
			arrow = "-.->"
		}
		label := ""
		if e.Label != "" {
			label = "|\"" + mermaidText(e.Label) + "\"|"
		}
		fmt.Fprintf(&b, "  %s %s%s %s\n", id[e.From], arrow, label, id[e.To])
	}
	for s := ShapeBox; s <= ShapeNote; s++ {
		if ids := byShape[s]; len(ids) > 0 {
			fmt.Fprintf(&b, "  classDef %s fill:%s,stroke:%s\n", s, s.fill(), s.stroke())
			fmt.Fprintf(&b, "  class %s %s\n", strings.Join(ids, ","), s)
		}
	}
	if len(dashed) > 0 {
		b.WriteString("  classDef dashed stroke-dasharray: 5 5\n")
		fmt.Fprintf(&b, "  class %s dashed\n", strings.Join(dashed, ","))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (s Shape) String() string {
	return [...]string{"box", "rounded", "cylinder", "pill", "hexagon", "note"}[s]
}

// fill and stroke are the colours of a shape, the same in both languages.
func (s Shape) fill() string {
	return [...]string{"#fef3c7", "#dbeafe", "#dcfce7", "#f3f4f6", "#ffedd5", "#ffffff"}[s]
}

func (s Shape) stroke() string {
	return [...]string{"#92400e", "#1e40af", "#166534", "#374151", "#9a3412", "#6b7280"}[s]
}

func mermaidShape(s Shape) (string, string) {
	switch s {
	case ShapeRounded:
		return "(", ")"
	case ShapeCylinder:
		return "[(", ")]"
	case ShapePill:
		return "([", "])"
	case ShapeHexagon:
		return "{{", "}}"
	case ShapeNote:
		return ">", "]"
	}
	return "[", "]"
}

func mermaidLines(lines []string) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = mermaidText(l)
	}
	return strings.Join(parts, "<br/>")
}

// mermaidText escapes a label for a quoted Mermaid string: every character
// that could end the string, start markup or an entity, or act on a
// terminal becomes an entity code (#34; for a double quote), which Mermaid
// shows as the character itself.
func mermaidText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if plainRune(r) {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "#%d;", r)
		}
	}
	return b.String()
}

// plainRune reports whether r may stand as itself in a label of either
// language: letters, digits, spaces and punctuation with no meaning there.
func plainRune(r rune) bool {
	switch {
	case r < 0x80:
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune(" .,:-_/@+=!?()*'", r)
	case helpdesk.UnsafeRune(r):
		return false
	}
	return unicode.IsGraphic(r) && !unicode.IsSpace(r)
}

// WriteDot writes g as a Graphviz digraph.
func WriteDot(w io.Writer, g *Graph) error {
	id := g.ids()
	var b strings.Builder
	b.WriteString("digraph access {\n")
	b.WriteString("  rankdir=LR;\n")
	b.WriteString("  node [fontname=\"Helvetica,Arial,sans-serif\", fontsize=12];\n")
	b.WriteString("  edge [fontname=\"Helvetica,Arial,sans-serif\", fontsize=10];\n")
	for _, n := range g.Nodes {
		shape, style := dotShape(n.Shape)
		style = append(style, "filled")
		if n.Dashed {
			style = append(style, "dashed")
		}
		fmt.Fprintf(&b, "  %s [label=\"%s\", shape=%s, style=\"%s\", fillcolor=\"%s\", color=\"%s\"];\n",
			id[n.ID], dotLines(n.Lines), shape, strings.Join(style, ","), n.Shape.fill(), n.Shape.stroke())
	}
	for _, e := range g.Edges {
		var attrs []string
		if e.Label != "" {
			attrs = append(attrs, fmt.Sprintf("label=\"%s\"", dotText(e.Label)))
		}
		if e.Dashed {
			attrs = append(attrs, "style=dashed")
		}
		line := fmt.Sprintf("  %s -> %s", id[e.From], id[e.To])
		if len(attrs) > 0 {
			line += " [" + strings.Join(attrs, ", ") + "]"
		}
		b.WriteString(line + ";\n")
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func dotShape(s Shape) (string, []string) {
	switch s {
	case ShapeRounded:
		return "box", []string{"rounded"}
	case ShapeCylinder:
		return "cylinder", nil
	case ShapePill:
		return "ellipse", nil
	case ShapeHexagon:
		return "hexagon", nil
	case ShapeNote:
		return "note", nil
	}
	return "box", nil
}

func dotLines(lines []string) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = dotText(l)
	}
	return strings.Join(parts, `\n`)
}

// dotText escapes a label for a quoted dot string. Backslash and double
// quote are escaped with a backslash; Graphviz reads entities in labels,
// so & and every character that could act on a terminal become numeric
// entities, which it draws as the character itself.
func dotText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '&' || r < 0x20 || r == 0x7f || r >= 0x80 && !plainRune(r):
			fmt.Fprintf(&b, "&#%d;", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// WriteSVG draws g with Graphviz: the dot text is piped through
// `dotProgram -Tsvg`. Without Graphviz it says how to install it and that
// the dot text needs nothing.
func WriteSVG(w io.Writer, g *Graph, dotProgram string) error {
	path, err := Graphviz(dotProgram)
	if err != nil {
		return err
	}
	var src bytes.Buffer
	if err := WriteDot(&src, g); err != nil {
		return err
	}
	var out, stderr bytes.Buffer
	cmd := exec.Command(path, "-Tsvg")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = &src, &out, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		msg := strings.TrimSpace(stderr.String())
		if errors.As(err, &exit) && msg != "" {
			return errs.Internalf("%s -Tsvg failed: %s", path, msg).WithHint("write the dot text with -o dot and render it yourself")
		}
		return errs.Wrap(errs.Internal, err, "cannot run %s", path)
	}
	_, err = w.Write(out.Bytes())
	return err
}

// Graphviz finds Graphviz's dot program for -o svg, or says how to
// install it and that the dot and Mermaid text need nothing.
func Graphviz(dotProgram string) (string, error) {
	if path, err := exec.LookPath(dotProgram); err == nil {
		return path, nil
	}
	return "", errs.Usagef("-o svg needs Graphviz's %s program, which is not on PATH", dotProgram).
		WithHint("install Graphviz (apt-get install graphviz, dnf install graphviz or brew install graphviz), or write the graph with -o dot or -o mermaid, which need nothing")
}
