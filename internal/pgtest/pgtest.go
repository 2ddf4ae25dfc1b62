// Package pgtest gives tests a real PostgreSQL server: the one named by
// DESKCTL_TEST_POSTGRES, or a private cluster started from the server
// binaries of Debian's postgresql package in a temporary directory, on a
// free loopback port, with trust authentication. Every caller gets a fresh
// database of its own. Without PostgreSQL installed tests skip with a
// message; under CI=true they fail instead, so the suite cannot quietly
// shrink.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names an existing server to use instead of a private cluster; its
// user must be allowed to create databases.
const EnvURL = "DESKCTL_TEST_POSTGRES"

var (
	once     sync.Once
	cluster  *Cluster
	startErr error
	seq      atomic.Int64
)

// Cluster is a running server.
type Cluster struct {
	// Admin is a URL of the maintenance database, for CREATE DATABASE.
	Admin   string
	Host    string
	Port    int
	dir     string
	bin     string
	private bool
	// durable keeps synchronous_commit on, so a commit the server has
	// acknowledged survives an immediate stop (a crash of the server).
	durable bool

	dbOnce sync.Once
	dbName string
	dbErr  error
}

// Server returns the shared server, starting it on first use, or skips t
// (fails it under CI=true) when PostgreSQL is not available.
func Server(t testing.TB) *Cluster {
	t.Helper()
	once.Do(func() { cluster, startErr = start() })
	if startErr != nil {
		unavailable(t, startErr)
	}
	return cluster
}

// unavailable skips t, or fails it under CI=true, because PostgreSQL cannot
// be had for the reason err gives.
func unavailable(t testing.TB, err error) {
	t.Helper()
	unavailableTool(t, "postgresql", fmt.Sprintf("%v (or set %s)", err, EnvURL))
}

// unavailableTool skips t, or fails it under CI=true, because the Debian
// package pkg is not installed (why says what is missing).
func unavailableTool(t testing.TB, pkg, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true: %s (install it with: apt-get install -y %s)", pkg, why, pkg)
	}
	t.Skipf("tests that need %s skipped: %s (install the %s package)", pkg, why, pkg)
}

// NewDatabase returns the URL of an empty database of the caller's own: a
// fresh schema in the shared test database (much cheaper than CREATE
// DATABASE), selected through search_path.
func NewDatabase(t testing.TB) string {
	t.Helper()
	Server(t)
	url, drop, err := NewDatabaseURL()
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(drop)
	return url
}

// NewEmptyDatabase creates a database of its own (for tests that need
// database-wide isolation, such as the writers' advisory lock).
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	c := Server(t)
	name := fmt.Sprintf("deskctl_test_%d_%d", os.Getpid(), seq.Add(1))
	if err := c.exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { _ = c.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	return c.URL(name)
}

// CreateDatabase creates database name on c and returns its URL; it is
// dropped at cleanup.
func (c *Cluster) CreateDatabase(t testing.TB, name string) string {
	t.Helper()
	if err := c.exec("CREATE DATABASE " + pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() { _ = c.exec("DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)") })
	return c.URL(name)
}

// URL is the connection URL of database name.
func (c *Cluster) URL(name string) string {
	if c.private {
		return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), name)
	}
	cfg, _ := pgx.ParseConfig(c.Admin)
	u := fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", cfg.User, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), name)
	if cfg.Password != "" {
		u = fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", cfg.User, cfg.Password, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), name)
	}
	return u
}

func (c *Cluster) exec(sql string) error { return execOn(c.Admin, sql) }

