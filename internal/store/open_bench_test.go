package store

import (
	"path/filepath"
	"testing"
	"time"
)

// newBenchFile creates a fresh database and closes it.
func newBenchFile(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "desk.db")
	db, err := Create(path, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	db.Close()
	b.ReportAllocs()
	b.ResetTimer()
	return path
}

// BenchmarkOpen is what every command pays to open the file read-only and
// close it; the check of the meta pages before bbolt maps the file is part of it.
func BenchmarkOpen(b *testing.B) {
	path := newBenchFile(b)
	for range b.N {
		db, err := Open(Options{Path: path, ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}

// BenchmarkCheckHeader is the part of BenchmarkOpen that reads the two meta
// pages before bbolt maps the file.
func BenchmarkCheckHeader(b *testing.B) {
	path := newBenchFile(b)
	for range b.N {
		if _, err := checkHeader(path, time.Second); err != nil {
			b.Fatal(err)
		}
	}
}
