package store

import bolt "go.etcd.io/bbolt"

// The accessors in this package speak to an ordered key/value layer: named
// buckets of byte keys kept in byte order, each with a sequence counter.
// bbolt is that layer natively; PostgreSQL provides it with one table per
// bucket (pg.go). Every rule about what is stored under which key, and every
// index kept beside a record, is written once, above this layer.

// kvTx is one transaction of the layer.
type kvTx interface {
	// bucket returns the named bucket, or nil when the schema lacks it.
	bucket(name []byte) kvBucket
	writable() bool
}

// kvBucket is one bucket. Get returns nil for a missing key and a non-nil
// (possibly empty) slice for a present one. Reads that fail (a lost
// database connection) return nothing and fail the transaction as a whole,
// so accessors need not check every read.
type kvBucket interface {
	Get(key []byte) []byte
	Put(key, value []byte) error
	Delete(key []byte) error
	Cursor() kvCursor
	ForEach(fn func(k, v []byte) error) error
	Sequence() uint64
	NextSequence() (uint64, error)
	// setSequence sets the counter (db copy carries it over).
	setSequence(n uint64) error
	// count is the number of keys in the bucket.
	count() int
}

// kvCursor walks a bucket in key order; each method returns the key and
// value it lands on, or nil keys past either end.
type kvCursor interface {
	First() ([]byte, []byte)
	Last() ([]byte, []byte)
	Seek(key []byte) ([]byte, []byte)
	Next() ([]byte, []byte)
	Prev() ([]byte, []byte)
}

// kvPrefetcher is a layer where every read is a round trip to a server
// (PostgreSQL). Accessors that know a walk is coming ask it for the keys
// and key prefixes of a whole step at once, one trip for all of them; the
// reads that follow are answered from memory.
type kvPrefetcher interface {
	// readAhead reports whether a walk starting at key is worth reading
	// ahead: key is not in memory yet, and the transaction has not walked
	// so much that it is better served otherwise.
	readAhead(bucket, key []byte) bool
	prefetch(reads []kvPrefetch)
	// prefetched reports whether a Get of key needs no round trip.
	prefetched(bucket, key []byte) bool
	// getMany reads the values of keys in one round trip, nil for those
	// absent, and keeps none of them.
	getMany(bucket []byte, keys [][]byte) [][]byte
}

// kvPrefetch names keys of a bucket, and prefixes under which to read
// every key.
type kvPrefetch struct {
	bucket   []byte
	keys     [][]byte
	prefixes [][]byte
}

// boltTx adapts a bbolt transaction.
type boltTx struct{ btx *bolt.Tx }

func (t boltTx) bucket(name []byte) kvBucket {
	b := t.btx.Bucket(name)
	if b == nil {
		return nil
	}
	return boltBucket{b}
}

func (t boltTx) writable() bool { return t.btx.Writable() }

type boltBucket struct{ *bolt.Bucket }

func (b boltBucket) Cursor() kvCursor { return b.Bucket.Cursor() }
func (b boltBucket) count() int       { return b.Stats().KeyN }

func (b boltBucket) setSequence(n uint64) error { return b.SetSequence(n) }
