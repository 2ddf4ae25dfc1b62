package store

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// fakePageCheck makes Check see the given findings from bbolt's check.
func fakePageCheck(t *testing.T, found ...string) {
	t.Helper()
	old := startPageCheck
	t.Cleanup(func() { startPageCheck = old })
	startPageCheck = func(*bolt.Tx) *pageCheck {
		ch := make(chan error)
		go func() {
			defer close(ch)
			for _, f := range found {
				ch <- errors.New(f)
			}
		}()
		return collectPageCheck(ch)
	}
}

// With bbolt's check finding something, Check reports only that, in
// order, as when the record checks ran after it, and the record checks
// stop early.
func TestCheckReportsPageFindingsAlone(t *testing.T) {
	if onPostgres {
		t.Skip("bbolt's page check runs on bbolt only")
	}
	db := indexedStore(t)
	mustUpdate(t, db, func(tx *Tx) error {
		return tx.bucket(bucketTicketIndex).Put([]byte("state\x00new\x00"+string(be64(5000))), nil)
	})
	fakePageCheck(t, "page 9: unreachable unfreed", "page 12: reachable freed")
	equal(t, "findings", findings(t, db), []string{"bbolt: page 9: unreachable unfreed", "bbolt: page 12: reachable freed"})

	fakePageCheck(t)
	equal(t, "findings without page findings", findings(t, db), []string{`index: ticket index has a stale entry "state/new///////\x13\x88"`})

	// Stopped (by bbolt's first finding), the records check ends before
	// the ticket index.
	mustView(t, db, func(tx *Tx) error {
		var stop atomic.Bool
		stop.Store(true)
		for _, p := range tx.checkRecords(&stop) {
			if strings.Contains(p.Detail, "ticket index") {
				t.Errorf("a stopped check reported %s: %s", p.Area, p.Detail)
			}
		}
		return nil
	})
}

// A panic of the record checks is passed on when bbolt's check found
// nothing, and is no more than bbolt's findings when it found something
// (before, the records were not read then).
func TestCheckRecordsPanicBesideThePageCheck(t *testing.T) {
	boom := func(*atomic.Bool) problemList { panic("records cannot be read") }
	c := collectPageCheck(nil)
	func() {
		defer func() {
			if r := recover(); r != "records cannot be read" {
				t.Errorf("recovered %v, want the records' panic", r)
			}
		}()
		c.beside(boom)
		t.Error("the panic was swallowed")
	}()

	ch := make(chan error, 1)
	ch <- errors.New("page 9: unreachable unfreed")
	close(ch)
	c = collectPageCheck(ch)
	if got := c.beside(boom); got != nil {
		t.Errorf("beside = %v, want nothing", got)
	}
	equal(t, "page findings", c.wait(), problemList{{"bbolt", "page 9: unreachable unfreed"}})
}

// walkAhead yields what ForEach yields, in order, across many batches, and
// ends early when told to, with its reader done.
func TestWalkAheadYieldsEveryRecordInOrder(t *testing.T) {
	if onPostgres {
		t.Skip("the reader runs on bbolt only")
	}
	db := openTestStore(t)
	n := walkAheadBatch*walkAheadDepth*3 + 17
	mustUpdate(t, db, func(tx *Tx) error {
		for i := range n {
			if err := tx.bucket(bucketOutbox).Put(be64(uint64(i)), fmt.Appendf(nil, "mail %d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	mustView(t, db, func(tx *Tx) error {
		var stop atomic.Bool
		var want, got []string
		_ = tx.bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			want = append(want, fmt.Sprintf("%d=%s", fromBE64(k), v))
			return nil
		})
		for k, v := range tx.walkAhead(tx.bucket(bucketOutbox), &stop) {
			got = append(got, fmt.Sprintf("%d=%s", fromBE64(k), v))
		}
		equal(t, "records", got, want)

		seen := 0
		for range tx.walkAhead(tx.bucket(bucketOutbox), &stop) {
			if seen++; seen == walkAheadBatch+3 {
				stop.Store(true)
			}
		}
		equal(t, "records before the stop", seen, walkAheadBatch+3)
		seen = 0
		for range tx.walkAhead(tx.bucket(bucketOutbox), &stop) {
			seen++
		}
		equal(t, "records once stopped", seen, 0)
		return nil
	})
}

// panickingBucket is a bucket whose walk panics after a few records.
type panickingBucket struct{ kvBucket }

func (b panickingBucket) ForEach(fn func(k, v []byte) error) error {
	for i := range walkAheadBatch + 5 {
		if err := fn(be64(uint64(i)), nil); err != nil {
			return err
		}
	}
	panic("a page of unexpected type")
}

// A panic of walkAhead's reader is raised in the caller, after the records
// read before it, printing as it did, and counts as damage only when it
// did where it happened.
func TestWalkAheadRaisesTheReadersPanic(t *testing.T) {
	if onPostgres {
		t.Skip("the reader runs on bbolt only")
	}
	db := openTestStore(t)
	mustView(t, db, func(tx *Tx) error {
		var stop atomic.Bool
		seen := 0
		func() {
			defer func() {
				r := recover()
				f, ok := r.(forwardedPanic)
				if !ok || f.String() != "a page of unexpected type" || f.damage || fromDamage(r) {
					t.Errorf("recovered %#v, want the reader's panic, not damage", r)
				}
			}()
			for range tx.walkAhead(panickingBucket{tx.bucket(bucketOutbox)}, &stop) {
				seen++
			}
		}()
		equal(t, "records before the panic", seen, walkAheadBatch+5)
		return nil
	})
	if !fromDamage(forwardedPanic{"invalid page type", true}) {
		t.Error("a forwarded panic from damage does not count as damage")
	}
}
