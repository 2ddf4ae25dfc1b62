package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/app"
)

// answerAfter is a terminal's stdin: before the user's answer arrives,
// something else changes the database.
type answerAfter struct {
	meanwhile func()
	answer    *strings.Reader
}

func (a *answerAfter) Read(p []byte) (int, error) {
	if a.meanwhile != nil {
		a.meanwhile()
		a.meanwhile = nil
	}
	return a.answer.Read(p)
}

// policy apply on a terminal shows the plan and asks; what it applies must be
// what was agreed to. If the database changes while the question waits and
// the plan is no longer the same, nothing is applied.
func TestPolicyApplyAppliesOnlyTheConfirmedPlan(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DESKCTL_DB", filepath.Join(dir, "desk.db"))
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("DESKCTL_USER", "alice")
	quiet := func(args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(args, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code != ExitOK {
			t.Fatalf("deskctl %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
		}
	}
	quiet("init", "--admin", "alice", "--email", "alice@example.com")
	pol := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(pol, []byte("users:\n  - {login: alice, name: alice, email: alice@example.com, rights: [admin]}\ngroups:\n  - {name: tier1, rights: [close]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	apply := func(meanwhile func()) (int, string) {
		var out, errOut bytes.Buffer
		in := &answerAfter{meanwhile: meanwhile, answer: strings.NewReader("y\n")}
		code := run([]string{"policy", "apply", pol}, &IOStreams{In: in, Out: &out, ErrOut: &errOut, InTTY: true, OutTTY: true, ErrTTY: true})
		return code, out.String() + errOut.String()
	}

	// Someone grants tier1 a right while the question waits: the plan the
	// user saw (add tier1 with close) is no longer what would happen.
	code, out := apply(func() {
		quiet("group", "add", "tier1")
		quiet("access", "grant", "note", "--to", "group:tier1")
	})
	if code != ExitConflict || !strings.Contains(out, "the database changed after the plan was shown; nothing was applied") {
		t.Fatalf("apply after a concurrent change: exit %d\n%s", code, out)
	}
	rights := func() string {
		var got bytes.Buffer
		run([]string{"group", "show", "tier1", "-o", "json"}, &IOStreams{In: strings.NewReader(""), Out: &got, ErrOut: &got})
		return strings.Join(strings.Fields(got.String()), "")
	}
	if r := rights(); !strings.Contains(r, `"direct_rights":["note"]`) {
		t.Errorf("the refused apply changed tier1: %s", r)
	}

	// Without a change in between, the confirmed plan is applied.
	if code, out := apply(nil); code != ExitOK || !strings.Contains(out, "applied") {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	if r := rights(); !strings.Contains(r, `"direct_rights":["close"]`) {
		t.Errorf("after the confirmed apply tier1 has %s", r)
	}
}

func TestAnswerIsYes(t *testing.T) {
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"y\n", true}, {"Y\n", true}, {"yes\n", true}, {"YES\n", true}, {"Yes\r\n", true}, {"  y  \n", true}, {"yes", true},
		{"n\n", false}, {"\n", false}, {"", false}, {"no\n", false}, {"ye\n", false}, {"yes please\n", false}, {"ok\n", false},
	} {
		if got := answerIsYes(tc.line); got != tc.want {
			t.Errorf("answerIsYes(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

// The rule is decided by standard input alone: stdout and stderr being
// terminals or not does not matter.
func TestConfirmFollowsStandardInput(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("DESKCTL_DB", filepath.Join(dir, "desk.db"))
	for _, tc := range []struct {
		name         string
		in           bool
		out, errTTY  bool
		yes          bool
		answer       string
		wantErr      string // "" when it goes ahead
		wantQuestion bool
	}{
		{name: "no terminal", wantErr: "--yes required when not running interactively"},
		{name: "stdout and stderr terminals, stdin not", out: true, errTTY: true, wantErr: "--yes required when not running interactively"},
		{name: "no terminal, --yes", yes: true},
		{name: "stdin a terminal, stdout piped", in: true, errTTY: true, answer: "y\n", wantQuestion: true},
		{name: "stdin a terminal, declined", in: true, answer: "n\n", wantErr: "not confirmed: nothing was changed", wantQuestion: true},
		{name: "stdin a terminal, end of input", in: true, answer: "", wantErr: "not confirmed: nothing was changed", wantQuestion: true},
		{name: "stdin a terminal, --yes", in: true, yes: true, answer: "n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errOut bytes.Buffer
			f := NewFactory(&IOStreams{In: strings.NewReader(tc.answer), Out: &bytes.Buffer{}, ErrOut: &errOut,
				InTTY: tc.in, OutTTY: tc.out, ErrTTY: tc.errTTY})
			cmd := NewRootCmd(f)
			err := f.confirmed(cmd, tc.yes, func(app.UseCases) (string, error) { return "Do it?", nil })
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if asked := strings.Contains(errOut.String(), "Do it? [y/N] "); asked != tc.wantQuestion {
				t.Errorf("asked = %v, want %v (stderr %q)", asked, tc.wantQuestion, errOut.String())
			}
			want := map[string]int{"--yes required when not running interactively": ExitUsage, "not confirmed: nothing was changed": ExitNegative}[tc.wantErr]
			if code := ExitCode(err); code != want {
				t.Errorf("exit %d, want %d", code, want)
			}
		})
	}
}
