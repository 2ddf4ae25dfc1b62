package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writePlanFixture makes a database where carol holds dispatcher and a
// policy that revokes it and adds dave with it: a plan with + and - lines,
// in the table and in effective access. It returns both paths.
func writePlanFixture(t *testing.T) (db, pol string) {
	t.Helper()
	dir := t.TempDir()
	db, pol = filepath.Join(dir, "desk.db"), filepath.Join(dir, "p.yaml")
	mustDeskctlProcess(t, db, "init", "--admin", "alice", "--email", "alice@example.com")
	mustDeskctlProcess(t, db, "--as", "alice", "user", "add", "carol", "--email", "carol@example.com")
	mustDeskctlProcess(t, db, "--as", "alice", "access", "grant", "dispatcher", "--to", "user:carol")
	body := "users:\n  - {login: alice, name: alice, email: alice@example.com, rights: [admin]}\n" +
		"  - {login: carol, name: carol, email: carol@example.com}\n" +
		"  - {login: dave, name: dave, email: dave@example.com, rights: [dispatcher]}\n"
	if err := os.WriteFile(pol, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return db, pol
}

// TestPolicyPlanColoursSigns: where colour is allowed, plan lines that add
// or grant are green and those that remove or revoke red, in the table and
// in effective access; without colour, and in csv, the text is plain.
func TestPolicyPlanColoursSigns(t *testing.T) {
	db, pol := writePlanFixture(t)
	t.Setenv("DESKCTL_DB", db)
	t.Setenv("XDG_CONFIG_HOME", filepath.Dir(db))
	t.Setenv("DESKCTL_USER", "alice")
	t.Setenv("DESKCTL_PAGER", "cat")
	plan := func(color bool, extra ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		args := append([]string{"policy", "plan", pol}, extra...)
		code := run(args, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, OutTTY: true, ErrTTY: true, Color: color})
		if code != ExitOK {
			t.Fatalf("deskctl %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
		}
		return out.String()
	}
	out := plan(true)
	for _, want := range []string{"\x1b[32m+ add\x1b[0m", "\x1b[32m+ grant\x1b[0m", "\x1b[31m- revoke\x1b[0m",
		"\x1b[31m−\x1b[0m carol loses dispatcher", "\x1b[32m+\x1b[0m dave gains dispatcher"} {
		if !strings.Contains(out, want) {
			t.Errorf("coloured plan lacks %q:\n%q", want, out)
		}
	}
	for _, plain := range []string{plan(false), plan(true, "-o", "csv")} {
		if strings.Contains(plain, "\x1b[") || !strings.Contains(plain, "+ add") || !strings.Contains(plain, "- revoke") {
			t.Errorf("plan without colour:\n%q", plain)
		}
	}
}
