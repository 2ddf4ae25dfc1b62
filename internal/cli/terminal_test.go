//go:build unix

package cli

// deskctl on a real terminal: each command below is this test binary run
// as deskctl under a pseudo-terminal of a known size, as a user at a
// terminal would run it.

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/jedib0t/go-pretty/v6/text"
)

// runOnTerminal runs deskctl against db on a terminal cols wide, with env
// added to the environment, and returns what the terminal received.
func runOnTerminal(t *testing.T, db string, cols uint16, env []string, args ...string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Args[0] = "deskctl"
	// Later entries win: a terminal that takes colour, sized by the pty alone.
	cmd.Env = append(deskctlEnv(db), "TERM=xterm-256color", "NO_COLOR=", "COLUMNS=")
	cmd.Env = append(cmd.Env, env...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var out bytes.Buffer
	// Reading ends with an error (EIO on Linux) once the process has exited
	// and the terminal has no writer left.
	_, _ = io.Copy(&out, tty)
	if err := cmd.Wait(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n")
}

// assertFits fails when a line of out is wider than cols columns.
func assertFits(t *testing.T, what string, out string, cols int) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if w := text.StringWidthWithoutEscSequences(l); w > cols {
			t.Errorf("%s: a line of %d columns on a %d-column terminal: %q\n%s", what, w, cols, l, out)
		}
	}
}

func isBoxRune(r rune) bool { return r >= 0x2500 && r <= 0x257f }

// TestTablesFitAnEightyColumnTerminal: ticket list, ticket show and access
// explain --ticket fit an 80-column terminal, long text cut (lists) or
// wrapped (show) inside the box; -o wide, COLUMNS and TERM=dumb change that
// as documented.
func TestTablesFitAnEightyColumnTerminal(t *testing.T) {
	db := filepath.Join(t.TempDir(), "desk.db")
	long := "VPN drops every hour when connected from home over the fibre line, please look into it before Friday"
	mustDeskctlProcess(t, db, "init", "--admin", "alice", "--email", "alice@example.com")
	mustDeskctlProcess(t, db, "--as", "alice", "user", "add", "bob", "--email", "bob@example.com", "--name", "Bob Tech")
	mustDeskctlProcess(t, db, "--as", "alice", "resource", "add", "network-wifi")
	mustDeskctlProcess(t, db, "--as", "alice", "resource", "add-member", "network-wifi", "alice", "--access", "write")
	mustDeskctlProcess(t, db, "--as", "alice", "access", "grant", "dispatcher", "--to", "user:alice")
	for range 3 {
		mustDeskctlProcess(t, db, "--as", "alice", "ticket", "create", "--subject", long, "--requester", "bob",
			"--resource", "network-wifi", "--priority", "urgent", "--description", strings.Repeat("Every session is lost. ", 12))
	}

	list := runOnTerminal(t, db, 80, []string{"DESKCTL_USER=alice"}, "ticket", "list")
	assertFits(t, "ticket list", list, 80)
	if !strings.Contains(list, "╭") || !strings.Contains(list, "VPN drops") || !strings.Contains(list, "…") ||
		strings.Count(list, "network-wifi") != 3 {
		t.Errorf("ticket list on an 80-column terminal:\n%s", list)
	}

	show := runOnTerminal(t, db, 80, []string{"DESKCTL_USER=bob"}, "ticket", "show", "1")
	assertFits(t, "ticket show", show, 80)
	if strings.Count(show, "Every") != 12 || strings.Count(show, "lost.") != 12 || !strings.Contains(show, "before Friday") {
		t.Errorf("ticket show lost text instead of wrapping it:\n%s", show)
	}

	explain := runOnTerminal(t, db, 80, []string{"DESKCTL_USER=alice"}, "access", "explain", "bob", "--ticket", "1")
	table := explain[strings.Index(explain, "╭"):]
	assertFits(t, "access explain --ticket", table, 80)
	if !strings.Contains(table, "ON TICKET") || !strings.Contains(table, "…") {
		t.Errorf("access explain --ticket on an 80-column terminal:\n%s", explain)
	}

	wide := runOnTerminal(t, db, 80, []string{"DESKCTL_USER=alice"}, "ticket", "list", "-o", "wide")
	if strings.Count(wide, long) != 3 || !strings.Contains(wide, "UPDATED") {
		t.Errorf("ticket list -o wide cut the subjects:\n%s", wide)
	}

	narrow := runOnTerminal(t, db, 80, []string{"DESKCTL_USER=alice", "COLUMNS=60"}, "ticket", "list")
	assertFits(t, "ticket list with COLUMNS=60", narrow, 60)

	dumb := runOnTerminal(t, db, 80, []string{"DESKCTL_USER=alice", "TERM=dumb"}, "ticket", "list")
	assertFits(t, "ticket list on a dumb terminal", dumb, 80)
	if strings.ContainsFunc(dumb, isBoxRune) || strings.Contains(dumb, "\x1b[") || !strings.Contains(dumb, "+---") {
		t.Errorf("ticket list with TERM=dumb:\n%s", dumb)
	}
}

// TestPolicyTestColoursOnATerminal: PASS and FAIL are coloured on a
// terminal, and not with NO_COLOR set.
func TestPolicyTestColoursOnATerminal(t *testing.T) {
	args := writePolicySuite(t)
	db := filepath.Join(t.TempDir(), "unused.db")
	out := runOnTerminal(t, db, 80, nil, args...)
	if !strings.Contains(out, "\x1b[32mPASS\x1b[0m") || !strings.Contains(out, "\x1b[31mFAIL\x1b[0m") {
		t.Errorf("policy test on a terminal is not coloured:\n%q", out)
	}
	plain := runOnTerminal(t, db, 80, []string{"NO_COLOR=1"}, args...)
	if strings.Contains(plain, "\x1b[") || !strings.Contains(plain, "PASS ") || !strings.Contains(plain, "FAIL ") {
		t.Errorf("policy test with NO_COLOR=1:\n%q", plain)
	}
}

// TestPolicyPlanColoursOnATerminal: plan's + lines are green and its -
// lines red on a terminal, in the summary and the paged full plan, and
// plain with NO_COLOR set.
func TestPolicyPlanColoursOnATerminal(t *testing.T) {
	db, pol := writePlanFixture(t)
	out := runOnTerminal(t, db, 80, []string{"DESKCTL_USER=alice", "DESKCTL_PAGER=cat"}, "policy", "plan", pol)
	if !strings.Contains(out, "\x1b[32m+ add\x1b[0m") || !strings.Contains(out, "\x1b[31m- revoke\x1b[0m") ||
		!strings.Contains(out, "\x1b[31m−\x1b[0m carol loses") || // the full plan
		!strings.Contains(out, "\x1b[31m−\x1b[0m carol  loses") || !strings.Contains(out, "\x1b[32m+\x1b[0m dave   gains") { // the summary
		t.Errorf("policy plan on a terminal is not coloured:\n%q", out)
	}
	assertFits(t, "policy plan", out, 80)
	plain := runOnTerminal(t, db, 80, []string{"DESKCTL_USER=alice", "DESKCTL_PAGER=cat", "NO_COLOR=1"}, "policy", "plan", pol)
	if strings.Contains(plain, "\x1b[3") || !strings.Contains(plain, "+ add") || !strings.Contains(plain, "- revoke") {
		t.Errorf("policy plan with NO_COLOR=1:\n%q", plain)
	}
}
