package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/errs"
)

// endless is a stream with no end, such as a FIFO someone keeps writing to.
// It fails the test once more than limit bytes have been asked of it.
type endless struct {
	t     *testing.T
	limit int64
	read  int64
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.read += int64(len(p))
	if e.read > e.limit {
		e.t.Fatalf("read %d bytes of the stream, more than the %d allowed", e.read, e.limit)
	}
	return len(p), nil
}

func TestBudgetStopsReadingOneBytePastTheLimit(t *testing.T) {
	const limit = 4096
	b := newBudget("policy", limit)
	if _, err := b.read("first.yaml", strings.NewReader(strings.Repeat("a", 1000))); err != nil {
		t.Fatal(err)
	}
	_, err := b.read("stream.yaml", &endless{t: t, limit: limit - 1000 + 1})
	if !errs.Is(err, errs.Usage) || !strings.Contains(err.Error(), "policy files are over the 4KiB limit with stream.yaml (1000B read before it)") ||
		!strings.Contains(errs.HintOf(err), "--max-file-size 16KiB") {
		t.Fatalf("err = %v (hint %q)", err, errs.HintOf(err))
	}
}

func writeSized(t *testing.T, dir, name string, n int) string {
	t.Helper()
	// A valid document padded with a comment, so only the size is wrong.
	body := "users: []\n#" + strings.Repeat("x", n-len("users: []\n#")-1) + "\n"
	return writeFile(t, dir, name, body)
}

func TestLoadRefusesFilesOverTheLimit(t *testing.T) {
	dir := t.TempDir()
	exact := writeSized(t, dir, "exact.yaml", 2048)
	over := writeSized(t, dir, "over.yaml", 2049)
	if _, fs, err := Load(2048, exact); err != nil || len(fs) != 0 {
		t.Fatalf("a file of exactly the limit: %v %q", err, strs(fs))
	}
	_, _, err := Load(2048, over)
	if !errs.Is(err, errs.Usage) || err.Error() != "policy file "+over+" is 2049B, over the 2KiB limit" {
		t.Fatalf("one byte over: %v", err)
	}
	// Two files that each fit are refused together, and so is a directory.
	_, _, err = Load(3000, exact, exact)
	if !errs.Is(err, errs.Usage) || !strings.Contains(err.Error(), "over the 3000B limit with "+exact+" (2KiB read before it)") {
		t.Fatalf("two files: %v", err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSized(t, sub, "a.yaml", 2048)
	writeSized(t, sub, "b.yaml", 2048)
	if _, _, err = LoadTests(4095, sub); !errs.Is(err, errs.Usage) || !strings.Contains(err.Error(), "tests files are over the 4095B limit with "+filepath.Join(sub, "b.yaml")) {
		t.Fatalf("directory: %v", err)
	}
	if _, _, err = LoadTests(4096, sub); errs.Is(err, errs.Usage) && strings.Contains(err.Error(), "limit") {
		t.Fatalf("a directory of exactly the limit: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1000": 1000, "1000B": 1000, "512KiB": 512 << 10, "64MiB": 64 << 20, "2GiB": 2 << 30} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1MiB", "MiB", "1.5MiB", "64MB", "99999999999GiB"} {
		if _, err := ParseSize(in); !errs.Is(err, errs.Usage) {
			t.Errorf("ParseSize(%q) = %v, want a usage error", in, err)
		}
	}
}
