package app

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// CheckResult is `db check`.
type CheckResult struct {
	Path     string          `json:"path"`
	Healthy  bool            `json:"healthy"`
	Problems []store.Problem `json:"problems"`
}

// CheckDB runs bbolt's and deskctl's consistency checks. It needs no acting
// user: it must work on a file too damaged to say who is an administrator.
func (s *Service) CheckDB() (CheckResult, error) {
	if err := s.requireServedAdmin(); err != nil {
		return CheckResult{Path: s.DBName(), Problems: []store.Problem{}}, err
	}
	return s.checkFile(s.DBPath)
}

// checkFile runs db check on the database file at path.
func (s *Service) checkFile(path string) (CheckResult, error) {
	out := CheckResult{Path: store.RedactURL(path), Problems: []store.Problem{}}
	// Damaged: a file with missing buckets is what this command reports on.
	db, err := store.Open(store.Options{Path: path, ReadOnly: true, LockTimeout: s.LockTimeout, Damaged: true})
	if err != nil {
		return out, err
	}
	defer db.Close()
	out.Problems, err = db.Check()
	out.Healthy = err == nil && len(out.Problems) == 0
	return out, err
}

// BackupResult is `db backup`: the size of the copy and, unless the check
// was skipped, what db check found in it.
type BackupResult struct {
	Bytes int64        `json:"bytes"`
	Check *CheckResult `json:"check"`
}

// BackupDB writes a hot, consistent copy to path (administrators only: it
// holds the whole database), then, with check, runs db check on the copy.
// An existing file at path is replaced only with force, and never the
// database itself.
func (s *Service) BackupDB(path string, force, check bool) (BackupResult, error) {
	var out BackupResult
	if st, err := os.Stat(path); err == nil {
		switch db, _ := os.Stat(s.DBPath); {
		case st.IsDir():
			return out, errs.Usagef("%s is a directory", path).WithHint("name the backup file, e.g. %s", filepath.Join(path, "deskctl-"+s.now().Format("2006-01-02")+".db"))
		case db != nil && os.SameFile(st, db):
			return out, errs.Usagef("%s is the database itself", path).WithHint("write the backup to another file")
		case !force:
			return out, errs.Conflictf("%s already exists", path).WithHint("pass --force to replace it, or choose another name")
		}
	}
	err := s.read(func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		var err error
		out.Bytes, err = c.Tx.Backup(path)
		return err
	})
	if err != nil || !check {
		return out, err
	}
	r, err := s.checkFile(path)
	out.Check = &r
	return out, err
}

// RestoreResult is `db restore`: what was replaced by what, and the audit
// record the restore left in the restored database.
type RestoreResult struct {
	Path   string `json:"path"`
	Backup string `json:"backup"`
	// BackupAsOf is the time of the backup's newest audit record: the last
	// change it holds (zero when it has no audit record).
	BackupAsOf OptTime `json:"backup_as_of"`
	// BackupHead is the backup's audit head, SEQ:HASH.
	BackupHead string `json:"backup_head"`
	// ReplacedHead is the audit head of the database that was replaced;
	// empty when there was none or it could not be read.
	ReplacedHead string `json:"replaced_head"`
	// Head is the restored database's head: the restore's own record.
	Head string `json:"head"`
	By   string `json:"by"`
	// AdminChecked is false when there was no readable database to check
	// the acting user against (none at the path, or too damaged to read).
	AdminChecked bool `json:"admin_checked"`
}

