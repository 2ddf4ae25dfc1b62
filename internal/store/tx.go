package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	bolt "go.etcd.io/bbolt"
)

// Tx is one transaction. Values returned by accessors are decoded copies,
// safe to use after the transaction ends.
type Tx struct {
	kv kvTx
	// btx is the bbolt transaction underneath, nil on PostgreSQL; only
	// file maintenance (page checks, backups) uses it.
	btx *bolt.Tx
	// releasing is set while releaseMapped hands back mapped pages.
	releasing bool
	// buckets keeps the buckets a read-only transaction has opened: on
	// bbolt each lookup is a search of the root bucket, and the permission
	// engine asks for the same few buckets hundreds of times. Write
	// transactions look up every time.
	buckets map[string]kvBucket
}

func newBoltTx(btx *bolt.Tx) *Tx { return &Tx{kv: boltTx{btx}, btx: btx} }

// Writable reports whether changes are allowed.
func (tx *Tx) Writable() bool { return tx.kv.writable() }

func (tx *Tx) bucket(name []byte) kvBucket {
	if b, ok := tx.buckets[string(name)]; ok {
		return b
	}
	b := tx.kv.bucket(name)
	if b != nil && !tx.kv.writable() {
		if tx.buckets == nil {
			tx.buckets = make(map[string]kvBucket, 8)
		}
		tx.buckets[string(name)] = b
	}
	if b == nil {
		// Every bucket is created by migrations; a missing one means damage.
		panic(fmt.Sprintf("store: bucket %s missing", name))
	}
	return b
}

// unmarshal decodes a stored record; one that does not decode is damage to
// the file, reported as such with what to do about it.
func unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return damaged(err, "a %s record", recordKind(v))
	}
	return nil
}

func damaged(err error, format string, a ...any) error {
	return errs.Wrap(errs.Unusable, err, "the database holds a damaged record: %s", fmt.Sprintf(format, a...)).
		WithHint("run `deskctl db check` to list every problem, then restore a backup: deskctl db restore FILE --force")
}

// recordKind names what v decodes into, for messages: "helpdesk.User" → "user".
func recordKind(v any) string {
	name := fmt.Sprintf("%T", v)
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return strings.ToLower(name)
}

func getJSON(b kvBucket, key []byte, v any) (bool, error) {
	return decodeJSON(b.Get(key), key, v)
}

// decodeJSON decodes the record raw stored under key; false when there is
// none (raw is nil).
func decodeJSON(raw, key []byte, v any) (bool, error) {
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, damaged(err, "%s %q", recordKind(v), key)
	}
	return true, nil
}

func putJSON(b kvBucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

func be64(n uint64) []byte {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], n)
	return buf[:]
}

func fromBE64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// pair joins two key parts with a NUL, which no name may contain.
func pair(a, b string) []byte {
	k := make([]byte, 0, len(a)+1+len(b))
	k = append(k, a...)
	k = append(k, 0)
	return append(k, b...)
}

// prefixKeys returns the second halves of every pair key starting with a\x00.
func prefixKeys(b kvBucket, a string) []string {
	prefix := pair(a, "")
	var out []string
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, string(k[len(prefix):]))
	}
	return out
}

func keys(b kvBucket) []string {
	var out []string
	_ = b.ForEach(func(k, _ []byte) error {
		out = append(out, string(k))
		return nil
	})
	return out
}

// AuditSequence is the number of the last audit record ever written (0 for
// none).
func (tx *Tx) AuditSequence() uint64 { return tx.bucket(bucketAudit).Sequence() }

// AppendAudit adds a record to the audit chain in this transaction.
func (tx *Tx) AppendAudit(r helpdesk.AuditRecord) (helpdesk.AuditRecord, error) {
	b := tx.bucket(bucketAudit)
	seq, err := b.NextSequence()
	if err != nil {
		return r, err
	}
	r.Seq = seq
	r.Prev = ""
	if k, v := b.Cursor().Last(); k != nil {
		var last helpdesk.AuditRecord
		if err := unmarshal(v, &last); err != nil {
			return r, fmt.Errorf("last audit record is damaged: %w", err)
		}
		r.Prev = last.Hash
	}
	r.Hash = r.ComputeHash()
	return r, putJSON(b, be64(seq), r)
}

// AuditFilter selects audit records.
type AuditFilter struct {
	Since   func(helpdesk.AuditRecord) bool
	Actor   string
	Subject string
	Limit   int // newest N; 0 = all
	// Oldest takes the oldest Limit records instead of the newest: with
	// After and Through, one page of a walk through the chain. Since then
	// applies only when After is 0 (a later page starts past it already).
	Oldest  bool
	After   uint64 // with Oldest: only records numbered above After
	Through uint64 // with Oldest: only records numbered up to Through (0: no bound)
}

func (f AuditFilter) matches(r helpdesk.AuditRecord) bool {
	return (f.Actor == "" || r.Actor == f.Actor) &&
		(f.Subject == "" || r.Subject == f.Subject || strings.HasPrefix(r.Subject, f.Subject+"/"))
}

// Audit returns matching records, oldest first (the newest Limit when set,
// or with Oldest the oldest Limit).
func (tx *Tx) Audit(f AuditFilter) ([]helpdesk.AuditRecord, error) {
	// A filter may walk the whole chain to find a few records.
	stop := tx.releaseMapped()
	defer stop()
	if f.Oldest {
		return tx.auditOldest(f)
	}
	var out []helpdesk.AuditRecord
	c := tx.bucket(bucketAudit).Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		r, err := auditRecord(k, v)
		if err != nil {
			return nil, err
		}
		if f.Since != nil && !f.Since(r) {
			break
		}
		if !f.matches(r) {
			continue
		}
		out = append(out, r)
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
	}
	slices.Reverse(out)
	return out, tx.kvErr()
}

