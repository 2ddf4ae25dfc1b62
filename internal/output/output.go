// Package output renders command results: tables (go-pretty) on a terminal,
// plain aligned text when piped, and json, yaml, csv or markdown on request.
// It is the only package that imports go-pretty's table writer.
package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
	"go.yaml.in/yaml/v3"
)

// Format is a value of the -o/--output flag.
type Format string

const (
	Table    Format = "table"
	Wide     Format = "wide"
	JSON     Format = "json"
	YAML     Format = "yaml"
	CSV      Format = "csv"
	Markdown Format = "markdown"
)

// Formats lists every output format, for help and completion.
var Formats = []Format{Table, Wide, JSON, YAML, CSV, Markdown}

// ParseFormat reads an -o value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", errs.Usagef("unknown output format %q", s).WithHint("use one of table, wide, json, yaml, csv, markdown")
}

// Column is a table column; Wide columns appear only with -o wide, csv and markdown.
type Column struct {
	Name string
	Wide bool
	// Free marks the long free-text column (a subject, a description, a
	// reason): when a table is wider than the terminal, it is shortened
	// first, its cells cut short with "…".
	Free bool
	// Wrap wraps the column's text onto more lines instead of cutting it,
	// for a panel that is read rather than scanned (KV).
	Wrap bool
	// Tone, when set, colours each cell of the column by what it says, in
	// tables on a terminal where colour is allowed (Printer.Paint).
	Tone func(cell string) Tone
}

// Cols builds plain columns from names; a name ending in "+" is wide, one
// ending in "*" is the free-text column.
func Cols(names ...string) []Column {
	out := make([]Column, len(names))
	for i, n := range names {
		switch {
		case strings.HasSuffix(n, "+"):
			out[i] = Column{Name: strings.TrimSuffix(n, "+"), Wide: true}
		case strings.HasSuffix(n, "*"):
			out[i] = Column{Name: strings.TrimSuffix(n, "*"), Free: true}
		default:
			out[i] = Column{Name: n}
		}
	}
	return out
}

// Tab is the tabular form of a result.
type Tab struct {
	Title   string
	Columns []Column
	Rows    [][]string
	// Empty is printed (to the table output only) when there are no rows.
	Empty string
}

// Printer writes results in one format.
type Printer struct {
	Out    io.Writer
	Format Format
	TTY    bool // stdout is a terminal
	Color  bool // colour allowed (terminal and NO_COLOR unset)
	// Width is the terminal's width in columns: a table on a terminal is
	// made to fit it, except with -o wide. 0 leaves tables unbounded.
	Width int
	// ASCII draws tables on a terminal with +, - and | instead of
	// box-drawing characters (TERM=dumb).
	ASCII bool
	// Filter, when set, turns the JSON document into text (--jq, --template).
	Filter *Filter
}

// Print writes data (json/yaml) or its table form (everything else).
func (p *Printer) Print(data any, tab Tab) error {
	switch p.Format {
	case JSON:
		if p.Filter != nil {
			return p.Filter.Write(p.Out, data)
		}
		return WriteJSON(p.Out, data)
	case YAML:
		return WriteYAML(p.Out, data)
	case CSV:
		return p.csv(tab)
	case Markdown:
		return p.markdown(tab)
	}
	return p.table(tab, p.Format == Wide)
}

// Structured reports whether the format is json or yaml.
func (p *Printer) Structured() bool { return p.Format == JSON || p.Format == YAML }

// WriteJSON writes v as indented JSON with a trailing newline.
func WriteJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeLeftRaw(buf.Bytes()))
	return err
}

// WriteYAML writes v as YAML with the same field names and order as its JSON.
func WriteYAML(w io.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var node yaml.Node
	// YAML refuses raw C1 controls and DEL, which json.Marshal leaves raw.
	if err := yaml.Unmarshal(escapeLeftRaw(raw), &node); err != nil {
		return err
	}
	blockStyle(&node)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err = w.Write(escapeLeftRaw(buf.Bytes()))
	return err
}

// escapeLeftRaw writes as \uXXXX the characters helpdesk.UnsafeRune reports
// that the JSON and YAML encoders leave raw (DEL, C1 controls, bidirectional
// formatting), so printing a result cannot reorder the terminal's text. JSON
// strings and YAML double-quoted scalars (blockStyle keeps those for any
// value holding one) read the escape back as the same character.
func escapeLeftRaw(b []byte) []byte {
	if !bytes.ContainsFunc(b, helpdesk.UnsafeRune) {
		return b
	}
	var out bytes.Buffer
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if n > 1 && helpdesk.UnsafeRune(r) || r == 0x7f {
			fmt.Fprintf(&out, `\u%04x`, r)
		} else {
			out.Write(b[:n])
		}
		b = b[n:]
	}
	return out.Bytes()
}

