package cli

// Damaged database files: cut short, not bbolt at all, a flipped bit in a
// meta page or in data pages. No command may crash (a memory fault kills
// the process with a stack trace), hang, or call the damage a bug (exit 8).

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/devgen"
)

// Raw layout of a bbolt meta page (page header, then magic, version, page
// size, flags, root bucket, freelist, high-water mark, txid, checksum), in
// the machine's byte order; the tests damage files the way an outside
// editor would.
const (
	rawMagicAt    = 16
	rawVersionAt  = 20
	rawPageSizeAt = 24
	rawRootAt     = 32
	rawHWMAt      = 56
	rawTxidAt     = 64
	rawSumAt      = 72
)

type boltMeta struct{ pageSize, root, hwm, txid uint64 }

// currentMeta reads the meta page bbolt opens on (the one with the higher txid).
func currentMeta(t *testing.T, raw []byte) boltMeta {
	t.Helper()
	le := binary.NativeEndian
	ps := uint64(le.Uint32(raw[rawPageSizeAt:]))
	var best boltMeta
	for i := range uint64(2) {
		p := raw[i*ps:]
		if m := (boltMeta{ps, le.Uint64(p[rawRootAt:]), le.Uint64(p[rawHWMAt:]), le.Uint64(p[rawTxidAt:])}); i == 0 || m.txid > best.txid {
			best = m
		}
	}
	return best
}

// damagedVariant turns a healthy file into a damaged one.
type damagedVariant struct {
	name   string
	class  string // cut, foreign, meta0, meta1, pages
	damage func(raw []byte, m boltMeta) []byte
}

func flip(at func(m boltMeta) uint64, bit uint) func([]byte, boltMeta) []byte {
	return func(raw []byte, m boltMeta) []byte {
		raw[at(m)] ^= 1 << bit
		return raw
	}
}

func cut(size func(m boltMeta) uint64) func([]byte, boltMeta) []byte {
	return func(raw []byte, m boltMeta) []byte { return raw[:size(m)] }
}

// rootPage rewrites the root bucket's page: a branch whose one child is
// page child (far past the mapped file: a memory fault), or a page of a
// type bbolt does not know (a panic inside bbolt).
func rootPage(flags uint16, child uint64) func([]byte, boltMeta) []byte {
	return func(raw []byte, m boltMeta) []byte {
		le := binary.NativeEndian
		p := raw[m.root*m.pageSize:]
		le.PutUint16(p[8:], flags)
		le.PutUint16(p[10:], 1)
		le.PutUint32(p[16:], 16) // the key starts right after the element
		le.PutUint32(p[20:], 0)
		le.PutUint64(p[24:], child)
		return raw
	}
}

