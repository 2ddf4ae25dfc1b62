package store

import (
	"time"

	"golang.org/x/sys/unix"
)

// releaseMapped keeps a walk over the whole file (db check, audit verify)
// from holding the whole file in this process's memory. bbolt reads through
// a shared, read-only mapping of the file, and every page a walk touches
// stays mapped, and counted in the process's resident size, until the file
// is closed: 2.8 GB for a million tickets. Until stop is called, the mapped
// pages are handed back every trimInterval (MADV_DONTNEED); they stay in the
// page cache, and the next read of one maps it again without reading the
// disk, so nothing read changes. A write transaction is left alone.
func (tx *Tx) releaseMapped() (stop func()) {
	if tx.btx == nil || tx.btx.Writable() || tx.releasing {
		return func() {}
	}
	tx.releasing = true
	start, size := tx.btx.DB().Info().Data, uintptr(tx.btx.Size())
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(trimInterval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				// The transaction's size lies within the mapping (bbolt
				// maps at least every page in use), so this touches
				// nothing else; an error only means the pages stay.
				_, _, _ = unix.Syscall(unix.SYS_MADVISE, start, size, unix.MADV_DONTNEED)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		tx.releasing = false
	}
}