func blockStyle(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style = 0
	}
	if n.Kind == yaml.ScalarNode && n.Style == yaml.DoubleQuotedStyle && n.Tag == "!!str" {
		// Keep quotes only where YAML needs them.
		n.Style = 0
	}
	if n.Kind == yaml.ScalarNode && strings.IndexFunc(n.Value, helpdesk.UnsafeRune) >= 0 {
		n.Style = yaml.DoubleQuotedStyle // so escapeLeftRaw may write escapes
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

func visible(tab Tab, wide bool) ([]int, table.Row) {
	var idx []int
	var hdr table.Row
	for i, c := range tab.Columns {
		if c.Wide && !wide {
			continue
		}
		idx = append(idx, i)
		hdr = append(hdr, c.Name)
	}
	return idx, hdr
}

func (p *Printer) table(tab Tab, wide bool) error {
	if len(tab.Rows) == 0 && tab.Empty != "" {
		_, err := io.WriteString(p.Out, tab.Empty+"\n")
		return err
	}
	idx, hdr := visible(tab, wide)
	cells := make([][]string, 0, len(tab.Rows)+1)
	head := make([]string, len(hdr))
	for j := range hdr {
		head[j] = hdr[j].(string)
	}
	cells = append(cells, head)
	for _, r := range tab.Rows {
		row := make([]string, len(idx))
		for j, i := range idx {
			if i < len(r) {
				cell := helpdesk.EscapeText(r[i])
				if !p.TTY {
					// One record per line in a pipe.
					cell = strings.ReplaceAll(cell, "\n", `\n`)
				}
				row[j] = cell
			}
		}
		cells = append(cells, row)
	}
	style := p.ttyStyle()
	if !p.TTY {
		style = plainStyle()
	} else if !wide && p.Width > 0 {
		free, wrap := make([]bool, len(idx)), make([]bool, len(idx))
		for j, i := range idx {
			free[j], wrap[j] = tab.Columns[i].Free, tab.Columns[i].Wrap
		}
		fitColumns(cells, free, wrap, p.Width, style)
	}
	if p.Color {
		// After escaping and fitting, which would otherwise take the
		// colour codes for text.
		for j, i := range idx {
			if tone := tab.Columns[i].Tone; tone != nil {
				for _, r := range cells[1:] {
					r[j] = p.Paint(tone(r[j]), r[j])
				}
			}
		}
	}
	t := table.NewWriter()
	if tab.Title != "" && p.TTY {
		t.SetTitle(tab.Title)
	}
	t.AppendHeader(toRow(cells[0]))
	for _, r := range cells[1:] {
		t.AppendRow(toRow(r))
	}
	t.SetStyle(style)
	out := t.Render()
	if !p.TTY {
		lines := strings.Split(out, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " ")
		}
		out = strings.Join(lines, "\n")
	}
	_, err := io.WriteString(p.Out, out+"\n")
	return err
}

func toRow(cells []string) table.Row {
	row := make(table.Row, len(cells))
	for i, c := range cells {
		row[i] = c
	}
	return row
}

// ttyStyle is the look of a table on a terminal: rounded boxes, or ASCII
// on a dumb terminal; a bold header when colour is allowed.
func (p *Printer) ttyStyle() table.Style {
	style := table.StyleRounded
	if p.ASCII {
		style = table.StyleDefault
	}
	if p.Color {
		style.Color = table.ColorOptions{Header: text.Colors{text.Bold}}
	} else {
		style.Color = table.ColorOptions{}
	}
	style.Format.Header = text.FormatDefault
	return style
}

// plainStyle is a borderless, colourless layout for pipes: columns separated
// by two spaces, no truncation.
func plainStyle() table.Style {
	s := table.StyleDefault
	s.Options = table.Options{SeparateColumns: true}
	s.Box.PaddingLeft = ""
	s.Box.PaddingRight = ""
	s.Box.MiddleVertical = "  "
	s.Format.Header = text.FormatDefault
	s.Color = table.ColorOptions{}
	return s
}

