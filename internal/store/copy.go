package store

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/jackc/pgx/v5"
)

// copyMarker in the meta bucket marks a database that `db copy` is still
// filling (or that a failed copy left behind); Open refuses it.
var copyMarker = []byte("copy_incomplete")

// copyBatch is how many keys one destination transaction takes, keeping the
// memory of a copy bounded whatever the size of the database.
const copyBatch = 20000

// CopyResult is what `db copy` moved and checked.
type CopyResult struct {
	From   string         `json:"from"`
	To     string         `json:"to"`
	Counts map[string]int `json:"counts"`
	// AuditHead is SEQ:HASH of the newest audit record, the same on both
	// sides once the copy is verified.
	AuditHead string `json:"audit_head"`
	Verified  bool   `json:"verified"`
}

// CopyProgress is called after each batch written.
type CopyProgress func(bucket string, done, total int)

// Copy copies every bucket, record and sequence of the database at from
// into a new database at to (a file that does not exist yet, or a
// PostgreSQL database without deskctl tables), from one consistent read
// snapshot of the source, then compares every bucket's key count and the
// audit head on both sides. A copy that fails part way is removed again
// (a file) or dropped (PostgreSQL tables), so nothing half-copied is ever
// opened as a database.
func Copy(from, to string, timeout time.Duration, progress CopyProgress) (CopyResult, error) {
	res := CopyResult{From: RedactURL(from), To: RedactURL(to), Counts: map[string]int{}}
	if from == to {
		return res, errs.Usagef("--from and --to name the same database").WithHint("copy to a new file or an empty PostgreSQL database")
	}
	src, err := Open(Options{Path: from, ReadOnly: true, LockTimeout: timeout, AllTables: true})
	if err != nil {
		return res, err
	}
	defer src.Close()
	dst, err := Create(to, timeout, func(tx *Tx) error {
		return tx.bucket(bucketMeta).Put(copyMarker, []byte(res.From))
	})
	if err != nil {
		return res, err
	}
	err = src.View(func(stx *Tx) error {
		stop := stx.releaseMapped()
		defer stop()
		return copyInto(stx, dst, &res, progress)
	})
	if err == nil {
		err = verifyCopy(src, dst, &res)
	}
	if err != nil {
		dst.Close()
		if rerr := removeCopy(to, timeout); rerr != nil {
			err = fmt.Errorf("%w (and removing the partial copy failed: %v)", err, rerr)
		}
		return res, err
	}
	res.Verified = true
	return res, dst.Close()
}

func copyInto(stx *Tx, dst *DB, res *CopyResult, progress CopyProgress) error {
	for _, name := range allBuckets {
		if string(name) == string(bucketMeta) {
			continue
		}
		sb := stx.bucket(name)
		total := sb.count()
		res.Counts[string(name)] = total
		c := sb.Cursor()
		k, v := c.First()
		done := 0
		for k != nil {
			var batch []kvPair
			for ; k != nil && len(batch) < copyBatch; k, v = c.Next() {
				batch = append(batch, kvPair{append([]byte(nil), k...), append([]byte{}, v...)})
			}
			if err := stx.kvErr(); err != nil {
				return err
			}
			err := dst.Update(func(dtx *Tx) error { return dtx.load(name, batch) })
			if err != nil {
				return err
			}
			done += len(batch)
			if progress != nil {
				progress(string(name), done, total)
			}
		}
		seq := sb.Sequence()
		if err := stx.kvErr(); err != nil {
			return err
		}
		if err := dst.Update(func(dtx *Tx) error { return dtx.bucket(name).setSequence(seq) }); err != nil {
			return err
		}
	}
	// Settings and the like live in their own buckets; meta holds only the
	// schema version, which Create wrote, and the marker, gone last.
	return dst.Update(func(dtx *Tx) error { return dtx.bucket(bucketMeta).Delete(copyMarker) })
}