// RestoreDB replaces the database with a checked backup. The acting user
// must be an administrator in the database being replaced, checked under its
// lock; only when there is none, or it cannot be read at all, does the
// restore go ahead unchecked (and says so). The restored file gets an audit
// record of the restore before it is put in place.
func (s *Service) RestoreDB(path string, force bool) (RestoreResult, error) {
	out := RestoreResult{Path: s.DBName(), Backup: path}
	live := func(tx *store.Tx) error {
		if tx == nil {
			return nil
		}
		c, err := s.ctx(tx, "")
		if err == nil {
			err = c.RequireAdmin()
		}
		if err == nil {
			out.By, out.AdminChecked = c.Actor.Login, true
			out.ReplacedHead, err = auditHead(tx)
		}
		if errs.Is(err, errs.Unusable) {
			// Damaged records: who is an administrator cannot be read.
			out.ReplacedHead = ""
			return nil
		}
		return err
	}
	restored := func(tx *store.Tx) error {
		last, ok, err := tx.LastAudit()
		if err != nil {
			return err
		}
		if ok {
			out.BackupAsOf, out.BackupHead = OptTime{last.Time}, headOf(last)
		}
		if !out.AdminChecked {
			out.By = s.claimedActor()
		}
		note := fmt.Sprintf("restored from backup taken at %s with audit head %s, by %s",
			timeOrUnknown(out.BackupAsOf.Time), orNone(out.BackupHead), out.By)
		if !out.AdminChecked {
			note += " (not checked as administrator: no readable database was replaced)"
		}
		c := &Ctx{Tx: tx, Actor: helpdesk.User{Login: out.By}, Now: s.now(), command: "db restore"}
		if err := c.Audit("database", restoreBefore(out.ReplacedHead), map[string]any{
			"backup": path, "backup_as_of": out.BackupAsOf, "backup_head": out.BackupHead, "note": note,
		}); err != nil {
			return err
		}
		out.Head, err = auditHead(tx)
		return err
	}
	err := store.Restore(path, s.DBPath, s.LockTimeout, force, store.RestoreHooks{Live: live, Restored: restored})
	return out, err
}

// claimedActor is who runs a command when no database says who that is.
func (s *Service) claimedActor() string {
	switch {
	case s.Actor != "":
		return s.Actor
	case s.OSUser != nil && s.OSUser() != "":
		return s.OSUser()
	}
	return "unknown"
}

func restoreBefore(head string) any {
	if head == "" {
		return nil
	}
	return map[string]string{"head": head}
}

// auditHead names the newest audit record as SEQ:HASH ("" for none).
func auditHead(tx *store.Tx) (string, error) {
	last, ok, err := tx.LastAudit()
	if err != nil || !ok {
		return "", err
	}
	return headOf(last), nil
}

func headOf(r helpdesk.AuditRecord) string { return fmt.Sprintf("%d:%s", r.Seq, r.Hash) }

func timeOrUnknown(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format(time.RFC3339)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// StatsDB reports counts, file size and free pages.
func (s *Service) StatsDB() (store.Stats, error) {
	if err := s.requireServedAdmin(); err != nil {
		return store.Stats{}, err
	}
	db, err := s.open(true)
	if err != nil {
		return store.Stats{}, err
	}
	defer db.Close()
	return db.Stats()
}

// DBName is the database for messages: the file's path, or a PostgreSQL
// URL without its password.
func (s *Service) DBName() string { return store.RedactURL(s.DBPath) }

// CopyDB copies a whole database (file or PostgreSQL) into a new one and
// verifies the copy. It needs no acting user: whoever can read the source
// can read everything in it, and the copy carries the audit chain unchanged,
// so it adds no record of its own.
func CopyDB(from, to string, timeout time.Duration, progress store.CopyProgress) (store.CopyResult, error) {
	return store.Copy(from, to, timeout, progress)
}

// Ping opens the database and closes it again: it exists, has a schema this
// build reads, and (PostgreSQL) the server answers.
func (s *Service) Ping() error {
	db, err := s.open(true)
	if err != nil {
		return err
	}
	return db.Close()
}

// FormKey is the key of the approval page's form fields, one per database
// so that every server of a database accepts the forms of the others. It is
// created on first use; it is server state, not a change anyone made, so it
// leaves no audit record.
func (s *Service) FormKey() ([]byte, error) {
	candidate := make([]byte, 32)
	if _, err := rand.Read(candidate); err != nil {
		return nil, err
	}
	db, err := s.open(false)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var key []byte
	err = db.Update(func(tx *store.Tx) error {
		key, err = tx.FormKey(candidate)
		return err
	})
	return key, err
}
