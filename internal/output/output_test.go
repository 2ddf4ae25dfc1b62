package output

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/deskctl/deskctl/internal/errs"
)

var update = flag.Bool("update", false, "rewrite golden files")

type row struct {
	Login  string `json:"login"`
	Name   string `json:"name"`
	Active bool   `json:"active"`
	Note   string `json:"note,omitempty"`
}

func sample() ([]row, Tab) {
	data := []row{{"alice", "Alice Admin", true, ""}, {"bob", "Bob \"the\" Tech", false, "line one\nline two"}}
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
