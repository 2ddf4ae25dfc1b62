package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// genDocsInto runs `deskctl-docs FORMAT DIR` and returns every generated
// file by name.
func genDocsInto(t *testing.T, format string) map[string]string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	var errOut bytes.Buffer
	if code := run([]string{format, dir}, &errOut); code != 0 {
		t.Fatalf("deskctl-docs %s exited %d: %s", format, code, errOut.String())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

func TestGenDocs(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1767225600") // man headers carry a month
	for _, tc := range []struct {
		format   string
		page     string
		contains []string
	}{
		{"markdown", "deskctl_user_add.md", []string{"## deskctl user add", "deskctl user add LOGIN --email ADDR", "EXIT STATUS", "[deskctl user](deskctl_user.md)"}},
		{"man", "deskctl-user-add.1", []string{`.TH "DESKCTL-USER-ADD" "1" "Jan 2026" "deskctl" "deskctl manual"`, "EXIT STATUS", "deskctl-user(1)"}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			first := genDocsInto(t, tc.format)
			page, ok := first[tc.page]
			if !ok {
				t.Fatalf("no %s among %d generated files", tc.page, len(first))
			}
			for _, want := range tc.contains {
				if !strings.Contains(page, want) {
					t.Errorf("%s does not contain %q:\n%s", tc.page, want, page)
				}
			}
			for name, body := range first {
				if strings.Contains(name, "__complete") {
					t.Errorf("hidden command got a page: %s", name)
				}
				if strings.Contains(body, "Auto generated") {
					t.Errorf("%s carries the dated auto-generated tag", name)
				}
			}
			// A second run over the same tree must give identical bytes, or the
			// stale-reference check in CI would always fail.
			second := genDocsInto(t, tc.format)
			if len(second) != len(first) {
				t.Fatalf("second run wrote %d files, first %d", len(second), len(first))
			}
			for name, body := range first {
				if second[name] != body {
					t.Errorf("%s differs between two runs", name)
				}
			}
		})
	}
}

func TestGenDocsRejectsBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"pdf", t.TempDir()},
		{"man"},
		{},
	} {
		var errOut bytes.Buffer
		if code := run(args, &errOut); code != 2 {
			t.Errorf("deskctl-docs %v exited %d, want 2 (stderr %q)", args, code, errOut.String())
		}
	}
}

func TestFenceIndented(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain text is unchanged", "one line\nanother", "one line\nanother"},
		{"an indented run is fenced", "EXIT STATUS\n  0  success\n  2  usage\nSee more.",
			"EXIT STATUS\n```\n  0  success\n  2  usage\n```\nSee more."},
		{"a run at the end is closed", "Codes:\n  0  ok", "Codes:\n```\n  0  ok\n```"},
		{"tabs count as indentation", "Keys:\n\tdb\nend", "Keys:\n```\n\tdb\n```\nend"},
		{"two runs get two fences", "a\n  x\nb\n  y", "a\n```\n  x\n```\nb\n```\n  y\n```"},
		{"a single leading space is text", "a\n b", "a\n b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fenceIndented(tc.in); got != tc.want {
				t.Errorf("fenceIndented(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}
