package cli

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/api"
	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/client"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// teamFixture is one server over a database set up with the tour's people.
type teamFixture struct {
	h      *teamHost
	srv    *teamServer
	tokens map[string]string
}

func newTeamFixture(t *testing.T, serverEnv ...string) *teamFixture {
	t.Helper()
	h := newTeamHost(t)
	db := filepath.Join(h.dir, "team.db")
	tokens := h.setupTeam(t, db)
	return &teamFixture{h: h, srv: h.startTeamServer(t, "team", db, serverEnv...), tokens: tokens}
}

func (f *teamFixture) https(token string, extra ...string) caller {
	env := []string{"SSL_CERT_FILE=" + f.srv.ca}
	if token != "" {
		env = append(env, "DESKCTL_TOKEN="+token)
	}
	return caller{args: []string{"--server", f.srv.https}, env: append(env, extra...)}
}

func (f *teamFixture) socketAs(t *testing.T, osLogin string) caller {
	return caller{args: []string{"--server", "unix://" + f.srv.socket}, cred: credOf(t, osLogin)}
}

// refused runs a command that must fail with code and print each fragment.
func (f *teamFixture) refused(t *testing.T, c caller, code int, args []string, fragments ...string) deskProc {
	t.Helper()
	p := f.h.run(t, c, "", args...)
	if p.code != code {
		t.Errorf("want exit %d, got %v", code, p)
	}
	for _, s := range fragments {
		if !strings.Contains(p.stderr, s) {
			t.Errorf("stderr lacks %q: %v", s, p)
		}
	}
	return p
}

