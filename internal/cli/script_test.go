package cli

// End-to-end scripts: testdata/script/*.txtar at the repository root, run by
// testscript. Each `deskctl` in a script is a separate process (the test
// binary re-executed under the name deskctl, dispatching to Main), so every
// command opens and closes the database exactly as the shipped binary does.

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/mail/mailtest"
	"github.com/deskctl/deskctl/internal/pgtest"
	"github.com/deskctl/deskctl/internal/store"
	"github.com/rogpeppe/go-internal/testscript"
	bolt "go.etcd.io/bbolt"
)

var updateScripts = flag.Bool("update", false, "rewrite the expected output of failing cmp lines inside testdata/script/*.txtar and the golden files under internal/cli/testdata")

func TestMain(m *testing.M) {
	testscript.Main(stopPostgres{m}, map[string]func(){
		"deskctl": func() {
			pauseBeforeCommit()
			if at := os.Getenv(testNowEnv); at != "" {
				os.Exit(mainAt(at, os.Args[1:]))
			}
			os.Exit(Main(os.Args[1:]))
		},
	})
}

// stopPostgres runs the tests and then stops the PostgreSQL cluster they
// shared, if one was started: testscript.Main exits right after Run.
type stopPostgres struct{ m *testing.M }

func (s stopPostgres) Run() int {
	defer pgtest.Stop()
	return s.m.Run()
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                filepath.Join("..", "..", "testdata", "script"),
		Setup:              setupScript,
		Cmds:               scriptCommands,
		Condition:          scriptCondition(false),
		UpdateScripts:      *updateScripts,
		RequireUniqueNames: true,
	})
}

// Raw layout facts the damage commands need; they mirror internal/store's
// bucket declarations on purpose, so the scripts damage files the way an
// outside editor would.
var (
	rawMeta      = []byte("meta")
	rawSchemaKey = []byte("schema_version")
	rawAudit     = []byte("audit")
)

type scriptStateKey struct{}

// scriptState is what the custom commands of one script share.
type scriptState struct {
	mu sync.Mutex
	// damaged lists database files a script broke on purpose; the cleanup
	// check runs only bbolt's own page check on them.
	damaged map[string]bool
	// held are databases the script holds open (holddb) to make deskctl wait.
	held map[string]*bolt.DB
	// smtp is the script's mail server (smtpserver), nil until started.
	smtp *mailtest.Server
	// t is the script's test, which the mail server stops with.
	t testscript.T
}

// testNowEnv sets deskctl's clock in scripts: an RFC 3339 time that the
// clock starts from when the process starts, so a script can stand before,
// inside and after a time window.
const testNowEnv = "DESKCTL_TEST_NOW"

func mainAt(at string, args []string) int {
	start, err := time.Parse(time.RFC3339, at)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s=%q: %v\n", testNowEnv, at, err)
		return ExitInternal
	}
	began := time.Now()
	return runWithClock(args, DefaultIO(), func() time.Time { return start.Add(time.Since(began)) })
}

func state(ts *testscript.TestScript) *scriptState {
	return ts.Value(scriptStateKey{}).(*scriptState)
}

func (s *scriptState) markDamaged(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.damaged[path] = true
}

