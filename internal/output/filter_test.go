package output

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

type filterUser struct {
	Login   string    `json:"login"`
	Active  bool      `json:"active"`
	Tickets int       `json:"tickets"`
	Groups  []string  `json:"groups"`
	Created time.Time `json:"created"`
}

var filterUsers = []filterUser{
	{"alice", true, 12, []string{"admins", "tier1"}, time.Date(2024, 5, 2, 14, 3, 11, 0, time.UTC)},
	{"bob", false, 9007199254740993, []string{}, time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC)},
	{"evil\x1b[2J\u202e", true, 0, nil, time.Time{}},
}

func runFilter(t *testing.T, f *Filter, err error, data any) (string, error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	werr := f.Write(&buf, data)
	return buf.String(), werr
}

func TestJQ(t *testing.T) {
	tests := []filterCase{
		{".[].login", "alice\nbob\nevil<U+001B>[2J<U+202E>\n"},
		{".[] | select(.active) | .tickets", "12\n0\n"},
		{".[1].tickets", "9007199254740993\n"}, // past float64's exact integers
		{".[0].groups", "[\n  \"admins\",\n  \"tier1\"\n]\n"},
		{"[.[] | .login | length] | add", "17\n"},
		{".[0] | {login, created}", "{\n  \"created\": \"2024-05-02T14:03:11Z\",\n  \"login\": \"alice\"\n}\n"},
		{".[2].groups", "null\n"},
		{"empty", ""},
		{".[] | select(.login == \"nobody\")", ""},
	}
	checkFilter(t, "--jq", ParseJQ, tests)
}

type filterCase struct{ text, want string }

// checkFilter runs each case's filter over filterUsers.
func checkFilter(t *testing.T, flag string, parse func(string) (*Filter, error), tests []filterCase) {
	t.Helper()
	for _, tc := range tests {
		f, err := parse(tc.text)
		got, werr := runFilter(t, f, err, filterUsers)
		if werr != nil || got != tc.want {
			t.Errorf("%s %q:\n got %q, %v\nwant %q", flag, tc.text, got, werr, tc.want)
		}
	}
}

func TestJQErrors(t *testing.T) {
	for _, expr := range []string{".[", "nosuchfunc(1)", "}"} {
		if _, err := ParseJQ(expr); errs.KindOf(err) != errs.Usage || !strings.HasPrefix(err.Error(), "--jq: ") {
			t.Errorf("ParseJQ(%q) = %v, want a usage error", expr, err)
		}
	}
	// Errors while running are usage errors too; nothing is printed.
	f, err := ParseJQ(`.[] | .login | if . == "bob" then error("stop at bob") else . end`)
	got, werr := runFilter(t, f, err, filterUsers)
	if errs.KindOf(werr) != errs.Usage || !strings.Contains(werr.Error(), "stop at bob") || got != "" {
		t.Errorf("runtime error: %q, %v", got, werr)
	}
}

func TestTemplate(t *testing.T) {
	tests := []filterCase{
		{`{{range .}}{{.login}} {{.tickets}}{{"\n"}}{{end}}`, "alice 12\nbob 9007199254740993\nevil<U+001B>[2J<U+202E> 0\n"},
		{`{{(index . 0).login}}: {{join ", " (index . 0).groups}}`, "alice: admins, tier1"},
		{`{{json (index . 0).groups}}`, `["admins","tier1"]`},
		{`{{json (index . 2).login}}`, `"evil\u001b[2J\u202e"`},
		{`{{range .}}{{if .active}}{{.login}},{{end}}{{end}}`, "alice,evil<U+001B>[2J<U+202E>,"},
		{`{{len .}}`, "3"},
	}
	checkFilter(t, "--template", ParseTemplate, tests)
}

func TestTemplateErrors(t *testing.T) {
	if _, err := ParseTemplate("{{.login"); errs.KindOf(err) != errs.Usage {
		t.Errorf("unclosed action: %v, want a usage error", err)
	}
	// A field the document does not have is an error, not "<no value>".
	f, err := ParseTemplate("{{range .}}{{.logn}}{{end}}")
	got, werr := runFilter(t, f, err, filterUsers)
	if errs.KindOf(werr) != errs.Usage || !strings.Contains(werr.Error(), "logn") || got != "" {
		t.Errorf("missing key: %q, %v", got, werr)
	}
}

func TestPrinterUsesTheFilterForJSON(t *testing.T) {
	f, err := ParseJQ(".[0].login")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	p := &Printer{Out: &buf, Format: JSON, Filter: f}
	if err := p.Print(filterUsers, Tab{}); err != nil || buf.String() != "alice\n" {
		t.Errorf("Print with a filter: %q, %v", buf.String(), err)
	}
}

func TestDocumentKeepsWholeNumbers(t *testing.T) {
	doc, err := Document(map[string]any{"n": 42, "x": 1.5, "big": int64(1) << 60})
	if err != nil {
		t.Fatal(err)
	}
	m := doc.(map[string]any)
	if _, ok := m["n"].(int); !ok {
		t.Errorf("42 decoded as %T", m["n"])
	}
	if m["x"] != 1.5 || m["big"] != 1<<60 {
		t.Errorf("decoded %v", m)
	}
}
