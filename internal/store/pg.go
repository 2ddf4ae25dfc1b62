package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgreSQL keeps each bucket in a table of its own, deskctl_kv_<bucket>,
// holding (k bytea primary key, v bytea) in the same byte order bbolt keeps,
// and the buckets' sequences in deskctl_sequences. Reporting views over the
// JSON records (pgviews.go) give a DBA plain SQL over tickets, users, groups,
// grants and the audit log.
//
// Writers take turns: every write transaction first takes one
// transaction-scoped advisory lock, so ticket numbers, audit sequence numbers
// and outbox claims are allocated by one writer at a time across every host,
// exactly as bbolt's single writer allocates them in the file. Readers run
// in REPEATABLE READ snapshots and never wait for writers.

// writerLock is the advisory lock key every write transaction holds.
const writerLock int64 = 0x6465736b63746c // "deskctl"

// IsURL reports whether a --db value names a PostgreSQL database rather
// than a file.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// RedactURL hides the password of a PostgreSQL URL, for messages and
// `config show`; anything else is returned as given.
func RedactURL(db string) string {
	if !IsURL(db) {
		return db
	}
	cfg, err := pgconn.ParseConfig(db)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return describePG(cfg)
}

// describePG names a server and database without credentials:
// "postgres://user@host:port/db".
func describePG(cfg *pgconn.Config) string {
	return fmt.Sprintf("postgres://%s@%s/%s", cfg.User, net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), cfg.Database)
}

// pgPools holds one connection pool per URL for the life of the process:
// `deskctl serve` opens the database per request, and a pool keeps that
// cheap and reconnects by itself after the server comes back.
var pgPools sync.Map // url → *pgxpool.Pool

type pgStore struct {
	pool *pgxpool.Pool
	name string // describePG of the URL
	// tables holds the buckets present when the database was opened;
	// sequences is whether deskctl_sequences was there too (known when
	// the tables were listed).
	tables    map[string]bool
	sequences bool
}

func pgPool(url string) (*pgxpool.Pool, string, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, "", errs.Wrap(errs.Usage, err, "%s is not a usable PostgreSQL URL", RedactURL(url)).
			WithHint("use postgres://USER@HOST:PORT/DATABASE; the password may come from PGPASSWORD or ~/.pgpass")
	}
	name := describePG(cfg.ConnConfig.Config.Copy())
	if p, ok := pgPools.Load(url); ok {
		return p.(*pgxpool.Pool), name, nil
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	// One round trip per statement: a command runs a few dozen distinct
	// statements once each, so preparing them first would double the trips.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	cfg.MaxConns = 8
	cfg.MinConns = 0
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, "", pgError(name, err)
	}
	if prev, loaded := pgPools.LoadOrStore(url, pool); loaded {
		pool.Close()
		return prev.(*pgxpool.Pool), name, nil
	}
	return pool, name, nil
}

// pgError turns a failure talking to PostgreSQL into an error of the exit
// code contract: an unreachable server or a lost connection is Busy (retry
// later), a lock wait over the timeout is Busy, anything the server refused
// for another reason is Unusable.
func pgError(name string, err error) error {
	if err == nil {
		return nil
	}
	if errs.KindOf(err) != errs.Internal || errors.Is(err, errPGFailed) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "55P03": // lock_not_available
			return errs.Busyf("another deskctl process is writing to %s", name).
				WithHint("wait for it to finish and retry, or raise --lock-timeout")
		case pe.Code == "3D000": // invalid_catalog_name
			return errs.Unusablef("PostgreSQL at %s: %s", name, pe.Message).
				WithHint("create it (createdb) and run `deskctl init --db URL`")
		case pe.Code == "28P01" || pe.Code == "28000":
			return errs.Unusablef("PostgreSQL at %s refused the login: %s", name, pe.Message).
				WithHint("check the user and password (PGPASSWORD, ~/.pgpass or the URL)")
		case strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03":
			return errs.Wrap(errs.Busy, err, "lost the connection to PostgreSQL at %s", name).
				WithHint("nothing of this command was saved; retry when the server is back")
		case pe.Code == undefinedTable:
			return errs.Unusablef("database %s is damaged: %s", name, pe.Message).
				WithHint("run `deskctl db check` to list every problem, then restore it from your PostgreSQL backups")
		case pe.Code == "40001" || pe.Code == "40P01":
			return errs.Wrap(errs.Busy, err, "PostgreSQL at %s aborted the transaction to resolve a conflict", name).
				WithHint("nothing of this command was saved; retry it")
		}
		return errs.Wrap(errs.Unusable, err, "PostgreSQL at %s refused a statement", name).
			WithHint("run `deskctl db check` against it; the server log names the cause")
	}
	if errors.Is(err, context.DeadlineExceeded) || isNetError(err) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		strings.Contains(err.Error(), "failed to connect") || strings.Contains(err.Error(), "conn closed") ||
		strings.Contains(err.Error(), "unexpected EOF") {
		return errs.Wrap(errs.Busy, netCause(err), "cannot reach PostgreSQL at %s", name).
			WithHint("check that the server is up and reachable, then retry; nothing of this command was saved")
	}
	return errs.Wrap(errs.Unusable, err, "PostgreSQL at %s failed", name)
}

