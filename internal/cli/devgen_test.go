package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDevgen(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gen.db")
	small := []string{"--users", "40", "--groups", "10", "--resources", "6", "--tickets", "300", "--batch", "100"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string // substring of stdout
	}{
		{"nothing to write", nil, ExitUsage, ""},
		{"open-only without a file", []string{"--open-only"}, ExitUsage, ""},
		{"no users", []string{"--out", filepath.Join(dir, "x.db"), "--users", "0"}, ExitUsage, ""},
		{"generate", append([]string{"--out", db, "--opa-dir", filepath.Join(dir, "opa"), "-o", "json"}, small...), ExitOK, `"tickets": 300`},
		{"existing file", append([]string{"--out", db}, small...), ExitConflict, ""},
		{"open-only", []string{"--out", db, "--open-only"}, ExitOK, ""},
		{"open-only, missing file", []string{"--out", filepath.Join(dir, "missing.db"), "--open-only"}, ExitUnusable, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(append([]string{"__devgen"}, tc.args...), &IOStreams{Out: &out, ErrOut: &errOut})
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, errOut.String())
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Errorf("stdout %q lacks %q", out.String(), tc.out)
			}
		})
	}

	// The generated suite passes `policy test` against the generated policy.
	pol, tests := filepath.Join(dir, "p.yaml"), filepath.Join(dir, "t.yaml")
	var out0, err0 bytes.Buffer
	if code := run(append([]string{"__devgen", "--policy", pol, "--tests", tests}, small...), &IOStreams{Out: &out0, ErrOut: &err0}); code != ExitOK {
		t.Fatalf("__devgen --policy --tests exited %d: %s", code, err0.String())
	}
	out0.Reset()
	if code := run([]string{"policy", "test", pol, "--tests", tests, "-o", "json"}, &IOStreams{Out: &out0, ErrOut: &err0}); code != ExitOK {
		t.Fatalf("policy test of the generated suite exited %d: %s", code, err0.String())
	}
	var rep struct{ Passed, Failed int }
	if err := json.Unmarshal(out0.Bytes(), &rep); err != nil || rep.Passed != 1000 || rep.Failed != 0 {
		t.Errorf("policy test of the generated suite: %+v (%v)", rep, err)
	}

	// The generated database works with the ordinary commands.
	t.Setenv("DESKCTL_DB", db)
	t.Setenv("XDG_CONFIG_HOME", dir)
	var out, errOut bytes.Buffer
	if code := run([]string{"db", "check"}, &IOStreams{Out: &out, ErrOut: &errOut}); code != ExitOK {
		t.Errorf("db check on the generated database exited %d: %s%s", code, out.String(), errOut.String())
	}
	raw, err := os.ReadFile(filepath.Join(dir, "opa", "scenario.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sc struct {
		User   string `json:"user"`
		Ticket int    `json:"ticket"`
	}
	if err := json.Unmarshal(raw, &sc); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	args := []string{"--as", sc.User, "ticket", "show", itoa(sc.Ticket)}
	if code := run(args, &IOStreams{Out: &out, ErrOut: &errOut}); code != ExitOK {
		t.Errorf("deskctl %s exited %d: %s", strings.Join(args, " "), code, errOut.String())
	}
}