// auditOldest is Audit with Oldest: Since, when it applies, holds from the
// newest record up to Through back to the first record it fails, as it does
// for Audit; the page starts after that one.
func (tx *Tx) auditOldest(f AuditFilter) ([]helpdesk.AuditRecord, error) {
	through := f.Through
	if through == 0 {
		through = math.MaxUint64
	}
	c := tx.bucket(bucketAudit).Cursor()
	from := f.After + 1
	if f.Since != nil && f.After == 0 {
		for k, v := seekAtMost(c, nil, through); k != nil; k, v = c.Prev() {
			r, err := auditRecord(k, v)
			if err != nil {
				return nil, err
			}
			if !f.Since(r) {
				from = r.Seq + 1
				break
			}
		}
	}
	var out []helpdesk.AuditRecord
	for k, v := c.Seek(be64(from)); k != nil && fromBE64(k) <= through; k, v = c.Next() {
		r, err := auditRecord(k, v)
		if err != nil {
			return nil, err
		}
		if r.Seq != fromBE64(k) {
			// The next page starts after the last record's own number.
			return nil, damaged(fmt.Errorf("it claims sequence %d", r.Seq), "audit record %d", fromBE64(k))
		}
		if !f.matches(r) {
			continue
		}
		out = append(out, r)
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
	}
	return out, tx.kvErr()
}

func auditRecord(k, v []byte) (helpdesk.AuditRecord, error) {
	var r helpdesk.AuditRecord
	if err := unmarshal(v, &r); err != nil {
		return r, fmt.Errorf("audit record %d is damaged: %w", fromBE64(k), err)
	}
	return r, nil
}

// VerifyAudit walks the whole chain and reports the first break, if any.
func (tx *Tx) VerifyAudit() (int, *helpdesk.ChainProblem, error) {
	stop := tx.releaseMapped()
	defer stop()
	var v helpdesk.ChainVerifier
	b := tx.bucket(bucketAudit)
	c := b.Cursor()
	var last uint64
	for k, raw := c.First(); k != nil; k, raw = c.Next() {
		var r helpdesk.AuditRecord
		if err := unmarshal(raw, &r); err != nil {
			return v.Count(), &helpdesk.ChainProblem{Seq: fromBE64(k), Reason: "record cannot be decoded"}, nil
		}
		if fromBE64(k) != r.Seq {
			return v.Count(), &helpdesk.ChainProblem{Seq: fromBE64(k), Reason: fmt.Sprintf("stored under key %d but claims sequence %d", fromBE64(k), r.Seq)}, nil
		}
		if p := v.Next(r); p != nil {
			return v.Count(), p, nil
		}
		last = r.Seq
	}
	// The bucket's sequence counts every record ever appended, so records
	// deleted from the end show as a gap between it and the last record.
	if seq := b.Sequence(); seq != last {
		return v.Count(), &helpdesk.ChainProblem{Seq: last + 1, Reason: fmt.Sprintf("records %d to %d are missing (deleted from the end)", last+1, seq)}, nil
	}
	return v.Count(), nil, nil
}

// AuditRecordAt returns audit record seq, if it is stored.
func (tx *Tx) AuditRecordAt(seq uint64) (helpdesk.AuditRecord, bool, error) {
	var r helpdesk.AuditRecord
	ok, err := getJSON(tx.bucket(bucketAudit), be64(seq), &r)
	return r, ok, err
}

// LastAudit returns the newest audit record (ok false for an empty log).
func (tx *Tx) LastAudit() (helpdesk.AuditRecord, bool, error) {
	var r helpdesk.AuditRecord
	_, v := tx.bucket(bucketAudit).Cursor().Last()
	if v == nil {
		return r, false, nil
	}
	return r, true, unmarshal(v, &r)
}

// Setting returns a setting's stored value.
func (tx *Tx) Setting(key string) (string, bool) {
	v := tx.bucket(bucketSettings).Get([]byte(key))
	if v == nil {
		return "", false
	}
	return string(v), true
}

// Settings returns every stored setting.
func (tx *Tx) Settings() map[string]string {
	out := map[string]string{}
	_ = tx.bucket(bucketSettings).ForEach(func(k, v []byte) error {
		out[string(k)] = string(v)
		return nil
	})
	return out
}

// PutSetting stores a setting; an empty value removes it.
func (tx *Tx) PutSetting(key, value string) error {
	if value == "" {
		return tx.bucket(bucketSettings).Delete([]byte(key))
	}
	return tx.bucket(bucketSettings).Put([]byte(key), []byte(value))
}

// formKey in the meta bucket keys the approval page's form fields, shared
// by every `deskctl serve` on the database so that a form one server shows
// can be posted to another behind a load balancer.
var formKey = []byte("form_key")

// FormKey returns the stored form key, storing candidate first when there
// is none (in a write transaction).
func (tx *Tx) FormKey(candidate []byte) ([]byte, error) {
	meta := tx.bucket(bucketMeta)
	if k := meta.Get(formKey); len(k) >= 32 {
		return append([]byte(nil), k...), nil
	}
	if err := meta.Put(formKey, candidate); err != nil {
		return nil, err
	}
	return candidate, nil
}