func damagedVariants() []damagedVariant {
	meta := func(page uint64, at uint64) func(m boltMeta) uint64 {
		return func(m boltMeta) uint64 { return page*m.pageSize + at }
	}
	vs := []damagedVariant{
		{"empty", "cut", cut(func(boltMeta) uint64 { return 0 })},
		{"cut in meta page 0", "cut", cut(func(boltMeta) uint64 { return 100 })},
		{"cut in meta page 1", "cut", cut(func(m boltMeta) uint64 { return m.pageSize + 60 })},
		{"two pages left", "cut", cut(func(m boltMeta) uint64 { return 2 * m.pageSize })},
		{"a quarter left", "cut", cut(func(m boltMeta) uint64 { return m.hwm * m.pageSize / 4 })},
		{"half left", "cut", cut(func(m boltMeta) uint64 { return m.hwm * m.pageSize / 2 })},
		{"three quarters left", "cut", cut(func(m boltMeta) uint64 { return m.hwm * m.pageSize * 3 / 4 })},
		{"one page short", "cut", cut(func(m boltMeta) uint64 { return (m.hwm - 1) * m.pageSize })},
		{"text file", "foreign", func([]byte, boltMeta) []byte {
			return bytes.Repeat([]byte("not a database, just text\n"), 400)
		}},
		{"random bytes", "foreign", func(raw []byte, _ boltMeta) []byte {
			r := rand.New(rand.NewPCG(7, 7))
			for i := range raw[:64<<10] {
				raw[i] = byte(r.Uint32())
			}
			return raw[:64<<10]
		}},
		{"both meta pages", "foreign", func(raw []byte, m boltMeta) []byte {
			raw[rawSumAt] ^= 1
			raw[m.pageSize+rawSumAt] ^= 1
			return raw
		}},
		{"root page points past the file", "pages", rootPage(0x01, 1<<20)},
		{"root page of unknown type", "pages", rootPage(0x40, 3)},
	}
	for page := range uint64(2) {
		class := fmt.Sprintf("meta%d", page)
		vs = append(vs,
			damagedVariant{fmt.Sprintf("meta page %d magic", page), class, flip(meta(page, rawMagicAt), 3)},
			damagedVariant{fmt.Sprintf("meta page %d version", page), class, flip(meta(page, rawVersionAt), 1)},
			damagedVariant{fmt.Sprintf("meta page %d high-water mark", page), class, flip(meta(page, rawHWMAt), 0)},
			damagedVariant{fmt.Sprintf("meta page %d checksum", page), class, flip(meta(page, rawSumAt+5), 6)},
		)
	}
	// Bits flipped at random in data pages: in page headers (type, count,
	// overflow) and anywhere in the page.
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 6 {
		span := uint64(16)
		if i%2 == 1 {
			span = 4096
		}
		seed := r.Uint64()
		vs = append(vs, damagedVariant{fmt.Sprintf("data page bits %d", i), "pages", func(raw []byte, m boltMeta) []byte {
			r := rand.New(rand.NewPCG(seed, 0))
			page := 2 + r.Uint64N(m.hwm-2)
			for range 4 {
				raw[page*m.pageSize+r.Uint64N(min(span, m.pageSize))] ^= 1 << r.UintN(8)
			}
			return raw
		}})
	}
	return vs
}

// runBounded runs deskctl against db and fails the test if it does not
// finish within a minute (damage that makes bbolt walk forever).
func runBounded(t *testing.T, db string, args ...string) deskProc {
	t.Helper()
	b := startDeskctl(t, db, nil, args...)
	select {
	case <-b.done:
	case <-time.After(time.Minute):
		b.cmd.Process.Kill()
		<-b.done
		t.Errorf("deskctl %s did not finish within a minute", strings.Join(args, " "))
	}
	p := deskProc{args: args, stdout: b.out.String(), stderr: b.errOut.String()}
	if b.cmd.ProcessState != nil {
		p.code = b.cmd.ProcessState.ExitCode()
	}
	return p
}

