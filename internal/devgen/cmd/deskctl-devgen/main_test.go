package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gen.db")
	small := []string{"-users", "40", "-groups", "10", "-resources", "6", "-tickets", "300", "-batch", "100"}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		out    string // substring of stdout
		errOut string // substring of stderr
	}{
		{"nothing to write", nil, 2, "", "nothing to write"},
		{"an argument", []string{"-out", filepath.Join(dir, "x.db"), "extra"}, 2, "", `"extra"`},
		{"unknown flag", []string{"-no-such-flag"}, 2, "", "no-such-flag"},
		{"open-only without a file", []string{"-open-only"}, 2, "", "-open-only needs -out"},
		{"no users", []string{"-out", filepath.Join(dir, "x.db"), "-users", "0"}, 2, "", "sizes must be positive"},
		{"generate", append([]string{"-out", db, "-opa-dir", filepath.Join(dir, "opa"), "-json"}, small...), 0, `"tickets": 300`, ""},
		{"audit without tickets", []string{"-out", filepath.Join(dir, "x.db"), "-tickets", "0", "-audit", "5"}, 2, "", "pass -tickets N"},
		{"audit records", []string{"-out", filepath.Join(dir, "a.db"), "-users", "5", "-groups", "1", "-resources", "2",
			"-tickets", "3", "-audit", "7", "-batch", "4"}, 0, "audit records:     7", ""},
		{"existing file", append([]string{"--out", db}, small...), 1, "", "already exists"},
		{"open-only", []string{"-out", db, "-open-only"}, 0, "", ""},
		{"open-only, missing file", []string{"-out", filepath.Join(dir, "missing.db"), "-open-only"}, 1, "", "cannot open"},
		{"policy and tests as text", append([]string{"-policy", filepath.Join(dir, "p.yaml"), "-tests", filepath.Join(dir, "t.yaml")}, small...), 0, "seed:", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, errOut.String())
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Errorf("stdout %q lacks %q", out.String(), tc.out)
			}
			if !strings.Contains(errOut.String(), tc.errOut) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tc.errOut)
			}
		})
	}

	// With -out and -opa-dir the scenario names a user and one of the tickets.
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
	if sc.User == "" || sc.Ticket < 1 || sc.Ticket > 300 {
		t.Errorf("scenario %+v: want a user and a ticket in 1..300", sc)
	}
	for _, name := range []string{"p.yaml", "t.yaml"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", name, err)
		}
	}
}
