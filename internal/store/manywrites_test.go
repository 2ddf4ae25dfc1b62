package store

import (
	"errors"
	"fmt"
	"testing"
)

// Many writes in one transaction: new keys, keys that replace stored ones
// the transaction never read, deletes, and more writes than a PostgreSQL
// transaction holds before sending them, in a transaction that then fails
// and so keeps none of them. Reads inside a transaction see its own
// writes, whether sent or not.
func TestManyWritesInOneTransaction(t *testing.T) {
	db := openTestStore(t)
	id := func(i int) string { return fmt.Sprintf("src-%06d", i) }
	ext := func(tx *Tx) kvBucket { return tx.bucket(bucketTicketExt) }
	walked := func(tx *Tx) int {
		n := 0
		_ = ext(tx).ForEach(func(_, _ []byte) error { n++; return nil })
		return n
	}

	mustUpdate(t, db, func(tx *Tx) error {
		for i := range 1000 {
			if err := tx.RecordImport(id(i), i+1); err != nil {
				return err
			}
		}
		n, ok := tx.ImportedTicket(id(999))
		equal(t, "ImportedTicket of a key written in the transaction", [2]any{n, ok}, [2]any{1000, true})
		equal(t, "keys walked in the transaction", walked(tx), 1000)
		return nil
	})
	mustUpdate(t, db, func(tx *Tx) error {
		for i := 500; i < 1500; i++ {
			if err := tx.RecordImport(id(i), i+10001); err != nil {
				return err
			}
		}
		for i := range 100 {
			if err := ext(tx).Delete([]byte(id(i))); err != nil {
				return err
			}
		}
		return nil
	})
	want := map[string]int{}
	for i := 100; i < 1500; i++ {
		want[id(i)] = i + 1
		if i >= 500 {
			want[id(i)] = i + 10001
		}
	}
	stored := func(what string) {
		t.Helper()
		mustView(t, db, func(tx *Tx) error {
			got := map[string]int{}
			prev := ""
			err := ext(tx).ForEach(func(k, v []byte) error {
				if string(k) <= prev {
					t.Errorf("%s: key %q walked after %q", what, k, prev)
				}
				prev = string(k)
				got[string(k)] = int(fromBE64(v))
				return nil
			})
			equal(t, what+": stored import ids", got, want)
			equal(t, what+": count", ext(tx).count(), len(want))
			_, ok := tx.ImportedTicket(id(0))
			equal(t, what+": deleted id found", ok, false)
			return err
		})
	}
	stored("after replacing and deleting")

	stop := errors.New("stop")
	err := db.Update(func(tx *Tx) error {
		for i := range 30000 {
			if err := tx.RecordImport(id(100000+i), i+1); err != nil {
				return err
			}
		}
		for i := 100; i < 1500; i++ {
			if err := ext(tx).Delete([]byte(id(i))); err != nil {
				return err
			}
		}
		equal(t, "keys walked in the failing transaction", walked(tx), 30000)
		n, ok := tx.ImportedTicket(id(100000))
		equal(t, "ImportedTicket of the first key written", [2]any{n, ok}, [2]any{1, true})
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("failing transaction returned %v, want %v", err, stop)
	}
	stored("after a failed transaction")
}
