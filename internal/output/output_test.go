package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/jedib0t/go-pretty/v6/text"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite golden files")

type row struct {
	Login  string `json:"login"`
	Name   string `json:"name"`
	Active bool   `json:"active"`
	Note   string `json:"note,omitempty"`
}

func sample() ([]row, Tab) {
	return withTab([]row{{"alice", "Alice Admin", true, ""}, {"bob", "Bob \"the\" Tech", false, "line one\nline two"}})
}

func withTab(data []row) ([]row, Tab) {
	t := Tab{Columns: Cols("LOGIN", "NAME", "ACTIVE", "NOTE+")}
	for _, r := range data {
		active := "no"
		if r.Active {
			active = "yes"
		}
		t.Rows = append(t.Rows, []string{r.Login, r.Name, active, r.Note})
	}
	return data, t
}

// TestFormatsGolden pins every format's rendering, on a terminal and in a pipe.
func TestFormatsGolden(t *testing.T) {
	data, tab := sample()
	for _, tc := range []struct {
		name   string
		format Format
		tty    bool
		color  bool
	}{
		{"table-pipe", Table, false, false},
		{"table-tty", Table, true, false},
		{"table-tty-color", Table, true, true},
		{"wide-pipe", Wide, false, false},
		{"json", JSON, false, false},
		{"yaml", YAML, false, false},
		{"csv", CSV, false, false},
		{"markdown", Markdown, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := &Printer{Out: &buf, Format: tc.format, TTY: tc.tty, Color: tc.color}
			if err := p.Print(data, tab); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s output changed:\n%s\nwant:\n%s", tc.name, buf.String(), want)
			}
		})
	}
}

func TestPipeOutputHasNoColourOrBorders(t *testing.T) {
	data, tab := sample()
	var buf bytes.Buffer
	p := &Printer{Out: &buf, Format: Table}
	if err := p.Print(data, tab); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"\x1b[", "│", "─", "NOTE"} {
		if bytes.Contains(buf.Bytes(), []byte(bad)) {
			t.Errorf("piped table contains %q:\n%s", bad, buf.String())
		}
	}
	for _, line := range bytes.Split(bytes.TrimRight(buf.Bytes(), "\n"), []byte("\n")) {
		if bytes.HasSuffix(line, []byte(" ")) {
			t.Errorf("trailing space in %q", line)
		}
	}
}

func TestEmptyTableMessage(t *testing.T) {
	var buf bytes.Buffer
	p := &Printer{Out: &buf, Format: Table}
	if err := p.Print([]row{}, Tab{Columns: Cols("A"), Empty: "no users"}); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "no users\n" {
		t.Fatalf("got %q", buf.String())
	}
	buf.Reset()
	p.Format = JSON
	if err := p.Print([]row{}, Tab{Columns: Cols("A"), Empty: "no users"}); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "[]\n" {
		t.Fatalf("json of an empty list = %q", buf.String())
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f, got, err)
		}
	}
	if _, err := ParseFormat("xml"); errs.KindOf(err) != errs.Usage {
		t.Fatalf("xml: %v", err)
	}
}

// stored is what a database written before deskctl refused control and
// bidirectional characters may hold.
func stored() ([]row, Tab) {
	return withTab([]row{
		{"carol", "Approved, 240 EUR\rREJECTED", true, "x\x1b[2Jy"},
		{"dave", "invoice\u202efdp.exe", false, "c1\u009bz\x7f"},
	})
}

