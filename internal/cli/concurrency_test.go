package cli

// Several real deskctl processes against one database file: the bbolt file
// lock must make them take turns, so no write is lost and the audit chain
// stays intact. The processes are this test binary started under the name
// deskctl, which TestMain dispatches to Main exactly as cmd/deskctl does.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/store"
	bolt "go.etcd.io/bbolt"
)

// deskProc is one finished deskctl process.
type deskProc struct {
	args           []string
	stdout, stderr string
	code           int
}

func (p deskProc) String() string {
	return fmt.Sprintf("deskctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(p.args, " "), p.code, p.stdout, p.stderr)
}

// runDeskctlProcess runs deskctl in a child process against db with a
// clean environment: nothing from the caller's DESKCTL_* settings or login.
func runDeskctlProcess(t *testing.T, db string, args ...string) deskProc {
	t.Helper()
	return runCmd(t, deskctlCommand(t, db, nil, args...), args)
}

// deskctlEnv is the environment of a deskctl child process against db:
// the caller's, less its DESKCTL_* settings, login and configuration.
func deskctlEnv(db string) []string {
	var env []string
	home := filepath.Join(filepath.Dir(db), "home")
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "DESKCTL_") || name == "USER" || name == "LOGNAME" || name == "HOME" ||
			strings.HasPrefix(name, "XDG_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "DESKCTL_DB="+db, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_DATA_HOME="+filepath.Join(home, "data"), "NO_COLOR=1")
}

// runCmd runs a prepared deskctl process and collects its output and exit code.
func runCmd(t testing.TB, cmd *exec.Cmd, args []string) deskProc {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	p := deskProc{args: args, stdout: out.String(), stderr: errOut.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		p.code = exitErr.ExitCode()
	default:
		t.Fatalf("deskctl %s: %v", strings.Join(args, " "), err)
	}
	return p
}

func mustDeskctlProcess(t *testing.T, db string, args ...string) string {
	t.Helper()
	p := runDeskctlProcess(t, db, args...)
	if p.code != ExitOK {
		t.Fatal(p)
	}
	return p.stdout
}

func TestConcurrentProcessesLoseNoWrite(t *testing.T) {
	const (
		writers   = 8
		perWriter = 25
		readers   = 2
	)
	db := filepath.Join(t.TempDir(), "desk.db")
	mustDeskctlProcess(t, db, "init", "--admin", "alice", "--email", "alice@example.com")

	// Even writers add users, odd ones groups; readers list users meanwhile.
	// Every process must succeed: a writer waits for the lock instead of failing.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures []deskProc
		done     = make(chan struct{})
	)
	fail := func(p deskProc) {
		mu.Lock()
		failures = append(failures, p)
		mu.Unlock()
	}
	wantUsers := map[string]bool{"alice": true}
	wantGroups := map[string]bool{"everyone": true}
	for w := range writers {
		for i := range perWriter {
			name := fmt.Sprintf("w%d-n%02d", w, i)
			if w%2 == 0 {
				wantUsers[name] = true
			} else {
				wantGroups[name] = true
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				name := fmt.Sprintf("w%d-n%02d", w, i)
				args := []string{"--as", "alice", "--lock-timeout", "30s", "group", "add", name}
				if w%2 == 0 {
					args = []string{"--as", "alice", "--lock-timeout", "30s", "user", "add", name, "--email", name + "@example.com"}
				}
				if p := runDeskctlProcess(t, db, args...); p.code != ExitOK {
					fail(p)
				}
			}
		}()
	}
	var readerWG sync.WaitGroup
	reads := make([]int, readers)
	for r := range readers {
		readerWG.Add(1)
		go func() {
			defer readerWG.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				p := runDeskctlProcess(t, db, "--lock-timeout", "30s", "user", "list", "-o", "json")
				var users []struct{ Login string }
				if p.code != ExitOK || json.Unmarshal([]byte(p.stdout), &users) != nil || len(users) == 0 {
					fail(p)
				}
				reads[r]++
			}
		}()
	}
	wg.Wait()
	close(done)
	readerWG.Wait()
	for _, p := range failures {
		t.Error(p)
	}
	if t.Failed() {
		return
	}
	for r, n := range reads {
		if n == 0 {
			t.Errorf("reader %d never completed a read", r)
		}
	}

	var users []struct {
		Login  string `json:"login"`
		Active bool   `json:"active"`
	}
	if err := json.Unmarshal([]byte(mustDeskctlProcess(t, db, "user", "list", "-o", "json")), &users); err != nil {
		t.Fatal(err)
	}
	gotUsers := map[string]bool{}
	for _, u := range users {
		gotUsers[u.Login] = true
	}
	assertSameNames(t, "users", gotUsers, wantUsers)

	var groups []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(mustDeskctlProcess(t, db, "group", "list", "-o", "json")), &groups); err != nil {
		t.Fatal(err)
	}
	gotGroups := map[string]bool{}
	for _, g := range groups {
		gotGroups[g.Name] = true
	}
	assertSameNames(t, "groups", gotGroups, wantGroups)

	// One audit record per change plus init's, with gap-free sequence numbers.
	wantRecords := 1 + writers*perWriter
	var verify struct {
		Records int  `json:"records"`
		OK      bool `json:"ok"`
	}
	if err := json.Unmarshal([]byte(mustDeskctlProcess(t, db, "audit", "verify", "-o", "json")), &verify); err != nil {
		t.Fatal(err)
	}
	if !verify.OK || verify.Records != wantRecords {
		t.Errorf("audit verify: ok=%v records=%d, want ok with %d records", verify.OK, verify.Records, wantRecords)
	}
	var log []struct {
		Seq     uint64 `json:"seq"`
		Actor   string `json:"actor"`
		Subject string `json:"subject"`
	}
	if err := json.Unmarshal([]byte(mustDeskctlProcess(t, db, "--as", "alice", "audit", "log", "-o", "json")), &log); err != nil {
		t.Fatal(err)
	}
	if len(log) != wantRecords {
		t.Fatalf("audit log has %d records, want %d", len(log), wantRecords)
	}
	subjects := map[string]bool{}
	for i, r := range log {
		if r.Seq != uint64(i+1) {
			t.Errorf("audit record %d has sequence %d", i+1, r.Seq)
		}
		if r.Actor != "alice" {
			t.Errorf("audit record %d names actor %q", r.Seq, r.Actor)
		}
		subjects[r.Subject] = true
	}
	for name := range wantUsers {
		if name != "alice" && !subjects["user:"+name] {
			t.Errorf("no audit record for user:%s", name)
		}
	}
	for name := range wantGroups {
		if name != "everyone" && !subjects["group:"+name] {
			t.Errorf("no audit record for group:%s", name)
		}
	}
	for _, p := range checkDatabase(db, true) {
		t.Errorf("database check: %s", p)
	}
}

