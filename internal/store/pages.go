package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
)

// Page types and the leaf flag of a nested bucket, as bbolt writes them.
const (
	branchPage   = 0x01
	leafPage     = 0x02
	freelistPage = 0x10
	bucketLeaf   = 0x01
	elementSize  = 16 // branch: pos, ksize, pgid; leaf: flags, pos, ksize, vsize
	bucketHeader = 16 // root page, sequence
	maxDepth     = 64
	maxPageNotes = 20
)

// pageWalker checks the page tree the way bbolt reads it, but through
// ordinary reads of the file with every offset checked, so that a damaged
// page is a finding instead of a memory fault, a panic or an endless walk
// inside bbolt. It checks what bbolt's own Tx.Check does, in one pass over
// the file instead of two walks of the map: every page below the
// high-water mark is reached once or listed free, never both, never listed
// free twice, and the keys of every page tree are in order, each page's
// between the keys its parent gives it. `db check` and `db restore` run it
// before deskctl's record checks, which trust the pages it passed.
type pageWalker struct {
	f        *os.File
	pageSize uint64
	hwm      uint64
	seen     pageSet // pages reached from the root or holding the freelist
	free     pageSet // pages the freelist lists
	problems []string
	bufs     [][]byte // read buffers, one a depth of the walk
	lastKeys [][]byte // the last key of a subtree, kept while its next sibling is read; one a depth
}

