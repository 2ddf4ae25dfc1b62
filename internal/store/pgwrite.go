package store

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sort"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A write transaction on PostgreSQL holds its writes in memory, the last
// value of each key per bucket, and sends them before the next read that
// could see them and at commit: per bucket one DELETE for the deleted keys
// and one upsert for the others, all in one round trip, so a use case that
// writes a dozen keys costs one trip and the server parses a few
// statements, not one per key.
//
// Many new keys in one bucket — an import batch's tickets, index entries
// and import ids, a policy apply's grants — go with COPY instead, which
// the server takes in bulk at a fraction of the cost of an INSERT per row.
// COPY cannot replace a stored key, so it runs in a savepoint: when a key
// turns out to be stored already, the savepoint is rolled back and the
// same rows go through the upsert. Buckets where the transaction knows it
// replaces a key (it read or wrote it before) take the upsert at once.
//
// A transaction that writes more than pgSendAt keys sends them on in the
// background while the use case goes on preparing the next ones, so the
// server stores one part while deskctl builds the next: the two take
// turns on one core otherwise. Only one send is in flight, and everything
// else that uses the connection waits for it first (settle).

const (
	// pgSendAt is how many writes a transaction holds before sending them
	// on in the background; it also bounds the memory they take.
	pgSendAt = 4096
	// pgCopyFrom is how many new keys of one bucket make COPY worth its
	// savepoint's two extra round trips.
	pgCopyFrom = 256
)

// hold keeps a write (a nil value deletes) until the next send.
func (t *pgTx) hold(bucket string, key, value []byte) error {
	if t.err != nil {
		return t.err
	}
	if !t.write {
		return errs.Internalf("write in a read-only transaction")
	}
	if v, ok := t.known[bucket][string(key)]; ok && !isAbsent(v) {
		if t.replaced == nil {
			t.replaced = map[string]bool{}
		}
		t.replaced[bucket] = true
	}
	t.know(bucket, key, value)
	delete(t.runs, bucket)
	if t.written == nil {
		t.written = map[string]map[string][]byte{}
	}
	m := t.written[bucket]
	if m == nil {
		m = map[string][]byte{}
		t.written[bucket] = m
	}
	if _, again := m[string(key)]; !again {
		t.unsent++
	}
	m[string(key)] = value
	if t.unsent >= pgSendAt {
		if err := t.settle(); err != nil {
			return err
		}
		job := t.takeWrites()
		done := make(chan error, 1)
		t.sending = done
		ctx, tx := t.ctx, t.tx
		go func() { done <- job.send(ctx, tx) }()
	}
	return nil
}

func isAbsent(v []byte) bool { return len(v) > 0 && &v[0] == &absentKey[0] }

// settle waits for the send in flight, if any, and returns the
// transaction's failure, if any.
func (t *pgTx) settle() error {
	if t.sending != nil {
		if err := <-t.sending; err != nil {
			t.fail(err)
		}
		t.sending = nil
	}
	return t.err
}

// flush sends the writes held so far and waits until they are stored.
func (t *pgTx) flush() error {
	if err := t.settle(); err != nil {
		return err
	}
	if t.unsent == 0 && len(t.seqsUnsent) == 0 {
		return nil
	}
	if err := t.takeWrites().send(t.ctx, t.tx); err != nil {
		t.fail(err)
		return err
	}
	return nil
}

// pgSend is a set of writes taken from the transaction to be sent.
type pgSend struct {
	batch  pgx.Batch // the deletes, upserts and sequences: one round trip
	copies []pgCopy
}

type pgCopy struct {
	bucket string
	rows   []kvPair
}

// takeWrites turns the writes held into the statements that store them,
// and holds none any more.
func (t *pgTx) takeWrites() *pgSend {
	written, replaced, seqs := t.written, t.replaced, t.seqsUnsent
	t.written, t.replaced, t.seqsUnsent, t.unsent = nil, nil, nil, 0
	job := &pgSend{}
	for _, name := range sortedNames(written) {
		table := pgx.Identifier{pgTable(name)}.Sanitize()
		var gone [][]byte
		var rows []kvPair
		for k, v := range written[name] {
			if v == nil {
				gone = append(gone, []byte(k))
			} else {
				rows = append(rows, kvPair{[]byte(k), v})
			}
		}
		if len(gone) > 0 {
			job.batch.Queue(`DELETE FROM `+table+` WHERE k = ANY($1)`, gone)
		}
		// In key order, the server adds to its index pages in turn.
		slices.SortFunc(rows, func(a, b kvPair) int { return bytes.Compare(a.k, b.k) })
		switch {
		case len(rows) >= pgCopyFrom && !replaced[name]:
			job.copies = append(job.copies, pgCopy{name, rows})
		case len(rows) > 0:
			k, v := columns(rows)
			job.batch.Queue(upsertSQL(table), k, v)
		}
	}
	for _, name := range sortedNames(seqs) {
		job.batch.Queue(`INSERT INTO deskctl_sequences (bucket, value) VALUES ($1, $2)
			ON CONFLICT (bucket) DO UPDATE SET value = EXCLUDED.value`, name, int64(t.seqs[name]))
	}
	return job
}

// send runs on the transaction's connection; nothing else may use it
// meanwhile.
func (j *pgSend) send(ctx context.Context, tx pgx.Tx) error {
	if j.batch.Len() > 0 {
		if err := tx.SendBatch(ctx, &j.batch).Close(); err != nil {
			return err
		}
	}
	for _, c := range j.copies {
		if err := copyNew(ctx, tx, c.bucket, c.rows); err != nil {
			return err
		}
	}
	return nil
}

// upsertSQL writes the keys and values of two arrays into table, replacing
// stored values.
func upsertSQL(table string) string {
	return `INSERT INTO ` + table + ` (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[])
		ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v`
}

func columns(rows []kvPair) (keys, values [][]byte) {
	keys, values = make([][]byte, len(rows)), make([][]byte, len(rows))
	for i, r := range rows {
		keys[i], values[i] = r.k, nonNil(r.v)
	}
	return keys, values
}

// copyNew writes rows that are most likely new into bucket with COPY, and
// with the upsert when one of them is stored already.
func copyNew(ctx context.Context, tx pgx.Tx, bucket string, rows []kvPair) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	_, err = sp.CopyFrom(ctx, pgx.Identifier{pgTable(bucket)}, []string{"k", "v"}, &pairSource{rows: rows, i: -1})
	if err == nil {
		return sp.Commit(ctx)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" { // unique_violation
		return err
	}
	if err := sp.Rollback(ctx); err != nil {
		return err
	}
	k, v := columns(rows)
	_, err = tx.Exec(ctx, upsertSQL(pgx.Identifier{pgTable(bucket)}.Sanitize()), k, v)
	return err
}

// pairSource hands rows to CopyFrom.
type pairSource struct {
	rows []kvPair
	i    int
}

func (s *pairSource) Next() bool { s.i++; return s.i < len(s.rows) }
func (s *pairSource) Values() ([]any, error) {
	r := s.rows[s.i]
	return []any{r.k, nonNil(r.v)}, nil
}
func (s *pairSource) Err() error { return nil }

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
