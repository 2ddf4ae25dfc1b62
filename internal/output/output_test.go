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
