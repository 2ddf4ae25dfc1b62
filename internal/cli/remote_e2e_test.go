package cli

// Team mode end to end: real `deskctl serve` processes, a real Unix socket
// whose callers run under other uids, real TLS with a CA made here, and the
// README tour run three ways (local file, socket, HTTPS with tokens) with
// the outputs compared. The tests run as root (they change uid for the
// socket's callers) and skip otherwise.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// teamUsers are the people of the tour and the OS logins the socket knows
// them by.
var teamUsers = []struct{ login, os string }{
	{"alice", "root"}, {"bob", "daemon"}, {"carol", "bin"}, {"dave", "sys"},
}

// teamHost is a directory every uid can read, holding a copy of the test
// binary (the deskctl the callers run), TLS files and the server's socket.
type teamHost struct {
	dir, bin string
}

func newTeamHost(t testing.TB) *teamHost {
	t.Helper()
	// CI runs as root on Debian, where these users exist: there a missing
	// precondition is a failure, not a skip.
	skip := t.Skipf
	if os.Getenv("CI") == "true" {
		skip = t.Fatalf
	}
	if os.Geteuid() != 0 {
		skip("needs root: the socket's callers run under other uids")
	}
	for _, u := range teamUsers {
		if _, err := user.Lookup(u.os); err != nil {
			skip("no OS user %s: %v", u.os, err)
		}
	}
	dir := t.TempDir()
	for d := dir; d != filepath.Dir(os.TempDir()) && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if d == os.TempDir() {
			break
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	h := &teamHost{dir: dir, bin: filepath.Join(dir, "deskctl")}
	if err := os.WriteFile(h.bin, raw, 0o755); err != nil {
		t.Fatal(err)
	}
	return h
}

// caller is how one person reaches deskctl in a mode.
type caller struct {
	args []string // before the command: --as or --server
	env  []string
	cred *syscall.Credential
}

// run starts deskctl as c and returns what it printed and its exit code.
func (h *teamHost) run(t testing.TB, c caller, stdin string, args ...string) deskProc {
	t.Helper()
	cmd := exec.Command(h.bin, append(append([]string{}, c.args...), args...)...)
	cmd.Args[0] = "deskctl"
	home := filepath.Join(h.dir, "home")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "NO_COLOR=1", "TZ=UTC"}
	cmd.Env = append(cmd.Env, c.env...)
	cmd.Dir = h.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	cmd.Stdin = strings.NewReader(stdin)
	return runCmd(t, cmd, args)
}

func (h *teamHost) must(t testing.TB, c caller, args ...string) string {
	t.Helper()
	p := h.run(t, c, "", args...)
	if p.code != ExitOK {
		t.Fatal(p)
	}
	return p.stdout
}

func credOf(t testing.TB, osLogin string) *syscall.Credential {
	t.Helper()
	u, err := user.Lookup(osLogin)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// writeTestCA makes a CA and a certificate for 127.0.0.1 signed by it, and
// returns the CA file (for SSL_CERT_FILE) and the server's pair.
func writeTestCA(t testing.TB, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "deskctl test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", der), write("key.pem", "EC PRIVATE KEY", keyDER)
}

// teamServer is one `deskctl serve` over its own database.
type teamServer struct {
	ca                string
	db, socket, https string
	proc              *bgDeskctl
}