// damagedPages walks the tree and the freelist of the meta page bbolt uses
// now: it reads the meta pages again, while bbolt's lock keeps any writer
// from committing, so the tree it walks is the one the record checks read.
func (db *DB) damagedPages() ([]string, error) {
	f, err := os.Open(db.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h, err := readHeader(f, db.path, st.Size())
	if err != nil {
		return []string{err.Error()}, nil
	}
	db.header = h
	m := h.metas[h.use]
	w := &pageWalker{f: f, pageSize: uint64(h.pageSize), hwm: m.pgid, seen: newPageSet(m.pgid), free: newPageSet(m.pgid)}
	if m.freelist != noFreelist {
		w.freelist(m.freelist)
	}
	w.tree(m.root, 0, nil, nil)
	// Without a freelist page bbolt takes every page it cannot reach as
	// free; after other damage, pages past it are unreached for that reason.
	if m.freelist != noFreelist && len(w.problems) == 0 {
		w.unaccounted()
	}
	return w.problems, nil
}

func (w *pageWalker) note(format string, a ...any) {
	if len(w.problems) < maxPageNotes {
		w.problems = append(w.problems, fmt.Sprintf(format, a...))
	}
}

// page reads page id and its overflow pages if its header is sane, into
// the buffer of depth: a page's buffer is in use while the pages below it
// are read, each at a greater depth, so one buffer a depth serves the walk.
func (w *pageWalker) page(id uint64, types uint16, depth int) ([]byte, bool) {
	if id < 2 || id >= w.hwm {
		w.note("a reference to page %d, outside the %d pages in use", id, w.hwm)
		return nil, false
	}
	if w.seen.has(id) {
		w.note("page %d is reached twice", id)
		return nil, false
	}
	if types != freelistPage && w.free.has(id) {
		w.note("page %d is in use and also listed free", id)
	}
	// Most pages have no overflow: one read takes the header and the page.
	off := int64(id * w.pageSize)
	buf := w.buffer(depth, w.pageSize)
	n, readErr := w.f.ReadAt(buf, off)
	if n < pageHeaderSize {
		w.note("page %d cannot be read: %v", id, readErr)
		return nil, false
	}
	le := binary.NativeEndian
	self, flags, overflow := le.Uint64(buf), le.Uint16(buf[8:]), uint64(le.Uint32(buf[12:]))
	switch {
	case self != id:
		w.note("page %d says it is page %d", id, self)
		return nil, false
	case flags&types == 0 || flags&^types != 0:
		w.note("page %d has type %#x, want %#x", id, flags, types)
		return nil, false
	case id+overflow >= w.hwm:
		w.note("page %d runs %d pages past the %d in use", id, id+overflow+1-w.hwm, w.hwm)
		return nil, false
	}
	w.seen.put(id)
	for i := id + 1; i <= id+overflow; i++ {
		if w.seen.has(i) {
			w.note("page %d is reached twice (as an overflow page of page %d)", i, id)
		}
		w.seen.put(i)
	}
	if overflow > 0 && readErr == nil {
		buf = w.buffer(depth, (overflow+1)*w.pageSize)
		_, readErr = w.f.ReadAt(buf[w.pageSize:], off+int64(w.pageSize))
	}
	if readErr != nil {
		w.note("page %d cannot be read: %v", id, readErr)
		return nil, false
	}
	return buf, true
}

// buffer is the read buffer of depth, at least size bytes long; a longer
// one keeps the bytes it holds.
func (w *pageWalker) buffer(depth int, size uint64) []byte {
	for len(w.bufs) <= depth {
		w.bufs = append(w.bufs, nil)
	}
	if b := w.bufs[depth]; uint64(cap(b)) < size {
		w.bufs[depth] = append(b[:cap(b)], make([]byte, size-uint64(cap(b)))...)
	}
	w.bufs[depth] = w.bufs[depth][:size]
	return w.bufs[depth]
}

// tree walks the page tree rooted at page id, whose keys must be at least
// lo and below hi (nil: no bound), and returns its last key, good until the
// next page at depth is read.
func (w *pageWalker) tree(id uint64, depth int, lo, hi []byte) []byte {
	if depth > maxDepth {
		w.note("page %d is nested more than %d levels deep", id, maxDepth)
		return nil
	}
	if p, ok := w.page(id, branchPage|leafPage, depth); ok {
		return w.elements(id, p, depth, lo, hi)
	}
	return nil
}

// elements checks the elements of page p (a page of the file, or a small
// bucket stored inline in its parent's value) and walks what they point to.
// Its keys must be in order, at least lo and below hi; it returns the last
// key of the subtree.
func (w *pageWalker) elements(id uint64, p []byte, depth int, lo, hi []byte) []byte {
	le := binary.NativeEndian
	flags, count := le.Uint16(p[8:]), uint64(le.Uint16(p[10:]))
	if pageHeaderSize+count*elementSize > uint64(len(p)) {
		w.note("page %d claims %d elements, more than fit", id, count)
		return nil
	}
	// A branch element's key is in bounds here, or the walk stopped at it.
	branchKey := func(i uint64) ([]byte, bool) {
		at := pageHeaderSize + i*elementSize
		pos, ksize := uint64(le.Uint32(p[at:])), uint64(le.Uint32(p[at+4:]))
		if at+pos+ksize > uint64(len(p)) {
			w.note("page %d: key %d runs past the page", id, i)
			return nil, false
		}
		return p[at+pos : at+pos+ksize], true
	}
	prev := lo
	for i := range count {
		at := pageHeaderSize + i*elementSize
		e := p[at : at+elementSize]
		if flags&branchPage != 0 {
			key, ok := branchKey(i)
			if !ok {
				return nil
			}
			w.inOrder(id, i, key, prev, hi)
			next := hi
			if i+1 < count {
				if next, ok = branchKey(i + 1); !ok {
					return nil
				}
			}
			prev = w.keepLast(depth, w.tree(le.Uint64(e[8:]), depth+1, key, next))
			continue
		}
		leafFlags, pos, ksize, vsize := le.Uint32(e), uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
		start := at + pos
		if start+ksize+vsize > uint64(len(p)) {
			w.note("page %d: element %d runs past the page", id, i)
			return nil
		}
		key := p[start : start+ksize]
		w.inOrder(id, i, key, prev, hi)
		prev = key
		if leafFlags&bucketLeaf == 0 {
			continue
		}
		v := p[start+ksize : start+ksize+vsize]
		switch {
		case len(v) < bucketHeader:
			w.note("page %d: bucket %d has a value too short for a bucket", id, i)
		case le.Uint64(v) != 0:
			w.tree(le.Uint64(v), depth+1, nil, nil)
		case len(v) < bucketHeader+pageHeaderSize || le.Uint16(v[bucketHeader+8:]) != leafPage:
			w.note("page %d: bucket %d is stored inline but is not a leaf", id, i)
		case depth >= maxDepth:
			w.note("page %d: buckets nested more than %d levels deep", id, maxDepth)
		default:
			w.elements(id, v[bucketHeader:], depth+1, nil, nil)
		}
	}
	return prev
}

// inOrder checks key i of page id against the key before it (or, for the
// first, the lowest key its parent allows) and the key after its page.
// Like bbolt's check, a subtree whose last key is unknown (an empty leaf)
// leaves the next key without a lower bound.
func (w *pageWalker) inOrder(id, i uint64, key, prev, hi []byte) {
	switch c := bytes.Compare(prev, key); {
	case prev == nil:
	case i == 0 && c > 0:
		w.note("page %d: key 0 is below the lowest key its parent gives it", id)
	case i > 0 && c >= 0:
		w.note("page %d: key %d is not after the key before it", id, i)
	}
	if hi != nil && bytes.Compare(key, hi) >= 0 {
		w.note("page %d: key %d is not below the key that follows its page in the parent", id, i)
	}
}

// keepLast copies a subtree's last key out of the read buffer the next
// sibling is read into.
func (w *pageWalker) keepLast(depth int, key []byte) []byte {
	if key == nil {
		return nil
	}
	for len(w.lastKeys) <= depth {
		w.lastKeys = append(w.lastKeys, nil)
	}
	w.lastKeys[depth] = append(w.lastKeys[depth][:0], key...)
	return w.lastKeys[depth]
}

func (w *pageWalker) freelist(id uint64) {
	p, ok := w.page(id, freelistPage, 0)
	if !ok {
		return
	}
	le := binary.NativeEndian
	count, at := uint64(le.Uint16(p[10:])), uint64(pageHeaderSize)
	if count == 0xFFFF {
		count, at = le.Uint64(p[pageHeaderSize:]), at+8
	}
	if count > (uint64(len(p))-at)/8 {
		w.note("freelist page %d claims %d free pages, more than fit", id, count)
		return
	}
	for i := range count {
		free := le.Uint64(p[at+i*8:])
		switch {
		case free < 2 || free >= w.hwm:
			w.note("freelist page %d lists page %d, outside the %d pages in use", id, free, w.hwm)
			return
		case w.free.has(free):
			w.note("freelist page %d lists page %d twice", id, free)
		}
		w.free.put(free)
	}
}

// unaccounted notes the pages below the high-water mark that are neither
// reached nor listed free: space no transaction can use again.
func (w *pageWalker) unaccounted() {
	for id := uint64(2); id < w.hwm; id++ {
		if !w.seen.has(id) && !w.free.has(id) {
			w.note("page %d is neither reached nor listed free", id)
		}
	}
}

// pageSet is a set of page ids below the high-water mark, a bit per page:
// 85 KB for a 2.8 GB file, where a map took tens of megabytes.
type pageSet []uint64

func newPageSet(hwm uint64) pageSet { return make(pageSet, hwm/64+1) }

func (s pageSet) has(id uint64) bool { return s[id/64]&(1<<(id%64)) != 0 }
func (s pageSet) put(id uint64)      { s[id/64] |= 1 << (id % 64) }