// load writes a batch of keys into an empty bucket: in key order on bbolt
// (appending is bbolt's cheapest write), with COPY on PostgreSQL.
func (tx *Tx) load(name []byte, batch []kvPair) error {
	if p, ok := tx.kv.(*pgTx); ok {
		return p.copyRows(name, batch)
	}
	b := tx.bucket(name)
	for _, p := range batch {
		if err := b.Put(p.k, p.v); err != nil {
			return err
		}
	}
	return nil
}

func (t *pgTx) copyRows(name []byte, batch []kvPair) error {
	if err := t.flush(); err != nil {
		return err
	}
	rows := make([][]any, len(batch))
	for i, p := range batch {
		rows[i] = []any{p.k, p.v}
	}
	_, err := t.tx.CopyFrom(t.ctx, pgx.Identifier{pgTable(string(name))}, []string{"k", "v"}, pgx.CopyFromRows(rows))
	return err
}

// kvErr reports a read that failed in this transaction (PostgreSQL only;
// bbolt reads cannot fail).
func (tx *Tx) kvErr() error {
	if p, ok := tx.kv.(*pgTx); ok {
		return p.err
	}
	return nil
}

func verifyCopy(src, dst *DB, res *CopyResult) error {
	var srcHead, dstHead string
	err := src.View(func(tx *Tx) error {
		srcHead = auditHead(tx)
		return tx.kvErr()
	})
	if err != nil {
		return err
	}
	err = dst.View(func(tx *Tx) error {
		stop := tx.releaseMapped()
		defer stop()
		for name, want := range res.Counts {
			if got := tx.bucket([]byte(name)).count(); got != want {
				return errs.Internalf("copy of %s holds %d records, the source %d", name, got, want)
			}
		}
		n, p, err := tx.VerifyAudit()
		if err != nil {
			return err
		}
		if p != nil {
			return errs.Internalf("the copied audit chain is broken at record %d: %s", p.Seq, p.Reason)
		}
		_ = n
		dstHead = auditHead(tx)
		return tx.kvErr()
	})
	if err != nil {
		return err
	}
	if srcHead != dstHead {
		return errs.Internalf("the copy's audit head %s differs from the source's %s", dstHead, srcHead)
	}
	res.AuditHead = dstHead
	return nil
}

func auditHead(tx *Tx) string {
	k, v := tx.bucket(bucketAudit).Cursor().Last()
	if k == nil {
		return "0:"
	}
	var r struct {
		Seq  uint64 `json:"seq"`
		Hash string `json:"hash"`
	}
	if err := unmarshal(v, &r); err != nil {
		return "damaged"
	}
	return fmt.Sprintf("%d:%s", r.Seq, r.Hash)
}

// removeCopy deletes what a failed copy created.
func removeCopy(to string, timeout time.Duration) error {
	if !IsURL(to) {
		err := os.Remove(to)
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	pool, name, err := pgPool(to)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout+30*time.Second)
	defer cancel()
	tx, err := pool.Begin(ctx)
	if err != nil {
		return pgError(name, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, writerLock); err != nil {
		return pgError(name, err)
	}
	if err := dropPGSchema(ctx, tx); err != nil {
		return pgError(name, err)
	}
	return pgError(name, tx.Commit(ctx))
}

// dropPGSchema removes every deskctl view and table in the current schema.
func dropPGSchema(ctx context.Context, tx pgx.Tx) error {
	for _, kind := range []string{"VIEW", "TABLE"} {
		rel := "pg_views WHERE viewname"
		col := "viewname"
		if kind == "TABLE" {
			rel, col = "pg_tables WHERE tablename", "tablename"
		}
		rows, err := tx.Query(ctx, `SELECT `+col+` FROM `+rel+` LIKE 'deskctl\_%' AND schemaname = current_schema()`)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, n := range names {
			if _, err := tx.Exec(ctx, `DROP `+kind+` IF EXISTS `+pgx.Identifier{n}.Sanitize()+` CASCADE`); err != nil {
				return err
			}
		}
	}
	return nil
}

func incompleteCopy(name string, from []byte) error {
	return errs.Unusablef("%s is an unfinished copy of %s", name, from).
		WithHint("run `deskctl db copy` again into a new file or an empty database; remove this one first")
}
