package store

import (
	"bytes"
	"sort"
)

// In a read-only snapshot nothing changes, so a bucket read often can be
// read once. The permission engine asks for groups, memberships and grants
// one key at a time, which on PostgreSQL is one round trip each; after
// pgCacheAfter point reads of one of the directory buckets, the whole
// bucket is fetched in one query and answered from memory. Ticket buckets
// are never cached: they grow without bound.
const pgCacheAfter = 24

var pgCacheable = map[string]bool{}

func init() {
	for _, b := range [][]byte{bucketUsers, bucketGroups, bucketMemberOf, bucketParents, bucketResources, bucketUserRes, bucketChildren,
		bucketOSLogins, bucketActions, bucketGrants, bucketHolders, bucketSettings} {
		pgCacheable[string(b)] = true
	}
}

// cached returns the bucket's rows in key order once it is worth caching,
// or nil.
func (b *pgBucket) cached() []kvPair {
	t := b.t
	if t.write || !pgCacheable[b.name] {
		return nil
	}
	if rows, ok := t.cache[b.name]; ok {
		return rows
	}
	if t.reads == nil {
		t.reads = map[string]int{}
	}
	t.reads[b.name]++
	if t.reads[b.name] < pgCacheAfter {
		return nil
	}
	if t.flush() != nil {
		return nil
	}
	all, ok := t.readPairs(`SELECT k, v FROM ` + b.table + ` ORDER BY k`)
	if !ok {
		return nil
	}
	if all == nil {
		all = []kvPair{}
	}
	if t.cache == nil {
		t.cache = map[string][]kvPair{}
	}
	t.cache[b.name] = all
	return all
}

func cachedGet(rows []kvPair, key []byte) []byte {
	i := sort.Search(len(rows), func(i int) bool { return bytes.Compare(rows[i].k, key) >= 0 })
	if i < len(rows) && bytes.Equal(rows[i].k, key) {
		return rows[i].v
	}
	return nil
}

// memCursor walks cached rows.
type memCursor struct {
	rows []kvPair
	i    int
}

func (c *memCursor) at() ([]byte, []byte) {
	if c.i < 0 || c.i >= len(c.rows) {
		return nil, nil
	}
	return c.rows[c.i].k, c.rows[c.i].v
}

func (c *memCursor) First() ([]byte, []byte) { c.i = 0; return c.at() }
func (c *memCursor) Last() ([]byte, []byte)  { c.i = len(c.rows) - 1; return c.at() }
func (c *memCursor) Seek(key []byte) ([]byte, []byte) {
	c.i = sort.Search(len(c.rows), func(i int) bool { return bytes.Compare(c.rows[i].k, key) >= 0 })
	return c.at()
}

func (c *memCursor) seekBelow(key []byte) ([]byte, []byte) {
	c.i = sort.Search(len(c.rows), func(i int) bool { return bytes.Compare(c.rows[i].k, key) >= 0 }) - 1
	return c.at()
}

func (c *memCursor) Next() ([]byte, []byte) {
	if c.i < len(c.rows) {
		c.i++
	}
	return c.at()
}

func (c *memCursor) Prev() ([]byte, []byte) {
	if c.i >= len(c.rows) {
		// Past the end, as after a Seek beyond every key: the last key.
		c.i = len(c.rows) - 1
		return c.at()
	}
	if c.i >= 0 {
		c.i--
	}
	return c.at()
}
