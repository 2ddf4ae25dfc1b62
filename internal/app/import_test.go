package app

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Repeated ids are found through a hash of each id. When ids hash alike
// without being the same (forced here by a hash that maps every id to one of
// two values), the file is read again and only real repeats are reported,
// the earliest first.
func TestCheckRepeatsThroughHashClashes(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, ids ...string) func() (io.ReadCloser, error) {
		var b strings.Builder
		for _, id := range ids {
			b.WriteString(`{"id":"` + id + `","subject":"s","requester":"bob"}` + "\n")
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return LocalFile(path).open
	}
	prev := idHash
	t.Cleanup(func() { idHash = prev })
	idHash = func(id string) uint64 { return uint64(len(id) % 2) }

	repeats := func(open func() (io.ReadCloser, error)) error {
		f, err := open()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		ids := newIDIndex()
		if err := ParseImport(f, "jsonl", func(line int, rec ImportRecord) error { ids.add(line, rec.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		return ids.repeats(open, "jsonl")
	}

	distinct := write("distinct.jsonl", "a", "bb", "c", "dd", "e")
	if err := repeats(distinct); err != nil {
		t.Errorf("distinct ids that only hash alike: %v", err)
	}
	// b and d hash like a; the real repeats are c (line 5 repeats line 3)
	// and dd (line 6 repeats line 2).
	repeated := write("repeated.jsonl", "a", "dd", "c", "b", "c", "dd")
	err := repeats(repeated)
	if err == nil || err.Error() != `line 5: id "c" repeats line 3` {
		t.Errorf("repeats among clashing ids: %v", err)
	}
}