var errPGFailed = errors.New("postgres failure")

// netCause is the network failure underneath a connection error, without
// pgx's per-address listing ("connect: connection refused").
func netCause(err error) error {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Errorf("cannot resolve %s: %s", dns.Name, dns.Err)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

// openPG connects and checks the schema, migrating an older one.
func openPG(o Options) (*DB, error) {
	pool, name, err := pgPool(o.Path)
	if err != nil {
		return nil, err
	}
	s := &pgStore{pool: pool, name: name}
	db := &DB{pg: s, path: name, source: o.Path, ro: o.ReadOnly, lockTimeout: effectiveTimeout(o.LockTimeout)}
	meta, err := s.probe()
	if err != nil {
		return nil, err
	}
	if meta == nil {
		return nil, errs.Unusablef("no deskctl database at %s", name).
			WithHint("run `deskctl init --db URL --admin LOGIN --email ADDR --name NAME` to create one there, or `deskctl db copy --from FILE --to URL` to move a file there")
	}
	raw := meta[string(schemaKey)]
	if len(raw) != 8 {
		return nil, errs.Unusablef("database %s is damaged: its schema version is unreadable", name).
			WithHint("restore it from your PostgreSQL backups")
	}
	version := fromBE64(raw)
	switch {
	case version > SchemaVersion:
		return nil, errs.Unusablef("database %s has schema version %d; this deskctl understands up to %d", name, version, SchemaVersion).
			WithHint("upgrade deskctl to a release that knows schema %d", version)
	case version < SchemaVersion && o.NoMigrate:
		return nil, errs.Unusablef("database %s has schema version %d and needs a migration first", name, version).
			WithHint("run any deskctl command that is not a completion, e.g. deskctl db check")
	case version == SchemaVersion && !o.Damaged && !o.AllTables:
		// Every table of this schema exists unless the database was
		// damaged by hand; a statement on a missing table then fails as
		// damage (pgError), so the catalog is not asked on every open.
		s.tables, s.sequences = map[string]bool{}, true
		for _, b := range allBuckets {
			s.tables[string(b)] = true
		}
	case version < SchemaVersion:
		if err := s.loadTables(); err != nil {
			return nil, err
		}
		err := db.updatePG(false, func(tx *pgTx) error {
			// Another server may have migrated while this one waited.
			v, err := readVersion(tx)
			if err != nil || v >= SchemaVersion {
				return err
			}
			return s.migrate(tx, v)
		})
		if err != nil {
			return nil, errs.Wrap(errs.Unusable, err, "migrating %s from schema %d to %d", name, version, SchemaVersion)
		}
		if err := s.loadTables(); err != nil {
			return nil, err
		}
	}
	if from, ok := meta[string(copyMarker)]; ok && !o.Damaged {
		return nil, incompleteCopy(name, from)
	}
	if s.tables == nil {
		if err := s.loadTables(); err != nil {
			return nil, err
		}
	}
	if !o.Damaged {
		var missing []string
		for _, b := range allBuckets {
			if !s.tables[string(b)] {
				missing = append(missing, string(b))
			}
		}
		var table string
		switch {
		case len(missing) > 0:
			table = pgTable(missing[0])
		case !s.sequences:
			table = pgSequences
		}
		if table != "" {
			return nil, errs.Unusablef("database %s is damaged: table %s is missing", name, table).
				WithHint("run `deskctl db check` to list every problem, then restore it from your PostgreSQL backups")
		}
	}
	return db, nil
}

// createPG makes the deskctl tables in an empty database and runs fill in
// the same transaction.
func createPG(url string, timeout time.Duration, fill ...func(*Tx) error) (*DB, error) {
	pool, name, err := pgPool(url)
	if err != nil {
		return nil, err
	}
	s := &pgStore{pool: pool, name: name}
	db := &DB{pg: s, path: name, source: url, lockTimeout: effectiveTimeout(timeout)}
	err = db.updatePG(false, func(tx *pgTx) error {
		var exists bool
		if err := tx.tx.QueryRow(tx.ctx, `SELECT to_regclass($1) IS NOT NULL`, pgTable(string(bucketMeta))).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return errs.Conflictf("a deskctl database already exists at %s", name).
				WithHint("deskctl init never touches an existing database; point --db at an empty database")
		}
		if err := s.migrate(tx, 0); err != nil {
			return err
		}
		for _, fn := range fill {
			if err := fn(&Tx{kv: tx}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.loadTables(); err != nil {
		return nil, err
	}
	return db, nil
}

func (s *pgStore) migrate(tx *pgTx, from uint64) error {
	if err := migrate(tx, from); err != nil {
		return err
	}
	return createViews(tx)
}

// probe reads the meta bucket (schema version, copy marker) in one round
// trip; meta is nil when there is no deskctl database. It does not list
// the tables: on a fresh server connection a catalog query costs more than
// the rest of a typical read, so the list is read only when it matters
// (see openPG).
func (s *pgStore) probe() (map[string][]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	meta := map[string][]byte{}
	rows, err := s.pool.Query(ctx, `SELECT k, v FROM `+pgTable(string(bucketMeta)))
	if err == nil {
		for rows.Next() {
			var k, v []byte
			if err = rows.Scan(&k, &v); err != nil {
				break
			}
			meta[string(k)] = v
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return meta, nil
	case errors.As(err, &pe) && pe.Code == undefinedTable:
		return nil, nil
	}
	return nil, pgError(s.name, err)
}

// undefinedTable is PostgreSQL's SQLSTATE for a missing table.
const undefinedTable = "42P01"

func (s *pgStore) loadTables() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'deskctl\_%'`)
	if err != nil {
		return pgError(s.name, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return pgError(s.name, err)
	}
	s.tables, s.sequences = map[string]bool{}, false
	for _, n := range names {
		if b, ok := strings.CutPrefix(n, "deskctl_kv_"); ok {
			s.tables[b] = true
		}
		s.sequences = s.sequences || n == pgSequences
	}
	return nil
}

func readVersion(tx *pgTx) (uint64, error) {
	b := tx.bucket(bucketMeta)
	if b == nil {
		return 0, nil
	}
	raw := b.Get(schemaKey)
	if tx.err != nil {
		return 0, tx.err
	}
	if len(raw) != 8 {
		return 0, fmt.Errorf("schema version key is damaged")
	}
	return fromBE64(raw), nil
}

// viewPG runs fn in a read-only snapshot.
func (db *DB) viewPG(fn func(*pgTx) error) error {
	return db.runPG(pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, false, fn)
}

// updatePG runs fn in a write transaction holding the writer lock.
func (db *DB) updatePG(_ bool, fn func(*pgTx) error) error {
	return db.runPG(pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, true, fn)
}

func (db *DB) runPG(opts pgx.TxOptions, write bool, fn func(*pgTx) error) error {
	s := db.pg
	ctx := context.Background()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return pgError(s.name, err)
	}
	defer conn.Release()
	ptx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		return pgError(s.name, err)
	}
	t := &pgTx{ctx: ctx, tx: ptx, write: write, store: s}
	defer func() {
		_ = t.settle() // the connection is free again
		_ = ptx.Rollback(context.Background())
	}()
	if write {
		// One round trip (no arguments: the simple protocol runs both).
		lock := fmt.Sprintf("SET LOCAL lock_timeout = %d; SELECT pg_advisory_xact_lock(%d)", db.lockTimeout.Milliseconds(), writerLock)
		if _, err := ptx.Exec(ctx, lock); err != nil {
			return pgError(s.name, err)
		}
	}
	ferr := fn(t)
	if t.settle() != nil {
		// A read, or a send of writes in the background, failed inside
		// fn: whatever fn concluded from the missing data is void.
		return pgError(s.name, t.err)
	}
	if ferr != nil {
		return ferr
	}
	if err := t.flush(); err != nil {
		return pgError(s.name, err)
	}
	if err := ptx.Commit(ctx); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return pgError(s.name, err) // the server refused: nothing was saved
		}
		// The commit was sent but its answer never came: it may have landed.
		return errs.Wrap(errs.Busy, netCause(err), "lost the connection to PostgreSQL at %s while committing", s.name).
			WithHint("the change may or may not have been saved: look (e.g. deskctl audit log --limit 5) before running the command again")
	}
	return nil
}

func pgTable(bucket string) string { return "deskctl_kv_" + bucket }

// pgSequences holds every bucket's sequence (NextSequence).
const pgSequences = "deskctl_sequences"

// pgTx is one PostgreSQL transaction seen as the key/value layer. Writes are
// held in memory and sent together before the next read that could see
// them and at commit (pgwrite.go).
type pgTx struct {
	ctx     context.Context
	tx      pgx.Tx
	write   bool
	store   *pgStore
	err     error // the first failure; the transaction is void after it
	created map[string]bool
	// Read-only transactions: point reads per bucket, and the buckets
	// fetched whole (pgcache.go).
	reads map[string]int
	cache map[string][]kvPair
	// Write transactions: the writes not yet sent, per bucket, the last
	// value of each key (nil for a delete), so reads of those keys need no
	// round trip and reads of other keys need not send them first;
	// unsent counts them, and replaced names the buckets where one of them
	// replaces a stored key. seqs holds the buckets' sequences, which no
	// other writer can move while this one holds the writer lock, and
	// seqsUnsent those changed since the last send.
	written    map[string]map[string][]byte
	unsent     int
	replaced   map[string]bool
	seqs       map[string]uint64
	seqsUnsent map[string]bool
	// sending reports the end of the send in flight (pgwrite.go).
	sending chan error
	// known holds what this write transaction knows a key holds without
	// asking: keys it wrote and keys preloaded (absent ones as absentKey);
	// maxKey the highest ticket key stored, read once.
	known  map[string]map[string][]byte
	maxKey map[string][]byte
	// runs holds stretches of buckets read ahead (prefetch), and in a
	// write transaction only of buckets it has not written to since.
	runs map[string][]*pgRun
}

// absentKey marks a key known not to exist.
var absentKey = []byte("\x00absent")

func (t *pgTx) writable() bool { return t.write }

func (t *pgTx) bucket(name []byte) kvBucket {
	if !t.store.tables[string(name)] && !t.created[string(name)] {
		return nil
	}
	return &pgBucket{t: t, name: string(name), table: pgx.Identifier{pgTable(string(name))}.Sanitize()}
}

func (t *pgTx) createBucket(name []byte) (kvBucket, error) {
	table := pgx.Identifier{pgTable(string(name))}.Sanitize()
	if err := t.flush(); err != nil {
		return nil, err
	}
	if _, err := t.tx.Exec(t.ctx, `CREATE TABLE IF NOT EXISTS `+table+` (k bytea PRIMARY KEY, v bytea NOT NULL)`); err != nil {
		return nil, err
	}
	if _, err := t.tx.Exec(t.ctx, `CREATE TABLE IF NOT EXISTS deskctl_sequences (bucket text PRIMARY KEY, value bigint NOT NULL)`); err != nil {
		return nil, err
	}
	if t.created == nil {
		t.created = map[string]bool{}
	}
	t.created[string(name)] = true
	return t.bucket(name), nil
}

// fail records the first error; every later call does nothing.
func (t *pgTx) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

type pgBucket struct {
	t     *pgTx
	name  string
	table string
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (b *pgBucket) Get(key []byte) []byte {
	if v, ok := b.t.known[b.name][string(key)]; ok {
		if v == nil || isAbsent(v) {
			return nil
		}
		return append([]byte{}, v...)
	}
	if rows := b.cached(); rows != nil {
		return cachedGet(rows, key)
	}
	if b.t.write && b.name == string(bucketTickets) && b.t.beyondLast(b, key) {
		return nil // a number above every stored ticket: a new ticket
	}
	// No queued write touches this key, so the queue can wait.
	rows, ok := b.t.readNow(`SELECT v FROM `+b.table+` WHERE k = $1`, key)
	if !ok {
		return nil
	}
	// A snapshot does not change: remember directory records, which the
	// permission engine asks for again, but not tickets, which a long
	// walk would pile up.
	remember := !b.t.write && (pgCacheable[b.name] || b.name == string(bucketCatalog))
	if len(rows) == 0 {
		if remember {
			b.t.know(b.name, key, absentKey)
		}
		return nil
	}
	v := nonNil(rows[0][0])
	if remember {
		b.t.know(b.name, key, v)
	}
	return v
}

func (b *pgBucket) Put(key, value []byte) error {
	return b.t.hold(b.name, key, append([]byte{}, value...))
}

func (b *pgBucket) Delete(key []byte) error { return b.t.hold(b.name, key, nil) }

func (b *pgBucket) ForEach(fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return b.t.err
}

func (b *pgBucket) Sequence() uint64 {
	if n, ok := b.t.seqs[b.name]; ok {
		return n
	}
	rows, ok := b.t.readNow(`SELECT value FROM deskctl_sequences WHERE bucket = $1`, b.name)
	if !ok {
		return 0
	}
	var v uint64
	if len(rows) > 0 {
		n, err := int8Column(rows[0][0])
		if err != nil {
			b.t.fail(err)
			return 0
		}
		v = uint64(n)
	}
	if b.t.write {
		if b.t.seqs == nil {
			b.t.seqs = map[string]uint64{}
		}
		b.t.seqs[b.name] = v
	}
	return v
}

func (b *pgBucket) NextSequence() (uint64, error) {
	if !b.t.write {
		return 0, errs.Internalf("write in a read-only transaction")
	}
	n := b.Sequence() + 1
	if b.t.err != nil {
		return 0, b.t.err
	}
	return n, b.setSequence(n)
}

// setSequence sets the counter in this transaction; it is sent with the
// other writes.
func (b *pgBucket) setSequence(n uint64) error {
	if !b.t.write {
		return errs.Internalf("write in a read-only transaction")
	}
	if b.t.seqs == nil {
		b.t.seqs = map[string]uint64{}
	}
	b.t.seqs[b.name] = n
	if b.t.seqsUnsent == nil {
		b.t.seqsUnsent = map[string]bool{}
	}
	b.t.seqsUnsent[b.name] = true
	return b.t.err
}

func (b *pgBucket) count() int {
	rows, ok := b.t.readBucket(b.name, `SELECT count(*) FROM `+b.table)
	if !ok {
		return 0
	}
	n, err := int8Column(rows[0][0])
	if err != nil {
		b.t.fail(err)
	}
	return int(n)
}

func (b *pgBucket) Cursor() kvCursor {
	if rows, ok := b.t.cache[b.name]; ok {
		return &memCursor{rows: rows, i: -1}
	}
	return &pgCursor{b: b}
}

type kvPair struct{ k, v []byte }

// pgCursor reads ahead in batches that grow as a walk goes on, so a point
// lookup costs one small query and a long scan few round trips.
type pgCursor struct {
	b    *pgBucket
	mem  *memCursor // the bucket fetched whole (pgcache.go): walk that
	rows []kvPair
	i    int  // position in rows
	asc  bool // direction rows were read in
	more bool // the database may hold rows beyond the batch
	size int
}

const pgFirstBatch, pgMaxBatch = 16, 4096

// pgSeekBatch bounds the batches of seeks that leave the batch in hand:
// a merge that jumps down a range uses few of the rows a walk's largest
// batch would bring.
const pgSeekBatch = 1024

func (c *pgCursor) fetch(asc bool, cond string, arg []byte) ([]byte, []byte) {
	if c.size == 0 {
		c.size = pgFirstBatch
	} else if c.size < pgMaxBatch {
		c.size *= 4
	}
	return c.fetchSized(asc, cond, arg)
}

func (c *pgCursor) fetchSized(asc bool, cond string, arg []byte) ([]byte, []byte) {
	order := "ASC"
	if !asc {
		order = "DESC"
	}
	sql := `SELECT k, v FROM ` + c.b.table
	var args []any
	if cond != "" {
		sql += ` WHERE k ` + cond + ` $1`
		args = append(args, arg)
	}
	sql += ` ORDER BY k ` + order + fmt.Sprintf(` LIMIT %d`, c.size)
	c.rows, c.i, c.asc, c.more = nil, 0, asc, false
	t := c.b.t
	if len(t.written[c.b.name]) > 0 && t.flush() != nil {
		return nil, nil
	}
	rows, ok := t.readPairs(sql, args...)
	if !ok {
		return nil, nil
	}
	c.rows = rows
	if c.rows == nil {
		c.rows = []kvPair{} // positioned, past the end: Prev gives the last key
	}
	c.more = len(c.rows) == c.size
	return c.at()
}

func (c *pgCursor) at() ([]byte, []byte) {
	if c.i < 0 || c.i >= len(c.rows) {
		return nil, nil
	}
	return c.rows[c.i].k, c.rows[c.i].v
}

func (c *pgCursor) First() ([]byte, []byte) {
	if c.inMemory() {
		return c.mem.First()
	}
	if r := c.b.t.runAt(c.b.name, nil); r != nil {
		return c.onRun(r, nil)
	}
	c.size = 0
	return c.fetch(true, "", nil)
}

// inMemory reports whether the walk goes on over the whole bucket in
// memory, fetching it when it has been read often enough to be worth it.
func (c *pgCursor) inMemory() bool {
	if c.mem == nil {
		if rows := c.b.cached(); rows != nil {
			c.mem = &memCursor{rows: rows, i: -1}
		}
	}
	return c.mem != nil
}

// onRun lands on the first key at or after key in a run read ahead; the
// run is then the cursor's batch.
func (c *pgCursor) onRun(r *pgRun, key []byte) ([]byte, []byte) {
	c.rows, c.asc, c.more, c.size = r.rows, true, r.more, pgFirstBatch
	if c.rows == nil {
		c.rows = []kvPair{} // positioned, past the end: Prev gives the last key
	}
	c.i = sort.Search(len(r.rows), func(i int) bool { return bytes.Compare(r.rows[i].k, key) >= 0 })
	return c.at()
}

// Last reads the last key alone: most callers want only that (the head
// of the audit chain every write appends to), and the newest records can
// be large, such as a policy apply's audit record. A walk back from there
// reads batches.
func (c *pgCursor) Last() ([]byte, []byte) {
	if c.inMemory() {
		return c.mem.Last()
	}
	c.size = 1
	return c.fetchSized(false, "", nil)
}

func (c *pgCursor) Seek(key []byte) ([]byte, []byte) {
	if c.mem != nil {
		return c.mem.Seek(key)
	}
	if j, ok := c.within(key); ok {
		c.i = j
		return c.at()
	}
	if r := c.b.t.runAt(c.b.name, key); r != nil {
		return c.onRun(r, key)
	}
	if c.inMemory() {
		return c.mem.Seek(key)
	}
	c.size = 0
	return c.fetch(true, ">=", append([]byte(nil), key...))
}

// step moves one key in direction asc.
func (c *pgCursor) step(asc bool) ([]byte, []byte) {
	if c.rows == nil {
		return nil, nil
	}
	if c.i < 0 || c.i >= len(c.rows) {
		// Past an end: bbolt leaves the cursor there; do the same.
		return nil, nil
	}
	cur := c.rows[c.i].k
	if asc == c.asc {
		c.i++
		if c.i < len(c.rows) {
			return c.at()
		}
		if !c.more {
			return nil, nil
		}
	}
	op := ">"
	if !asc {
		op = "<"
	}
	return c.fetch(asc, op, cur)
}

// seekBelow lands on the last key below key, from the batch in hand when
// it holds that key and the one after it.
func (c *pgCursor) seekBelow(key []byte) ([]byte, []byte) {
	if c.mem != nil {
		return c.mem.seekBelow(key)
	}
	if j, ok := c.within(key); ok {
		// j is the first key at or after key in walking order; the key
		// below it is the one before it (ascending) or after it
		// (descending), when the batch holds it.
		if c.asc && j > 0 {
			c.i = j - 1
			return c.at()
		}
		if !c.asc && j+1 < len(c.rows) {
			c.i = j + 1
			return c.at()
		}
	}
	if c.inMemory() {
		return c.mem.seekBelow(key)
	}
	// A walk down from here usually follows (a page of a ticket list), or
	// another seek further down (a merge of index ranges): start with the
	// batch a Seek and a first Prev would have read, and read more at
	// each seek that leaves the batch, as a walk does.
	if c.size < pgFirstBatch {
		c.size = pgFirstBatch
	}
	if c.size >= pgSeekBatch {
		c.size = pgSeekBatch / 4 // fetch grows it to pgSeekBatch again
	}
	return c.fetch(false, "<", append([]byte(nil), key...))
}

func (c *pgCursor) Next() ([]byte, []byte) {
	if c.mem != nil {
		return c.mem.Next()
	}
	return c.step(true)
}

func (c *pgCursor) Prev() ([]byte, []byte) {
	if c.mem != nil {
		return c.mem.Prev()
	}
	if c.rows != nil && c.asc && c.i >= len(c.rows) && !c.more {
		// Seek landed past the last key: bbolt's Prev then gives the last
		// key of the bucket, which callers use to find "at most" keys.
		return c.Last()
	}
	return c.step(false)
}

// errNoFileOps refuses the file-only maintenance commands on PostgreSQL,
// whose own tools do the job better.
func errNoFileOps(cmd string) error {
	return errs.Usagef("%s works on database files; PostgreSQL databases are backed up with its own tools", cmd).
		WithHint("use pg_dump -Fc -f deskctl.dump URL and pg_restore -d URL deskctl.dump (or your server's continuous backup); `deskctl db copy --from URL --to FILE` makes a deskctl file from it")
}

func (db *DB) pgStats(s Stats) (Stats, error) {
	err := db.viewPG(func(t *pgTx) error {
		rows, ok := t.read(`SELECT pg_database_size(current_database())`)
		if ok {
			n, err := int8Column(rows[0][0])
			if err != nil {
				return err
			}
			s.FileBytes = n
		}
		v, err := readVersion(t)
		if err != nil {
			return err
		}
		s.Schema = v
		for _, name := range dataBuckets() {
			if b := t.bucket(name); b != nil {
				s.Counts[string(name)] = b.count()
			}
		}
		return nil
	})
	return s, err
}

// within finds the first buffered key at or after key when the buffer
// answers that for certain: in a read-only snapshot, and with key between
// the lowest and highest buffered keys (a batch holds every key between
// its ends). Merging index ranges seeks back and forth over the same keys,
// and this keeps those seeks off the network.
func (c *pgCursor) within(key []byte) (int, bool) {
	n := len(c.rows)
	if c.b.t.write || n == 0 {
		return 0, false
	}
	lo, hi := c.rows[0].k, c.rows[n-1].k
	if !c.asc {
		lo, hi = hi, lo
	}
	if bytes.Compare(key, lo) < 0 || bytes.Compare(key, hi) > 0 {
		return 0, false
	}
	if c.asc {
		return sort.Search(n, func(i int) bool { return bytes.Compare(c.rows[i].k, key) >= 0 }), true
	}
	// Descending: the last index whose key is still at or after key.
	j := sort.Search(n, func(i int) bool { return bytes.Compare(c.rows[i].k, key) < 0 })
	return j - 1, true
}

func (t *pgTx) know(bucket string, key, value []byte) {
	if t.known == nil {
		t.known = map[string]map[string][]byte{}
	}
	m := t.known[bucket]
	if m == nil {
		m = map[string][]byte{}
		t.known[bucket] = m
	}
	if value != nil && len(value) == 0 {
		value = []byte{} // present and empty, never confused with absentKey
	}
	m[string(key)] = value
}

// beyondLast reports whether key is above every key stored in b when this
// transaction began writing (it holds the writer lock, so only its own
// writes, which known answers, can change that).
func (t *pgTx) beyondLast(b *pgBucket, key []byte) bool {
	if t.maxKey == nil {
		t.maxKey = map[string][]byte{}
	}
	last, ok := t.maxKey[b.name]
	if !ok {
		rows, ok := t.readNow(`SELECT k FROM ` + b.table + ` ORDER BY k DESC LIMIT 1`)
		if !ok {
			return false
		}
		if len(rows) > 0 {
			last = rows[0][0]
		}
		t.maxKey[b.name] = last
	}
	return last == nil || bytes.Compare(key, last) > 0
}

// preload reads the given keys of bucket in one query, so that Gets of
// them in this write transaction need no round trip each.
func (t *pgTx) preload(bucket []byte, keys [][]byte) {
	if !t.write || len(keys) == 0 || t.err != nil {
		return
	}
	values := t.getMany(bucket, keys)
	if t.err != nil {
		return
	}
	name := string(bucket)
	for i, k := range keys {
		if _, mine := t.known[name][string(k)]; mine {
			continue // written in this transaction: that is what it holds
		}
		if values[i] != nil {
			t.know(name, k, values[i])
		} else {
			t.know(name, k, absentKey)
		}
	}
}
