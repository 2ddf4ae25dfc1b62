package app

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

func newTestService(t *testing.T) *Service {
	t.Helper()
	s := &Service{DBPath: filepath.Join(t.TempDir(), "desk.db"), Actor: "alice", LockTimeout: time.Second}
	if _, err := s.Init(InitInput{Admin: "alice", Email: "alice@example.com", Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *Service) as(login string) *Service {
	c := *s
	c.Actor = login
	return &c
}

// A restore names the heads of both chains and chains its own record onto
// the backup's: the restored log verifies, the replaced head is what the
// live database ended with, and an anchor taken from it no longer holds.
func TestRestoreRecordsTheRollback(t *testing.T) {
	s := newTestService(t)
	if _, err := s.AddUser(UserInput{Login: "bob", Email: "bob@example.com"}); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "one.db")
	if b, err := s.BackupDB(backup, false, true); err != nil || b.Check == nil || !b.Check.Healthy {
		t.Fatalf("backup: %+v, %v; want a healthy checked copy", b, err)
	}
	backupHead := mustVerify(t, s).Head
	if _, err := s.AddUser(UserInput{Login: "carol", Email: "carol@example.com"}); err != nil {
		t.Fatal(err)
	}
	liveHead := mustVerify(t, s).Head

	// Neither a non-administrator nor an unknown user may roll back.
	if _, err := s.as("bob").RestoreDB(backup, true); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("restore by bob: %v, want forbidden", err)
	}
	if _, err := s.as("erin").RestoreDB(backup, true); !errs.Is(err, errs.NotFound) {
		t.Fatalf("restore by erin: %v, want not found", err)
	}
	if got := mustVerify(t, s).Head; got != liveHead {
		t.Fatalf("a refused restore changed the database: head %s, was %s", got, liveHead)
	}

	r, err := s.RestoreDB(backup, true)
	if err != nil {
		t.Fatal(err)
	}
	if !r.AdminChecked || r.By != "alice" || r.ReplacedHead != liveHead || r.BackupHead != backupHead {
		t.Fatalf("restore result %+v; want checked, by alice, replaced %s, backup %s", r, liveHead, backupHead)
	}
	v := mustVerify(t, s)
	if v.Head != r.Head {
		t.Errorf("head after restore %s, printed %s", v.Head, r.Head)
	}
	seq, _, _ := strings.Cut(backupHead, ":")
	if n, _ := strconv.Atoi(seq); !strings.HasPrefix(r.Head, itoa(n+1)+":") {
		t.Errorf("restore record %s, want the one after the backup's head %s", r.Head, backupHead)
	}
	recs, err := s.AuditLog(AuditQuery{Subject: "database", Limit: 1})
	if err != nil || len(recs) != 1 {
		t.Fatalf("audit log: %v %v", recs, err)
	}
	_, hash, _ := strings.Cut(backupHead, ":")
	if rec := recs[0]; rec.Command != "db restore" || rec.Actor != "alice" || rec.Prev != hash ||
		!strings.Contains(string(rec.After), "with audit head "+backupHead+", by alice") ||
		!strings.Contains(string(rec.Before), liveHead) {
		t.Errorf("restore record %+v", rec)
	}
	if v, err := s.VerifyAudit(liveHead); err != nil || v.OK {
		t.Errorf("the replaced database's head still verifies after the rollback: %+v %v", v, err)
	}
}

func mustVerify(t *testing.T, s *Service) AuditVerification {
	t.Helper()
	v, err := s.VerifyAudit()
	if err != nil || !v.OK {
		t.Fatalf("audit verify: %+v %v", v, err)
	}
	return v
}
