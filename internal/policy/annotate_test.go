package policy

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/schemacheck"
)

// TestValidationCodesListEveryCode keeps ValidationCodes, which the SARIF
// rules and the docs check come from, in step with the codes declared
// beside Finding.
func TestValidationCodesListEveryCode(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "policy.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Code" {
				for _, v := range vs.Values {
					declared = append(declared, strings.Trim(v.(*ast.BasicLit).Value, `"`))
				}
			}
		}
	}
	var listed []string
	for _, c := range ValidationCodes {
		listed = append(listed, string(c.Code))
	}
	if len(declared) < 20 || !slices.Equal(declared, listed) {
		t.Errorf("codes declared in policy.go:\n%q\nValidationCodes:\n%q", declared, listed)
	}
}

// brokenFindings are the findings of a policy with errors, a warning, a
// finding without a line and file names that need escaping.
func brokenFindings(t *testing.T) []Finding {
	t.Helper()
	dir := t.TempDir()
	users := filepath.Join(dir, "users, team: a.yaml")
	if err := os.WriteFile(users, []byte("users:\n  - {login: alice, name: Alice, email: alice@example.com, rights: [admin, admin]}\n  - {login: bob, name: Bob, emial: bob@example.com}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	groups := filepath.Join(dir, "groups.yaml")
	if err := os.WriteFile(groups, []byte("groups:\n  - {name: tier1, members: [bob], rights: [clse]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, fs, err := Check(0, groups, users)
	if err != nil {
		t.Fatal(err)
	}
	return append(fs, Finding{Severity: SeverityError, Code: CodeTooComplex, Message: "no place\nat all: 100%"})
}

func TestWriteGitHub(t *testing.T) {
	fs := []Finding{
		{File: "policy/groups.yaml", Line: 2, Col: 44, Severity: SeverityError, Code: CodeUnknownRight, Message: "unknown right 'clse' (did you mean 'close'?)"},
		{File: "a,b:c%.yaml", Line: 3, Severity: SeverityWarning, Code: CodeRepeated, Message: "listed twice"},
		{File: "big.yaml", Severity: SeverityError, Code: CodeTooComplex, Message: "two\nlines, 100%\r"},
		{Severity: SeverityError, Code: CodeNoAdmin, Message: "no admin"},
	}
	var buf bytes.Buffer
	if err := WriteGitHub(&buf, fs); err != nil {
		t.Fatal(err)
	}
	want := "::error file=policy/groups.yaml,line=2,col=44::unknown right 'clse' (did you mean 'close'?)\n" +
		"::warning file=a%2Cb%3Ac%25.yaml,line=3::listed twice\n" +
		"::error file=big.yaml::two%0Alines, 100%25%0D\n" +
		"::error::no admin\n"
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func sarifSchema(t *testing.T) map[string]any {
	t.Helper()
	// The OASIS SARIF 2.1.0 schema with the approved errata, as published.
	raw, err := os.ReadFile(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	return schema
}

func TestWriteSARIFMatchesTheSchema(t *testing.T) {
	fs := brokenFindings(t)
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, fs, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	var log any
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	schema := sarifSchema(t)
	if errs := schemacheck.Errors(schema, log); len(errs) != 0 {
		t.Fatalf("the SARIF log does not match the SARIF 2.1.0 schema:\n%s\n%s", strings.Join(errs, "\n"), buf.String())
	}

	// What code scanning services read beyond the schema's rules.
	var got struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name, Version string
					Rules         []struct {
						ID                   string
						DefaultConfiguration struct{ Level string }
					}
				}
			}
			ColumnKind string
			Results    []struct {
				RuleID    string
				RuleIndex int
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           *struct{ StartLine, StartColumn int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Schema != SARIFSchema || got.Version != "2.1.0" || len(got.Runs) != 1 {
		t.Fatalf("log header: %q %q, %d runs", got.Schema, got.Version, len(got.Runs))
	}
	run := got.Runs[0]
	if run.Tool.Driver.Name != "deskctl" || run.Tool.Driver.Version != "1.2.3" || run.ColumnKind != "unicodeCodePoints" {
		t.Errorf("driver %+v, columnKind %q", run.Tool.Driver, run.ColumnKind)
	}
	rules := run.Tool.Driver.Rules
	if len(rules) != len(ValidationCodes) {
		t.Errorf("%d rules, want one per code (%d)", len(rules), len(ValidationCodes))
	}
	if len(run.Results) != len(fs) {
		t.Fatalf("%d results for %d findings", len(run.Results), len(fs))
	}
	for i, r := range run.Results {
		f := fs[i]
		if r.RuleIndex < 0 || r.RuleIndex >= len(rules) || rules[r.RuleIndex].ID != r.RuleID || r.RuleID != string(f.Code) {
			t.Errorf("result %d: rule %q at index %d, finding code %q", i, r.RuleID, r.RuleIndex, f.Code)
		}
		if want := string(f.Severity); r.Level != want {
			t.Errorf("result %d: level %q, want %q", i, r.Level, want)
		}
		if r.Message.Text != f.Message {
			t.Errorf("result %d: message %q, want %q", i, r.Message.Text, f.Message)
		}
		if f.File == "" {
			if len(r.Locations) != 0 {
				t.Errorf("result %d has a location but the finding has none", i)
			}
			continue
		}
		if len(r.Locations) != 1 {
			t.Fatalf("result %d: %d locations", i, len(r.Locations))
		}
		pl := r.Locations[0].PhysicalLocation
		if pl.ArtifactLocation.URI != fileURI(f.File) || pl.Region == nil || pl.Region.StartLine != f.Line || pl.Region.StartColumn != f.Col {
			t.Errorf("result %d: location %+v %+v, finding at %s", i, pl.ArtifactLocation, pl.Region, f.Pos())
		}
	}
	levels := map[string]bool{}
	for _, r := range run.Results {
		levels[r.Level] = true
	}
	if !levels["error"] || !levels["warning"] {
		t.Errorf("the fixture should give errors and warnings, got levels %v", levels)
	}
	for _, r := range rules {
		if r.ID == string(CodeRepeated) && r.DefaultConfiguration.Level != "warning" {
			t.Errorf("rule %s has level %q", r.ID, r.DefaultConfiguration.Level)
		}
	}
}

// TestSARIFSchemaCheckRefusesBadLogs makes sure the schema check above can
// fail: logs that break the SARIF schema in different ways are refused.
func TestSARIFSchemaCheckRefusesBadLogs(t *testing.T) {
	schema := sarifSchema(t)
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, []Finding{{File: "p.yaml", Line: 1, Col: 2, Severity: SeverityError, Code: CodeSyntax, Message: "m"}}, ""); err != nil {
		t.Fatal(err)
	}
	breakages := map[string]func(log map[string]any){
		"no version":     func(log map[string]any) { delete(log, "version") },
		"version 2.0.0":  func(log map[string]any) { log["version"] = "2.0.0" },
		"unknown key":    func(log map[string]any) { log["extra"] = true },
		"no runs":        func(log map[string]any) { log["runs"] = "none" },
		"column 0":       func(log map[string]any) { region(log)["startColumn"] = 0.0 },
		"bad level":      func(log map[string]any) { result(log)["level"] = "fatal" },
		"message string": func(log map[string]any) { result(log)["message"] = "m" },
		"no tool name": func(log map[string]any) {
			delete(log["runs"].([]any)[0].(map[string]any)["tool"].(map[string]any)["driver"].(map[string]any), "name")
		},
	}
	for name, breakIt := range breakages {
		var log map[string]any
		if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
			t.Fatal(err)
		}
		if errs := schemacheck.Errors(schema, log); len(errs) != 0 {
			t.Fatalf("the unbroken log fails: %q", errs)
		}
		breakIt(log)
		if errs := schemacheck.Errors(schema, log); len(errs) == 0 {
			t.Errorf("%s: the schema check accepts the log", name)
		}
	}
}

func result(log map[string]any) map[string]any {
	return log["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)
}

func region(log map[string]any) map[string]any {
	return result(log)["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)["region"].(map[string]any)
}

func TestFileURI(t *testing.T) {
	for name, want := range map[string]string{
		"policy/users.yaml": "policy/users.yaml",
		"a b%.yaml":         "a%20b%25.yaml",
		"c:d.yaml":          "./c:d.yaml",
		"/srv/p/users.yaml": "file:///srv/p/users.yaml",
	} {
		if got := fileURI(name); got != want {
			t.Errorf("fileURI(%q) = %q, want %q", name, got, want)
		}
	}
}