// setupScript gives every script a private home: config and data under
// $WORK, the database at $WORK/desk.db, no OS login that could match a
// deskctl user by accident (testscript passes no USER or LOGNAME through),
// no colour, and a fixed time zone for printed times.
func setupScript(env *testscript.Env) error {
	work := env.WorkDir
	env.Setenv("HOME", filepath.Join(work, "home"))
	env.Setenv("XDG_DATA_HOME", filepath.Join(work, "data"))
	env.Setenv("XDG_CONFIG_HOME", filepath.Join(work, "config"))
	env.Setenv("DESKCTL_DB", filepath.Join(work, "desk.db"))
	env.Setenv("NO_COLOR", "1")
	env.Setenv("TZ", "UTC")
	// OSLOGIN is the login the kernel reports for this process, which a
	// server's Unix socket knows the script by.
	if u, err := user.Current(); err == nil {
		env.Setenv("OSLOGIN", u.Username)
	}
	// SCHEMA lets scripts compare a file's schema version with this build's.
	env.Setenv("SCHEMA", strconv.Itoa(store.SchemaVersion))
	st := &scriptState{damaged: map[string]bool{}, held: map[string]*bolt.DB{}, t: env.T()}
	env.Values[scriptStateKey{}] = st
	env.Defer(func() {
		st.mu.Lock()
		for _, db := range st.held {
			db.Close()
		}
		st.mu.Unlock()
		var problems []string
		_ = filepath.WalkDir(work, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".db") {
				return nil
			}
			for _, p := range checkDatabase(path, !st.damaged[path]) {
				problems = append(problems, path+": "+p)
			}
			return nil
		})
		if len(problems) > 0 {
			// Errorf, not Fatal: this runs while the script unwinds, possibly after a failure.
			env.T().(interface{ Errorf(string, ...any) }).Errorf("database check after the script:\n%s", strings.Join(problems, "\n"))
		}
	})
	return nil
}

// checkDatabase runs bbolt's page-level check on path and, when invariants
// is set, deskctl's own (indexes match records, references resolve, the
// audit chain is intact).
func checkDatabase(path string, invariants bool) []string {
	var problems []string
	if store.IsURL(path) {
		return checkInvariants(path)
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return []string{"cannot open: " + err.Error()}
	}
	err = b.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			problems = append(problems, "bbolt: "+err.Error())
		}
		return nil
	})
	b.Close()
	if err != nil {
		problems = append(problems, err.Error())
	}
	if !invariants || len(problems) > 0 {
		return problems
	}
	return checkInvariants(path)
}

// checkInvariants runs deskctl's own check on a database file or URL.
func checkInvariants(path string) []string {
	var problems []string
	db, err := store.Open(store.Options{Path: path, ReadOnly: true, LockTimeout: 5 * time.Second})
	if err != nil {
		return []string{err.Error()}
	}
	defer db.Close()
	_ = db.View(func(tx *store.Tx) error {
		for _, p := range tx.Check() {
			problems = append(problems, p.Area+": "+p.Detail)
		}
		return nil
	})
	return problems
}

var scriptCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// status CODE PROG [ARGS...] runs PROG and requires exit code CODE; its
	// stdout and stderr are kept for the stdout and stderr commands.
	"status": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: status CODE PROG [ARGS...] (CODE states the expectation; no '!')")
		}
		want, err := strconv.Atoi(args[0])
		if err != nil {
			ts.Fatalf("status: exit code %q is not a number", args[0])
		}
		err = ts.Exec(args[1], args[2:]...)
		got := 0
		var exitErr *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exitErr):
			got = exitErr.ExitCode()
		default:
			ts.Fatalf("status: %v", err)
		}
		if got != want {
			ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
		}
	},

	// setq NAME 'GO-STRING' sets NAME to the Go-unquoted string, so a script
	// can pass control and bidirectional characters as $NAME.
	"setq": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: setq NAME 'GO-STRING'")
		}
		v, err := strconv.Unquote(`"` + args[1] + `"`)
		ts.Check(err)
		ts.Setenv(args[0], v)
	},

	// dbsum FILE prints the SHA-256 of FILE, to compare a database before
	// and after a command that must not change it.
	"dbsum": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: dbsum FILE")
		}
		if url, ok := pgTarget(ts, args[0]); ok {
			sum, err := pgContentSum(url)
			ts.Check(err)
			fmt.Fprintln(ts.Stdout(), sum)
			return
		}
		raw, err := os.ReadFile(ts.MkAbs(args[0]))
		ts.Check(err)
		sum := sha256.Sum256(raw)
		fmt.Fprintln(ts.Stdout(), hex.EncodeToString(sum[:]))
	},

	// checkdb FILE runs the full consistency check; with '!' it must find
	// problems. The problems are printed to stdout.
	"checkdb": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: checkdb FILE")
		}
		target := ts.MkAbs(args[0])
		if url, ok := pgTarget(ts, args[0]); ok {
			target = url
		}
		problems := checkDatabase(target, true)
		for _, p := range problems {
			fmt.Fprintln(ts.Stdout(), p)
		}
		switch {
		case len(problems) > 0 && !neg:
			ts.Fatalf("%s is inconsistent:\n%s", args[0], strings.Join(problems, "\n"))
		case len(problems) == 0 && neg:
			ts.Fatalf("%s is consistent, but problems were expected", args[0])
		}
	},

	// perm PATH MODE requires PATH's permission bits to be MODE (octal).
	"perm": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: perm PATH MODE")
		}
		want, err := strconv.ParseUint(args[1], 8, 32)
		if err != nil {
			ts.Fatalf("perm: %q is not an octal mode", args[1])
		}
		st, err := os.Stat(ts.MkAbs(args[0]))
		ts.Check(err)
		if got := st.Mode().Perm(); got != fs.FileMode(want) {
			ts.Fatalf("%s has mode %#o, want %#o", args[0], got, want)
		}
	},

	// tamper-audit FILE SEQ edit|rehash|delete|cut changes the audit log
	// behind deskctl's back: edit rewrites record SEQ's actor in its stored
	// JSON; rehash does the same, then gives the record the hash of its new
	// content and points record SEQ+1 at that hash, as someone who knows the
	// hash layout would; delete removes the record; cut removes it and every
	// later one and winds the bucket's sequence back to cover the cut.
	"tamper-audit": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 3 || !slices.Contains([]string{"edit", "rehash", "delete", "cut"}, args[2]) {
			ts.Fatalf("usage: tamper-audit FILE SEQ edit|rehash|delete|cut")
		}
		seq, err := strconv.ParseUint(args[1], 10, 64)
		ts.Check(err)
		path := ts.MkAbs(args[0])
		var key [8]byte
		binary.BigEndian.PutUint64(key[:], seq)
		ts.Check(rawEdit(ts, args[0], string(rawAudit), func(b rawBucket) error {
			raw := b.Get(key[:])
			if raw == nil {
				return fmt.Errorf("no audit record %d", seq)
			}
			switch args[2] {
			case "delete":
				return b.Delete(key[:])
			case "cut":
				return b.Cut(key[:], seq-1)
			case "rehash":
				return rehashAudit(b, seq)
			}
			var rec map[string]any
			if err := json.Unmarshal(raw, &rec); err != nil {
				return err
			}
			rec["actor"] = "mallory"
			edited, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			return b.Put(key[:], edited)
		}))
		state(ts).markDamaged(path)
	},

	// tamper-json FILE BUCKET KEY PATH VALUE sets one field of a stored
	// JSON record behind deskctl's back, as a flipped byte or an outside
	// editor would. KEY #N is record number N (big-endian), anything else
	// the key itself; PATH is dot-separated, numbers index lists
	// (log.1.visibility).
	"tamper-json": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 5 {
			ts.Fatalf("usage: tamper-json FILE BUCKET KEY PATH VALUE")
		}
		path := ts.MkAbs(args[0])
		key := []byte(args[2])
		if n, ok := strings.CutPrefix(args[2], "#"); ok {
			num, err := strconv.ParseUint(n, 10, 64)
			ts.Check(err)
			key = binary.BigEndian.AppendUint64(nil, num)
		}
		ts.Check(rawEdit(ts, args[0], args[1], func(b rawBucket) error {
			if b == nil || b.Get(key) == nil {
				return fmt.Errorf("no record %s in bucket %s", args[2], args[1])
			}
			var rec any
			if err := json.Unmarshal(b.Get(key), &rec); err != nil {
				return err
			}
			parts := strings.Split(args[3], ".")
			node := rec
			for i, part := range parts {
				last := i == len(parts)-1
				switch n := node.(type) {
				case map[string]any:
					if last {
						n[part] = args[4]
					}
					node = n[part]
				case []any:
					idx, err := strconv.Atoi(part)
					if err != nil || idx >= len(n) {
						return fmt.Errorf("%s: no list item %s", args[3], part)
					}
					if last {
						n[idx] = args[4]
					}
					node = n[idx]
				default:
					return fmt.Errorf("%s: nothing at %s", args[3], part)
				}
			}
			edited, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			return b.Put(key, edited)
		}))
		state(ts).markDamaged(path)
	},

	// setschema FILE N stamps FILE with schema version N, as a newer (or
	// older) deskctl would have left it.
	"setschema": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: setschema FILE VERSION")
		}
		v, err := strconv.ParseUint(args[1], 10, 64)
		ts.Check(err)
		path := ts.MkAbs(args[0])
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], v)
		ts.Check(rawUpdate(path, func(tx *bolt.Tx) error {
			meta, err := tx.CreateBucketIfNotExists(rawMeta)
			if err != nil {
				return err
			}
			return meta.Put(rawSchemaKey, buf[:])
		}))
		state(ts).markDamaged(path)
	},

	// mkbolt FILE [BUCKET...] writes a bbolt file with the given buckets and
	// nothing else: an empty one (as an init killed before its first commit
	// leaves) or another program's.
	"mkbolt": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 1 {
			ts.Fatalf("usage: mkbolt FILE [BUCKET...]")
		}
		ts.Check(rawUpdate(ts.MkAbs(args[0]), func(tx *bolt.Tx) error {
			for _, b := range args[1:] {
				if _, err := tx.CreateBucket([]byte(b)); err != nil {
					return err
				}
			}
			return nil
		}))
	},

	// schema FILE prints the schema version stamped in FILE.
	"schema": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: schema FILE")
		}
		b, err := bolt.Open(ts.MkAbs(args[0]), 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
		ts.Check(err)
		defer b.Close()
		ts.Check(b.View(func(tx *bolt.Tx) error {
			meta := tx.Bucket(rawMeta)
			if meta == nil || len(meta.Get(rawSchemaKey)) != 8 {
				return fmt.Errorf("%s has no schema version", args[0])
			}
			fmt.Fprintln(ts.Stdout(), binary.BigEndian.Uint64(meta.Get(rawSchemaKey)))
			return nil
		}))
	},

	// smtpserver starts a real SMTP server for this script and points
	// deskctl at it (DESKCTL_SMTP_*); mails and linktoken read what it got.
	"smtpserver": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: smtpserver")
		}
		tb, ok := state(ts).t.(testing.TB)
		if !ok {
			ts.Fatalf("smtpserver: the script does not run under go test")
		}
		srv := mailtest.Start(tb)
		state(ts).smtp = srv
		ts.Setenv("DESKCTL_SMTP_HOST", srv.Host())
		ts.Setenv("DESKCTL_SMTP_PORT", strconv.Itoa(srv.Port()))
		ts.Setenv("DESKCTL_SMTP_TLS", "none")
		ts.Setenv("DESKCTL_SMTP_FROM", "helpdesk@example.com")
	},

	// mails prints every message the script's SMTP server accepted, oldest
	// first: "to ADDRESS: SUBJECT", then the text part indented.
	"mails": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: mails")
		}
		srv := state(ts).smtp
		if srv == nil {
			ts.Fatalf("mails: no smtpserver started")
		}
		for _, m := range srv.Messages() {
			fmt.Fprintf(ts.Stdout(), "to %s: %s\n", strings.Join(m.To, ","), m.Subject)
			for _, l := range strings.Split(strings.TrimRight(m.Text, "\n"), "\n") {
				fmt.Fprintf(ts.Stdout(), "    %s\n", l)
			}
		}
	},

	// linktoken ADDRESS VAR [N] sets VAR to the token of the Approve link
	// in the newest mail to ADDRESS (the Nth such link, from 1, of a mail
	// carrying several), and prints that link.
	"linktoken": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 || len(args) > 3 {
			ts.Fatalf("usage: linktoken ADDRESS VAR [N]")
		}
		nth := 1
		if len(args) == 3 {
			var err error
			if nth, err = strconv.Atoi(args[2]); err != nil || nth < 1 {
				ts.Fatalf("linktoken: N must be a number from 1, not %q", args[2])
			}
		}
		srv := state(ts).smtp
		if srv == nil {
			ts.Fatalf("linktoken: no smtpserver started")
		}
		msgs := srv.Messages()
		for i := len(msgs) - 1; i >= 0; i-- {
			if !slices.Contains(msgs[i].To, args[0]) {
				continue
			}
			for _, link := range mailtest.Links(msgs[i].Text) {
				if strings.Contains(link, "/approval/") && strings.HasSuffix(link, "?decision=approve") {
					if nth--; nth > 0 {
						continue
					}
					token := strings.TrimSuffix(link[strings.LastIndex(link, "/")+1:], "?decision=approve")
					ts.Setenv(args[1], token)
					fmt.Fprintln(ts.Stdout(), link)
					return
				}
			}
			ts.Fatalf("linktoken: the newest mail to %s has too few approve links", args[0])
		}
		ts.Fatalf("linktoken: no mail to %s", args[0])
	},

	// waitsocket PATH waits until a server accepts connections on the Unix
	// socket PATH (a `deskctl serve --socket PATH &` started before).
	"waitsocket": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: waitsocket PATH")
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			c, err := net.Dial("unix", ts.MkAbs(args[0]))
			if err == nil {
				c.Close()
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("no server on %s: %v", args[0], err)
			}
		}
	},

	// holddb FILE opens FILE for writing and keeps it open, as a long
	// deskctl command would; releasedb FILE closes it again.
	"holddb": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: holddb FILE")
		}
		path := ts.MkAbs(args[0])
		b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
		ts.Check(err)
		st := state(ts)
		st.mu.Lock()
		st.held[path] = b
		st.mu.Unlock()
	},
	"releasedb": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: releasedb FILE")
		}
		path := ts.MkAbs(args[0])
		st := state(ts)
		st.mu.Lock()
		b := st.held[path]
		delete(st.held, path)
		st.mu.Unlock()
		if b == nil {
			ts.Fatalf("releasedb: %s is not held", args[0])
		}
		ts.Check(b.Close())
	},
}

