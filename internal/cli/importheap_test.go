package cli

import (
	"runtime/debug"
	"testing"
)

// An import sets a soft memory limit that grows with its batch and puts
// back the limit it found when it ends; a GOMEMLIMIT given by the user is
// left alone.
func TestImportHeapLimit(t *testing.T) {
	current := func() int64 { return debug.SetMemoryLimit(-1) }
	prev := debug.SetMemoryLimit(1 << 40)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })

	t.Setenv("GOMEMLIMIT", "")
	restore := limitImportHeap(2500)
	during := current()
	restore()
	if during != importHeapLimit(2500) || current() != 1<<40 {
		t.Errorf("limit during the import %d (want %d), after %d (want %d)", during, importHeapLimit(2500), current(), int64(1<<40))
	}
	if d := importHeapLimit(2500); d < 64<<20 || d > 96<<20 {
		t.Errorf("limit at the default batch is %d MiB, want 64 to 96", d>>20)
	}
	if small, big := importHeapLimit(1), importHeapLimit(10000); small >= importHeapLimit(2500) || big <= 4*(importHeapLimit(2500)-(24<<20)) {
		t.Errorf("limit does not follow the batch: 1 → %d, 10000 → %d", small, big)
	}
	if huge := importHeapLimit(int(^uint(0) >> 1)); huge <= 0 {
		t.Errorf("limit for the largest batch overflows: %d", huge)
	}

	t.Setenv("GOMEMLIMIT", "500MiB")
	restore = limitImportHeap(2500)
	if got := current(); got != 1<<40 {
		t.Errorf("limit with GOMEMLIMIT set changed to %d", got)
	}
	restore()
}
