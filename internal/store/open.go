package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// DefaultLockTimeout is how long a command waits for another deskctl process
// to release the database.
const DefaultLockTimeout = 5 * time.Second

// Options says how to open the database.
type Options struct {
	Path        string
	ReadOnly    bool
	LockTimeout time.Duration
	// Damaged opens a file whose buckets are not all there, for `db check`
	// to report on; everything else refuses it.
	Damaged bool
	// NoMigrate refuses a file of an older schema instead of migrating it,
	// for readers that must never write (shell completion).
	NoMigrate bool
	// AllTables makes PostgreSQL list its tables on opening and refuse a
	// database missing one, as a file refuses a missing bucket; otherwise
	// a missing table is reported when a statement meets it. The source of
	// a copy asks for it, so a damaged source is refused before anything
	// is written.
	AllTables bool
}

// DB is an open database. Open one per command (or per HTTP request) and
// close it before exiting, so other processes get their turn.
type DB struct {
	bolt *bolt.DB
	// pg is set instead of bolt for a PostgreSQL database.
	pg     *pgStore
	path   string
	source string // the --db value it was opened with
	// copyFrom names the source of an unfinished `db copy` (its marker).
	copyFrom    []byte
	ro          bool
	header      header
	lockTimeout time.Duration
}

// boltOptions is the one place bbolt options are built: the lock timeout is
// always set and sync is never skipped.
func boltOptions(readOnly bool, timeout time.Duration) *bolt.Options {
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	return &bolt.Options{Timeout: timeout, ReadOnly: readOnly, NoSync: false, FreelistType: bolt.FreelistMapType}
}

// Open opens an existing database, migrating an older schema first.
func Open(o Options) (*DB, error) {
	if IsURL(o.Path) {
		return openPG(o)
	}
	st, err := os.Stat(o.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.Unusablef("no database at %s", o.Path).WithHint("run `deskctl init --admin LOGIN --email ADDR --name NAME` to create one, or point --db at an existing file")
	}
	if err != nil {
		return nil, errs.Wrap(errs.Unusable, err, "cannot read database %s", o.Path)
	}
	if st.IsDir() {
		return nil, errs.Unusablef("database path %s is a directory", o.Path).WithHint("point --db at a file")
	}
	if st.Size() == 0 {
		return nil, errs.Unusablef("%s is an empty file, not a deskctl database", o.Path).
			WithHint("remove it and run `deskctl init`, or point --db at the right file")
	}
	db, err := openBolt(o.Path, o.ReadOnly, o.LockTimeout)
	if err != nil {
		return nil, err
	}
	version, err := db.schemaVersion()
	if err != nil {
		db.Close()
		return nil, err
	}
	switch {
	case version > SchemaVersion:
		db.Close()
		return nil, errs.Unusablef("database %s has schema version %d; this deskctl understands up to %d", o.Path, version, SchemaVersion).
			WithHint("upgrade deskctl to a release that knows schema %d", version)
	case version < SchemaVersion && o.NoMigrate:
		db.Close()
		return nil, errs.Unusablef("database %s has schema version %d and needs a migration first", o.Path, version).
			WithHint("run any deskctl command that is not a completion, e.g. deskctl db check")
	case version < SchemaVersion && o.ReadOnly:
		// Migrate under a write lock, then reopen read-only.
		db.Close()
		wdb, err := Open(Options{Path: o.Path, LockTimeout: o.LockTimeout})
		if err != nil {
			return nil, err
		}
		wdb.Close()
		return Open(o)
	case version < SchemaVersion:
		if err := db.Update(func(tx *Tx) error { return migrate(boltTx{tx.btx}, version) }); err != nil {
			db.Close()
			return nil, errs.Wrap(errs.Unusable, err, "migrating %s from schema %d to %d", o.Path, version, SchemaVersion)
		}
	}
	if db.copyFrom != nil && !o.Damaged {
		db.Close()
		return nil, incompleteCopy(db.path, db.copyFrom)
	}
	if !o.Damaged {
		if bad := db.header.invalidMeta(); len(bad) > 0 {
			db.Close()
			return nil, damagedf("database damaged: meta page %d of %s is invalid (%s); bbolt would fall back to the previous transaction",
				bad[0], o.Path, db.header.metas[bad[0]].problem).WithHint(damagedHint)
		}
		var missing []string
		err := guard(o.Path, func() error {
			return db.bolt.View(func(btx *bolt.Tx) error {
				for _, b := range allBuckets {
					if btx.Bucket(b) == nil {
						missing = append(missing, string(b))
					}
				}
				return nil
			})
		})
		if err != nil {
			db.Close()
			return nil, err
		}
		if len(missing) > 0 {
			db.Close()
			return nil, errs.Unusablef("database %s is damaged: bucket %s is missing", o.Path, strings.Join(missing, ", ")).
				WithHint("run `deskctl db check` to list every problem, then restore a backup: deskctl db restore FILE --force")
		}
	}
	return db, nil
}