// editTokens changes the token records directly in the file (the server
// holds no lock between requests).
func editTokens(t *testing.T, db string, fn func(*helpdesk.APIToken)) {
	t.Helper()
	d, err := store.Open(store.Options{Path: db, LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.Update(func(tx *store.Tx) error {
		ts, err := tx.APITokens("")
		for _, tok := range ts {
			fn(&tok)
			if err := tx.PutAPIToken(tok); err != nil {
				return err
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTeamAuthenticationRefusals(t *testing.T) {
	f := newTeamFixture(t)
	whoami := []string{"auth", "status"}

	// No token at all.
	f.refused(t, f.https(""), ExitForbidden, whoami,
		"deskctl: not authenticated: no token was sent", "hint: run `deskctl login --server URL`, or set DESKCTL_TOKEN")
	// Malformed, and a well-formed token this server never issued.
	f.refused(t, f.https("dsk_short"), ExitForbidden, whoami, "not authenticated: the token is malformed", "deskctl token create")
	other, _, _ := helpdesk.NewAPIToken()
	f.refused(t, f.https(other), ExitForbidden, whoami, "not authenticated: the token is not valid on this server")
	// A token of another server (its own database) is just as unknown.
	otherDB := filepath.Join(f.h.dir, "other.db")
	otherTokens := f.h.setupTeam(t, otherDB)
	f.refused(t, f.https(otherTokens["bob"]), ExitForbidden, whoami, "not authenticated: the token is not valid on this server")

	// A non-administrator may not act as someone else, by token or socket.
	f.refused(t, f.https(f.tokens["bob"]), ExitForbidden, append([]string{"--as", "carol"}, whoami...),
		"bob may not act as carol: only an administrator can use --as against a server", "hint: drop --as to act as yourself (bob)")
	f.refused(t, f.socketAs(t, "daemon"), ExitForbidden, []string{"--as", "alice", "group", "add", "x"}, "bob may not act as alice")
	// An administrator may; the record says who really acted.
	f.h.must(t, f.https(f.tokens["alice"]), "--as", "bob", "ticket", "create", "--subject", "on bob's behalf")
	audit := f.h.must(t, f.https(f.tokens["alice"]), "audit", "log", "--subject", "ticket:1", "-o", "json")
	for _, want := range []string{`"actor": "bob"`, `"real_actor": "alice"`, `"token": "cli"`, `"via": "token"`} {
		if !strings.Contains(audit, want) {
			t.Errorf("impersonated record lacks %s:\n%s", want, audit)
		}
	}
	if out := f.h.must(t, f.https(f.tokens["alice"]), "audit", "log", "--subject", "ticket:1"); !strings.Contains(out, "alice as bob") {
		t.Errorf("audit log table does not say who acted for whom:\n%s", out)
	}

	// A uid the server maps to no deskctl user.
	f.refused(t, f.socketAs(t, "nobody"), ExitForbidden, whoami,
		"deskctl: not authenticated: OS user nobody has no deskctl user on this server", "--os-login nobody")

	// Plain http to another host never carries a token; loopback may.
	f.refused(t, caller{args: []string{"--server", "http://help.example.com"}, env: []string{"DESKCTL_TOKEN=" + f.tokens["bob"]}},
		ExitUsage, whoami, "refusing to send a token over plain http to help.example.com", "use https or a unix socket")

	// Local-only commands are refused remotely, with the way out.
	f.refused(t, f.https(f.tokens["alice"]), ExitUsage, []string{"db", "backup", filepath.Join(f.h.dir, "b.db")},
		"acts on the database file itself and cannot run against a server", "run it on the server host")

	// Expired, then revoked.
	editTokens(t, f.srv.db, func(tok *helpdesk.APIToken) {
		if tok.User == "carol" {
			tok.Expires = time.Now().Add(-time.Minute)
		}
	})
	f.refused(t, f.https(f.tokens["carol"]), ExitForbidden, whoami, "not authenticated: token cli of carol expired at ")
	f.h.must(t, f.https(f.tokens["dave"]), "token", "revoke", "cli", "--yes")
	f.refused(t, f.https(f.tokens["dave"]), ExitForbidden, whoami, "not authenticated: the token is not valid on this server")

	// login checks a token, saves it for the server in a private config
	// file, and logout forgets it.
	bobHTTPS := f.https("")
	if p := f.h.run(t, bobHTTPS, "not-a-token\n", "login"); p.code != ExitUsage || strings.Contains(p.stderr, "not-a-token") {
		t.Errorf("login with a malformed token: %v", p)
	}
	if p := f.h.run(t, bobHTTPS, other+"\n", "login"); p.code != ExitForbidden || strings.Contains(p.stderr, other) {
		t.Errorf("login with an unknown token: %v", p)
	}
	if p := f.h.run(t, bobHTTPS, f.tokens["bob"]+"\n", "login"); p.code != ExitOK || !strings.Contains(p.stderr, "logged in to "+f.srv.https+" as bob (token cli)") {
		t.Errorf("login: %v", p)
	}
	cfg := filepath.Join(f.h.dir, "home", "config", "deskctl", "config.yaml")
	if st, err := os.Stat(cfg); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("config file after login: %v, %v", st, err)
	}
	if out := f.h.must(t, bobHTTPS, "auth", "status", "-o", "json"); !strings.Contains(out, `"user": "bob"`) {
		t.Errorf("auth status with the saved token: %s", out)
	}
	if out := f.h.must(t, bobHTTPS, "config", "show"); strings.Contains(out, f.tokens["bob"]) || !strings.Contains(out, "********") {
		t.Errorf("config show reveals the token:\n%s", out)
	}
	f.h.must(t, bobHTTPS, "logout")
	f.refused(t, bobHTTPS, ExitForbidden, whoami, "no token was sent")
	f.refused(t, bobHTTPS, ExitNotFound, []string{"logout"}, "no token is saved for "+f.srv.https)

	// Each failure was audited, naming the client, never the token.
	audit = f.h.must(t, caller{env: []string{"DESKCTL_DB=" + f.srv.db, "DESKCTL_USER=alice"}}, "audit", "log", "-o", "json")
	if n := strings.Count(audit, `"command": "auth-failed"`); n < 6 {
		t.Errorf("%d auth-failed records, want one per refused authentication", n)
	}
	if !strings.Contains(audit, `"subject": "client:uid:65534"`) || !strings.Contains(audit, `"subject": "client:127.0.0.1"`) {
		t.Errorf("auth-failed records do not name the clients:\n%s", audit)
	}
	checkNoSecret(t, f, audit)
}

// checkNoSecret fails when any token secret shows in the audit log, the
// server's log or the database file.
func checkNoSecret(t *testing.T, f *teamFixture, audit string) {
	t.Helper()
	raw, err := os.ReadFile(f.srv.db)
	if err != nil {
		t.Fatal(err)
	}
	log := f.srv.stop(t)
	for who, tok := range f.tokens {
		if strings.Contains(audit, tok) || strings.Contains(log, tok) || strings.Contains(string(raw), tok) {
			t.Errorf("%s's token shows in the audit log, the server log or the database", who)
		}
	}
}

func tlsTo(t testing.TB, caFile string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool}
}

// Guessing tokens gets nowhere: none is accepted and the client is soon
// refused outright.
func TestTeamRandomTokensAreRateLimited(t *testing.T) {
	f := newTeamFixture(t)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsTo(t, f.srv.ca), MaxIdleConnsPerHost: 16}}
	const guesses = 10_000
	codes := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < guesses/16; i++ {
				tok, _, _ := helpdesk.NewAPIToken()
				req, _ := http.NewRequest(http.MethodPost, f.srv.https+api.Prefix+"WhoAmI", strings.NewReader(`{"args":[]}`))
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := hc.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				mu.Lock()
				codes[res.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if codes[http.StatusOK] != 0 {
		t.Fatalf("%d random tokens were accepted", codes[http.StatusOK])
	}
	// Requests already past the check when the bucket ran dry still fail
	// normally: at most one per concurrent client beyond the burst.
	if tried := codes[http.StatusUnauthorized]; tried > api.AuthFailures.Burst+16+2 || codes[http.StatusTooManyRequests] == 0 {
		t.Errorf("responses %v: the rate limit did not stop the guessing", codes)
	}
	// The limit is per client: a valid token from the socket still works.
	if out := f.h.must(t, f.socketAs(t, "daemon"), "auth", "status", "-o", "json"); !strings.Contains(out, `"user": "bob"`) {
		t.Errorf("socket caller after the flood: %s", out)
	}
	// Only the failures before the limit are audited: a flood cannot fill the log.
	audit := f.h.must(t, caller{env: []string{"DESKCTL_DB=" + f.srv.db, "DESKCTL_USER=alice"}}, "audit", "log", "-o", "json")
	if n := strings.Count(audit, "auth-failed"); n == 0 || n != codes[http.StatusUnauthorized] {
		t.Errorf("%d auth-failed records for %d guesses", n, guesses)
	}
	t.Logf("responses: %v", codes)
}

// Many remote clients and CLI processes on the socket create tickets at
// once: every create lands once, with its own number, and the chain holds.
//
// The server takes its requests to the file one at a time, in turn, so they
// never race each other for the file's lock: even with a lock timeout far
// below what 16 writers polling for the lock would need, none is busy.
func TestTeamConcurrentCreatesThroughTheServer(t *testing.T) {
	f := newTeamFixture(t, "DESKCTL_LOCK_TIMEOUT=300ms")
	const clients, perClient, procs, perProc = 16, 50, 4, 5
	var wg sync.WaitGroup
	errc := make(chan error, clients*perClient+procs*perProc)
	var mu sync.Mutex
	numbers := map[int]int{}
	landed := func(n int) {
		mu.Lock()
		numbers[n]++
		mu.Unlock()
	}
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := client.New(client.Options{Server: f.srv.https, Token: f.tokens["carol"], TLS: tlsTo(t, f.srv.ca)})
			if err != nil {
				errc <- err
				return
			}
			for j := 0; j < perClient; j++ {
				tk, err := c.CreateTicket(app.CreateTicketInput{Subject: fmt.Sprintf("client %d #%d", i, j)})
				if err != nil {
					errc <- err
				}
				landed(tk.Number)
			}
		}()
	}
	for i := 0; i < procs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < perProc; j++ {
				p := f.h.run(t, f.socketAs(t, "daemon"), "", "ticket", "create", "--subject", fmt.Sprintf("cli %d #%d", i, j), "-o", "json")
				var tk app.TicketView
				if p.code != 0 || json.Unmarshal([]byte(p.stdout), &tk) != nil {
					errc <- fmt.Errorf("%v", p)
				}
				landed(tk.Number)
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	local := caller{env: []string{"DESKCTL_DB=" + f.srv.db, "DESKCTL_USER=alice"}}
	var st struct {
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal([]byte(f.h.must(t, local, "db", "stats", "-o", "json")), &st); err != nil {
		t.Fatal(err)
	}
	want := clients*perClient + procs*perProc
	delete(numbers, 0) // a failed create, reported above
	if st.Counts["tickets"] != want || len(numbers) != want {
		t.Fatalf("%d tickets stored, %d distinct numbers handed out, want %d", st.Counts["tickets"], len(numbers), want)
	}
	for n, times := range numbers {
		if times != 1 {
			t.Errorf("ticket number %d handed out %d times", n, times)
		}
	}
	if p := f.h.run(t, local, "", "audit", "verify"); p.code != 0 {
		t.Fatalf("audit chain after the run: %v", p)
	}
	if p := f.h.run(t, local, "", "db", "check"); p.code != 0 {
		t.Fatalf("db check after the run: %v", p)
	}
}