func (p *Printer) csv(tab Tab) error {
	w, idx, err := p.csvHeader(tab)
	if err != nil {
		return err
	}
	for _, r := range tab.Rows {
		if err := w.Write(csvRow(idx, r)); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// csvHeader starts a CSV document with tab's header, every column shown.
func (p *Printer) csvHeader(tab Tab) (*csv.Writer, []int, error) {
	idx, hdr := visible(tab, true)
	w := csv.NewWriter(p.Out)
	h := make([]string, len(hdr))
	for i, x := range hdr {
		h[i] = x.(string)
	}
	return w, idx, w.Write(h)
}

func csvRow(idx []int, r []string) []string {
	row := make([]string, len(idx))
	for j, i := range idx {
		if i < len(r) {
			row[j] = csvCell(r[i])
		}
	}
	return row
}

// List writes a list result an item at a time. With -o json (without
// --jq or --template) and -o csv each item is written as it is added, so
// a list of any length is never held whole, and the output is byte for
// byte what Print writes for the whole list. The other formats need every
// row first (column widths, a YAML document, a filter's input): List
// collects them and Close prints what Print would.
type List struct {
	p     *Printer
	tab   Tab // Rows collected for the formats that print at Close
	items []any
	n     int
	enc   *json.Encoder // json: an item's indented form, into buf
	buf   bytes.Buffer
	csv   *csv.Writer
	idx   []int
}

// List starts a list whose columns are tab's (its rows are ignored).
func (p *Printer) List(tab Tab) (*List, error) {
	l := &List{p: p, tab: tab}
	l.tab.Rows = nil
	var err error
	switch {
	case p.Format == JSON && p.Filter == nil:
		// Indented as WriteJSON indents an element of a top-level array.
		l.enc = json.NewEncoder(&l.buf)
		l.enc.SetIndent("  ", "  ")
		l.enc.SetEscapeHTML(false)
	case p.Format == CSV:
		l.csv, l.idx, err = p.csvHeader(tab)
	}
	return l, err
}

// Add writes or keeps one item: its JSON or YAML form is item's, its
// table or CSV form row.
func (l *List) Add(item any, row []string) error {
	l.n++
	switch {
	case l.enc != nil:
		l.buf.Reset()
		if l.n == 1 {
			l.buf.WriteString("[\n  ")
		} else {
			l.buf.WriteString(",\n  ")
		}
		if err := l.enc.Encode(item); err != nil {
			return err
		}
		l.buf.Truncate(l.buf.Len() - 1) // the encoder's newline
		_, err := l.p.Out.Write(escapeLeftRaw(l.buf.Bytes()))
		return err
	case l.csv != nil:
		return l.csv.Write(csvRow(l.idx, row))
	}
	l.items = append(l.items, item)
	l.tab.Rows = append(l.tab.Rows, row)
	return nil
}

// Flush writes what an item-at-a-time list holds back (CSV's buffer) when
// a list stops short with an error: the rows written stay whole.
func (l *List) Flush() {
	if l.csv != nil {
		l.csv.Flush()
	}
}

// Close ends the list, or prints it whole in the formats that collect.
func (l *List) Close() error {
	switch {
	case l.enc != nil:
		end := "\n]\n"
		if l.n == 0 {
			end = "[]\n"
		}
		_, err := io.WriteString(l.p.Out, end)
		return err
	case l.csv != nil:
		l.csv.Flush()
		return l.csv.Error()
	}
	if l.items == nil {
		l.items = []any{}
	}
	return l.p.Print(l.items, l.tab)
}

// csvCell escapes stored control characters and, by the OWASP rule for CSV
// injection, puts a ' before a cell a spreadsheet would read as a formula:
// one starting with =, +, -, @, tab or carriage return. The rule is applied
// as written, so "-" and "-3" become "'-" and "'-3" too.
func csvCell(s string) string {
	s = helpdesk.EscapeText(s)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (p *Printer) markdown(tab Tab) error {
	idx, hdr := visible(tab, true)
	t := table.NewWriter()
	t.AppendHeader(hdr)
	for _, r := range tab.Rows {
		row := make(table.Row, len(idx))
		for j, i := range idx {
			if i < len(r) {
				row[j] = strings.ReplaceAll(helpdesk.EscapeText(r[i]), "\n", "<br>")
			}
		}
		t.AppendRow(row)
	}
	var buf bytes.Buffer
	buf.WriteString(t.RenderMarkdown())
	buf.WriteString("\n")
	_, err := p.Out.Write(buf.Bytes())
	return err
}

// KV builds a two-column FIELD/VALUE table for show commands. On a
// terminal too narrow for it, the values wrap inside the box.
func KV(title string, pairs ...[2]string) Tab {
	t := Tab{Title: title, Columns: []Column{{Name: "FIELD"}, {Name: "VALUE", Free: true, Wrap: true}}}
	for _, p := range pairs {
		t.Rows = append(t.Rows, []string{p[0], p[1]})
	}
	return t
}
