package store

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"

	"github.com/deskctl/deskctl/internal/errs"
)

// The on-disk layout of a bbolt file, as far as the check before opening
// needs it. Every page starts with a 16-byte header (id, flags, count,
// overflow); pages 0 and 1 carry a meta record right after it: magic,
// version, page size, flags (4 bytes each), the root bucket (root page,
// sequence), the freelist page, the high-water mark (pgid: pages in use),
// the transaction id (8 bytes each) and an FNV-64a checksum over everything
// before it. bbolt writes it in the machine's byte order.
const (
	pageHeaderSize    = 16
	metaChecksumAt    = 56
	metaRecordSize    = metaChecksumAt + 8
	boltMagic         = 0xED0CDAED
	boltVersion       = 2
	noFreelist        = ^uint64(0)
	firstMetaReadSize = 0x1000
)

// metaPage is one decoded meta page; problem is empty when it is valid.
type metaPage struct {
	magic, version, pageSize uint32
	root, freelist, pgid     uint64
	txid                     uint64
	problem                  string
}

func decodeMeta(b []byte) metaPage {
	if len(b) < pageHeaderSize+metaRecordSize {
		return metaPage{problem: "it is cut off"}
	}
	r := b[pageHeaderSize : pageHeaderSize+metaRecordSize]
	le := binary.NativeEndian
	m := metaPage{
		magic: le.Uint32(r[0:]), version: le.Uint32(r[4:]), pageSize: le.Uint32(r[8:]),
		root: le.Uint64(r[16:]), freelist: le.Uint64(r[32:]), pgid: le.Uint64(r[40:]), txid: le.Uint64(r[48:]),
	}
	h := fnv.New64a()
	h.Write(r[:metaChecksumAt])
	switch {
	case m.magic != boltMagic:
		m.problem = "it has no bbolt marker"
	case m.version != boltVersion:
		m.problem = fmt.Sprintf("it has format version %d, not %d", m.version, boltVersion)
	case h.Sum64() != le.Uint64(r[metaChecksumAt:]):
		m.problem = "its checksum does not match"
	case m.pageSize < 512 || m.pageSize&(m.pageSize-1) != 0:
		m.problem = fmt.Sprintf("its page size %d is impossible", m.pageSize)
	case m.root < 2 || m.root >= m.pgid || (m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid)):
		m.problem = "it points past its own end"
	}
	return m
}

// header is what the two meta pages say about a file.
type header struct {
	size     int64
	pageSize int64
	metas    [2]metaPage
	use      int // the meta page bbolt opens on
}

// invalidMeta lists the meta pages bbolt would pass over.
func (h header) invalidMeta() []int {
	var bad []int
	for i, m := range h.metas {
		if m.problem != "" {
			bad = append(bad, i)
		}
	}
	return bad
}

// metaProblem says what is wrong with meta page i, in the words db check uses.
func (h header) metaProblem(i int) string {
	return fmt.Sprintf("meta page %d invalid (%s), using the previous transaction", i, h.metas[i].problem)
}

// readHeader reads the two meta pages of f, and nothing else, so it costs
// two small reads. It refuses what bbolt would map past the end of the file
// or not open at all: bbolt itself checks less, and a page it maps beyond
// the end of the file is a memory fault, not an error.
func readHeader(f *os.File, path string, size int64) (header, error) {
	h := header{size: size}
	buf := make([]byte, firstMetaReadSize)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return h, errs.Wrap(errs.Unusable, err, "cannot read %s", path)
	}
	h.metas[0] = decodeMeta(buf[:n])
	if h.metas[0].problem == "" {
		h.pageSize = int64(h.metas[0].pageSize)
		h.metas[1] = readMetaAt(f, h.pageSize)
	} else {
		// Without page 0 the page size is unknown: look for page 1 where
		// each possible page size would put it, as bbolt does.
		h.metas[1] = metaPage{problem: "it was not found"}
		for _, at := range candidatePageSizes() {
			if at >= size {
				continue
			}
			if m := readMetaAt(f, at); m.problem == "" && int64(m.pageSize) == at {
				h.metas[1], h.pageSize = m, at
				break
			}
		}
	}
	bad := h.invalidMeta()
	if len(bad) == 2 {
		if h.metas[0].magic != boltMagic {
			return h, errs.Unusablef("%s is not a usable deskctl database: it is not a bbolt file", path).
				WithHint("point --db at a deskctl database, or put a backup in its place: deskctl db restore BACKUP --force")
		}
		return h, damagedf("database unusable: both meta pages of %s are invalid (page 0: %s; page 1: %s)", path, h.metas[0].problem, h.metas[1].problem).
			WithHint("deskctl db restore BACKUP --force")
	}
	if len(bad) == 1 {
		h.use = 1 - bad[0]
	} else if h.metas[1].txid > h.metas[0].txid {
		h.use = 1
	}
	if need := int64(h.metas[h.use].pgid) * h.pageSize; size < need {
		return h, damagedf("database unusable: file %s is %d bytes but its header needs %d", path, size, need).
			WithHint("deskctl db restore BACKUP --force")
	}
	return h, nil
}

func readMetaAt(f *os.File, at int64) metaPage {
	buf := make([]byte, pageHeaderSize+metaRecordSize)
	n, _ := f.ReadAt(buf, at)
	return decodeMeta(buf[:n])
}

// candidatePageSizes are the places page 1 can start: this machine's page
// size first (the one deskctl creates files with), then every size bbolt
// knows, 1 KiB to 16 MiB.
func candidatePageSizes() []int64 {
	sizes := []int64{int64(os.Getpagesize())}
	for i := range 15 {
		if s := int64(1024) << i; s != sizes[0] {
			sizes = append(sizes, s)
		}
	}
	return sizes
}
