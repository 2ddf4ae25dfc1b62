package pgtest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Bouncer is a PgBouncer in transaction pooling mode in front of a
// cluster: each client transaction runs on whichever server connection is
// free, so nothing may outlive a transaction on the server side.
type Bouncer struct {
	Host string
	Port int
	// ServerConns is how many server connections it keeps at most per
	// database, fewer than the clients the tests start.
	ServerConns int
}

// StartBouncer starts a PgBouncer of the caller's own in front of c,
// stopped at cleanup. Without the pgbouncer binary t skips (fails under
// CI=true: apt-get install -y pgbouncer).
func StartBouncer(t testing.TB, c *Cluster) *Bouncer {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/pgbouncer"); serr != nil {
			unavailableTool(t, "pgbouncer", "no pgbouncer binary on PATH or in /usr/sbin")
		}
		bin = "/usr/sbin/pgbouncer"
	}
	dir, err := os.MkdirTemp("", "deskctl-pgbouncer-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := giveToServer(dir); err != nil {
		t.Fatal(err)
	}
	admin, err := url.Parse(c.Admin)
	if err != nil {
		t.Fatalf("the cluster's URL: %v", err)
	}
	server := fmt.Sprintf("host=%s port=%d user=%s", c.Host, c.Port, admin.User.Username())
	if pw, ok := admin.User.Password(); ok {
		server += " password=" + pw
	}
	b := &Bouncer{Host: "127.0.0.1", ServerConns: 3}
	if b.Port, err = freePort(); err != nil {
		t.Fatal(err)
	}
	conf := strings.Join([]string{
		"[databases]",
		"* = " + server,
		"[pgbouncer]",
		"listen_addr = " + b.Host,
		"listen_port = " + strconv.Itoa(b.Port),
		"unix_socket_dir =",
		"auth_type = any",
		"pool_mode = transaction",
		"default_pool_size = " + strconv.Itoa(b.ServerConns),
		"max_client_conn = 200",
		"logfile = " + filepath.Join(dir, "log"),
		"pidfile = " + filepath.Join(dir, "pid"),
	}, "\n") + "\n"
	ini := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(ini, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// -d: it runs on in the background and writes its pid file; the
	// server refuses to run as root, so it runs as postgres then.
	if out, err := c.command(bin, "-d", ini).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		t.Fatalf("start pgbouncer: %v: %s\n%s", err, out, log)
	}
	t.Cleanup(func() {
		if raw, err := os.ReadFile(filepath.Join(dir, "pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	})
	addr := net.JoinHostPort(b.Host, strconv.Itoa(b.Port))
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			return b
		}
		if time.Since(start) > 10*time.Second {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("pgbouncer did not listen on %s: %v\n%s", addr, err, log)
		}
	}
}

// URL is the URL of database name through the bouncer.
func (b *Bouncer) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", net.JoinHostPort(b.Host, strconv.Itoa(b.Port)), name)
}
