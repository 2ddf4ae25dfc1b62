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
	// The port is free when picked but may be taken before PgBouncer
	// binds it: then it exits, and another port is tried.
	for attempt := 0; ; attempt++ {
		if b.Port, err = freePort(); err != nil {
			t.Fatal(err)
		}
		err = b.start(t, bin, dir, server)
		if err == nil {
			return b
		}
		if attempt == 3 {
			t.Fatal(err)
		}
	}
}

// start runs PgBouncer in the foreground on b.Port until t's cleanup; it
// returns once PgBouncer says it listens there, or why it did not.
func (b *Bouncer) start(t testing.TB, bin, dir, server string) error {
	logFile := filepath.Join(dir, fmt.Sprintf("log-%d", b.Port))
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
		"logfile = " + logFile,
	}, "\n") + "\n"
	ini := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(ini, []byte(conf), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(bin, ini)
	// It refuses to run as root: run it as the server's user then. It
	// dies with the test process, even one killed by a timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if cred, err := serverCredential(); err != nil {
		return err
	} else if cred != nil {
		cmd.SysProcAttr.Credential = cred
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start pgbouncer: %v", err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	want := fmt.Sprintf("listening on %s", net.JoinHostPort(b.Host, strconv.Itoa(b.Port)))
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		log, _ := os.ReadFile(logFile)
		select {
		case <-exited:
			return fmt.Errorf("pgbouncer exited (%v):\n%s", waitErr, log)
		default:
		}
		if strings.Contains(string(log), want) {
			t.Cleanup(stop)
			return nil
		}
		if time.Since(start) > 10*time.Second {
			stop()
			return fmt.Errorf("pgbouncer did not listen on port %d:\n%s", b.Port, log)
		}
	}
}

// URL is the URL of database name through the bouncer.
func (b *Bouncer) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", net.JoinHostPort(b.Host, strconv.Itoa(b.Port)), name)
}
