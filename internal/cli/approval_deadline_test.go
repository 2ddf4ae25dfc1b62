package cli

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/mail/mailtest"
)

// deadlineDesk is a database with n pending requests, each asking carol
// and dan, made at t0 with automatic reminders one hour later (one each).
func deadlineDesk(t *testing.T, n int) (db string, smtp *mailtest.Server, env func(at string) []string) {
	t.Helper()
	db = filepath.Join(t.TempDir(), "desk.db")
	smtp = mailtest.Start(t)
	env = func(at string) []string {
		return []string{"DESKCTL_SMTP_HOST=" + smtp.Host(), "DESKCTL_SMTP_PORT=" + strconv.Itoa(smtp.Port()),
			"DESKCTL_SMTP_TLS=none", "DESKCTL_SMTP_FROM=helpdesk@example.com", "DESKCTL_PUBLIC_URL=https://help.example.com",
			"DESKCTL_USER=alice", testNowEnv + "=" + at}
	}
	run := func(args ...string) {
		t.Helper()
		p := runCmd(t, deskctlCommand(t, db, env("2026-03-02T09:00:00Z"), args...), args)
		if p.code != ExitOK {
			t.Fatal(p)
		}
	}
	run("init", "--admin", "alice", "--email", "alice@example.com")
	for _, u := range []string{"bob", "carol", "dan", "erin"} {
		run("user", "add", u, "--email", u+"@example.com")
	}
	run("resource", "add", "network")
	run("resource", "add-member", "network", "bob")
	run("access", "grant", "start", "request-approval", "--to", "user:bob")
	run("access", "grant", "dispatcher", "authorize", "--to", "user:alice")
	run("settings", "set", "approvals.enabled", "true")
	run("settings", "set", "approvals.remind-after", "1h")
	run("settings", "set", "approvals.remind-max", "1")
	for i := 1; i <= n; i++ {
		run("--as", "erin", "ticket", "create", "--subject", "Laptop "+strconv.Itoa(i))
		run("ticket", "authorize", strconv.Itoa(i), "--resource", "network")
		run("--as", "bob", "approval", "request", strconv.Itoa(i), "--approver", "carol", "--approver", "dan")
	}
	if got := len(smtp.Messages()); got != 2*n {
		t.Fatalf("%d request mails, want %d", got, 2*n)
	}
	return db, smtp, env
}

// Two sweeps at once on one file: each reminder is decided and queued by
// exactly one of them, so each approver gets exactly one reminder.
func TestConcurrentSweepsRemindOnce(t *testing.T) {
	const n = 6
	db, smtp, env := deadlineDesk(t, n)
	args := []string{"approval", "remind", "--due", "-o", "json"}
	var wg sync.WaitGroup
	results := make([]deskProc, 3)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runCmd(t, deskctlCommand(t, db, env("2026-03-02T10:00:01Z"), args...), args)
		}()
	}
	wg.Wait()
	actions := 0
	for _, p := range results {
		if p.code != ExitOK {
			t.Fatal(p)
		}
		var r app.SweepResult
		if err := json.Unmarshal([]byte(p.stdout), &r); err != nil {
			t.Fatalf("%v: %s", err, p.stdout)
		}
		actions += len(r.Actions)
	}
	if actions != n {
		t.Fatalf("the sweeps reported %d reminders, want %d", actions, n)
	}
	perTo := map[string]int{}
	for _, m := range smtp.Messages()[2*n:] {
		for _, to := range m.To {
			perTo[to]++
		}
	}
	if perTo["carol@example.com"] != n || perTo["dan@example.com"] != n || len(perTo) != 2 {
		t.Fatalf("reminders per address: %v, want %d each to carol and dan", perTo, n)
	}
}