// TestStoredControlsAreShownNotObeyed: no format passes a carriage return,
// escape, C1 control or bidirectional override through to the terminal.
func TestStoredControlsAreShownNotObeyed(t *testing.T) {
	data, tab := stored()
	for _, tc := range []struct {
		format Format
		tty    bool
		want   []string
	}{
		{Table, false, []string{`Approved, 240 EUR\rREJECTED`, "invoice<U+202E>fdp.exe"}},
		{Table, true, []string{`Approved, 240 EUR\rREJECTED`, "invoice<U+202E>fdp.exe"}},
		{Wide, false, []string{"x<U+001B>[2Jy", "c1<U+009B>z<U+007F>"}},
		{CSV, false, []string{`Approved, 240 EUR\rREJECTED`, "x<U+001B>[2Jy", "c1<U+009B>z<U+007F>"}},
		{Markdown, false, []string{`Approved, 240 EUR\rREJECTED`, "invoice<U+202E>fdp.exe"}},
		{JSON, false, []string{`"Approved, 240 EUR\rREJECTED"`, `"invoice\u202efdp.exe"`, `"x\u001b[2Jy"`, `"c1\u009bz\u007f"`}},
		{YAML, false, []string{`"Approved, 240 EUR\rREJECTED"`, `"invoice\u202efdp.exe"`, `"x\e[2Jy"`, `"c1\x9Bz\x7F"`}},
	} {
		var buf bytes.Buffer
		p := &Printer{Out: &buf, Format: tc.format, TTY: tc.tty}
		if err := p.Print(data, tab); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if i := strings.IndexFunc(out, helpdesk.UnsafeRune); i >= 0 {
			t.Errorf("%s (tty %v) passes %q through raw:\n%s", tc.format, tc.tty, out[i:min(i+4, len(out))], out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s (tty %v) lacks %s:\n%s", tc.format, tc.tty, w, out)
			}
		}
	}
}

// TestStructuredOutputReadsBack: the escapes JSON and YAML carry decode to
// the stored text, byte for byte.
func TestStructuredOutputReadsBack(t *testing.T) {
	data, _ := stored()
	var j, y bytes.Buffer
	if err := WriteJSON(&j, data); err != nil {
		t.Fatal(err)
	}
	if err := WriteYAML(&y, data); err != nil {
		t.Fatal(err)
	}
	var fromJSON, fromYAML []row
	if err := json.Unmarshal(j.Bytes(), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(y.Bytes(), &fromYAML); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, data) || !reflect.DeepEqual(fromYAML, data) {
		t.Errorf("read back:\njson %+v\nyaml %+v\nwant %+v", fromJSON, fromYAML, data)
	}
}

// TestCSVCellsCannotStartFormulas applies the OWASP rule to every cell a
// spreadsheet would read as a formula.
func TestCSVCellsCannotStartFormulas(t *testing.T) {
	tab := Tab{Columns: Cols("USER", "VALUE")}
	for _, v := range []string{"=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "-", "plain", "a=b", "✓", ""} {
		tab.Rows = append(tab.Rows, []string{"bob", v})
	}
	var buf bytes.Buffer
	if err := (&Printer{Out: &buf, Format: CSV}).Print(nil, tab); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[1])
	}
	want := []string{`'=HYPERLINK("http://x","y")`, "'+1+1", "'-2+3", "'@SUM(A1)", "'\tx", `\rx`, "'-", "plain", "a=b", "✓", ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("csv cells:\n got %q\nwant %q", got, want)
	}
}

// ticketsTab is a ticket list as a terminal shows it: short columns, a long
// free-text subject (one with double-width characters, one on two lines) and
// a wide column.
func ticketsTab() Tab {
	t := Tab{Columns: Cols("#", "STATE", "PRIORITY", "RESOURCE", "REQUESTER", "ASSIGNEE", "SUBJECT*", "UPDATED+")}
	t.Rows = [][]string{
		{"1000001", "in-progress", "urgent", "network-wifi", "carol", "bob", "VPN drops every hour when connected from home over the fibre line, please look into it", "2026-03-01 10:00"},
		{"1000000", "new", "normal", "printers", "dave", "", "打印机在三楼每次双面打印都会卡纸，请尽快派人来修理一下谢谢", "2026-03-01 09:00"},
		{"999999", "waiting", "low", "network", "erin", "alice", "Two lines\nthe second line of this subject is also far longer than any terminal is wide", "2026-02-28 17:30"},
	}
	return t
}

func render(t *testing.T, p *Printer, tab Tab) string {
	t.Helper()
	var buf bytes.Buffer
	p.Out = &buf
	if err := p.Print(nil, tab); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func hasBoxRune(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r >= 0x2500 && r <= 0x257f })
}