func assertSameNames(t *testing.T, what string, got, want map[string]bool) {
	t.Helper()
	for n := range want {
		if !got[n] {
			t.Errorf("%s: %s is missing", what, n)
		}
	}
	for n := range got {
		if !want[n] {
			t.Errorf("%s: unexpected %s", what, n)
		}
	}
}

// TestLockTimeout holds the database open for writing in this process, as a
// long-running deskctl would, and checks that commands give up with the busy
// exit code instead of waiting forever, then succeed once it is released.
func TestLockTimeout(t *testing.T) {
	db := filepath.Join(t.TempDir(), "desk.db")
	mustDeskctlProcess(t, db, "init", "--admin", "alice", "--email", "alice@example.com")
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}

	holder, err := bolt.Open(db, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	released := false
	defer func() {
		if !released {
			holder.Close()
		}
	}()

	for _, args := range [][]string{
		{"--as", "alice", "--lock-timeout", "200ms", "user", "add", "bob", "--email", "bob@example.com"},
		{"--lock-timeout", "200ms", "user", "list"},
		{"--lock-timeout", "200ms", "audit", "verify"},
	} {
		start := time.Now()
		p := runDeskctlProcess(t, db, args...)
		// Which timeout was used, not how fast: giving up after 200ms takes
		// far less than the 5s default, whatever the machine's load.
		if elapsed := time.Since(start); elapsed >= 3*time.Second {
			t.Errorf("deskctl %s gave up after %v; --lock-timeout 200ms was not used (the default is %v)",
				strings.Join(args, " "), elapsed.Round(time.Millisecond), store.DefaultLockTimeout)
		}
		if p.code != ExitBusy {
			t.Errorf("while the database is held: %v\nwant exit %d", p, ExitBusy)
			continue
		}
		for _, want := range []string{"another deskctl process holds the database " + db, "--lock-timeout (now 200ms)"} {
			if !strings.Contains(p.stderr, want) {
				t.Errorf("deskctl %s: stderr lacks %q:\n%s", strings.Join(args, " "), want, p.stderr)
			}
		}
		if p.stdout != "" {
			t.Errorf("deskctl %s: printed %q on stdout", strings.Join(args, " "), p.stdout)
		}
	}

	if err := holder.Close(); err != nil {
		t.Fatal(err)
	}
	released = true
	after, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the database changed while every command was refused")
	}
	mustDeskctlProcess(t, db, "--as", "alice", "--lock-timeout", "200ms", "user", "add", "bob", "--email", "bob@example.com")
	out := mustDeskctlProcess(t, db, "user", "show", "bob", "-o", "json")
	if !strings.Contains(out, `"login": "bob"`) {
		t.Errorf("bob was not added after the lock was released:\n%s", out)
	}
}
