//go:build unix

package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// onTerminal runs deskctl with stdin, stdout and stderr on a
// pseudo-terminal, typing input, and returns everything the terminal showed
// and the exit code.
func onTerminal(t *testing.T, db string, env []string, input string, args ...string) (string, int) {
	t.Helper()
	cmd := deskctlCommand(t, db, append([]string{"TERM=xterm"}, env...), args...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 200})
	if err != nil {
		t.Fatalf("starting deskctl on a terminal: %v", err)
	}
	defer tty.Close()
	if input != "" {
		if _, err := tty.Write([]byte(input)); err != nil {
			t.Fatal(err)
		}
	}
	var screen bytes.Buffer
	copied := make(chan struct{})
	go func() {
		io.Copy(&screen, tty) // ends with an error once the process and its pager have exited
		close(copied)
	}()
	err = cmd.Wait()
	<-copied
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(screen.String(), "\r\n", "\n"), code
}

// A big plan on a terminal: a summary with bounded lists, the full plan
// through the pager (here a script that records what it was given), or
// printed in full with --detail; apply asks after showing it, and prints one
// line when done instead of the plan again.
func TestPolicyPlanOnATerminal(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "desk.db")
	mustDeskctlProcess(t, db, "init", "--admin", "alice", "--email", "alice@example.com")
	var pol strings.Builder
	pol.WriteString("users:\n  - {login: alice, name: alice, email: alice@example.com, rights: [admin]}\n")
	const users = 25
	for i := range users {
		fmt.Fprintf(&pol, "  - {login: u%02d, name: U%d, email: u%d@example.com, rights: [note, reply, close, assign]}\n", i, i, i)
	}
	file := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(file, []byte(pol.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	paged := filepath.Join(dir, "paged.txt")
	pager := filepath.Join(dir, "pager.sh")
	if err := os.WriteFile(pager, []byte("#!/bin/sh\ncat > \"$PAGED\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"DESKCTL_USER=alice", "DESKCTL_PAGER=" + pager, "PAGED=" + paged}
	readPaged := func() string {
		t.Helper()
		b, err := os.ReadFile(paged)
		if err != nil {
			t.Fatalf("the pager was not run: %v", err)
		}
		os.Remove(paged)
		return string(b)
	}
	summary := []string{
		"Plan: 50 changes\n",
		"  users      25 to add\n",
		"  grants     100 rights to grant to 25 subjects\n",
		"Effective access: 25 users gain access\n",
		"  + u00  gains comment, reopen, withdraw and 4 more\n",
		"  … and 15 more users\n",
	}
	fullPlan := []string{"user:u24", "+ u24 gains note via direct"}

	screen, code := onTerminal(t, db, env, "", "policy", "plan", file)
	if code != ExitOK {
		t.Fatalf("policy plan: exit %d\n%s", code, screen)
	}
	for _, s := range summary {
		if !strings.Contains(screen, s) {
			t.Errorf("the summary lacks %q:\n%s", s, screen)
		}
	}
	for _, s := range fullPlan {
		if strings.Contains(screen, s) {
			t.Errorf("the full plan (%q) went to the terminal instead of the pager:\n%s", s, screen)
		}
	}
	got := readPaged()
	for _, s := range fullPlan {
		if !strings.Contains(got, s) {
			t.Errorf("the pager did not get %q:\n%s", s, got)
		}
	}

	// --detail: the full plan on the terminal after the summary, no pager.
	screen, code = onTerminal(t, db, env, "", "policy", "plan", file, "--detail")
	if code != ExitOK || !strings.Contains(screen, summary[0]) {
		t.Fatalf("policy plan --detail: exit %d\n%s", code, screen)
	}
	for _, s := range fullPlan {
		if !strings.Contains(screen, s) || strings.Index(screen, s) < strings.Index(screen, summary[0]) {
			t.Errorf("--detail did not print %q after the summary:\n%s", s, screen)
		}
	}
	if _, err := os.Stat(paged); err == nil {
		t.Error("--detail ran the pager")
	}

	// apply: the same view, then the question; Y applies, and the result
	// is one line.
	screen, code = onTerminal(t, db, env, "Y\n", "policy", "apply", file)
	if code != ExitOK {
		t.Fatalf("policy apply: exit %d\n%s", code, screen)
	}
	if !strings.Contains(readPaged(), fullPlan[0]) {
		t.Error("apply did not page the plan before asking")
	}
	ask := strings.Index(screen, "Apply 50 changes? [y/N] ")
	if ask < 0 || ask < strings.Index(screen, summary[0]) {
		t.Fatalf("apply did not ask after the summary:\n%s", screen)
	}
	after := screen[ask:]
	if !strings.Contains(after, "applied 50 changes: 25 users gain access\n") {
		t.Errorf("no one-line result after the answer:\n%s", after)
	}
	if strings.Contains(after, "Plan:") || strings.Contains(after, "u24") {
		t.Errorf("the plan was printed again after applying:\n%s", after)
	}
	if out := mustDeskctlProcess(t, db, "--as", "alice", "policy", "plan", file); !strings.Contains(out, "no changes") {
		t.Errorf("after apply the plan is\n%s", out)
	}
}

// On a terminal, the question is asked and a "no" changes nothing.
func TestConfirmDeclinedOnATerminal(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "desk.db")
	mustDeskctlProcess(t, db, "init", "--admin", "alice", "--email", "alice@example.com")
	mustDeskctlProcess(t, db, "--as", "alice", "group", "add", "tier1")
	env := []string{"DESKCTL_USER=alice"}
	screen, code := onTerminal(t, db, env, "n\n", "group", "remove", "tier1")
	if code != ExitNegative || !strings.Contains(screen, "Remove group tier1? [y/N] ") ||
		!strings.Contains(screen, "deskctl: not confirmed: nothing was changed\n") {
		t.Fatalf("declined remove: exit %d\n%s", code, screen)
	}
	mustDeskctlProcess(t, db, "--as", "alice", "group", "show", "tier1")
	screen, code = onTerminal(t, db, env, "yes\n", "group", "remove", "tier1")
	if code != ExitOK || !strings.Contains(screen, "removed group tier1") {
		t.Fatalf("confirmed remove: exit %d\n%s", code, screen)
	}
}
