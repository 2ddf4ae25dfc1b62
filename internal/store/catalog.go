package store

import (
	"encoding/binary"
	"errors"
	"slices"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// The custom actions are kept twice: one JSON record per action in the
// actions bucket (what PutAction writes and every tool reads), and all of
// them in one compact record under catalogKey, which Rights reads. Every
// engine needs the whole catalog; one Get and a flat decode cost a fraction
// of decoding a JSON record per action.

var catalogKey = []byte("custom")

// catalogVersion leads the record, so a change of layout is noticed.
const catalogVersion = 1

var errCatalogRecord = errors.New("the catalog record is damaged")

// refreshCatalog rewrites the catalog record from the actions bucket; every
// change to a custom action calls it in the same transaction.
func (tx *Tx) refreshCatalog() error {
	custom, err := tx.CustomActions()
	if err != nil {
		return err
	}
	return putCatalog(tx.bucket(bucketCatalog), custom)
}

// putCatalog writes the record; with no custom actions there is none, so
// a new database holds no record its copy would have to replace.
func putCatalog(b kvBucket, custom []helpdesk.Right) error {
	if len(custom) == 0 {
		return b.Delete(catalogKey)
	}
	return b.Put(catalogKey, encodeCatalog(custom))
}

// cachedCustomActions reads the catalog record: the custom actions sorted by name.
func (tx *Tx) cachedCustomActions() ([]helpdesk.Right, error) {
	return decodeCatalog(tx.bucket(bucketCatalog).Get(catalogKey))
}

// Right flags, one bit each.
const (
	flagRequiresText = 1 << iota
	flagInternal
	flagBuiltin
	flagNotForResources
	flagRequesterOnly
)

func encodeCatalog(rs []helpdesk.Right) []byte {
	buf := binary.AppendUvarint([]byte{catalogVersion}, uint64(len(rs)))
	str := func(s string) { buf = binary.AppendUvarint(buf, uint64(len(s))); buf = append(buf, s...) }
	for _, r := range rs {
		str(r.Name)
		str(string(r.Kind))
		str(string(r.Category))
		str(r.Description)
		buf = binary.AppendUvarint(buf, uint64(len(r.FromStates)))
		for _, s := range r.FromStates {
			str(string(s))
		}
		str(string(r.ToState))
		str(r.Field)
		str(r.RequiresRight)
		var flags byte
		for bit, on := range map[byte]bool{flagRequiresText: r.RequiresText, flagInternal: r.Internal,
			flagBuiltin: r.Builtin, flagNotForResources: r.NotForResources, flagRequesterOnly: r.RequesterOnly} {
			if on {
				flags |= bit
			}
		}
		buf = append(buf, flags)
	}
	return buf
}

// decodeCatalog reads what encodeCatalog wrote. A missing record is an
// empty catalog (a file whose actions bucket was never written).
func decodeCatalog(v []byte) ([]helpdesk.Right, error) {
	if v == nil {
		return nil, nil
	}
	if len(v) == 0 || v[0] != catalogVersion {
		return nil, errCatalogRecord
	}
	// Every string of the record is a substring of one copy of it, so the
	// decode allocates once for all names and descriptions.
	all := string(v[1:])
	v = v[1:]
	bad := false
	num := func() uint64 {
		n, w := binary.Uvarint(v)
		if w <= 0 || n > uint64(len(v)) {
			bad = true
			return 0
		}
		v = v[w:]
		return n
	}
	str := func() string {
		n := num()
		if bad || n > uint64(len(v)) {
			bad = true
			return ""
		}
		off := len(all) - len(v)
		v = v[n:]
		return all[off : off+int(n)]
	}
	n := num()
	out := make([]helpdesk.Right, 0, n)
	for i := uint64(0); i < n && !bad; i++ {
		var r helpdesk.Right
		r.Name = str()
		r.Kind = helpdesk.RightKind(str())
		r.Category = helpdesk.Category(str())
		r.Description = str()
		if k := num(); k > 0 {
			r.FromStates = make([]helpdesk.State, 0, k)
			for j := uint64(0); j < k && !bad; j++ {
				r.FromStates = append(r.FromStates, helpdesk.State(str()))
			}
		}
		r.ToState = helpdesk.State(str())
		r.Field = str()
		r.RequiresRight = str()
		if len(v) == 0 {
			bad = true
			break
		}
		flags := v[0]
		v = v[1:]
		r.RequiresText = flags&flagRequiresText != 0
		r.Internal = flags&flagInternal != 0
		r.Builtin = flags&flagBuiltin != 0
		r.NotForResources = flags&flagNotForResources != 0
		r.RequesterOnly = flags&flagRequesterOnly != 0
		out = append(out, r)
	}
	if bad || len(v) != 0 {
		return nil, errCatalogRecord
	}
	return slices.Clip(out), nil
}
