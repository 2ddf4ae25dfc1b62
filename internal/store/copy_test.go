package store

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/pgtest"
)

// dump reads every bucket's keys, values and sequence.
func dump(t *testing.T, db *DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	mustView(t, db, func(tx *Tx) error {
		for _, name := range allBuckets {
			var buf bytes.Buffer
			b := tx.bucket(name)
			fmt.Fprintf(&buf, "seq=%d\n", b.Sequence())
			_ = b.ForEach(func(k, v []byte) error {
				if !bytes.Equal(k, copyMarker) {
					fmt.Fprintf(&buf, "%q=%q\n", k, v)
				}
				return nil
			})
			out[string(name)] = buf.String()
		}
		return tx.kvErr()
	})
	return out
}

// A file copied to PostgreSQL and back holds the same keys, values and
// sequences in every bucket, and the copy checks clean.
func TestCopyRoundTripsThroughPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db := openTestStore(t)
	addUsers(t, db, "ann", "ben")
	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.PutResource(helpdesk.Resource{Name: "net", Members: []helpdesk.ResourceMember{{Login: "ben", Access: helpdesk.AccessWrite}}}); err != nil {
			return err
		}
		for i := 0; i < 50; i++ {
			n, err := tx.NextTicketNumber()
			if err != nil {
				return err
			}
			if err := tx.PutTicket(helpdesk.Ticket{Number: n, Subject: "t", Requester: "ann", Resource: "net",
				State: helpdesk.StateNew, Priority: helpdesk.PriorityNormal}); err != nil {
				return err
			}
		}
		if _, err := tx.AppendAudit(helpdesk.AuditRecord{Actor: "ann", Command: "x", Subject: "ticket/1"}); err != nil {
			return err
		}
		return tx.PutSetting("approvals.enabled", "true")
	})
	want := dump(t, db)
	path := db.source
	if path == "" {
		path = db.Path()
	}
	db.Close()

	back := filepath.Join(t.TempDir(), "back.db")
	var batches int
	res, err := Copy(path, url, time.Second, func(string, int, int) { batches++ })
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || res.Counts["tickets"] != 50 || batches == 0 {
		t.Errorf("copy result %+v after %d batches", res, batches)
	}
	if _, err := Copy(url, back, time.Second, nil); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{url, back} {
		c, err := Open(Options{Path: target, ReadOnly: true, LockTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		assertNoProblems(t, c)
		got := dump(t, c)
		for name, w := range want {
			if got[name] != w {
				t.Errorf("%s: bucket %s differs:\n got %s\nwant %s", target, name, got[name], w)
			}
		}
		c.Close()
	}
	// A second copy into the same places is refused and leaves them alone.
	if _, err := Copy(path, url, time.Second, nil); errs.KindOf(err) != errs.Conflict {
		t.Errorf("copy into a database that has deskctl tables: %v, want conflict", err)
	}
	if _, err := Copy(path, back, time.Second, nil); errs.KindOf(err) != errs.Conflict {
		t.Errorf("copy over an existing file: %v, want conflict", err)
	}
	if c, err := Open(Options{Path: back, ReadOnly: true}); err != nil {
		t.Errorf("the refused copy harmed the earlier one: %v", err)
	} else {
		c.Close()
	}
}

// A database a copy has not finished is refused, and db check names it.
func TestUnfinishedCopyIsRefused(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(fmt.Sprint("postgres=", pg), func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "half.db")
			if pg {
				target = pgtest.NewDatabase(t)
			}
			db, err := Create(target, time.Second, func(tx *Tx) error {
				return tx.bucket(bucketMeta).Put(copyMarker, []byte("/elsewhere.db"))
			})
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			_, err = Open(Options{Path: target, LockTimeout: time.Second})
			if errs.KindOf(err) != errs.Unusable {
				t.Fatalf("open of an unfinished copy: %v, want unusable", err)
			}
			d, err := Open(Options{Path: target, ReadOnly: true, Damaged: true})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			ps, err := d.Check()
			if err != nil || len(ps) == 0 || ps[0].Area != "schema" {
				t.Errorf("check of an unfinished copy: %v %+v", err, ps)
			}
		})
	}
}
