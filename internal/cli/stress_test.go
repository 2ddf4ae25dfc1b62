package cli

// Robustness suites over real deskctl processes: many writers, readers and a
// running `deskctl serve` on one file; SIGKILL inside the transaction of large writes;
// and a table of bad input that must be refused cleanly without touching the
// file. Like concurrency_test.go, the processes are this test binary started
// under the name deskctl. `go test -short` scales the suites down.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/mail/mailtest"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// bgDeskctl is a deskctl process running in the background.
type bgDeskctl struct {
	cmd         *exec.Cmd
	out, errOut bytes.Buffer // read only after done is closed
	done        chan struct{}
	err         error // from Wait, valid after done is closed
}

// startDeskctl starts deskctl against db with the clean environment
// runDeskctlProcess gives, plus extraEnv. The process is killed at cleanup
// if it is still running.
func startDeskctl(t testing.TB, db string, extraEnv []string, args ...string) *bgDeskctl {
	t.Helper()
	b := &bgDeskctl{cmd: deskctlCommand(t, db, extraEnv, args...), done: make(chan struct{})}
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.errOut
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting deskctl %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		b.err = b.cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			b.cmd.Process.Kill()
			<-b.done
		}
	})
	return b
}

// deskctlCommand is deskctl against db, not yet started, with a clean
// environment (no DESKCTL_*, USER, HOME or XDG_* from the test's own; no
// colour) plus extraEnv.
func deskctlCommand(t testing.TB, db string, extraEnv []string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Args[0] = "deskctl"
	cmd.Env = deskctlEnv(db)
	cmd.Env = append(cmd.Env, extraEnv...)
	return cmd
}

