package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// fdsOn counts this process's open descriptors on path (Linux /proc).
func fdsOn(t *testing.T, path string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no /proc/self/fd: %v (CI runs on Linux)", err)
		}
		t.Skipf("no /proc/self/fd here: %v", err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.TrimSuffix(target, " (deleted)") == path {
			n++
		}
	}
	return n
}

// A command waiting for the lock while `db restore` renames a new file over
// the database must end up working on the new file: writing into the old,
// unlinked one would lose a write it reported as done.
func TestOpenFollowsAFileReplacedDuringTheWait(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "desk.db")
	for _, p := range []string{path, filepath.Join(dir, "new.db")} {
		db, err := Create(p, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	next, err := Open(Options{Path: filepath.Join(dir, "new.db"), LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, next, func(tx *Tx) error { return tx.PutUser(helpdesk.User{Login: "restored", Active: true}) })
	next.Close()

	lock, err := openBolt(path, false, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	opened := make(chan *DB, 1)
	failed := make(chan error, 1)
	go func() {
		db, err := Open(Options{Path: path, LockTimeout: time.Minute})
		if err != nil {
			failed <- err
			return
		}
		opened <- db
	}()
	// Wait until the second open holds the old file and waits for its lock.
	for deadline := time.Now().Add(time.Minute); fdsOn(t, path) < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second open never reached the file")
		}
	}
	if err := os.Rename(filepath.Join(dir, "new.db"), path); err != nil {
		t.Fatal(err)
	}
	lock.Close()

	var db *DB
	select {
	case db = <-opened:
	case err := <-failed:
		t.Fatalf("open after the replace: %v", err)
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.PutUser(helpdesk.User{Login: "after", Active: true}) })
	db.Close()

	db, err = Open(Options{Path: path, ReadOnly: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustView(t, db, func(tx *Tx) error {
		for _, login := range []string{"restored", "after"} {
			if _, ok, err := tx.User(login); err != nil || !ok {
				t.Errorf("user %s missing from the file at %s (err %v)", login, path, err)
			}
		}
		return nil
	})
}

// Damage is reported as an unusable database with what to do, never as a
// crash or an internal error: a missing bucket at open, a record that does
// not decode when it is read. db check (Damaged) still opens the file.
func TestDamageIsUnusable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "desk.db")
	db, err := Create(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.PutUser(helpdesk.User{Login: "bob", Active: true}); err != nil {
			return err
		}
		return tx.bucket(bucketUsers).Put([]byte("eve"), []byte("{not json"))
	})
	db.Close()

	db, err = Open(Options{Path: path, ReadOnly: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mustView(t, db, func(tx *Tx) error {
		_, _, err := tx.User("eve")
		if errs.KindOf(err) != errs.Unusable || !strings.Contains(err.Error(), `damaged record: user "eve"`) {
			t.Errorf("reading a damaged user: %v (kind %v)", err, errs.KindOf(err))
		}
		if _, err := tx.AllUsers(); errs.KindOf(err) != errs.Unusable {
			t.Errorf("listing users with a damaged one: %v", err)
		}
		if u, ok, err := tx.User("bob"); err != nil || !ok || u.Login != "bob" {
			t.Errorf("an intact record next to it: %v %v %v", u, ok, err)
		}
		return nil
	})
	db.Close()

	db, err = Open(Options{Path: path, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.btx.DeleteBucket(bucketGroups) })
	db.Close()
	_, err = Open(Options{Path: path, ReadOnly: true, LockTimeout: time.Second})
	if errs.KindOf(err) != errs.Unusable || !strings.Contains(err.Error(), "bucket groups is missing") {
		t.Fatalf("opening without the groups bucket: %v", err)
	}
	checkFindsMissing(t, path, "groups")
}

// checkFindsMissing opens the database at path as db check does and wants
// its first finding to be the missing bucket.
func checkFindsMissing(t *testing.T, path, bucket string) {
	t.Helper()
	db, err := Open(Options{Path: path, ReadOnly: true, LockTimeout: time.Second, Damaged: true})
	if err != nil {
		t.Fatalf("opening for db check: %v", err)
	}
	defer db.Close()
	mustView(t, db, func(tx *Tx) error {
		ps := tx.Check()
		if len(ps) == 0 || ps[0].Detail != "bucket "+bucket+" is missing" {
			t.Errorf("check: %+v", ps)
		}
		return nil
	})
}

// Schema 3 → 4 indexes who acted on each ticket, for tickets written before.
func TestMigrationIndexesTicketActors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "desk.db")
	db, err := Create(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.PutGroup(helpdesk.Group{Name: helpdesk.Everyone}); err != nil {
			return err
		}
		for _, u := range []string{"dave", "yan"} {
			if err := tx.PutUser(helpdesk.User{Login: u, Active: true}); err != nil {
				return err
			}
		}
		t := helpdesk.Ticket{Number: 1, Subject: "x", Requester: "dave", State: helpdesk.StateRequest, Priority: helpdesk.PriorityNormal,
			Log: []helpdesk.Entry{{Seq: 1, Actor: "yan", Action: "comment", Visibility: helpdesk.VisibleEveryone}}}
		if _, err := tx.NextTicketNumber(); err != nil {
			return err
		}
		if err := tx.PutTicket(t); err != nil {
			return err
		}
		// As schema 3 left it: no actor keys.
		key := append(append(pair(idxActor, "yan"), 0), be64(1)...)
		if err := tx.bucket(bucketTicketIndex).Delete(key); err != nil {
			return err
		}
		return tx.bucket(bucketMeta).Put(schemaKey, be64(3))
	})
	db.Close()

	db, err = Open(Options{Path: path, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustView(t, db, func(tx *Tx) error {
		if n, ok := tx.ActedOnTicket("yan"); !ok || n != 1 {
			t.Errorf("after the migration yan acted on #%d (%v), want #1", n, ok)
		}
		if _, ok := tx.ActedOnTicket("dave"); ok {
			t.Error("dave made no log entry but is indexed as an actor")
		}
		return nil
	})
	assertNoProblems(t, db)
}

// db check reports every enumerated field that holds a value outside its
// set, naming the record, and nothing for the values deskctl writes.
func TestCheckReportsValuesOutsideTheirSets(t *testing.T) {
	write := func(db *DB, vis helpdesk.Visibility, from, state helpdesk.State, prio helpdesk.Priority,
		acc helpdesk.Access, as helpdesk.ApprovalState, ms string) {
		t.Helper()
		addUsers(t, db, "ann", "tech")
		mustUpdate(t, db, func(tx *Tx) error {
			if err := tx.PutResource(helpdesk.Resource{Name: "network", Members: []helpdesk.ResourceMember{{Login: "tech", Access: acc}}}); err != nil {
				return err
			}
			log := []helpdesk.Entry{
				{Seq: 1, Action: "create", To: helpdesk.StateRequest, Visibility: helpdesk.VisibleEveryone},
				{Seq: 2, Action: "note", From: from, Visibility: vis},
			}
			if err := tx.PutTicket(helpdesk.Ticket{Number: 1, Subject: "t", Requester: "ann", Resource: "network",
				State: state, Priority: prio, Log: log}); err != nil {
				return err
			}
			if err := tx.PutApproval(helpdesk.Approval{Ticket: 1, State: as, Approver: "tech"}); err != nil {
				return err
			}
			return tx.PutMail(OutboxMail{ID: 1, To: "ann@example.com", State: ms})
		})
	}
	good := openTestStore(t)
	write(good, helpdesk.VisibleTechnicians, helpdesk.StateNew, helpdesk.StateNew, helpdesk.PriorityHigh,
		helpdesk.AccessRead, helpdesk.ApprovalPending, MailFailed)
	assertNoProblems(t, good)

	bad := openTestStore(t)
	write(bad, "technicianz", "nouveau", "reopened", "whenever", "admin", "maybe", "lost")
	var got []string
	mustView(t, bad, func(tx *Tx) error {
		for _, p := range tx.Check() {
			got = append(got, p.Area+": "+p.Detail)
		}
		return nil
	})
	want := []string{
		`tickets: ticket #1 has state "reopened", not one of request, new, in-progress, waiting, closed`,
		`tickets: ticket #1 has priority "whenever", not one of low, normal, high, urgent`,
		`tickets: ticket #1 log entry 2 (shown to technicians only) has visibility "technicianz", not one of everyone, technicians`,
		`tickets: ticket #1 log entry 2 has state "nouveau", not one of request, new, in-progress, waiting, closed`,
		`resources: resource network member tech has access "admin", not one of read, write`,
		`approvals: approval of #1 has state "maybe", not one of pending, approved, rejected, cancelled`,
		`outbox: mail 1 has state "lost", not one of queued, sent, failed, dropped`,
	}
	equal(t, "problems", got, want)
}
