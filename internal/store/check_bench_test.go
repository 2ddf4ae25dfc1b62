package store

import (
	"os"
	"testing"
	"time"
)

// BenchmarkCheck runs db check over the database DESKCTL_BENCH_DB names (a
// generated one: go run ./internal/devgen/cmd/deskctl-devgen); it is skipped
// without one. The figures in docs/benchmarks.md come from the whole
// process; this is the same work in process, for profiles.
func BenchmarkCheck(b *testing.B) {
	path := os.Getenv("DESKCTL_BENCH_DB")
	if path == "" {
		b.Skip("set DESKCTL_BENCH_DB to a generated database")
	}
	b.ReportAllocs()
	for range b.N {
		db, err := Open(Options{Path: path, ReadOnly: true, LockTimeout: time.Second, Damaged: true})
		if err != nil {
			b.Fatal(err)
		}
		ps, err := db.Check()
		db.Close()
		if err != nil || len(ps) > 0 {
			b.Fatalf("Check() = %v, %v", ps, err)
		}
	}
}
