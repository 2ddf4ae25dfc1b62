package policy

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
)

// DefaultMaxBytes is how much of its policy files (or of its tests files) one
// command reads when no other limit is given: room for some 200 000 users,
// while checking that much takes about 600 MB of memory, not gigabytes.
const DefaultMaxBytes int64 = 16 << 20

// MaxBytesFlag is the command-line flag that raises the limit; the refusal
// names it.
const MaxBytesFlag = "--max-file-size"

// budget reads files while keeping their total under max. A file's size is
// checked before it is read, and its bytes are counted while reading, since
// a FIFO or a file still growing has no size to trust.
type budget struct {
	what string // "policy" or "tests", for messages
	max  int64
	used int64
}

func newBudget(what string, limit int64) *budget {
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	return &budget{what: what, max: limit}
}

func (b *budget) readFile(path string) ([]byte, error) {
	var size int64
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		if size = st.Size(); size > b.max-b.used {
			return nil, b.tooLarge(path, size)
		}
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, errs.Wrap(errs.Usage, err, "cannot read %s", b.what).WithHint("check the path and its permissions")
	}
	defer fh.Close()
	return b.readSized(path, fh, size)
}

// read takes at most one byte more than what is left of the budget from r.
func (b *budget) read(name string, r io.Reader) ([]byte, error) { return b.readSized(name, r, 0) }

// readSized is read with room made for size bytes, the size a regular
// file had, so that a large file is not copied as its buffer grows.
func (b *budget) readSized(name string, r io.Reader, size int64) ([]byte, error) {
	left := b.max - b.used
	buf := bytes.NewBuffer(make([]byte, 0, min(size, left)+512))
	_, err := buf.ReadFrom(io.LimitReader(r, left+1))
	data := buf.Bytes()
	if err != nil {
		return nil, errs.Wrap(errs.Usage, err, "cannot read %s", b.what).WithHint("check the path and its permissions")
	}
	if int64(len(data)) > left {
		return nil, b.tooLarge(name, -1)
	}
	b.used += int64(len(data))
	return data, nil
}

// tooLarge refuses name; size is -1 when only reading found it too large.
func (b *budget) tooLarge(name string, size int64) error {
	var e *errs.Error
	switch {
	case b.used > 0:
		e = errs.Usagef("%s files are over the %s limit with %s (%s read before it)", b.what, SizeText(b.max), name, SizeText(b.used))
	case size >= 0:
		e = errs.Usagef("%s file %s is %s, over the %s limit", b.what, name, SizeText(size), SizeText(b.max))
	default:
		e = errs.Usagef("%s file %s is larger than the %s limit", b.what, name, SizeText(b.max))
	}
	return e.WithHint("if the files are right, raise the limit with %s, e.g. %s %s", MaxBytesFlag, MaxBytesFlag, SizeText(4*b.max))
}

// SizeText writes n bytes for people: 16MiB, 512KiB, 1.5MiB, 900B.
func SizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	default:
		return fmt.Sprintf("%dB", n)
	}
}

// ParseSize reads a size such as 64MiB, 512KiB, 2GiB or 1000000 (bytes).
func ParseSize(s string) (int64, error) {
	num, unit := s, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, unit = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/unit {
		return 0, errs.Usagef("%q is not a size", s).WithHint("use a positive whole number of bytes or of KiB, MiB or GiB, e.g. 64MiB")
	}
	return n * unit, nil
}