func TestDamagedFilesNeverCrash(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.db")
	generate(t, devgen.Options{Seed: 1, Users: 100, Groups: 20, Resources: 10, Tickets: 1000, Batch: 1000}, devgen.Outputs{DB: base})
	// One more transaction, so the two meta pages differ and falling back
	// to the older one loses this user.
	mustDeskctlProcess(t, base, "--as", "admin", "user", "add", "late", "--email", "late@example.com")
	healthy, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	m := currentMeta(t, healthy)

	for _, v := range damagedVariants() {
		t.Run(v.name, func(t *testing.T) {
			vdir := filepath.Join(dir, strings.ReplaceAll(v.name, " ", "-"))
			if err := os.MkdirAll(vdir, 0o700); err != nil {
				t.Fatal(err)
			}
			// Not *.db: the cleanup checks of other suites open those with bbolt.
			damaged := writeFile(t, vdir, "damaged.bin", v.damage(bytes.Clone(healthy), m))
			live := writeFile(t, vdir, "live.bin", healthy)
			runs := map[string]deskProc{}
			for name, args := range map[string][]string{
				"check": {"db", "check"}, "stats": {"db", "stats"}, "verify": {"--as", "admin", "audit", "verify"},
				"list": {"--as", "admin", "ticket", "list"}, "add": {"--as", "admin", "user", "add", "zed", "--email", "zed@example.com"},
			} {
				p := runBounded(t, damaged, args...)
				if p.code == ExitInternal || strings.Contains(p.stderr, "fatal error") || strings.Contains(p.stderr, "goroutine ") {
					t.Errorf("deskctl %s: exit %d\n%.600s", strings.Join(args, " "), p.code, p.stderr)
				}
				runs[name] = p
			}
			before := fileSum(t, live)
			restore := runBounded(t, live, "db", "restore", damaged, "--force", "--yes")
			if restore.code != ExitOK && fileSum(t, live) != before {
				t.Errorf("db restore refused the file (exit %d) but changed the live database", restore.code)
			}

			t.Logf("exit codes: check %d, stats %d, verify %d, list %d, add %d, restore %d", runs["check"].code, runs["stats"].code, runs["verify"].code, runs["list"].code, runs["add"].code, restore.code)
			check := runs["check"]
			want := func(code int, names ...string) {
				t.Helper()
				for _, name := range names {
					if runs[name].code != code {
						t.Errorf("%s: exit %d, want %d\n%s", name, runs[name].code, code, runs[name].stderr)
					}
				}
			}
			switch v.class {
			case "cut", "foreign":
				want(ExitUnusable, "check", "stats", "verify", "list", "add")
				if restore.code != ExitUnusable && restore.code != ExitUsage {
					t.Errorf("db restore: exit %d, want %d or %d\n%s", restore.code, ExitUnusable, ExitUsage, restore.stderr)
				}
				if v.class == "cut" && v.name != "empty" && !strings.Contains(check.stderr, "bytes but its header needs") {
					t.Errorf("db check does not name the sizes of a short file:\n%s", check.stderr)
				}
			case "meta0", "meta1":
				page := strings.TrimPrefix(v.class, "meta")
				want(ExitNegative, "check")
				if !strings.Contains(check.stdout, "meta page "+page+" invalid") || !strings.Contains(check.stdout, "using the previous transaction") {
					t.Errorf("db check does not name meta page %s:\n%s", page, check.stdout)
				}
				want(ExitUnusable, "stats", "verify", "list", "add")
				if restore.code != ExitUnusable {
					t.Errorf("db restore: exit %d, want %d\n%s", restore.code, ExitUnusable, restore.stderr)
				}
			case "pages":
				if c := check.code; c != ExitOK && c != ExitNegative && c != ExitUnusable {
					t.Errorf("db check: exit %d, want 0, 1 or 7", c)
				}
				if check.code != ExitOK && restore.code == ExitOK {
					t.Errorf("db restore accepted a file db check finds damaged")
				}
			}
		})
	}
}

// serve answers 503 for a request that meets a damaged file and keeps
// serving; once the file is healthy again, so are the answers.
func TestServeSurvivesDamagedFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "desk.db")
	generate(t, devgen.Options{Seed: 1, Users: 20, Groups: 5, Resources: 3, Tickets: 100, Batch: 100}, devgen.Outputs{DB: db})
	healthy, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	m := currentMeta(t, healthy)
	addr := freeAddr(t)
	serve := startDeskctl(t, db, nil, "serve", "--listen", addr)
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) int {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, serve.errOut.String())
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := client.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if serve.exited() || time.Now().After(deadline) {
			t.Fatalf("deskctl serve never answered: %s", serve.errOut.String())
		}
	}
	link := "/approval/" + randomToken()
	if code := get(link); code != http.StatusNotFound {
		t.Fatalf("unknown link on a healthy file: %d, want 404", code)
	}
	put := func(raw []byte) {
		// Replace the file as a restore would, so serve's next open sees it.
		tmp := db + ".new"
		if err := os.WriteFile(tmp, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, db); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []damagedVariant{
		{"half left", "cut", cut(func(m boltMeta) uint64 { return m.hwm * m.pageSize / 2 })},
		{"root page points past the file", "pages", rootPage(0x01, 1<<20)},
		{"root page of unknown type", "pages", rootPage(0x40, 3)},
	} {
		put(v.damage(bytes.Clone(healthy), m))
		if code := get(link); code != http.StatusServiceUnavailable {
			t.Errorf("%s: %d, want 503", v.name, code)
		}
		if serve.exited() {
			t.Fatalf("%s: deskctl serve died: %v\n%s", v.name, serve.err, serve.errOut.String())
		}
		if code := get("/healthz"); code != http.StatusOK {
			t.Errorf("%s: healthz %d after the damaged request", v.name, code)
		}
	}
	put(healthy)
	if code := get(link); code != http.StatusNotFound {
		t.Errorf("unknown link once the file is healthy again: %d, want 404", code)
	}
	serve.cmd.Process.Signal(syscall.SIGTERM)
	<-serve.done
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
