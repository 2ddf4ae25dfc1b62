package app

import (
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// serve shares one Service among the pages' concurrent requests: reading
// must not write to it (go test -race catches a write).
func TestConcurrentReadsShareTheService(t *testing.T) {
	s := &Service{DBPath: filepath.Join(t.TempDir(), "desk.db"), LockTimeout: time.Second}
	if _, err := s.Init(InitInput{Admin: "alice", Email: "alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	s.Actor = "alice"
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.ListTokens(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}