func execOn(url, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// Stop shuts a private cluster down and removes its files; call it from
// TestMain after m.Run. A server named by DESKCTL_TEST_POSTGRES is left alone.
func Stop() {
	if tmplDir != "" {
		_ = os.RemoveAll(tmplDir)
	}
	if cluster == nil {
		return
	}
	if !cluster.private {
		if cluster.dbName != "" {
			_ = cluster.exec("DROP DATABASE IF EXISTS " + cluster.dbName + " WITH (FORCE)")
		}
		return
	}
	cmd := cluster.command(filepath.Join(cluster.bin, "pg_ctl"), "-D", filepath.Join(cluster.dir, "data"), "-m", "immediate", "-w", "stop")
	_ = cmd.Run()
	_ = os.RemoveAll(cluster.dir)
}

// StopServer stops the server without removing it (to test outages).
func (c *Cluster) StopServer() error {
	if !c.private {
		return errors.New("only a private cluster can be stopped")
	}
	out, err := c.command(filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// StartServer starts a stopped private cluster again on the same port.
func (c *Cluster) StartServer() error {
	data := filepath.Join(c.dir, "data")
	// fsync off costs nothing here: the tests stop the server, never the machine.
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200", c.Port, c.dir)
	if !c.durable {
		opts += " -c synchronous_commit=off"
	}
	out, err := c.command(filepath.Join(c.bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(c.dir, "log"), "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
	}
	return nil
}

// StartPrivate starts a cluster of the caller's own, stopped and removed at
// cleanup, for tests that stop and start the server (outages); the shared
// server and DESKCTL_TEST_POSTGRES are never used for that. It commits
// synchronously, so what it acknowledged survives StopServer.
func StartPrivate(t testing.TB) *Cluster {
	t.Helper()
	if _, err := findBin(); err != nil {
		unavailable(t, err)
	}
	c, err := startPrivate(true)
	if err != nil {
		t.Fatalf("start a private PostgreSQL cluster: %v", err)
	}
	t.Cleanup(func() {
		_ = c.command(filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop").Run()
		_ = os.RemoveAll(c.dir)
	})
	return c
}

func start() (*Cluster, error) {
	if u := os.Getenv(EnvURL); u != "" {
		cfg, err := pgx.ParseConfig(u)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", EnvURL, err)
		}
		return &Cluster{Admin: u, Host: cfg.Host, Port: int(cfg.Port)}, nil
	}
	return startPrivate(false)
}

func startPrivate(durable bool) (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "deskctl-pg-*")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Host: "127.0.0.1", dir: dir, bin: bin, private: true, durable: durable}
	if err := giveToServer(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// initdb is the slow part of a start: it runs once, and every cluster
	// starts from a copy of what it made.
	tmplOnce.Do(func() { tmplDir, tmplErr = initdb(c) })
	if tmplErr != nil {
		os.RemoveAll(dir)
		return nil, tmplErr
	}
	if out, err := exec.Command("cp", "-a", filepath.Join(tmplDir, "data"), filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("copy the initial cluster: %v: %s", err, out)
	}
	for attempt := 0; ; attempt++ {
		c.Port, err = freePort()
		if err != nil {
			return nil, err
		}
		if err = c.StartServer(); err == nil {
			break
		}
		if attempt == 3 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	c.Admin = c.URL("postgres")
	return c, nil
}

var (
	tmplOnce sync.Once
	tmplDir  string // holds data, a cluster as initdb left it; removed by Stop
	tmplErr  error
)

// initdb makes a new cluster in a directory of its own, with c's binaries.
func initdb(c *Cluster) (string, error) {
	dir, err := os.MkdirTemp("", "deskctl-pginit-*")
	if err != nil {
		return "", err
	}
	if err := giveToServer(dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	out, err := c.command(filepath.Join(c.bin, "initdb"), "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync").CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	return dir, nil
}

// serverCredential is the postgres OS user's when tests run as root (the
// servers refuse root), nil otherwise.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres OS user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// giveToServer hands dir to the postgres OS user when tests run as root,
// since the server refuses to run as root.
func giveToServer(dir string) error {
	cred, err := serverCredential()
	if err != nil || cred == nil {
		return err
	}
	return os.Chown(dir, int(cred.Uid), int(cred.Gid))
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server binaries (initdb) found in /usr/lib/postgresql/*/bin or PATH")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// NewDatabaseURL is NewDatabase for callers without a testing.TB (testscript
// setup); drop must run when the caller is done. ok is false when no server
// is available (err says why).
func NewDatabaseURL() (url string, drop func(), err error) {
	once.Do(func() { cluster, startErr = start() })
	if startErr != nil {
		return "", nil, startErr
	}
	c := cluster
	c.dbOnce.Do(func() {
		c.dbName = fmt.Sprintf("deskctl_test_%d", os.Getpid())
		c.dbErr = c.exec("CREATE DATABASE " + c.dbName)
	})
	if c.dbErr != nil {
		return "", nil, c.dbErr
	}
	schema := fmt.Sprintf("t%d", seq.Add(1))
	base := c.URL(c.dbName)
	if err := execOn(base, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	return base + "&search_path=" + schema, func() { _ = execOn(base, "DROP SCHEMA IF EXISTS "+schema+" CASCADE") }, nil
}