// startTeamServer serves db on a socket every uid may open and on HTTPS.
func (h *teamHost) startTeamServer(t testing.TB, name, db string, env ...string) *teamServer {
	t.Helper()
	tlsDir := filepath.Join(h.dir, name+"-tls")
	if err := os.Mkdir(tlsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ca, cert, key := writeTestCA(t, tlsDir)
	s := &teamServer{ca: ca, db: db, socket: filepath.Join(h.dir, name+".sock")}
	addr := freeAddr(t)
	s.https = "https://" + addr
	s.proc = startDeskctl(t, db, env, "serve", "--listen", addr, "--socket", s.socket, "--socket-mode", "0666",
		"--tls-cert", cert, "--tls-key", key)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err1 := net.Dial("unix", s.socket)
		d, err2 := net.Dial("tcp", addr)
		if err1 == nil && err2 == nil {
			c.Close()
			d.Close()
			break
		}
		if c != nil {
			c.Close()
		}
		if d != nil {
			d.Close()
		}
		if time.Now().After(deadline) || s.proc.exited() {
			<-s.proc.done
			t.Fatalf("serve did not start: %v %v\n%s", err1, err2, s.proc.errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// stop ends the server and returns its log.
func (s *teamServer) stop(t testing.TB) string {
	t.Helper()
	s.proc.cmd.Process.Signal(syscall.SIGTERM)
	<-s.proc.done
	return s.proc.errOut.String()
}

// setupTeam creates the tour's people on db, directly on the file as the
// server host's administrator would, with a token each; it returns the tokens.
func (h *teamHost) setupTeam(t *testing.T, db string) map[string]string {
	t.Helper()
	local := caller{env: []string{"DESKCTL_DB=" + db, "DESKCTL_USER=alice"}}
	h.must(t, caller{env: []string{"DESKCTL_DB=" + db}}, "init", "--admin", "alice", "--email", "alice@example.com", "--name", "Alice Admin")
	h.must(t, local, "user", "update", "alice", "--os-login", "root")
	tokens := map[string]string{}
	for _, u := range teamUsers {
		if u.login != "alice" {
			h.must(t, local, "user", "add", u.login, "--email", u.login+"@example.com", "--os-login", u.os)
		}
		tokens[u.login] = strings.TrimSpace(h.must(t, local, "token", "create", "--user", u.login, "--name", "cli"))
	}
	h.must(t, local, "access", "grant", "admin", "--to", "user:dave")
	return tokens
}

// modeCallers builds, for one mode, how each person runs deskctl.
type mode struct {
	name string
	as   func(login string) caller
}

func localMode(db string) mode {
	return mode{"local file", func(login string) caller {
		return caller{args: []string{"--as", login}, env: []string{"DESKCTL_DB=" + db}}
	}}
}

func socketMode(t *testing.T, s *teamServer) mode {
	return mode{"unix socket", func(login string) caller {
		for _, u := range teamUsers {
			if u.login == login {
				return caller{args: []string{"--server", "unix://" + s.socket}, cred: credOf(t, u.os)}
			}
		}
		t.Fatalf("no OS login for %s", login)
		return caller{}
	}}
}

func httpsMode(s *teamServer, tokens map[string]string) mode {
	return mode{"https with a token", func(login string) caller {
		return caller{args: []string{"--server", s.https}, env: []string{"DESKCTL_TOKEN=" + tokens[login], "SSL_CERT_FILE=" + s.ca}}
	}}
}

// tourStep is one command of the README tour and who runs it.
type tourStep struct {
	who  string
	args []string
}

func step(who string, args ...string) tourStep { return tourStep{who, args} }

func tour(policyFile, importFile, descFile string) []tourStep {
	return []tourStep{
		// The admin's setup.
		step("alice", "group", "add", "tier1"),
		step("alice", "group", "add", "support", "--description", "first line"),
		step("alice", "group", "add-member", "tier1", "bob"),
		step("alice", "group", "add-member", "support", "group:tier1"),
		step("alice", "resource", "add", "network"),
		step("alice", "resource", "add", "network-wifi", "--parent", "network"),
		step("alice", "resource", "add-member", "network", "bob", "--access", "write"),
		step("alice", "access", "grant", "start", "wait", "close", "reply", "note", "assign", "request-approval", "--to", "group:support"),
		step("alice", "access", "grant", "dispatcher", "--to", "user:alice"),
		step("alice", "settings", "set", "approvals.enabled", "true"),
		step("alice", "user", "list", "-o", "yaml"),
		step("alice", "group", "show", "support", "-o", "json"),
		step("alice", "resource", "list", "-o", "markdown"),
		// Requests come in.
		step("carol", "ticket", "create", "--subject", "Wifi down on floor 2", "--description-file", descFile),
		step("alice", "ticket", "create", "--subject", "AP replacement", "--requester", "carol", "--resource", "network", "--priority", "high"),
		// The technician's day.
		step("bob", "ticket", "list", "--state", "new", "--resource", "network"),
		step("bob", "ticket", "show", "2"),
		step("bob", "ticket", "start", "2"),
		step("bob", "ticket", "note", "2", "--text", "AP firmware is old"),
		step("bob", "approval", "request", "2", "--approver", "alice", "--note", "new access point, 240 EUR"),
		step("alice", "approval", "approve", "2", "--comment", "go ahead"),
		step("bob", "ticket", "close", "2", "--text", "replaced the AP"),
		step("bob", "ticket", "close", "2", "--text", "again"),
		step("bob", "ticket", "log", "2", "-o", "wide"),
		step("carol", "ticket", "list", "-o", "csv"),
		step("carol", "ticket", "show", "1", "-o", "yaml"),
		step("bob", "group", "add", "rogue"),
		step("bob", "ticket", "show", "99"),
		step("bob", "approval", "list", "-o", "json"),
		// The operator auditing grants.
		step("dave", "access", "explain", "bob", "--ticket", "2"),
		step("dave", "access", "who-can", "close"),
		step("dave", "access", "can", "carol", "close", "--ticket", "2"),
		step("dave", "access", "matrix", "-o", "csv"),
		step("dave", "access", "diff", "bob", "carol"),
		step("dave", "audit", "log", "--subject", "group:support"),
		step("dave", "audit", "log", "--actor", "bob", "-o", "json"),
		step("dave", "audit", "verify"),
		step("dave", "db", "stats", "-o", "json"),
		step("dave", "mail", "queue", "--all"),
		// Policy as code and moving in.
		step("alice", "policy", "export", "-o", "yaml"),
		step("alice", "policy", "plan", policyFile, "-o", "json"),
		step("alice", "policy", "apply", policyFile, "--yes"),
		step("alice", "policy", "plan", policyFile),
		step("alice", "policy", "plan", "missing.yaml"),
		step("alice", "ticket", "import", importFile),
		step("alice", "ticket", "list", "--limit", "3"),
		step("alice", "settings", "list", "-o", "wide"),
		step("bob", "__complete", "ticket", "show", ""),
		step("alice", "__complete", "group", "show", "s"),
	}
}

var (
	rfc3339   = regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?`)
	sha256Hex = regexp.MustCompile(`[0-9a-f]{64}`)
	channel   = regexp.MustCompile(`(?m)^\s*"(via|os_user|token|real_actor)": "[^"]*",?\n`)
)

// normalised masks what differs between any two runs: times, the hashes
// that cover them, and the channel fields of audit records (which say how
// the change arrived, so they must differ).
func normalised(s string) string {
	s = channel.ReplaceAllString(s, "")
	return sha256Hex.ReplaceAllString(rfc3339.ReplaceAllString(s, "TIME"), "HASH")
}

func TestTeamTourSameOutputLocallyOnSocketAndOverHTTPS(t *testing.T) {
	h := newTeamHost(t)
	policyFile := filepath.Join(h.dir, "team.yaml")
	importFile := filepath.Join(h.dir, "old.jsonl")
	descFile := filepath.Join(h.dir, "desc.txt")
	for name, body := range map[string]string{
		policyFile: "users:\n  - login: alice\n    name: Alice Admin\n    email: alice@example.com\n    rights: [admin]\n" +
			"  - login: carol\n    name: Carol Requester\n    email: carol@example.com\n" +
			"groups:\n  - name: tier2\n    description: second line\n    members: [user:carol]\n",
		importFile: `{"id":"OLD-1","subject":"legacy printer","requester":"carol"}` + "\n" + `{"id":"OLD-2","subject":"legacy vpn","requester":"bob"}` + "\n",
		descFile:   "Since this morning.\nNo one on floor 2 can connect.\n",
	} {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	steps := tour(policyFile, importFile, descFile)

	dbs := map[string]string{}
	keys := []string{"local", "socket", "https"}
	for _, m := range keys {
		dbs[m] = filepath.Join(h.dir, m+".db")
	}
	// Every mode sets up the same people with a token each, so the audit
	// logs match; only the HTTPS run uses the tokens.
	h.setupTeam(t, dbs["local"])
	h.setupTeam(t, dbs["socket"])
	httpsTokens := h.setupTeam(t, dbs["https"])
	sockSrv := h.startTeamServer(t, "socket", dbs["socket"])
	httpsSrv := h.startTeamServer(t, "https", dbs["https"])

	modes := []mode{localMode(dbs["local"]), socketMode(t, sockSrv), httpsMode(httpsSrv, httpsTokens)}
	outputs := make([][]deskProc, len(modes))
	for i, m := range modes {
		for _, s := range steps {
			outputs[i] = append(outputs[i], h.run(t, m.as(s.who), "", s.args...))
		}
	}
	// Each mode has its own file; db stats names it.
	for i := range outputs {
		for j := range outputs[i] {
			p := &outputs[i][j]
			p.stdout = normalised(strings.ReplaceAll(p.stdout, dbs[keys[i]], "DESK.db"))
			p.stderr = normalised(strings.ReplaceAll(p.stderr, dbs[keys[i]], "DESK.db"))
		}
	}
	for j, s := range steps {
		want := outputs[0][j]
		if want.code != ExitOK && !expectedFailure(s) {
			t.Errorf("%s: deskctl %s failed on the local file:\n%v", s.who, strings.Join(s.args, " "), want)
		}
		for i := 1; i < len(modes); i++ {
			got := outputs[i][j]
			if got.code != want.code || got.stdout != want.stdout || got.stderr != want.stderr {
				t.Errorf("%s: deskctl %s differs over the %s:\nlocal file: exit %d\n%s%s\n%s: exit %d\n%s%s", s.who, strings.Join(s.args, " "),
					modes[i].name, want.code, want.stdout, want.stderr, modes[i].name, got.code, got.stdout, got.stderr)
			}
		}
	}
	for _, s := range []*teamServer{sockSrv, httpsSrv} {
		log := s.stop(t)
		for _, tok := range httpsTokens {
			if strings.Contains(log, tok) {
				t.Errorf("the server log shows a token:\n%s", log)
			}
		}
	}
	// The audit records say how each change arrived.
	audit := h.must(t, localMode(dbs["https"]).as("alice"), "audit", "log", "--subject", "group:tier1", "-o", "json")
	if !strings.Contains(audit, `"via": "token"`) || !strings.Contains(audit, `"token": "cli"`) {
		t.Errorf("audit record over https lacks its channel:\n%s", audit)
	}
	audit = h.must(t, localMode(dbs["socket"]).as("alice"), "audit", "log", "--actor", "bob", "--limit", "1", "-o", "json")
	if !strings.Contains(audit, `"via": "socket"`) || !strings.Contains(audit, `"os_user": "daemon"`) {
		t.Errorf("audit record over the socket lacks its channel:\n%s", audit)
	}
}

// expectedFailure lists the tour's deliberate refusals.
func expectedFailure(s tourStep) bool {
	a := strings.Join(s.args, " ")
	for _, f := range []string{"close 2 --text again", "group add rogue", "ticket show 99",
		"plan missing.yaml", "access can carol"} {
		if strings.Contains(a, f) {
			return true
		}
	}
	return false
}
