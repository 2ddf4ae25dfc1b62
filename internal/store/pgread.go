package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Reads on PostgreSQL go to the wire protocol directly (pgconn), with every
// argument and result column in binary form: a bytea column arrives as its
// own bytes, where the text form pgx's Query uses without a prepared
// statement doubles them into hex that the client decodes again, and the
// rows need no reflection to scan. Each read is still one round trip with
// an unnamed statement (parse, bind, execute together), so nothing is
// prepared per connection.

// Type OIDs of the arguments a read passes.
const (
	oidBytea      = 17
	oidInt8       = 20
	oidText       = 25
	oidByteaArray = 1001
)

// pgRows are the rows of one read, their columns copied out of the
// connection's buffer.
type pgRows [][][]byte

// readNow runs a read without sending the queued writes first: for reads
// that no queued write can change. Arguments are []byte (bytea), string
// (text), [][]byte (bytea[]) or int64 (bigint).
func (t *pgTx) readNow(sql string, args ...any) (pgRows, bool) {
	var out pgRows
	ok := t.readEach(sql, args, func(row [][]byte) { out = append(out, row) })
	return out, ok
}

// readEach runs a read and hands fn each row, its columns copied out (SQL
// NULL as nil); rows share backing arrays, so that a read of many small
// rows costs a few allocations rather than several per row.
func (t *pgTx) readEach(sql string, args []any, fn func(row [][]byte)) bool {
	if t.settle() != nil {
		return false
	}
	values, oids, formats, err := encodeArgs(args)
	if err != nil {
		t.fail(err)
		return false
	}
	rr := t.tx.Conn().PgConn().ExecParams(t.ctx, sql, values, oids, formats, binaryResults)
	var slab []byte
	var cols [][]byte
	for rr.NextRow() {
		vals := rr.Values()
		if cap(cols)-len(cols) < len(vals) {
			cols = make([][]byte, 0, 256*len(vals))
		}
		n := len(cols)
		for _, v := range vals {
			var c []byte
			if v != nil {
				c, slab = keep(slab, v)
			}
			cols = append(cols, c)
		}
		fn(cols[n:len(cols):len(cols)])
	}
	if _, err := rr.Close(); err != nil {
		t.fail(err)
		return false
	}
	return true
}