// TestTablesFitTheTerminal: on a terminal every line of a table is at most
// the terminal's width; the free-text column gives way first.
func TestTablesFitTheTerminal(t *testing.T) {
	for _, width := range []int{80, 40} {
		for _, ascii := range []bool{false, true} {
			out := render(t, &Printer{Format: Table, TTY: true, Width: width, ASCII: ascii}, ticketsTab())
			for _, l := range lines(out) {
				if w := text.StringWidthWithoutEscSequences(l); w > width {
					t.Errorf("width %d (ascii %v): line of %d columns: %q\n%s", width, ascii, w, l, out)
				}
			}
			if !strings.Contains(out, "…") {
				t.Errorf("width %d: nothing was shortened with …:\n%s", width, out)
			}
			if strings.Contains(out, "UPDATED") {
				t.Errorf("width %d: a wide column is shown without -o wide:\n%s", width, out)
			}
		}
	}
	// At 80 columns a list of short values loses only the end of its subjects.
	tab := ticketsTab()
	tab.Rows[0][0], tab.Rows[0][1], tab.Rows[0][3], tab.Rows[1][0], tab.Rows[2][0] = "4211", "new", "network", "4210", "987"
	out := render(t, &Printer{Format: Table, TTY: true, Width: 80}, tab)
	for _, whole := range []string{"4211", "4210", "waiting", "network", "printers", "REQUESTER", "ASSIGNEE", "VPN drops"} {
		if !strings.Contains(out, whole) {
			t.Errorf("80 columns: %q was cut:\n%s", whole, out)
		}
	}
	if strings.Contains(out, "please look into it") {
		t.Errorf("80 columns: the subject was not shortened:\n%s", out)
	}
	// Both lines of the two-line subject are kept, each shortened.
	if !strings.Contains(out, "Two lines") || !strings.Contains(out, "│ the second") {
		t.Errorf("80 columns: a line of the two-line subject is missing:\n%s", out)
	}
}

// TestWideAndPipedTablesAreUnbounded: -o wide on a terminal, and any table
// in a pipe, show every cell whole whatever the terminal's width.
func TestWideAndPipedTablesAreUnbounded(t *testing.T) {
	subject := ticketsTab().Rows[0][6]
	wide := render(t, &Printer{Format: Wide, TTY: true, Width: 80}, ticketsTab())
	if !strings.Contains(wide, subject) || !strings.Contains(wide, "UPDATED") || strings.Contains(wide, "…") {
		t.Errorf("-o wide on an 80-column terminal cut something:\n%s", wide)
	}
	for _, f := range []Format{Table, Wide} {
		piped := render(t, &Printer{Format: f, Width: 80}, ticketsTab())
		unbounded := render(t, &Printer{Format: f}, ticketsTab())
		if piped != unbounded || !strings.Contains(piped, subject) || strings.Contains(piped, "…") {
			t.Errorf("-o %s in a pipe depends on the width or cuts cells:\n%s", f, piped)
		}
		if !strings.Contains(piped, `Two lines\nthe second line`) {
			t.Errorf("-o %s in a pipe does not keep one record per line:\n%s", f, piped)
		}
	}
}

// TestDumbTerminalTablesUseASCII: TERM=dumb gets +, - and | borders.
func TestDumbTerminalTablesUseASCII(t *testing.T) {
	for _, f := range []Format{Table, Wide} {
		out := render(t, &Printer{Format: f, TTY: true, Width: 80, ASCII: true}, ticketsTab())
		if hasBoxRune(out) {
			t.Errorf("-o %s on a dumb terminal draws box characters:\n%s", f, out)
		}
		if !strings.HasPrefix(out, "+---") || !strings.Contains(out, "| # ") {
			t.Errorf("-o %s on a dumb terminal has no ASCII borders:\n%s", f, out)
		}
	}
	if out := render(t, &Printer{Format: Table, TTY: true, Width: 80}, ticketsTab()); !hasBoxRune(out) {
		t.Errorf("a terminal table lost its box characters:\n%s", out)
	}
}

// TestKVValuesWrap: a show panel keeps every word of a long value, wrapped
// inside the box.
func TestKVValuesWrap(t *testing.T) {
	desc := "Since Monday the VPN client disconnects roughly every sixty minutes and I have to log in again, which loses every open session.\nSecond paragraph."
	tab := KV("#42", [2]string{"Subject", "VPN drops"}, [2]string{"Description", desc})
	out := render(t, &Printer{Format: Table, TTY: true, Width: 40}, tab)
	for _, l := range lines(out) {
		if w := text.StringWidthWithoutEscSequences(l); w > 40 {
			t.Errorf("line of %d columns: %q\n%s", w, l, out)
		}
	}
	var words []string
	for _, l := range lines(out) {
		words = append(words, strings.Fields(strings.Trim(l, "│ "))...)
	}
	got := strings.Join(words, " ")
	for _, w := range strings.Fields(desc) {
		if !strings.Contains(got, w) {
			t.Errorf("word %q lost:\n%s", w, out)
		}
	}
	if strings.Contains(out, "…") {
		t.Errorf("a KV value was cut instead of wrapped:\n%s", out)
	}
}

