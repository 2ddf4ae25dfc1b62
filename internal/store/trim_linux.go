package store

import (
	"bytes"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// releaseMapped keeps a walk over the whole file (db check, audit verify
// and audit log, db copy) from holding the whole file in this process's
// memory. bbolt reads through
// a shared, read-only mapping of the file, and every page a walk touches
// stays mapped, and counted in the process's resident size, until the file
// is closed: 2.8 GB for a million tickets. Until stop is called, the file's
// resident pages are measured every trimInterval and, past mappedBudget,
// handed back (MADV_DONTNEED). They stay in the page cache, and the next
// read of one maps it again without reading the disk, so nothing read
// changes. Handing back only past a budget, rather than on every tick, keeps
// the pages a walk is using mapped: each handing back costs page faults
// later. A write transaction is left alone.
func (tx *Tx) releaseMapped() (stop func()) {
	if tx.btx == nil || tx.btx.Writable() || tx.releasing {
		return func() {}
	}
	statm, err := os.Open("/proc/self/statm")
	if err != nil {
		return func() {}
	}
	tx.releasing = true
	start, size := tx.btx.DB().Info().Data, uintptr(tx.btx.Size())
	// bbolt advises random access, which maps one page per fault; a walk
	// over everything is better served by the kernel's default (pages
	// around the one faulted are mapped with it, read ahead if need be).
	advise := func(advice uintptr) { _, _, _ = unix.Syscall(unix.SYS_MADVISE, start, size, advice) }
	advise(unix.MADV_NORMAL)
	page := int64(os.Getpagesize())
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		defer statm.Close()
		tick := time.NewTicker(trimInterval)
		defer tick.Stop()
		buf := make([]byte, 128)
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if n, err := statm.ReadAt(buf, 0); n == 0 && err != nil {
				return
			} else if fileResident(buf[:n])*page < mappedBudget {
				continue
			}
			// The transaction's size lies within the mapping (bbolt
			// maps at least every page in use), so this touches nothing
			// else; an error only means the pages stay.
			advise(unix.MADV_DONTNEED)
		}
	}()
	return func() {
		close(done)
		<-finished
		advise(unix.MADV_RANDOM)
		tx.releasing = false
	}
}

// fileResident is the third field of /proc/self/statm: resident pages
// backed by files (the mapped database, the binary itself) or shared memory.
func fileResident(statm []byte) int64 {
	f := bytes.Fields(statm)
	if len(f) < 3 {
		return 0
	}
	n, _ := strconv.ParseInt(string(f[2]), 10, 64)
	return n
}
