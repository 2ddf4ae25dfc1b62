//go:build unix

package policy

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/deskctl/deskctl/internal/errs"
)

// A FIFO has no size to check first: the bytes are counted while reading,
// and the writer is cut off once the limit is passed.
func TestLoadRefusesAnEndlessFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "policy.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	wrote := make(chan int64, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			wrote <- -1
			return
		}
		defer w.Close()
		var n int64
		chunk := []byte("#" + strings.Repeat("x", 1022) + "\n")
		for n < 64<<20 {
			k, err := w.Write(chunk)
			n += int64(k)
			if err != nil {
				break // the reader gave up: a broken pipe
			}
		}
		wrote <- n
	}()
	_, _, err := Load(8192, fifo)
	if !errs.Is(err, errs.Usage) || err.Error() != "policy file "+fifo+" is larger than the 8KiB limit" {
		t.Fatalf("err = %v", err)
	}
	if n := <-wrote; n < 0 || n >= 64<<20 {
		t.Fatalf("the writer wrote %d bytes: the reader did not stop", n)
	}
}