// TestTooNarrowForEveryColumn: a terminal narrower than the borders of a
// table still gets it, each column one character wide.
func TestTooNarrowForEveryColumn(t *testing.T) {
	out := render(t, &Printer{Format: Table, TTY: true, Width: 20, ASCII: true}, ticketsTab())
	if first := lines(out)[0]; first != "+---+---+---+---+---+---+---+" {
		t.Errorf("top border %q:\n%s", first, out)
	}
}

// TestToneColoursCells: a column's Tone colours its cells in a table on a
// terminal that takes colour, keeps the box aligned, and leaves csv,
// markdown, pipes and NO_COLOR plain. Stored text cannot pass as colour.
func TestToneColoursCells(t *testing.T) {
	tab := Tab{Columns: Cols("", "SUBJECT", "DETAIL*")}
	tab.Columns[0].Tone = func(cell string) Tone {
		switch cell[0] {
		case '+':
			return Good
		case '-':
			return Bad
		}
		return Plain
	}
	tab.Rows = [][]string{{"+ add", "user:dave", "dave@example.com"}, {"- revoke", "user:carol", "x\x1b[32my"}, {"~ set", "setting", "on"}}

	out := render(t, &Printer{Format: Table, TTY: true, Color: true, Width: 80}, tab)
	for _, want := range []string{"\x1b[32m+ add\x1b[0m", "\x1b[31m- revoke\x1b[0m", "│ ~ set    │", "x<U+001B>[32my"} {
		if !strings.Contains(out, want) {
			t.Errorf("coloured table lacks %q:\n%q", want, out)
		}
	}
	ls := lines(out)
	for _, l := range ls {
		if w := text.StringWidthWithoutEscSequences(l); w != text.StringWidthWithoutEscSequences(ls[0]) {
			t.Errorf("line of %d columns in a box of %d: %q", w, text.StringWidthWithoutEscSequences(ls[0]), l)
		}
	}

	for _, p := range []*Printer{
		{Format: Table, TTY: true, Width: 80}, // NO_COLOR, TERM=dumb
		{Format: Table},                       // a pipe
		{Format: CSV, TTY: true, Color: true},
		{Format: Markdown, TTY: true, Color: true},
	} {
		if out := render(t, p, tab); strings.Contains(out, "\x1b[3") {
			t.Errorf("%s (tty %v, colour %v) is coloured:\n%q", p.Format, p.TTY, p.Color, out)
		}
	}
}

// A list written an item at a time is what Print writes for the whole
// list, in every format, with or without a filter, for no item, one and
// several, with the characters each format escapes.
func TestListWritesWhatPrintWrites(t *testing.T) {
	tricky := []row{
		{"alice", "Alice <a&b>", true, ""},
		{"bob", "Bob \"the\" Tech", false, "line one\nline two"},
		{"=cmd", "right\u202eto left \x7f", true, "-3"},
	}
	jq, err := ParseJQ(".[].login")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 3} {
		data, tab := withTab(tricky[:n])
		tab.Empty = "no rows"
		for _, p := range []Printer{
			{Format: Table}, {Format: Table, TTY: true, Width: 30}, {Format: Wide}, {Format: JSON},
			{Format: JSON, Filter: jq}, {Format: YAML}, {Format: CSV}, {Format: Markdown},
		} {
			var whole, listed bytes.Buffer
			p.Out = &whole
			if err := p.Print(data, tab); err != nil {
				t.Fatal(err)
			}
			p.Out = &listed
			l, err := p.List(tab)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range data {
				if err := l.Add(r, tab.Rows[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if whole.String() != listed.String() {
				t.Errorf("%d rows, -o %s (filter %v): List wrote\n%s\nPrint wrote\n%s", n, p.Format, p.Filter != nil, listed.String(), whole.String())
			}
		}
	}
}