// Create makes a new database file (mode 0600, directory 0700) with the
// current schema, and runs fill in the same transaction, so the schema and
// what fill writes (the first administrator) commit together or not at all.
// It refuses to touch an existing file.
func Create(path string, timeout time.Duration, fill ...func(*Tx) error) (*DB, error) {
	if IsURL(path) {
		return createPG(path, timeout, fill...)
	}
	if _, err := os.Stat(path); err == nil {
		return nil, errs.Conflictf("a database already exists at %s", path).
			WithHint("deskctl init never touches an existing database; pass --db NEW_PATH or remove the file yourself")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, errs.Wrap(errs.Unusable, err, "cannot create directory for %s", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, errs.Conflictf("a database already exists at %s", path)
		}
		return nil, errs.Wrap(errs.Unusable, err, "cannot create %s", path)
	}
	f.Close()
	db, err := openBolt(path, false, timeout)
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	err = db.bolt.Update(func(btx *bolt.Tx) error {
		if err := migrate(boltTx{btx}, 0); err != nil {
			return err
		}
		for _, fn := range fill {
			if err := fn(newBoltTx(btx)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		os.Remove(path)
		return nil, err
	}
	return db, nil
}

// openBolt opens path and waits for its lock. `db restore` replaces the file
// by renaming a new one over it while holding the old file's lock; a process
// that was waiting for that lock would then hold an open handle to a file
// that is no longer at path, and its writes would be lost. So when the file
// at path is not the one that was there before the wait, the handle is
// dropped and path opened again.
func openBolt(path string, readOnly bool, timeout time.Duration) (*DB, error) {
	for attempt := 0; ; attempt++ {
		before, _ := os.Stat(path)
		db, err := openBoltOnce(path, readOnly, timeout)
		if err != nil {
			return nil, err
		}
		after, err := os.Stat(path)
		if err == nil && before != nil && os.SameFile(before, after) {
			return db, nil
		}
		db.Close()
		if err != nil {
			return nil, errs.Wrap(errs.Unusable, err, "%s went away while waiting for its lock", path)
		}
		if attempt == 10 {
			return nil, errs.Busyf("%s keeps being replaced while deskctl waits for it", path).WithHint("retry once the restore has finished")
		}
	}
}

func openBoltOnce(path string, readOnly bool, timeout time.Duration) (*DB, error) {
	h, err := checkHeader(path, timeout)
	if err != nil {
		return nil, err
	}
	var b *bolt.DB
	err = guard(path, func() (err error) {
		b, err = bolt.Open(path, 0o600, boltOptions(readOnly, timeout))
		return err
	})
	if err != nil {
		switch {
		case isDamage(err):
			return nil, err
		case errors.Is(err, bolterrors.ErrTimeout):
			return nil, busy(path, timeout)
		case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrChecksum),
			errors.Is(err, syscall.EBADF), errors.Is(err, syscall.EINVAL):
			return nil, errs.Wrap(errs.Unusable, err, "%s is not a usable deskctl database", path).
				WithHint("restore it from a backup (deskctl db restore FILE)")
		case errors.Is(err, fs.ErrPermission):
			return nil, errs.Wrap(errs.Unusable, err, "cannot open %s", path).WithHint("check the file's owner and mode (it should be 0600, owned by you)")
		}
		return nil, errs.Wrap(errs.Unusable, err, "cannot open %s", path)
	}
	return &DB{bolt: b, path: path, ro: readOnly, header: h}, nil
}

// checkHeader reads the meta pages of the file at path under a shared lock,
// before bbolt maps it. An empty file is left to bbolt, which writes the
// first pages (Create); a file that cannot be opened, to bbolt's own error.
func checkHeader(path string, timeout time.Duration) (header, error) {
	f, err := os.Open(path)
	if err != nil {
		return header{}, nil
	}
	defer f.Close()
	if err := lockShared(f, effectiveTimeout(timeout)); err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return header{}, busy(path, timeout)
		}
		return header{}, errs.Wrap(errs.Unusable, err, "cannot lock %s", path)
	}
	st, err := f.Stat()
	if err != nil {
		return header{}, errs.Wrap(errs.Unusable, err, "cannot read %s", path)
	}
	if st.Size() == 0 {
		return header{}, nil
	}
	return readHeader(f, path, st.Size())
}

