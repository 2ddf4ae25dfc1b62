package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		code := run([]string{"policy", "apply", pol}, &IOStreams{In: in, Out: &out, ErrOut: &errOut, OutTTY: true, ErrTTY: true})
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
