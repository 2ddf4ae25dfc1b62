package app

import (
	"os"
	"path/filepath"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/store"
)

// CheckResult is `db check`.
type CheckResult struct {
	Path     string          `json:"path"`
	Healthy  bool            `json:"healthy"`
	Problems []store.Problem `json:"problems"`
}

// CheckDB runs bbolt's and deskctl's consistency checks. Database commands act
// on the file itself and need no acting user: protect the file with its mode.
func (s *Service) CheckDB() (CheckResult, error) {
	out := CheckResult{Path: s.DBPath, Problems: []store.Problem{}}
	if err := s.requireServedAdmin(); err != nil {
		return out, err
	}
	// Damaged: a file with missing buckets is what this command reports on.
	db, err := store.Open(store.Options{Path: s.DBPath, ReadOnly: true, LockTimeout: s.LockTimeout, Damaged: true})
	if err != nil {
		return out, err
	}
	defer db.Close()
	err = db.View(func(tx *store.Tx) error {
		if ps := tx.Check(); ps != nil {
			out.Problems = ps
		}
		return nil
	})
	out.Healthy = err == nil && len(out.Problems) == 0
	return out, err
}

// BackupDB writes a hot, consistent copy to path. An existing file at path
// is replaced only with force, and never the database itself.
func (s *Service) BackupDB(path string, force bool) (int64, error) {
	if st, err := os.Stat(path); err == nil {
		switch db, _ := os.Stat(s.DBPath); {
		case st.IsDir():
			return 0, errs.Usagef("%s is a directory", path).WithHint("name the backup file, e.g. %s", filepath.Join(path, "deskctl-"+s.now().Format("2006-01-02")+".db"))
		case db != nil && os.SameFile(st, db):
			return 0, errs.Usagef("%s is the database itself", path).WithHint("write the backup to another file")
		case !force:
			return 0, errs.Conflictf("%s already exists", path).WithHint("pass --force to replace it, or choose another name")
		}
	}
	db, err := s.open(true)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return db.Backup(path)
}

// RestoreDB replaces the database with a checked backup.
func (s *Service) RestoreDB(path string, force bool) error {
	return store.Restore(path, s.DBPath, s.LockTimeout, force)
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