func busy(path string, timeout time.Duration) error {
	return errs.Busyf("another deskctl process holds the database %s", path).
		WithHint("wait for it to finish and retry, or raise --lock-timeout (now %s)", effectiveTimeout(timeout))
}

func effectiveTimeout(t time.Duration) time.Duration {
	if t <= 0 {
		return DefaultLockTimeout
	}
	return t
}

var errNotDeskctl = errors.New("not a deskctl database")

func (db *DB) schemaVersion() (uint64, error) {
	var v uint64
	if db.pg != nil {
		err := db.viewPG(func(tx *pgTx) (err error) {
			v, err = readVersion(tx)
			return err
		})
		return v, err
	}
	err := db.View(func(tx *Tx) error {
		btx := tx.btx
		b := btx.Bucket(bucketMeta)
		if b == nil {
			// Schema 0 is an empty bbolt file; one holding buckets of its
			// own belongs to some other program.
			if k, _ := btx.Cursor().First(); k != nil {
				return errNotDeskctl
			}
			return nil
		}
		raw := b.Get(schemaKey)
		if len(raw) != 8 {
			return fmt.Errorf("schema version key is damaged")
		}
		v = binary.BigEndian.Uint64(raw)
		// Read in the same transaction: Open refuses an unfinished copy.
		if from := b.Get(copyMarker); from != nil {
			db.copyFrom = append([]byte(nil), from...)
		}
		return nil
	})
	if isDamage(err) {
		return 0, err
	}
	if errors.Is(err, errNotDeskctl) {
		return 0, errs.Unusablef("%s is a bbolt file but not a deskctl database (it has no schema version)", db.path).
			WithHint("point --db at a deskctl database, or create one elsewhere with deskctl init")
	}
	if err != nil {
		return 0, errs.Wrap(errs.Unusable, err, "cannot read schema of %s", db.path)
	}
	return v, nil
}

// Path is the file behind db, or the PostgreSQL server and database
// (without credentials).
func (db *DB) Path() string { return db.path }

// IsPostgres reports whether db is a PostgreSQL database.
func (db *DB) IsPostgres() bool { return db.pg != nil }

// Close releases the file lock. A PostgreSQL connection goes back to the
// process's pool.
func (db *DB) Close() error {
	if db.pg != nil {
		return nil
	}
	return db.bolt.Close()
}

// View runs fn in a read transaction. Damaged pages met on the way are an
// errs.Unusable error, not a crash.
func (db *DB) View(fn func(*Tx) error) error {
	if db.pg != nil {
		return db.viewPG(func(t *pgTx) error { return fn(&Tx{kv: t}) })
	}
	return guard(db.path, func() error {
		return db.bolt.View(func(btx *bolt.Tx) error { return fn(newBoltTx(btx)) })
	})
}

// Update runs fn in one write transaction: everything fn changes commits
// together or not at all.
func (db *DB) Update(fn func(*Tx) error) error {
	if db.ro {
		return errs.Unusablef("database %s was opened read-only", db.path)
	}
	if db.pg != nil {
		return db.updatePG(false, func(t *pgTx) error { return fn(&Tx{kv: t}) })
	}
	return guard(db.path, func() error {
		return db.bolt.Update(func(btx *bolt.Tx) error { return fn(newBoltTx(btx)) })
	})
}

// Bolt exposes the underlying handle to maintenance code in this package's
// subcommands (check, backup, stats).
func (db *DB) Bolt() *bolt.DB { return db.bolt }