// deskctl serve sweeps on its own: two servers on one file send each
// reminder once.
func TestServeSweeps(t *testing.T) {
	const n = 3
	db, smtp, env := deadlineDesk(t, n)
	var serves []*exec.Cmd
	for range 2 {
		cmd := deskctlCommand(t, db, env("2026-03-02T10:00:01Z"), "serve", "--listen", "127.0.0.1:0", "--sweep-every", "50ms")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		serves = append(serves, cmd)
	}
	stop := func() {
		for _, c := range serves {
			_ = c.Process.Signal(syscall.SIGTERM)
		}
		for _, c := range serves {
			_ = c.Wait()
		}
	}
	defer stop()
	// Wait for the servers' sweeps to send every reminder (the bound only
	// keeps a broken build from hanging; it is not what is measured).
	for give := time.Now().Add(60 * time.Second); len(smtp.Messages()) < 4*n; {
		if time.Now().After(give) {
			t.Fatalf("the servers sent %d mails, want %d", len(smtp.Messages()), 4*n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	serves = nil
	p := runCmd(t, deskctlCommand(t, db, env("2026-03-02T10:00:02Z"), "approval", "remind", "--due"), nil)
	if p.code != ExitOK || p.stdout != "nothing due\n" {
		t.Fatalf("after the servers' sweeps: %v", p)
	}
	if got := len(smtp.Messages()); got != 4*n {
		t.Fatalf("%d mails in all, want %d: a reminder went out twice", got, 4*n)
	}
}

// Three sweeps at once on one file with the digest on: each approver's
// digest is decided, recorded and queued by exactly one of them, and a
// later sweep in the same period sends none.
func TestConcurrentSweepsDigestOnce(t *testing.T) {
	const n = 4
	db, smtp, env := deadlineDesk(t, n)
	set := []string{"settings", "set", "approvals.digest", "daily@10:00"}
	if p := runCmd(t, deskctlCommand(t, db, env("2026-03-02T09:00:00Z"), set...), set); p.code != ExitOK {
		t.Fatal(p)
	}
	args := []string{"approval", "remind", "--due", "-o", "json"}
	sweeps := func(at string) map[string]int {
		t.Helper()
		var wg sync.WaitGroup
		results := make([]deskProc, 3)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = runCmd(t, deskctlCommand(t, db, env(at), args...), args)
			}()
		}
		wg.Wait()
		actions := map[string]int{}
		for _, p := range results {
			if p.code != ExitOK {
				t.Fatal(p)
			}
			var r app.SweepResult
			if err := json.Unmarshal([]byte(p.stdout), &r); err != nil {
				t.Fatalf("%v: %s", err, p.stdout)
			}
			for _, a := range r.Actions {
				if a.Action == "digest" && len(a.Tickets) != n {
					t.Errorf("digest to %v lists %v, want all %d requests", a.To, a.Tickets, n)
				}
				actions[a.Action+" "+strings.Join(a.To, ",")]++
			}
		}
		return actions
	}
	// Next day after 10:00: every request has waited since before the
	// period began, so both approvers are on the digest and get no
	// per-request reminders.
	got := sweeps("2026-03-03T10:00:01Z")
	if len(got) != 2 || got["digest carol"] != 1 || got["digest dan"] != 1 {
		t.Fatalf("the sweeps did %v, want one digest each to carol and dan", got)
	}
	if got := sweeps("2026-03-03T18:00:00Z"); len(got) != 0 {
		t.Fatalf("a second round in the same period did %v, want nothing", got)
	}
	perTo := map[string]int{}
	for _, m := range smtp.Messages()[2*n:] {
		if m.Subject != "Approvals waiting for you: 4 requests" {
			t.Errorf("mail %q to %v, want only digests", m.Subject, m.To)
		}
		for _, to := range m.To {
			perTo[to]++
		}
	}
	if perTo["carol@example.com"] != 1 || perTo["dan@example.com"] != 1 || len(perTo) != 2 {
		t.Fatalf("digests per address: %v, want one each to carol and dan", perTo)
	}
}

// A digest the SMTP server turns away for now leaves the approver the
// links they already have: nobody received the new ones.
func TestRefusedDigestKeepsTheLinksOfEarlierMails(t *testing.T) {
	db, smtp, env := deadlineDesk(t, 2)
	run := func(at string, args ...string) deskProc {
		t.Helper()
		return runCmd(t, deskctlCommand(t, db, env(at), args...), args)
	}
	if p := run("2026-03-02T09:00:00Z", "settings", "set", "approvals.digest", "daily"); p.code != ExitOK {
		t.Fatal(p)
	}
	var old string
	for _, m := range smtp.Messages() {
		if m.To[0] != "carol@example.com" || !strings.Contains(m.Subject, "#1 ") {
			continue
		}
		for _, l := range mailtest.Links(m.Text) {
			if strings.HasSuffix(l, "?decision=approve") {
				old = strings.TrimSuffix(l[strings.LastIndex(l, "/")+1:], "?decision=approve")
			}
		}
	}
	if old == "" {
		t.Fatal("no approve link in carol's request mail for #1")
	}
	smtp.RejectNext(451)
	p := run("2026-03-03T00:00:01Z", "approval", "remind", "--due")
	if !strings.Contains(p.stdout, "digest") || !strings.Contains(p.stderr, "carol@example.com") {
		t.Fatalf("the sweep: %v", p)
	}
	for _, m := range smtp.Messages() {
		if m.To[0] == "carol@example.com" && strings.HasPrefix(m.Subject, "Approvals waiting") {
			t.Fatalf("carol's digest was delivered despite the refusal")
		}
	}
	if p := run("2026-03-03T00:01:00Z", "approval", "decide", "--token", old, "--approve"); p.code != ExitOK {
		t.Fatalf("carol's earlier link after the refused digest: %v", p)
	}
}