// rehashAudit edits record seq's actor, recomputes its hash and patches the
// previous-hash link of record seq+1 to match: the edit no longer shows at
// seq, only in seq+1's own hash, which covers the link.
func rehashAudit(b rawBucket, seq uint64) error {
	var key, next [8]byte
	binary.BigEndian.PutUint64(key[:], seq)
	binary.BigEndian.PutUint64(next[:], seq+1)
	var rec helpdesk.AuditRecord
	if err := json.Unmarshal(b.Get(key[:]), &rec); err != nil {
		return err
	}
	rec.Actor = "mallory"
	rec.Hash = rec.ComputeHash()
	edited, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	var after map[string]any
	raw := b.Get(next[:])
	if raw == nil {
		return fmt.Errorf("no audit record %d after %d", seq+1, seq)
	}
	if err := json.Unmarshal(raw, &after); err != nil {
		return err
	}
	after["prev"] = rec.Hash
	patched, err := json.Marshal(after)
	if err != nil {
		return err
	}
	return errors.Join(b.Put(key[:], edited), b.Put(next[:], patched))
}

// rawUpdate edits a database file directly with bbolt.
func rawUpdate(path string, fn func(*bolt.Tx) error) error {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	if err := b.Update(fn); err != nil {
		b.Close()
		return err
	}
	return b.Close()
}
