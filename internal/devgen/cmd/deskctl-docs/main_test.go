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
		{"markdown", "deskctl_user_add.md", []string{"## deskctl user add", "deskctl user add LOGIN --email ADDR",
			"### Exit status\n\n```\n  0  success\n", "  5  the login is taken", "[`deskctl help exit-codes`](deskctl_exit-codes.md)",
			"[deskctl user](deskctl_user.md)"}},
		{"markdown", "deskctl.md", []string{"* [deskctl environment](deskctl_environment.md)", "* [deskctl exit-codes](deskctl_exit-codes.md)"}},
		{"markdown", "deskctl_environment.md", []string{"## deskctl environment", "```\n  DESKCTL_DB ", "* [deskctl](deskctl.md)"}},
		{"man", "deskctl-user-add.1", []string{`.TH "DESKCTL-USER-ADD" "1" "Jan 2026" "deskctl" "deskctl manual"`,
			".SH EXIT STATUS\n.EX\n  0  success\n", "  5  the login is taken", `See \fBdeskctl-exit-codes\fP(7)`,
			".SH ENVIRONMENT\nThe global options take their defaults from the environment: --as from DESKCTL_USER,",
			"--db from DESKCTL_DB", `\fBdeskctl-environment\fP(7) lists every variable`, "deskctl-user(1)"}},
		{"man", "deskctl.1", []string{".SH ENVIRONMENT\ndeskctl reads these environment variables", "  DESKCTL_SMTP_HOST ", "  NO_COLOR ",
			`\fBdeskctl-environment(7)\fP, \fBdeskctl-exit-codes(7)\fP`}},
		{"man", "deskctl-environment.7", []string{`.TH "DESKCTL-ENVIRONMENT" "7" "Jan 2026" "deskctl" "deskctl manual"`,
			".SH NAME\ndeskctl-environment - Every DESKCTL_* variable", "  DESKCTL_LOCK_TIMEOUT ", `\fBdeskctl(1)\fP, \fBdeskctl-exit-codes(7)\fP`}},
		{"man", "deskctl-exit-codes.7", []string{`.TH "DESKCTL-EXIT-CODES" "7"`, "  6  busy: another deskctl process held", `\fBdeskctl(1)\fP, \fBdeskctl-environment(7)\fP`}},
	} {
		t.Run(tc.format+"/"+tc.page, func(t *testing.T) {
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

// TestSectionOrder: EXIT STATUS (and in man pages ENVIRONMENT) come after
// the options and before the examples and SEE ALSO, on every page; the
// description keeps no EXIT STATUS of its own.
func TestSectionOrder(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1767225600")
	for _, tc := range []struct {
		format, ext string
		order       []string // headings in order; "?" marks one a page may lack
		gone        string
	}{
		{"man", ".1", []string{".SH NAME", ".SH DESCRIPTION", "?.SH OPTIONS\n", "?.SH OPTIONS INHERITED", ".SH EXIT STATUS", ".SH ENVIRONMENT", "?.SH EXAMPLE", ".SH SEE ALSO"}, "\nEXIT STATUS\n"},
		{"markdown", ".md", []string{"### Synopsis", "?### Examples", "?### Options\n", "?### Options inherited", "### Exit status", "### SEE ALSO"}, "\nEXIT STATUS\n"},
	} {
		pages := genDocsInto(t, tc.format)
		n := 0
		for name, body := range pages {
			if !strings.HasSuffix(name, tc.ext) || strings.Contains(name, "environment") || strings.Contains(name, "exit-codes") {
				continue
			}
			n++
			last := -1
			for _, h := range tc.order {
				optional := strings.HasPrefix(h, "?")
				h = strings.TrimPrefix(h, "?")
				i := strings.Index(body, h)
				if i < 0 && optional {
					continue
				}
				if i <= last {
					t.Errorf("%s: %q missing or out of order (at %d, after %d)", name, h, i, last)
				}
				last = i
			}
			if strings.Contains(body, tc.gone) {
				t.Errorf("%s still has an EXIT STATUS paragraph in its description", name)
			}
		}
		if n < 100 {
			t.Errorf("%s: only %d command pages", tc.format, n)
		}
	}
}

func TestMoveSections(t *testing.T) {
	page := ".SH NAME\nx\n.SH DESCRIPTION\nd\n.SH EXIT STATUS\ne\n.SH ENVIRONMENT\nv\n.SH OPTIONS\no\n.SH EXAMPLE\nx\n.SH SEE ALSO\ns\n"
	got := string(moveSections([]byte(page), ".SH ", []string{"EXIT STATUS", "ENVIRONMENT"}, []string{"EXAMPLE", "SEE ALSO"}))
	want := ".SH NAME\nx\n.SH DESCRIPTION\nd\n.SH OPTIONS\no\n.SH EXIT STATUS\ne\n.SH ENVIRONMENT\nv\n.SH EXAMPLE\nx\n.SH SEE ALSO\ns\n"
	if got != want {
		t.Errorf("moveSections:\n got %q\nwant %q", got, want)
	}
	// Without a section to go before, the moved ones go last.
	got = string(moveSections([]byte(".SH A\na\n.SH B\nb\n"), ".SH ", []string{"A"}, []string{"Z"}))
	if got != ".SH B\nb\n.SH A\na\n" {
		t.Errorf("moveSections to the end: %q", got)
	}
}

func TestInsertBefore(t *testing.T) {
	for _, tc := range []struct{ page, want string }{
		{"a\n### SEE ALSO\nb\n", "a\nX\n### SEE ALSO\nb\n"},
		{"### SEE ALSO\nb\n", "X\n### SEE ALSO\nb\n"},
		{"a\n", "a\nX\n"},
		{"a\n#### SEE ALSO x\n", "a\n#### SEE ALSO x\nX\n"},
	} {
		if got := string(insertBefore([]byte(tc.page), "### SEE ALSO\n", "X\n")); got != tc.want {
			t.Errorf("insertBefore(%q) = %q, want %q", tc.page, got, tc.want)
		}
	}
}