func (b *bgDeskctl) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// deskctlJSON runs a command that must succeed and decodes its JSON output.
func deskctlJSON(t *testing.T, db string, v any, args ...string) {
	t.Helper()
	out := mustDeskctlProcess(t, db, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("deskctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func auditRecords(t *testing.T, db string) int {
	t.Helper()
	var v struct {
		Records int  `json:"records"`
		OK      bool `json:"ok"`
	}
	deskctlJSON(t, db, &v, "audit", "verify")
	if !v.OK {
		t.Fatalf("audit verify: chain broken after %d records", v.Records)
	}
	return v.Records
}

func requireHealthy(t *testing.T, db string) {
	t.Helper()
	if p := runDeskctlProcess(t, db, "db", "check"); p.code != ExitOK {
		t.Fatalf("db check: %v", p)
	}
}

func dbCounts(t *testing.T, db string) map[string]int {
	t.Helper()
	var st struct {
		Counts map[string]int `json:"counts"`
	}
	deskctlJSON(t, db, &st, "db", "stats")
	return st.Counts
}

// writeFile writes data under dir and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStressConcurrentWritersReadersAndServe(t *testing.T) {
	procs, perProc := 16, 50
	if testing.Short() {
		procs, perProc = 4, 10
	}
	// Even writes open a ticket as the process's own requester, odd ones
	// grant one of the custom actions to the process's own group, so every
	// write leaves a record no other write can have made.
	ticketsPer, grantsPer := (perProc+1)/2, perProc/2
	dir := t.TempDir()
	db := filepath.Join(dir, "desk.db")
	mustDeskctlProcess(t, db, "init", "--admin", "alice", "--email", "alice@example.com")

	// serve will listen on a free loopback port (listen on :0 to learn one,
	// then let go); every process reads the mail server and public-url from
	// the config file, so approval links point at serve.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	smtp := mailtest.Start(t)
	if err := os.MkdirAll(filepath.Join(dir, "home", "config", "deskctl"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "home", "config", "deskctl"), "config.yaml", fmt.Appendf(nil,
		"public-url: %s\nsmtp:\n  host: %s\n  port: %d\n  tls: none\n  from: helpdesk@example.com\n", base, smtp.Host(), smtp.Port()))

	var pol strings.Builder
	pol.WriteString("settings: {approvals.enabled: true}\nresources:\n  - {name: desk}\n")
	pol.WriteString("users:\n  - {login: alice, name: Alice, email: alice@example.com, rights: [admin, dispatcher, read-all-tickets, edit-all-tickets, request-approval]}\n")
	for p := range procs {
		fmt.Fprintf(&pol, "  - {login: req-%02d, name: Requester %d, email: req-%02d@example.com}\n", p, p, p)
	}
	pol.WriteString("groups:\n")
	for p := range procs {
		fmt.Fprintf(&pol, "  - {name: writers-%02d}\n", p)
	}
	pol.WriteString("actions:\n")
	for a := range grantsPer {
		fmt.Fprintf(&pol, "  - {name: stress-%02d, category: supporter, from-states: [new]}\n", a)
	}
	setup := writeFile(t, dir, "setup.yaml", []byte(pol.String()))
	mustDeskctlProcess(t, db, "--as", "alice", "policy", "apply", setup, "--yes")

	// Approvals waiting on req-01, decided on serve's pages during the writes.
	const approvals = 3
	var links []string
	for n := 1; n <= approvals; n++ {
		mustDeskctlProcess(t, db, "--as", "alice", "ticket", "create", "--subject", fmt.Sprintf("approval %d", n),
			"--requester", "req-00", "--resource", "desk")
		mustDeskctlProcess(t, db, "--as", "alice", "approval", "request", strconv.Itoa(n), "--approver", "req-01")
	}
	for _, m := range smtp.WaitFor(approvals, time.Minute) {
		for _, l := range mailtest.Links(m.Text) {
			if strings.Contains(l, "/approval/") && strings.HasSuffix(l, "decision=approve") {
				links = append(links, l)
			}
		}
	}
	if len(links) != approvals {
		t.Fatalf("%d approve links in %d mails, want %d", len(links), len(smtp.Messages()), approvals)
	}
	setupRecords := auditRecords(t, db)

	serve := startDeskctl(t, db, nil, "serve", "--listen", addr)
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		if code, _, err := get("/healthz"); err == nil && code == http.StatusOK {
			break
		}
		if serve.exited() || time.Now().After(deadline) {
			serve.cmd.Process.Kill()
			<-serve.done
			t.Fatalf("deskctl serve never answered /healthz: %v\n%s", serve.err, serve.errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	var (
		mu       sync.Mutex
		failures []string
		done     = make(chan struct{})
	)
	fail := func(format string, a ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, a...))
		mu.Unlock()
	}

	// Readers: read commands wait at most 5s for the lock, so under this
	// load some may give up with the busy exit code, never with another.
	var background sync.WaitGroup
	// untilDone runs step again and again in the background until the
	// writers are done; i counts the rounds.
	untilDone := func(step func(i int)) {
		background.Add(1)
		go func() {
			defer background.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				step(i)
			}
		}()
	}
	var readsOK, readsBusy int
	for r := range 2 {
		untilDone(func(i int) {
			args := []string{"--lock-timeout", "5s", "--as", "alice", "ticket", "list", "--limit", "20", "-o", "json"}
			if (i+r)%2 == 1 {
				args = []string{"--lock-timeout", "5s", "--as", "alice", "access", "explain", "req-00", "-o", "json"}
			}
			p := runDeskctlProcess(t, db, args...)
			switch {
			case p.code == ExitOK && json.Valid([]byte(p.stdout)):
				mu.Lock()
				readsOK++
				mu.Unlock()
			case p.code == ExitBusy && strings.HasPrefix(p.stderr, "deskctl: another deskctl process holds the database"):
				mu.Lock()
				readsBusy++
				mu.Unlock()
			default:
				fail("reader: %v", p)
			}
		})
	}

	// The approval pages: /healthz never touches the database; an unknown
	// but well-formed link is looked up, so it meets the writers' lock. It
	// answers 404, or 429 once this client has guessed too often, or 503
	// when the database stayed busy.
	linkStatus := map[int]int{}
	healthOK := 0
	untilDone(func(int) {
		if code, body, err := get("/healthz"); err != nil || code != http.StatusOK || body != "ok\n" {
			fail("GET /healthz: %d %q %v", code, body, err)
		} else {
			healthOK++
		}
		token, _, err := helpdesk.NewToken()
		if err != nil {
			fail("token: %v", err)
			return
		}
		code, _, err := get("/approval/" + token + "?decision=approve")
		switch {
		case err != nil:
			fail("GET unknown approval link: %v", err)
		case code == http.StatusNotFound || code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
			linkStatus[code]++
		default:
			fail("GET unknown approval link: status %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	})

	// The approver opens each link and decides on the page while the writers
	// run, from another loopback address than the unknown-link guesses
	// above, which the rate limit soon turns away. A busy database answers
	// 503 and the approver tries again.
	approver := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
	decided := map[string]bool{}
	decidedDuringWrites := 0
	decide := func(link string) (int, error) {
		resp, err := approver.Get(link)
		if err != nil {
			return 0, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode, nil
		}
		action := regexp.MustCompile(`<form method="post" action="([^"]+)">`).FindSubmatch(body)
		csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
		if action == nil || csrf == nil {
			return 0, fmt.Errorf("no decision form on %s", link)
		}
		req, _ := http.NewRequest(http.MethodPost, base+string(action[1]),
			strings.NewReader("decision=approve&comment=fine&csrf="+string(csrf[1])))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err = approver.Do(req)
		if err != nil {
			return 0, err
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && !strings.Contains(string(body), "You approved ticket #") {
			return 0, fmt.Errorf("decision page without the outcome: %s", body)
		}
		return resp.StatusCode, nil
	}
	untilDone(func(int) {
		for _, l := range links {
			if decided[l] {
				continue
			}
			switch code, err := decide(l); {
			case err != nil:
				fail("approval page: %v", err)
			case code == http.StatusOK:
				decided[l] = true
				decidedDuringWrites++
			case code != http.StatusServiceUnavailable:
				fail("approval page %s: status %d", l, code)
			}
		}
		time.Sleep(50 * time.Millisecond)
	})

	// Hot backups while the writers run: each copy is consistent on its own
	// (bbolt pages, deskctl's invariants, an intact audit chain).
	backups := 0
	untilDone(func(i int) {
		copyPath := filepath.Join(filepath.Dir(db), fmt.Sprintf("hot-%03d.db", i))
		p := runDeskctlProcess(t, db, "--lock-timeout", "5s", "--as", "alice", "db", "backup", copyPath)
		switch {
		case p.code == ExitBusy:
			return
		case p.code != ExitOK:
			fail("db backup: %v", p)
			return
		}
		if c := runDeskctlProcess(t, copyPath, "db", "check"); c.code != ExitOK {
			fail("db check of hot backup %s: %v", copyPath, c)
		}
		if c := runDeskctlProcess(t, copyPath, "audit", "verify"); c.code != ExitOK {
			fail("audit verify of hot backup %s: %v", copyPath, c)
		}
		mu.Lock()
		backups++
		mu.Unlock()
		time.Sleep(200 * time.Millisecond)
	})

	start := time.Now()
	var writers sync.WaitGroup
	for p := range procs {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range perProc {
				args := []string{"--lock-timeout", "60s", "--as", fmt.Sprintf("req-%02d", p), "ticket", "create",
					"--subject", fmt.Sprintf("stress p%02d w%02d", p, i)}
				if i%2 == 1 {
					args = []string{"--lock-timeout", "60s", "--as", "alice", "access", "grant",
						fmt.Sprintf("stress-%02d", i/2), "--to", fmt.Sprintf("group:writers-%02d", p)}
				}
				if pr := runDeskctlProcess(t, db, args...); pr.code != ExitOK {
					fail("writer: %v", pr)
				}
			}
		}()
	}
	writers.Wait()
	t.Logf("%d writes by %d processes in %v", procs*perProc, procs, time.Since(start).Round(time.Millisecond))
	close(done)
	background.Wait()

	// What the writes left undecided is decided now, with nothing in the way.
	for _, l := range links {
		if !decided[l] {
			if code, err := decide(l); err != nil || code != http.StatusOK {
				t.Errorf("deciding %s after the writes: %d %v", l, code, err)
			}
		}
	}
	// serve mails each outcome to alice in the background.
	outcomes := 0
	for _, m := range smtp.WaitFor(2*approvals, time.Minute) {
		if strings.HasPrefix(m.Subject, "Approved by Requester 1: #") {
			outcomes++
		}
	}
	if outcomes != approvals {
		t.Errorf("%d outcome mails, want %d", outcomes, approvals)
	}

	serve.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-serve.done:
	case <-time.After(10 * time.Second):
		t.Error("deskctl serve did not stop within 10s of SIGTERM")
		serve.cmd.Process.Kill()
		<-serve.done
	}
	if serve.err != nil {
		t.Errorf("deskctl serve exited with %v after SIGTERM\n%s", serve.err, serve.errOut.String())
	}

	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("reads: %d ok, %d busy; hot backups: %d; /healthz: %d ok; unknown link: %v; approvals decided on the page during the writes: %d of %d",
		readsOK, readsBusy, backups, healthOK, linkStatus, decidedDuringWrites, approvals)
	if readsOK == 0 || readsBusy >= readsOK {
		t.Errorf("readers: %d succeeded and %d gave up busy; most should succeed", readsOK, readsBusy)
	}
	if backups == 0 {
		t.Error("no hot backup succeeded during the writes")
	}
	if healthOK == 0 || linkStatus[http.StatusNotFound] == 0 {
		t.Errorf("deskctl serve: %d healthz answers, unknown link statuses %v; want both answered during the writes", healthOK, linkStatus)
	}
	if t.Failed() {
		return
	}

	// Every ticket once, numbered 1..N without gaps or repeats.
	var tickets []struct {
		Number    int    `json:"number"`
		Subject   string `json:"subject"`
		Requester string `json:"requester"`
	}
	deskctlJSON(t, db, &tickets, "--as", "alice", "ticket", "list", "--limit", "1000")
	wantTickets := map[string]string{}
	for p := range procs {
		for i := 0; i < perProc; i += 2 {
			wantTickets[fmt.Sprintf("stress p%02d w%02d", p, i)] = fmt.Sprintf("req-%02d", p)
		}
	}
	if len(tickets) != approvals+procs*ticketsPer {
		t.Errorf("%d tickets, want %d", len(tickets), approvals+procs*ticketsPer)
	}
	numbers := map[int]bool{}
	for _, tk := range tickets {
		if numbers[tk.Number] {
			t.Errorf("ticket number %d appears twice", tk.Number)
		}
		numbers[tk.Number] = true
		if tk.Number <= approvals {
			continue // the approval tickets of the setup
		}
		if tk.Number > approvals+procs*ticketsPer {
			t.Errorf("ticket number %d outside %d..%d", tk.Number, approvals+1, approvals+procs*ticketsPer)
		}
		req, ok := wantTickets[tk.Subject]
		if !ok {
			t.Errorf("unexpected or repeated ticket %d %q", tk.Number, tk.Subject)
			continue
		}
		if tk.Requester != req {
			t.Errorf("ticket %q has requester %s, want %s", tk.Subject, tk.Requester, req)
		}
		delete(wantTickets, tk.Subject)
	}
	for s := range wantTickets {
		t.Errorf("ticket %q is missing", s)
	}

	// Every grant once: each writer group holds exactly its actions.
	var exported struct {
		Groups []struct {
			Name   string   `json:"name"`
			Rights []string `json:"rights"`
		} `json:"groups"`
	}
	deskctlJSON(t, db, &exported, "--as", "alice", "policy", "export")
	var wantRights []string
	for a := range grantsPer {
		wantRights = append(wantRights, fmt.Sprintf("stress-%02d", a))
	}
	seen := 0
	for _, g := range exported.Groups {
		if !strings.HasPrefix(g.Name, "writers-") {
			continue
		}
		seen++
		got := slices.Clone(g.Rights)
		slices.Sort(got)
		if !slices.Equal(got, wantRights) {
			t.Errorf("group %s holds %v, want %v", g.Name, got, wantRights)
		}
	}
	if seen != procs {
		t.Errorf("%d writer groups exported, want %d", seen, procs)
	}

	if got, want := auditRecords(t, db), setupRecords+procs*perProc+approvals; got != want {
		t.Errorf("audit verify: %d records, want %d (setup %d + %d writes + %d decisions)", got, want, setupRecords, procs*perProc, approvals)
	}
	var list []app.ApprovalView
	deskctlJSON(t, db, &list, "--as", "alice", "approval", "list", "--state", "approved")
	if len(list) != approvals {
		t.Errorf("%d approvals recorded as approved, want %d", len(list), approvals)
	}
	requireHealthy(t, db)
}

// A deskctl process started with pauseEnv stops inside the write
// transaction of a use case, after its change and before the commit, and
// writes a marker file once it is there; the kill tests wait for the marker
// and SIGKILL it at that point every time.
const (
	pauseAtEnv     = "DESKCTLTEST_PAUSE_AT"     // COMMAND#N: the Nth commit of COMMAND
	pauseMarkerEnv = "DESKCTLTEST_PAUSE_MARKER" // the file written on arrival
)

// pauseBeforeCommit installs the pause in a deskctl process that the
// environment asks to pause (see pauseEnv).
func pauseBeforeCommit() {
	at, marker := os.Getenv(pauseAtEnv), os.Getenv(pauseMarkerEnv)
	command, nth, ok := strings.Cut(at, "#")
	n, err := strconv.Atoi(nth)
	if !ok || err != nil || marker == "" {
		return
	}
	app.BeforeCommit = func(c string) {
		if c != command {
			return
		}
		if n--; n > 0 {
			return
		}
		if err := os.WriteFile(marker, []byte(c), 0o600); err != nil {
			panic(err)
		}
		for {
			time.Sleep(time.Hour)
		}
	}
}

func pauseEnv(marker, command string, nth int) []string {
	return []string{fmt.Sprintf("%s=%s#%d", pauseAtEnv, command, nth), pauseMarkerEnv + "=" + marker}
}

// killAtPause waits until the background deskctl has reached its pause
// point, checks it holds the database's write lock there, and SIGKILLs it.
func killAtPause(t *testing.T, db, marker string, b *bgDeskctl) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if b.exited() {
			t.Fatalf("deskctl exited before its pause point: %v\n%s", b.err, b.errOut.String())
		}
		if time.Now().After(deadline) {
			t.Fatal("deskctl did not reach its pause point within 2 minutes")
		}
	}
	bdb, err := bolt.Open(db, 0o600, &bolt.Options{ReadOnly: true, Timeout: 50 * time.Millisecond})
	if err == nil {
		bdb.Close()
		t.Fatal("paused before commit, deskctl does not hold the database lock")
	}
	if !errors.Is(err, bolterrors.ErrTimeout) {
		t.Fatal(err)
	}
	if !killMidway(t, b) {
		t.Fatal("the paused process was not killed by SIGKILL")
	}
}

// killMidway sends SIGKILL and reports whether the process was still
// running, i.e. whether the kill interrupted it.
func killMidway(t *testing.T, b *bgDeskctl) bool {
	t.Helper()
	b.cmd.Process.Signal(syscall.SIGKILL)
	<-b.done
	var ee *exec.ExitError
	if errors.As(b.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	if b.err != nil {
		t.Fatalf("the process failed on its own before the kill: %v\n%s", b.err, b.errOut.String())
	}
	return false
}

func TestStressKillDuringPolicyApply(t *testing.T) {
	users, groups := 5000, 500
	if testing.Short() {
		users, groups = 1000, 100
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "desk.db")
	mustDeskctlProcess(t, db, "init", "--admin", "alice", "--email", "alice@example.com")
	setupRecords := auditRecords(t, db)

	var pol bytes.Buffer
	pol.WriteString("version: 1\nusers:\n  - {login: alice, name: Alice, email: alice@example.com, rights: [admin]}\n")
	for u := range users {
		fmt.Fprintf(&pol, "  - {login: u%05d, name: User %d, email: u%05d@example.com}\n", u, u, u)
	}
	pol.WriteString("groups:\n")
	for g := range groups {
		fmt.Fprintf(&pol, "  - name: g%03d\n    members: [", g)
		for k := range 10 {
			if k > 0 {
				pol.WriteString(", ")
			}
			fmt.Fprintf(&pol, "u%05d", (g*10+k)%users)
		}
		pol.WriteString("]\n    rights: [reply, note]\n")
	}
	file := writeFile(t, dir, "big.yaml", pol.Bytes())

	var plan struct {
		Changes []json.RawMessage `json:"changes"`
		Applied bool              `json:"applied"`
	}
	deskctlJSON(t, db, &plan, "--as", "alice", "policy", "plan", file)
	planned := len(plan.Changes)

	marker := filepath.Join(dir, "paused")
	apply := startDeskctl(t, db, pauseEnv(marker, "policy apply", 1), "--as", "alice", "policy", "apply", file, "--yes", "-o", "json")
	killAtPause(t, db, marker, apply)

	// Killed with every change made but not committed: none of it is there.
	requireHealthy(t, db)
	var userList []struct{ Login string }
	deskctlJSON(t, db, &userList, "user", "list")
	var groupList []struct{ Name string }
	deskctlJSON(t, db, &groupList, "group", "list")
	if records := auditRecords(t, db); len(userList) != 1 || len(groupList) != 1 || records != setupRecords {
		t.Fatalf("after the kill: %d users, %d groups, %d audit records; want the 1, 1 and %d from before the apply",
			len(userList), len(groupList), records, setupRecords)
	}

	deskctlJSON(t, db, &plan, "--as", "alice", "policy", "apply", file, "--yes")
	if !plan.Applied || len(plan.Changes) != planned {
		t.Errorf("re-running the apply: applied=%v with %d changes, want all %d planned", plan.Applied, len(plan.Changes), planned)
	}
	complete := auditRecords(t, db)
	deskctlJSON(t, db, &plan, "--as", "alice", "policy", "apply", file, "--yes")
	if plan.Applied || len(plan.Changes) != 0 {
		t.Errorf("a second apply still changed %d things", len(plan.Changes))
	}
	deskctlJSON(t, db, &userList, "user", "list")
	if len(userList) != users+1 {
		t.Errorf("after the re-run: %d users, want %d", len(userList), users+1)
	}
	if got := auditRecords(t, db); got != complete {
		t.Errorf("an apply with no changes added %d audit records", got-complete)
	}
	requireHealthy(t, db)
}

func TestStressKillDuringTicketImport(t *testing.T) {
	total := 6 * app.ImportBatch
	if testing.Short() {
		total = 2 * app.ImportBatch
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "desk.db")
	mustDeskctlProcess(t, db, "init", "--admin", "alice", "--email", "alice@example.com")
	// alice dispatches, so she sees the requests bob files and their
	// technicians-only import entries.
	setup := writeFile(t, dir, "setup.yaml", []byte(`users:
  - {login: alice, name: Alice, email: alice@example.com, rights: [admin, dispatcher]}
  - {login: bob, name: Bob, email: bob@example.com}
`))
	mustDeskctlProcess(t, db, "--as", "alice", "policy", "apply", setup, "--yes")
	setupRecords := auditRecords(t, db)

	var buf bytes.Buffer
	for i := range total {
		fmt.Fprintf(&buf, `{"id":"src-%06d","subject":"imported %06d","requester":"bob","priority":"low"}`+"\n", i, i)
	}
	file := writeFile(t, dir, "tickets.jsonl", buf.Bytes())

	// Killed inside the second batch's transaction: the first is committed.
	marker := filepath.Join(dir, "paused")
	imp := startDeskctl(t, db, pauseEnv(marker, "ticket import", 2), "--as", "alice", "ticket", "import", file, "-o", "json")
	killAtPause(t, db, marker, imp)

	requireHealthy(t, db)
	counts := dbCounts(t, db)
	committed := counts["tickets"]
	if committed != app.ImportBatch || counts["ticket_ext"] != committed {
		t.Fatalf("after the kill: %d tickets and %d import ids; want the first batch of %d", committed, counts["ticket_ext"], app.ImportBatch)
	}
	if got, want := auditRecords(t, db), setupRecords+1; got != want {
		t.Errorf("audit: %d records, want %d (one for the committed batch)", got, want)
	}

	var res app.ImportResult
	deskctlJSON(t, db, &res, "--as", "alice", "ticket", "import", file)
	if res.Records != total || res.Skipped != committed || res.Imported != total-committed {
		t.Errorf("re-running the import: %+v; want %d records, %d skipped, %d imported", res, total, committed, total-committed)
	}
	counts = dbCounts(t, db)
	if counts["tickets"] != total || counts["ticket_ext"] != total {
		t.Errorf("after the re-run: %d tickets, %d import ids; want %d of each", counts["tickets"], counts["ticket_ext"], total)
	}
	var tickets []struct {
		Number  int    `json:"number"`
		Subject string `json:"subject"`
	}
	deskctlJSON(t, db, &tickets, "--as", "alice", "ticket", "list", "--limit", strconv.Itoa(total+1))
	subjects := map[string]int{}
	for _, tk := range tickets {
		if prev, dup := subjects[tk.Subject]; dup {
			t.Errorf("%q imported twice: tickets %d and %d", tk.Subject, prev, tk.Number)
		}
		subjects[tk.Subject] = tk.Number
	}
	for i := range total {
		if _, ok := subjects[fmt.Sprintf("imported %06d", i)]; !ok {
			t.Errorf("src-%06d was never imported", i)
			break
		}
	}
	if len(tickets) != total {
		t.Errorf("ticket list shows %d tickets, want %d", len(tickets), total)
	}
	// Spot-check that the log names the source id, at both ends of the file.
	for _, i := range []int{0, total - 1} {
		n := subjects[fmt.Sprintf("imported %06d", i)]
		var log []struct {
			Action string `json:"action"`
			Text   string `json:"text"`
		}
		deskctlJSON(t, db, &log, "--as", "alice", "ticket", "log", strconv.Itoa(n))
		if want := fmt.Sprintf("imported from src-%06d", i); len(log) == 0 || log[0].Action != "import" || log[0].Text != want {
			t.Errorf("ticket %d: log %+v, want it to start with %q", n, log, want)
		}
	}
	if got, want := auditRecords(t, db), setupRecords+total/app.ImportBatch; got != want {
		t.Errorf("audit: %d records, want %d (one per batch, never repeated)", got, want)
	}
	requireHealthy(t, db)
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

func TestStressBadInputLeavesFileUnchanged(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "desk.db")
	mustDeskctlProcess(t, db, "init", "--admin", "alice", "--email", "alice@example.com")
	setup := writeFile(t, dir, "setup.yaml", []byte(`users:
  - {login: alice, name: Alice, email: alice@example.com, rights: [admin]}
  - {login: bob, name: Bob, email: bob@example.com}
groups:
  - {name: tier1, members: [bob], rights: [close]}
resources:
  - {name: network, members: [{user: bob, access: write}]}
`))
	mustDeskctlProcess(t, db, "--as", "alice", "policy", "apply", setup, "--yes")
	mustDeskctlProcess(t, db, "--as", "bob", "ticket", "create", "--subject", "printer on fire")

	file := func(name string, data []byte) string { return writeFile(t, dir, name, data) }

	// 100 000 lines of valid users, then a type error on the last line.
	var big bytes.Buffer
	big.WriteString("version: 1\nusers:\n  - {login: alice, name: Alice, email: alice@example.com, rights: [admin]}\n")
	lines := 3
	for u := 0; lines < 100000-4; u++ {
		fmt.Fprintf(&big, "  - login: u%06d\n    name: User %d\n    email: u%06d@example.com\n", u, u, u)
		lines += 3
	}
	big.WriteString("  - login: last\n    name: Last\n    email: last@example.com\n    active: [yes, no]\n")
	lines += 4
	bigPolicy := file("big.yaml", big.Bytes())

	longLine := append([]byte(`{"id":"a1","subject":"fine","requester":"bob"}`+"\n"+`{"id":"a2","requester":"bob","subject":"`),
		bytes.Repeat([]byte("x"), 2<<20)...)
	longLine = append(longLine, "\"}\n"...)
	// A subject longer than the kernel takes as one argument (128 KiB) can
	// only reach deskctl in-process; the largest that fits goes through a
	// real process too.
	const argMax = 128<<10 - 1

	emptyConfig := file("empty-config.yaml", nil)
	for _, tc := range []struct {
		name      string
		args      []string
		inProcess bool   // the argument cannot be passed to a process (size, NUL)
		code      int    // expected exit code
		want      string // in the one "deskctl: " line
		findings  string // policy findings printed before it start with this
	}{
		{name: "empty subject", args: []string{"--as", "bob", "ticket", "create", "--subject", ""}, code: ExitUsage, want: "a ticket needs a subject"},
		{name: "blank subject", args: []string{"--as", "bob", "ticket", "create", "--subject", "   "}, code: ExitUsage, want: "a ticket needs a subject"},
		{name: "1 MB subject", args: []string{"--as", "bob", "ticket", "create", "--subject", strings.Repeat("s", 1<<20)}, inProcess: true,
			code: ExitUsage, want: "subject is 1048576 bytes; the limit is 200"},
		{name: "argv-sized subject", args: []string{"--as", "bob", "ticket", "create", "--subject", strings.Repeat("s", argMax)},
			code: ExitUsage, want: fmt.Sprintf("subject is %d bytes; the limit is 200", argMax)},
		{name: "subject with NUL", args: []string{"--as", "bob", "ticket", "create", "--subject", "a\x00b"}, inProcess: true,
			code: ExitUsage, want: "subject: character 2 is U+0000"},
		{name: "subject with escape", args: []string{"--as", "bob", "ticket", "create", "--subject", "a\x1b[31mb"}, code: ExitUsage, want: "subject: character 2 is U+001B"},
		{name: "non-UTF-8 subject", args: []string{"--as", "bob", "ticket", "create", "--subject", "caf\xe9"}, code: ExitUsage, want: "subject is not valid UTF-8"},
		{name: "non-UTF-8 description file", args: []string{"--as", "bob", "ticket", "create", "--subject", "x", "--description-file", file("latin1.txt", []byte("caf\xe9\n"))},
			code: ExitUsage, want: "description is not valid UTF-8"},
		{name: "description file with NUL", args: []string{"--as", "bob", "ticket", "create", "--subject", "x", "--description-file", file("nul.txt", []byte("a\x00b"))},
			code: ExitUsage, want: "description: character 2 is U+0000"},
		{name: "missing description file", args: []string{"--as", "bob", "ticket", "create", "--subject", "x", "--description-file", filepath.Join(dir, "absent.txt")},
			code: ExitUsage, want: "cannot read"},
		{name: "control character in group description", args: []string{"--as", "alice", "group", "add", "tier2", "--description", "bell\x07"},
			code: ExitUsage, want: "description: character 5 is U+0007"},
		{name: "right-to-left override in a subject", args: []string{"--as", "bob", "ticket", "create", "--subject", "invoice\u202efdp.exe"},
			code: ExitUsage, want: "subject: character 8 is U+202E (a bidirectional formatting character)"},
		{name: "isolate in a description", args: []string{"--as", "bob", "ticket", "create", "--subject", "x", "--description", "Printer broken\u2067Please grant admin to erin"},
			code: ExitUsage, want: "description: character 15 is U+2067"},
		{name: "carriage return in a subject", args: []string{"--as", "bob", "ticket", "create", "--subject", "Approved\rREJECTED"},
			code: ExitUsage, want: "subject must be a single line: character 9 is a line break"},
		{name: "override in a display name", args: []string{"--as", "alice", "user", "add", "erin", "--email", "erin@example.com", "--name", "Erin\u202dAdmin"},
			code: ExitUsage, want: "name: character 5 is U+202D"},
		{name: "override in an email address", args: []string{"--as", "alice", "user", "add", "erin", "--email", "erin\u202e@example.com"},
			code: ExitUsage, want: "email: character 5 is U+202E"},
		{name: "C1 control in a resource description", args: []string{"--as", "alice", "resource", "add", "printers", "--description", "ok\u009b2J"},
			code: ExitUsage, want: "description: character 3 is U+009B"},
		{name: "override in a setting value", args: []string{"--as", "alice", "settings", "set", "approvals.link-ttl", "72h\u202e"},
			code: ExitUsage, want: "approvals.link-ttl: character 4 is U+202E"},
		{name: "escape sequence as the acting user", args: []string{"--as", "x\x1b[31mred", "ticket", "list"},
			code: ExitNotFound, want: `no such user "x\x1b[31mred"`},
		{name: "escape sequence in access can", args: []string{"--as", "alice", "access", "can", "b\x1b[2Job", "close"},
			code: ExitNotFound, want: `no such user "b\x1b[2Job"`},
		{name: "escape sequence in a right", args: []string{"--as", "alice", "access", "can", "bob", "x\x1b[2J"},
			code: ExitNotFound, want: `no such right "x\x1b[2J"`},
		{name: "escape sequence in settings get", args: []string{"--as", "alice", "settings", "get", "a\x1b[2Jb"},
			code: ExitNotFound, want: `no such setting "a\x1b[2Jb"`},
		{name: "unknown user", args: []string{"--as", "alice", "access", "grant", "reply", "--to", "user:nobody"}, code: ExitNotFound, want: "no such user 'nobody'"},
		{name: "unknown acting user", args: []string{"--as", "nobody", "ticket", "list"}, code: ExitNotFound, want: "no such user 'nobody'"},
		{name: "unknown group", args: []string{"--as", "alice", "group", "add-member", "tier9", "bob"}, code: ExitNotFound, want: "no such group 'tier9'"},
		{name: "unknown resource", args: []string{"--as", "alice", "resource", "add-member", "netwrok", "bob", "--access", "write"}, code: ExitNotFound, want: "no such resource 'netwrok'"},
		{name: "unknown right", args: []string{"--as", "alice", "access", "grant", "clse", "--to", "group:tier1"}, code: ExitNotFound, want: "no such right 'clse'"},
		{name: "unknown ticket", args: []string{"--as", "alice", "ticket", "show", "999"}, code: ExitNotFound, want: "no ticket #999"},
		{name: "unknown setting", args: []string{"--as", "alice", "settings", "set", "approvals.colour", "red"}, code: ExitNotFound, want: "no such setting"},
		{name: "unknown subject kind", args: []string{"--as", "alice", "access", "grant", "reply", "--to", "team:x"}, code: ExitUsage, want: `unknown subject kind "team"`},
		{name: "limit not a number", args: []string{"--as", "alice", "ticket", "list", "--limit", "abc"}, code: ExitUsage, want: `invalid argument "abc" for "--limit"`},
		{name: "lock timeout not a duration", args: []string{"--lock-timeout", "forever", "--as", "alice", "ticket", "list"}, code: ExitUsage, want: `invalid argument "forever" for "--lock-timeout"`},
		{name: "ticket number not a number", args: []string{"--as", "alice", "ticket", "show", "abc"}, code: ExitUsage, want: `"abc" is not a ticket number`},
		{name: "link TTL not a duration", args: []string{"--as", "alice", "settings", "set", "approvals.link-ttl", "banana"}, code: ExitUsage, want: `approvals.link-ttl: "banana" is not a duration`},
		{name: "boolean setting not a boolean", args: []string{"--as", "alice", "settings", "set", "approvals.enabled", "maybe"}, code: ExitUsage, want: `"maybe" is not true or false`},
		{name: "access not read or write", args: []string{"--as", "alice", "resource", "add-member", "network", "bob", "--access", "admin"}, code: ExitUsage, want: `invalid access "admin"`},
		{name: "due date not a date", args: []string{"--as", "bob", "ticket", "create", "--subject", "x", "--due", "2026-13-45"}, code: ExitUsage, want: `due date "2026-13-45" is not YYYY-MM-DD`},

		{name: "100 000-line policy with a type error at the end", args: []string{"--as", "alice", "policy", "apply", bigPolicy, "--yes"},
			code: ExitUsage, want: "the policy has 1 problem(s)", findings: fmt.Sprintf("%s:%d:", bigPolicy, lines)},
		{name: "empty policy file", args: []string{"--as", "alice", "policy", "apply", file("empty.yaml", nil), "--yes"},
			code: ExitUsage, want: "the policy has 1 problem(s)", findings: filepath.Join(dir, "empty.yaml") + ":"},
		{name: "policy with NUL bytes", args: []string{"--as", "alice", "policy", "apply", file("nul.yaml", []byte("users:\n  - login: a\x00b\n")), "--yes"},
			code: ExitUsage, want: "problem(s)", findings: filepath.Join(dir, "nul.yaml") + ":"},

		{name: "import with non-UTF-8 JSON", args: []string{"--as", "alice", "ticket", "import", file("latin1.jsonl", []byte(`{"id":"a1","subject":"caf`+"\xe9"+`","requester":"bob"}`+"\n"))},
			code: ExitUsage, want: "line 1 is not valid UTF-8"},
		{name: "import with non-UTF-8 CSV", args: []string{"--as", "alice", "ticket", "import", file("latin1.csv", []byte("id,subject,requester\na1,caf\xe9,bob\n"))},
			code: ExitUsage, want: "line 2 is not valid UTF-8"},
		{name: "import with a NUL byte", args: []string{"--as", "alice", "ticket", "import", file("nul.jsonl", []byte(`{"id":"a1","subject":"x","requester":"bob"}`+"\x00\n"))},
			code: ExitUsage, want: "line 1"},
		{name: "import with an escaped NUL", args: []string{"--as", "alice", "ticket", "import", file("nul-escape.jsonl", []byte(`{"id":"a1","subject":"a\u0000b","requester":"bob"}`+"\n"))},
			code: ExitUsage, want: "line 1: subject: character 2 is U+0000"},
		{name: "import with an override in a description", args: []string{"--as", "alice", "ticket", "import", file("rlo.jsonl", []byte(
			`{"id":"a1","subject":"x","requester":"bob"}`+"\n"+`{"id":"a2","subject":"y","requester":"bob","description":"pay \u202efdp.exe"}`+"\n"))},
			code: ExitUsage, want: "line 2: description: character 5 is U+202E"},
		{name: "import with a bell in a CSV category", args: []string{"--as", "alice", "ticket", "import", file("bell.csv", []byte("id,subject,requester,category\na1,x,bob,hw\x07\n"))},
			code: ExitUsage, want: "line 2: category: character 3 is U+0007"},
		{name: "policy with an override in a description", args: []string{"--as", "alice", "policy", "apply", file("rlo.yaml", []byte("users:\n  - {login: alice, name: Alice, email: alice@example.com, rights: [admin]}\n"+
			"resources:\n  - name: pay\n    description: \"invoice \\u202efdp.exe\"\n")), "--yes"},
			code: ExitUsage, want: "problem(s)", findings: filepath.Join(dir, "rlo.yaml") + ":5:18: resource 'pay': description: character 9 is U+202E"},
		{name: "import with a 2 MB line", args: []string{"--as", "alice", "ticket", "import", file("long.jsonl", longLine)},
			code: ExitUsage, want: "line 2 is longer than 1048576 bytes"},
		{name: "import with an unknown CSV column", args: []string{"--as", "alice", "ticket", "import", file("colour.csv", []byte("id,subject,requester,colour\na1,x,bob,red\n"))},
			code: ExitUsage, want: `unknown CSV column "colour"`},
		{name: "import with an unknown JSON field", args: []string{"--as", "alice", "ticket", "import", file("colour.jsonl", []byte(`{"id":"a1","subject":"x","requester":"bob","colour":"red"}`+"\n"))},
			code: ExitUsage, want: `line 1: json: unknown field "colour"`},
		{name: "import with a stray quote in CSV", args: []string{"--as", "alice", "ticket", "import", file("quote.csv", []byte("id,subject,requester\na\"1,x,bob\n"))},
			code: ExitUsage, want: "line 2"},
		{name: "import with a repeated id", args: []string{"--as", "alice", "ticket", "import", file("repeat.jsonl", []byte(
			`{"id":"a1","subject":"x","requester":"bob"}`+"\n"+`{"id":"a2","subject":"y","requester":"bob"}`+"\n"+`{"id":"a1","subject":"z","requester":"bob"}`+"\n"))},
			code: ExitUsage, want: `line 3: id "a1" repeats line 1`},
		{name: "import naming an unknown user", args: []string{"--as", "alice", "ticket", "import", file("nobody.jsonl", []byte(`{"id":"a1","subject":"x","requester":"nobody"}`+"\n"))},
			code: ExitNotFound, want: "line 1: no such user 'nobody' (requester)"},

		{name: "empty config file", args: []string{"--config", emptyConfig, "--as", "alice", "ticket", "list"}, code: ExitOK},
		{name: "config file with garbage", args: []string{"--config", file("garbage.yaml", []byte("\x00\x01{{ not: [yaml\n")), "--as", "alice", "ticket", "list"},
			code: ExitUsage, want: "cannot read config file"},
		{name: "config file with an unknown key", args: []string{"--config", file("unknown.yaml", []byte("colour: red\n")), "--as", "alice", "ticket", "list"},
			code: ExitUsage, want: `unknown key "colour"`},
		{name: "config file with a wrong type", args: []string{"--config", file("wrongtype.yaml", []byte("lock-timeout: banana\n")), "--as", "alice", "ticket", "list"},
			code: ExitUsage, want: `lock-timeout is "banana", not a duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fileSum(t, db)
			var p deskProc
			if tc.inProcess {
				var out, errOut bytes.Buffer
				args := append([]string{"--db", db, "--config", emptyConfig}, tc.args...)
				p = deskProc{args: tc.args, code: run(args, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})}
				p.stdout, p.stderr = out.String(), errOut.String()
			} else {
				p = runDeskctlProcess(t, db, tc.args...)
			}
			if after := fileSum(t, db); after != before {
				t.Errorf("the database file changed")
			}
			if p.code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr: %.600s", p.code, tc.code, p.stderr)
			}
			if tc.code == ExitOK {
				if p.stderr != "" {
					t.Errorf("stderr: %q", p.stderr)
				}
				return
			}
			if p.stdout != "" {
				t.Errorf("printed on stdout: %.300q", p.stdout)
			}
			checkErrorLines(t, p.stderr, tc.want, tc.findings)
		})
	}
}

// checkErrorLines asserts deskctl's error contract on stderr: exactly one
// "deskctl: " line, saying want, and otherwise only its hint, the usage
// pointer and (for policies) findings that start with findings.
func checkErrorLines(t *testing.T, stderr, want, findings string) {
	t.Helper()
	if i := strings.IndexFunc(stderr, helpdesk.UnsafeRune); i >= 0 {
		t.Errorf("stderr echoes a control or bidirectional character raw at byte %d: %.300q", i, stderr)
	}
	errorLines, findingLines := 0, 0
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "deskctl: "):
			errorLines++
			if !strings.Contains(line, want) {
				t.Errorf("error line %q does not say %q", line, want)
			}
		case strings.HasPrefix(line, "hint: "), strings.HasPrefix(line, "Run 'deskctl "):
		case findings != "" && strings.HasPrefix(line, findings):
			findingLines++
		default:
			t.Errorf("unexpected stderr line %.200q", line)
		}
	}
	if errorLines != 1 {
		t.Errorf("%d error lines, want exactly one:\n%.600s", errorLines, stderr)
	}
	if findings != "" && findingLines == 0 {
		t.Errorf("no finding starting with %q:\n%.600s", findings, stderr)
	}
}