// readPairs runs a read of (k, v) rows.
func (t *pgTx) readPairs(sql string, args ...any) ([]kvPair, bool) {
	// In parts of fixed size, joined once at the end: a whole bucket of
	// ten thousand rows grown by append was copied over and over.
	var parts [][]kvPair
	var part []kvPair
	n := 0
	ok := t.readEach(sql, args, func(row [][]byte) {
		if len(part) == cap(part) {
			part = make([]kvPair, 0, 1024)
			parts = append(parts, part)
		}
		part = append(part, kvPair{row[0], nonNil(row[1])})
		parts[len(parts)-1] = part
		n++
	})
	if !ok || n == 0 {
		return nil, ok
	}
	if len(parts) == 1 {
		return parts[0], true
	}
	out := make([]kvPair, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out, true
}

// read runs a read after sending the queued writes.
func (t *pgTx) read(sql string, args ...any) (pgRows, bool) {
	if t.flush() != nil {
		return nil, false
	}
	return t.readNow(sql, args...)
}

// readBucket runs a read over bucket, sending the queued writes first only
// when some of them are to that bucket.
func (t *pgTx) readBucket(bucket, sql string, args ...any) (pgRows, bool) {
	if len(t.written[bucket]) > 0 {
		return t.read(sql, args...)
	}
	return t.readNow(sql, args...)
}

var binaryResults = []int16{1}

// keep copies v into slab, a shared backing array, so that a read of many
// small rows costs a few allocations rather than one per column. The copy
// is capped at its length: appending to it never reaches a neighbour.
func keep(slab, v []byte) ([]byte, []byte) {
	if len(v) > 4096 {
		return append(make([]byte, 0, len(v)), v...), slab
	}
	if cap(slab)-len(slab) < len(v) {
		slab = make([]byte, 0, 32<<10)
	}
	n := len(slab)
	slab = append(slab, v...)
	return slab[n:len(slab):len(slab)], slab
}

func encodeArgs(args []any) (values [][]byte, oids []uint32, formats []int16, err error) {
	values, oids, formats = make([][]byte, len(args)), make([]uint32, len(args)), make([]int16, len(args))
	for i, a := range args {
		formats[i] = 1
		switch v := a.(type) {
		case []byte:
			values[i], oids[i] = nonNil(v), oidBytea
		case string:
			values[i], oids[i] = []byte(v), oidText
		case int64:
			values[i], oids[i] = binary.BigEndian.AppendUint64(nil, uint64(v)), oidInt8
		case [][]byte:
			values[i], oids[i] = byteaArray(v), oidByteaArray
		default:
			return nil, nil, nil, fmt.Errorf("store: no binary form for a %T argument", a)
		}
	}
	return values, oids, formats, nil
}

// byteaArray is the binary form of a one-dimensional bytea[] without NULLs:
// dimensions, NULL flag, element type, length and lower bound, then each
// element as its length and bytes.
func byteaArray(elems [][]byte) []byte {
	n := 20
	for _, e := range elems {
		n += 4 + len(e)
	}
	b := make([]byte, 0, n)
	for _, w := range []uint32{1, 0, oidBytea, uint32(len(elems)), 1} {
		b = binary.BigEndian.AppendUint32(b, w)
	}
	for _, e := range elems {
		b = binary.BigEndian.AppendUint32(b, uint32(len(e)))
		b = append(b, e...)
	}
	return b
}

// int8Column decodes a bigint column in binary form.
func int8Column(v []byte) (int64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("store: a bigint of %d bytes", len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// pgRun is a stretch of a bucket read in one go: every key from `from`
// on, in order, with none left out, up to the last row; more says whether
// the bucket holds keys beyond it. A cursor seek that lands inside a run
// is answered from it.
type pgRun struct {
	from []byte
	rows []kvPair
	more bool
}

// covers reports whether the first key at or after key is known from r.
func (r *pgRun) covers(key []byte) bool {
	if bytes.Compare(key, r.from) < 0 {
		return false
	}
	return !r.more || (len(r.rows) > 0 && bytes.Compare(key, r.rows[len(r.rows)-1].k) <= 0)
}

// runAt returns the run that answers a seek to key, the one starting
// nearest below it: it holds the most of what a walk from key reads next.
func (t *pgTx) runAt(bucket string, key []byte) *pgRun {
	var best *pgRun
	for _, r := range t.runs[bucket] {
		if r.covers(key) && (best == nil || bytes.Compare(r.from, best.from) > 0) {
			best = r
		}
	}
	return best
}

// prefetch reads, in one round trip, the keys and the key prefixes asked
// for; later Gets of those keys and seeks to those prefixes are answered
// from memory. In a write transaction the writes made so far are sent
// first, and a later write to a bucket forgets what was read of it
// (hold), since a run would no longer be what the bucket holds.
func (t *pgTx) prefetch(reads []kvPrefetch) {
	if t.flush() != nil {
		return
	}
	var batch pgconn.Batch
	var asked []kvPrefetch
	for _, r := range reads {
		if !t.store.tables[string(r.bucket)] && !t.created[string(r.bucket)] {
			continue
		}
		table := pgx.Identifier{pgTable(string(r.bucket))}.Sanitize()
		if len(r.keys) > 0 {
			values, oids, formats, _ := encodeArgs([]any{r.keys})
			batch.ExecParams(`SELECT k, v FROM `+table+` WHERE k = ANY($1)`, values, oids, formats, binaryResults)
			asked = append(asked, kvPrefetch{bucket: r.bucket, keys: r.keys})
		}
		var prefixes, ends [][]byte
		for _, p := range r.prefixes {
			if end := prefixEnd(p); end != nil {
				prefixes, ends = append(prefixes, p), append(ends, end)
			}
		}
		if len(prefixes) > 0 {
			// Each prefix's keys and the first key after them, so that a
			// walk off the end of the prefix is answered too.
			values, oids, formats, _ := encodeArgs([]any{prefixes, ends})
			batch.ExecParams(`SELECT r.i, g.k, g.v FROM unnest($1::bytea[], $2::bytea[]) WITH ORDINALITY AS r(lo, hi, i)
				CROSS JOIN LATERAL ((SELECT k, v FROM `+table+` WHERE k >= r.lo AND k < r.hi ORDER BY k)
					UNION ALL (SELECT k, v FROM `+table+` WHERE k >= r.hi ORDER BY k LIMIT 1)) g
				ORDER BY r.i, g.k`, values, oids, formats, binaryResults)
			asked = append(asked, kvPrefetch{bucket: r.bucket, prefixes: prefixes})
		}
	}
	if len(asked) == 0 {
		return
	}
	mrr := t.tx.Conn().PgConn().ExecBatch(t.ctx, &batch)
	results, err := mrr.ReadAll()
	if err == nil && len(results) != len(asked) {
		err = fmt.Errorf("store: %d results for %d reads", len(results), len(asked))
	}
	for _, r := range results {
		if err == nil {
			err = r.Err
		}
	}
	if err != nil {
		t.fail(err)
		return
	}
	if t.reads == nil {
		t.reads = map[string]int{}
	}
	for i, a := range asked {
		name := string(a.bucket)
		// Reads ahead count towards fetching the bucket whole.
		t.reads[name] += len(a.keys) + len(a.prefixes)
		if a.keys != nil {
			found := map[string][]byte{}
			for _, row := range results[i].Rows {
				found[string(row[0])] = nonNil(row[1])
			}
			for _, k := range a.keys {
				if _, mine := t.known[name][string(k)]; mine {
					continue
				}
				if v, ok := found[string(k)]; ok {
					t.know(name, k, v)
				} else {
					t.know(name, k, absentKey)
				}
			}
			continue
		}
		runs := make([]*pgRun, len(a.prefixes))
		for j, p := range a.prefixes {
			runs[j] = &pgRun{from: p}
		}
		for _, row := range results[i].Rows {
			j := int(binary.BigEndian.Uint64(row[0])) - 1
			runs[j].rows = append(runs[j].rows, kvPair{row[1], nonNil(row[2])})
		}
		for j, r := range runs {
			n := len(r.rows)
			r.more = n > 0 && !bytes.HasPrefix(r.rows[n-1].k, a.prefixes[j])
		}
		if t.runs == nil {
			t.runs = map[string][]*pgRun{}
		}
		t.runs[name] = append(t.runs[name], runs...)
	}
}

// prefetched reports whether a Get of key needs no round trip.
func (t *pgTx) prefetched(bucket, key []byte) bool {
	_, ok := t.known[string(bucket)][string(key)]
	return ok || t.err != nil
}

// readAhead is false once the transaction has read pgCacheAfter keys of
// the bucket, ahead or not: a use case that walks from that many subjects
// (who-can, matrix) touches most of the directory, and fetching the
// buckets whole (pgcache.go) serves it with fewer round trips.
func (t *pgTx) readAhead(bucket, key []byte) bool {
	return !t.prefetched(bucket, key) && t.cache[string(bucket)] == nil && t.reads[string(bucket)] < pgCacheAfter
}

// prefixEnd is the least key above every key starting with p (nil when
// there is none: p is all 0xff).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// getMany reads the values of keys in one round trip, nil for absent keys;
// keys the transaction knows (it wrote or read them before) are answered
// from memory.
func (t *pgTx) getMany(bucket []byte, keys [][]byte) [][]byte {
	name := string(bucket)
	out := make([][]byte, len(keys))
	var ask [][]byte
	for i, k := range keys {
		if v, ok := t.known[name][string(k)]; ok {
			if v != nil && !isAbsent(v) {
				out[i] = append([]byte{}, v...)
			}
			continue
		}
		ask = append(ask, keys[i])
	}
	if len(ask) == 0 || (!t.store.tables[name] && !t.created[name]) {
		return out
	}
	rows, ok := t.readPairs(`SELECT k, v FROM `+pgx.Identifier{pgTable(name)}.Sanitize()+` WHERE k = ANY($1)`, ask)
	if !ok {
		return out
	}
	found := make(map[string][]byte, len(rows))
	for _, r := range rows {
		found[string(r.k)] = r.v
	}
	for i, k := range keys {
		if v, ok := found[string(k)]; ok && out[i] == nil {
			out[i] = v
		}
	}
	return out
}
