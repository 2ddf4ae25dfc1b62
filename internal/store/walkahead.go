package store

import (
	"fmt"
	"iter"
	"runtime/debug"
	"sync/atomic"
)

// walkAheadBatch is how many records the reader of walkAhead hands over at
// a time, and walkAheadDepth how many such batches may wait.
const (
	walkAheadBatch = 256
	walkAheadDepth = 4
)

// walkAhead yields the records of bucket b in key order, as ForEach
// would, until stop is set. On bbolt the bucket is read by a goroutine of
// its own a few batches ahead of the caller: a walk of a large bucket
// spends much of its time faulting in the pages of the mapped file, and
// that way the faults and the caller's work on the records take one core
// each. The keys and values point into the mapping and stay valid until
// the (read-only) transaction ends; the reader is done when the sequence
// returns. A panic of the reader (damage bbolt trips over) is raised again
// in the caller, where guard looks at it as if it had happened there.
func (tx *Tx) walkAhead(b kvBucket, stop *atomic.Bool) iter.Seq2[[]byte, []byte] {
	if tx.btx == nil || tx.btx.Writable() {
		return func(yield func(k, v []byte) bool) {
			_ = b.ForEach(func(k, v []byte) error {
				if stop.Load() || !yield(k, v) {
					return errCheckStopped
				}
				return nil
			})
		}
	}
	return func(yield func(k, v []byte) bool) {
		full := make(chan [][2][]byte, walkAheadDepth)
		empty := make(chan [][2][]byte, walkAheadDepth+2)
		quit := make(chan struct{})
		var failed any
		go func() {
			defer close(full)
			batch := make([][2][]byte, 0, walkAheadBatch)
			var send func() bool
			defer func() {
				// What was read before a panic is yielded before it.
				if r := recover(); r != nil {
					failed = forwardedPanic{r, fromDamage(r)}
				}
				if len(batch) > 0 {
					send()
				}
			}()
			// A fault reading the mapping is a panic here, as in guard.
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			send = func() bool {
				select {
				case full <- batch:
				case <-quit:
					return false
				}
				select {
				case batch = <-empty:
					batch = batch[:0]
				default:
					batch = make([][2][]byte, 0, walkAheadBatch)
				}
				return true
			}
			_ = b.ForEach(func(k, v []byte) error {
				if batch = append(batch, [2][]byte{k, v}); len(batch) == walkAheadBatch && !send() {
					return errCheckStopped
				}
				return nil
			})
		}()
		defer func() {
			close(quit)
			for range full { // the reader is done once it has closed full
			}
		}()
		for batch := range full {
			for _, kv := range batch {
				if stop.Load() || !yield(kv[0], kv[1]) {
					return
				}
			}
			select {
			case empty <- batch:
			default:
			}
		}
		if failed != nil {
			panic(failed)
		}
	}
}

// forwardedPanic is a panic of another goroutine raised again, with what
// fromDamage said of it where it happened. It prints as the original.
type forwardedPanic struct {
	r      any
	damage bool
}

func (p forwardedPanic) String() string { return fmt.Sprint(p.r) }
