package policy

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// scanBlock reads data as one YAML document when it is written in the
// plain subset that exported policies, generated directories and tests
// files use: block mappings and sequences indented with spaces, one-line
// flow collections ([a, b], {user: bob, access: write}) of scalars, plain
// and quoted one-line scalars, and comments. It builds the node tree
// yaml.v3 would build, with the same kinds, tags, styles, values, lines and
// columns, and leaves out only comments, which the decoder does not read.
//
// ok is false for anything else (anchors, aliases, tags, block and
// multi-line scalars, escapes, several documents, tabs, CR, JSON spread
// over lines, errors of any kind): the caller then hands the input to
// yaml.v3, which reads all of YAML and words its syntax errors. A nil root
// with ok means the document holds only comments and blank lines.
//
// yaml.v3 spends most of a large policy's loading time on its general
// scanner, parser and event machinery; this reads the common shape about
// ten times faster. TestScanBlockAgreesWithYAML and FuzzScanBlock hold the
// two to the same trees.
func scanBlock(data []byte) (root *yaml.Node, ok bool) {
	return newBlockScanner(data, false).document()
}

func newBlockScanner(data []byte, stream bool) *blockScanner {
	return &blockScanner{data: data, stream: stream}
}

func (s *blockScanner) document() (*yaml.Node, bool) {
	if !s.split() {
		return nil, false
	}
	if len(s.lines) == 0 {
		return nil, true
	}
	first := s.lines[0]
	n, ok := s.node(first.start+first.indent, 0)
	if !ok || s.i != len(s.lines) {
		return nil, false
	}
	doc := s.alloc(yaml.DocumentNode, "", "", first.num, 1)
	doc.Content = []*yaml.Node{n}
	return doc, true
}

// maxBlockDepth bounds nesting; deeper documents go to yaml.v3.
const maxBlockDepth = 64

// maxPlainKey is the longest key read here; YAML limits implicit keys to
// 1024 characters.
const maxPlainKey = 1000

type blockLine struct {
	start  int // offset of the line's first byte
	end    int // offset of its newline, or len(data)
	indent int // leading spaces
	num    int // line number, from 1
}

type blockScanner struct {
	// stream leaves the entries of the top-level lists (users, groups,
	// resources, actions) unread until the decoder asks for them: each is
	// then read into the same few nodes, so that a large file never has
	// all its nodes in memory at once.
	stream   bool
	deferred []*deferredList
	arena    []yaml.Node // the nodes streamed entries are read into

	data  []byte
	text  string // data as a string: values are cut from it, not copied
	ascii bool
	lines []blockLine // lines with content: no blank or comment-only lines
	i     int         // the line being read
	slab  []yaml.Node
	depth int
}

// split checks the bytes and records the lines that hold content.
func (s *blockScanner) split() bool {
	s.ascii = true
	for _, b := range s.data {
		switch {
		case b == '\n':
		case b < 0x20 || b == 0x7f: // tabs, CR and control characters
			return false
		case b >= 0x80:
			s.ascii = false
		}
	}
	if !s.ascii && !printableUTF8(s.data) {
		return false
	}
	s.text = string(s.data)
	s.lines = make([]blockLine, 0, bytes.Count(s.data, []byte{'\n'})+1)
	num := 0
	for start := 0; start < len(s.data); {
		num++
		end := start
		for end < len(s.data) && s.data[end] != '\n' {
			end++
		}
		ind := 0
		for start+ind < end && s.data[start+ind] == ' ' {
			ind++
		}
		line := s.data[start:end]
		switch {
		case start+ind == end || s.data[start+ind] == '#':
			// blank or comment
		case ind == 0 && (hasMarker(line, "---") || hasMarker(line, "...") || line[0] == '%'):
			return false // document markers and directives
		default:
			s.lines = append(s.lines, blockLine{start: start, end: end, indent: ind, num: num})
		}
		start = end + 1
	}
	return true
}

func hasMarker(line []byte, m string) bool {
	return len(line) >= 3 && string(line[:3]) == m && (len(line) == 3 || line[3] == ' ')
}

// printableUTF8 reports whether data is valid UTF-8 whose characters beyond
// ASCII are ones YAML takes as they are: no C1 controls (NEL breaks lines),
// no byte order marks, no line or paragraph separators, no non-characters.
func printableUTF8(data []byte) bool {
	for i := 0; i < len(data); {
		if data[i] < 0x80 {
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError || r < 0xa0 || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff {
			return false
		}
		i += n
	}
	return true
}

func (s *blockScanner) alloc(kind yaml.Kind, tag, value string, line, col int) *yaml.Node {
	if len(s.slab) == 0 {
		s.slab = make([]yaml.Node, 1024)
	}
	n := &s.slab[0]
	s.slab = s.slab[1:]
	// A streamed entry reuses the nodes of the one before, keeping only
	// the room their lists had.
	*n = yaml.Node{Kind: kind, Tag: tag, Value: value, Line: line, Column: col, Content: n.Content[:0]}
	return n
}

// col is the 1-based column of offset off on line l, counted in characters
// as yaml.v3 counts them.
func (s *blockScanner) col(l blockLine, off int) int {
	if s.ascii {
		return off - l.start + 1
	}
	return utf8.RuneCount(s.data[l.start:off]) + 1
}

// next returns the line after the current one, if any.
func (s *blockScanner) next() (blockLine, bool) {
	if s.i+1 < len(s.lines) {
		return s.lines[s.i+1], true
	}
	return blockLine{}, false
}

// isEntry reports whether a block sequence entry ("- " or a lone "-")
// starts at off.
func (s *blockScanner) isEntry(off, end int) bool {
	return s.data[off] == '-' && (off+1 == end || s.data[off+1] == ' ')
}

// restEmpty reports whether only spaces and a comment follow off on the line.
func (s *blockScanner) restEmpty(off, end int) bool {
	off = skipSpaces(s.data, off, end)
	return off == end || s.data[off] == '#' && s.data[off-1] == ' '
}

func skipSpaces(data []byte, off, end int) int {
	for off < end && data[off] == ' ' {
		off++
	}
	return off
}

// node reads the block node that starts at offset off of the current line.
// parent is the indentation of the enclosing collection: lines of the node
// after the first are indented deeper.
func (s *blockScanner) node(off, parent int) (*yaml.Node, bool) {
	if s.depth++; s.depth > maxBlockDepth {
		return nil, false
	}
	defer func() { s.depth-- }()
	l := s.lines[s.i]
	if s.isEntry(off, l.end) {
		return s.sequence(off - l.start)
	}
	switch s.data[off] {
	case '[', '{':
		n, after, ok := s.flow(l, off)
		if !ok || !s.restEmpty(after, l.end) {
			return nil, false
		}
		return n, s.endsHere(parent)
	}
	n, after, ok := s.scalar(l, off, false)
	if !ok {
		return nil, false
	}
	if after < l.end && s.data[after] == ':' && (after+1 == l.end || s.data[after+1] == ' ') {
		return s.mapping(off-l.start, n, after)
	}
	if !s.restEmpty(after, l.end) {
		return nil, false
	}
	return n, s.endsHere(parent)
}

// endsHere moves past a one-line node and checks that the next line is no
// continuation of it.
func (s *blockScanner) endsHere(parent int) bool {
	if nl, ok := s.next(); ok && nl.indent > parent {
		return false // a multi-line scalar, or an error
	}
	s.i++
	return true
}

// sequence reads a block sequence whose dashes are at column indent.
func (s *blockScanner) sequence(indent int) (*yaml.Node, bool) {
	l := s.lines[s.i]
	seq := s.alloc(yaml.SequenceNode, "!!seq", "", l.num, indent+1)
	for {
		item, ok := s.entry(indent)
		if !ok {
			return nil, false
		}
		seq.Content = append(seq.Content, item)
		if more, ok := s.more(indent); !more {
			return seq, ok
		}
	}
}

// entry reads the sequence entry that starts on the current line.
func (s *blockScanner) entry(indent int) (*yaml.Node, bool) {
	l := s.lines[s.i]
	off := skipSpaces(s.data, l.start+indent+1, l.end)
	if off == l.end || s.data[off] == '#' || s.isEntry(off, l.end) {
		return nil, false // empty entries and "- - x" go to yaml.v3
	}
	return s.node(off, indent)
}

// more reports, after an entry, whether the sequence at indent goes on,
// and whether what follows is well placed.
func (s *blockScanner) more(indent int) (more, ok bool) {
	if s.i == len(s.lines) {
		return false, true
	}
	l := s.lines[s.i]
	switch {
	case l.indent > indent:
		return false, false
	case l.indent < indent || !s.isEntry(l.start+l.indent, l.end):
		return false, true
	}
	return true, true
}

// deferredList is a top-level list whose entries are read on demand.
type deferredList struct {
	node       *yaml.Node // what the decoder holds: a sequence with no children
	start, end int        // its lines
	indent     int
	count      int  // its entries
	done       bool // all entries were read
}

// streamedKeys are the top-level keys whose lists are streamed: the ones
// the decoder reads with decoder.list.
var streamedKeys = map[string]bool{keyUsers: true, keyGroups: true, keyResources: true, keyActions: true}

// errNotBlock stops a decoder when a streamed entry is outside the subset.
var errNotBlock = errors.New("policy: not plain block YAML")

// deferList records the block sequence that starts on the current line and
// moves past it.
func (s *blockScanner) deferList(indent int) *yaml.Node {
	l := s.lines[s.i]
	d := &deferredList{node: s.alloc(yaml.SequenceNode, "!!seq", "", l.num, indent+1), start: s.i, indent: indent}
	for s.i < len(s.lines) {
		l := s.lines[s.i]
		if l.indent == indent && s.isEntry(l.start+l.indent, l.end) {
			d.count++
		} else if l.indent <= indent {
			break
		}
		s.i++
	}
	d.end = s.i
	s.deferred = append(s.deferred, d)
	return d.node
}

// streamed reports whether n is a deferred list, and how many entries it has.
func (s *blockScanner) streamed(n *yaml.Node) (int, bool) {
	if d := s.deferredOf(n); d != nil {
		return d.count, true
	}
	return 0, false
}

func (s *blockScanner) deferredOf(n *yaml.Node) *deferredList {
	for _, d := range s.deferred {
		if d.node == n {
			return d
		}
	}
	return nil
}

// entries reads the entries of the deferred list n one by one, handing
// each to each until it returns false. An entry outside the subset panics
// with errNotBlock; decoder.documents recovers.
func (s *blockScanner) entries(n *yaml.Node, each func(*yaml.Node) bool) {
	if !s.read(s.deferredOf(n), each) {
		panic(errNotBlock)
	}
}

func (s *blockScanner) read(d *deferredList, each func(*yaml.Node) bool) bool {
	if s.arena == nil {
		s.arena = make([]yaml.Node, 256)
	}
	s.i, s.depth = d.start, 2 // as deep as the entries of a top-level list
	for {
		s.slab = s.arena
		item, ok := s.entry(d.indent)
		if !ok {
			return false
		}
		more, ok := s.more(d.indent)
		switch {
		case !ok || !more && s.i != d.end:
			return false
		case !each(item):
			return true // finish checks the rest
		case !more:
			d.done = true
			return true
		}
	}
}

// finish reads what the decoder left unread of the deferred lists: a
// repeated key's list, or the rest of one the decoder stopped reading.
// False means some of it is outside the subset.
func (s *blockScanner) finish() bool {
	for _, d := range s.deferred {
		if !d.done && !s.read(d, func(*yaml.Node) bool { return true }) {
			return false
		}
	}
	return true
}

// mapping reads a block mapping whose keys are at column indent; key, the
// first one, ends just before the colon at offset colon.
func (s *blockScanner) mapping(indent int, key *yaml.Node, colon int) (*yaml.Node, bool) {
	m := s.alloc(yaml.MappingNode, "!!map", "", key.Line, key.Column)
	for {
		if len(key.Value) > maxPlainKey {
			return nil, false
		}
		l := s.lines[s.i]
		val, ok := s.value(l, indent, colon, key.Value)
		if !ok {
			return nil, false
		}
		m.Content = append(m.Content, key, val)
		if s.i == len(s.lines) {
			return m, true
		}
		l = s.lines[s.i]
		switch {
		case l.indent > indent:
			return nil, false
		case l.indent < indent:
			return m, true
		case s.isEntry(l.start+l.indent, l.end):
			// Only a sequence that is the value of a key at this
			// indentation may start here, and value read it.
			return nil, false
		}
		var after int
		key, after, ok = s.scalar(l, l.start+indent, false)
		if !ok || after == l.end || s.data[after] != ':' || after+1 < l.end && s.data[after+1] != ' ' {
			return nil, false
		}
		colon = after
	}
}

// value reads the value of the key whose colon is at offset colon of line
// l, in a mapping whose keys are at column indent.
func (s *blockScanner) value(l blockLine, indent, colon int, key string) (*yaml.Node, bool) {
	off := skipSpaces(s.data, colon+1, l.end)
	if off < l.end && s.data[off] != '#' {
		if s.isEntry(off, l.end) {
			return nil, false // "key: - x" is an error
		}
		n, ok := s.node(off, indent)
		if !ok || n.Kind == yaml.MappingNode && n.Style != yaml.FlowStyle {
			return nil, false // "key: a: b" is an error
		}
		return n, true
	}
	if off < l.end && off == colon+1 {
		return nil, false // "key:#" is no comment
	}
	// The value starts on a later line: deeper, or a sequence at the
	// key's own indentation. Otherwise it is empty.
	if nl, ok := s.next(); ok && (nl.indent > indent || nl.indent == indent && s.isEntry(nl.start+nl.indent, nl.end)) {
		s.i++
		if s.stream && s.depth == 1 && streamedKeys[key] && s.isEntry(nl.start+nl.indent, nl.end) {
			return s.deferList(nl.indent), true
		}
		return s.node(nl.start+nl.indent, indent)
	}
	s.i++
	return s.alloc(yaml.ScalarNode, "!!null", "", l.num, s.col(l, colon)+1), true
}

// scalar reads a plain or quoted one-line scalar at offset off of line l;
// after is the offset just past it (past trailing spaces for plain ones).
func (s *blockScanner) scalar(l blockLine, off int, flow bool) (n *yaml.Node, after int, ok bool) {
	d := s.data
	col := s.col(l, off)
	switch d[off] {
	case '"':
		for i := off + 1; i < l.end; i++ {
			switch d[i] {
			case '\\':
				return nil, 0, false
			case '"':
				n = s.alloc(yaml.ScalarNode, "!!str", s.text[off+1:i], l.num, col)
				n.Style = yaml.DoubleQuotedStyle
				after = s.afterQuoted(i+1, l.end, flow)
				return n, after, after >= 0
			}
		}
		return nil, 0, false
	case '\'':
		var buf []byte
		from := off + 1
		for i := off + 1; i < l.end; i++ {
			if d[i] != '\'' {
				continue
			}
			if i+1 < l.end && d[i+1] == '\'' {
				buf = append(buf, d[from:i+1]...)
				from = i + 2
				i++
				continue
			}
			v := s.text[off+1 : i]
			if buf != nil {
				v = string(append(buf, d[from:i]...))
			}
			n = s.alloc(yaml.ScalarNode, "!!str", v, l.num, col)
			n.Style = yaml.SingleQuotedStyle
			after = s.afterQuoted(i+1, l.end, flow)
			return n, after, after >= 0
		}
		return nil, 0, false
	}
	if !plainStart(d, off, l.end, flow) {
		return nil, 0, false
	}
	end := off
	for i := off; i < l.end; i++ {
		c := d[i]
		if c == ':' {
			if i+1 == l.end || d[i+1] == ' ' {
				break
			}
			if flow && isFlowIndicator(d[i+1]) {
				return nil, 0, false
			}
		}
		if c == '#' && d[i-1] == ' ' {
			break
		}
		if flow && isFlowIndicator(c) {
			break
		}
		if flow && c == '?' {
			// yaml.v3 ends a plain scalar here inside a flow
			// collection, and what follows is then an error: its words
			// are the ones to give.
			return nil, 0, false
		}
		if c != ' ' {
			end = i + 1
		}
	}
	v := s.text[off:end]
	n = s.alloc(yaml.ScalarNode, "", v, l.num, col)
	switch {
	case v == "<<":
		n.Tag = "!!merge" // as yaml.v3's parser tags it
	case v != "" && !strings.ContainsRune("+-0123456789yYnNtTfFoO~.", rune(v[0])):
		n.Tag = "!!str" // yaml.v3 resolves only these first characters to anything else
	default:
		n.Tag = n.ShortTag()
	}
	return n, skipSpaces(d, end, l.end), true
}

// afterQuoted checks what follows a closing quote at offset off: YAML wants
// a space, the end of the line, a colon or, in a flow collection, one of
// its indicators. It returns the offset past the spaces, or -1.
func (s *blockScanner) afterQuoted(off, end int, flow bool) int {
	if off == end || s.data[off] == ' ' || s.data[off] == ':' || flow && isFlowIndicator(s.data[off]) {
		return skipSpaces(s.data, off, end)
	}
	return -1
}

func isFlowIndicator(c byte) bool { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' }

// plainStart reports whether a plain scalar may start at off: not with an
// indicator, except a dash that is followed by a character of the scalar.
func plainStart(d []byte, off, end int, flow bool) bool {
	switch d[off] {
	case '-':
		return off+1 < end && d[off+1] != ' ' && !(flow && isFlowIndicator(d[off+1]))
	case '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	return true
}

// flowItem reads a scalar or a nested flow collection inside a flow
// collection.
func (s *blockScanner) flowItem(l blockLine, off int) (*yaml.Node, int, bool) {
	if s.data[off] == '[' || s.data[off] == '{' {
		if s.depth++; s.depth > maxBlockDepth {
			return nil, 0, false
		}
		defer func() { s.depth-- }()
		return s.flow(l, off)
	}
	return s.scalar(l, off, true)
}

// flow reads a one-line flow sequence or flow mapping, whose keys are
// scalars, at offset off of line l.
func (s *blockScanner) flow(l blockLine, off int) (n *yaml.Node, after int, ok bool) {
	d := s.data
	closing := byte(']')
	n = s.alloc(yaml.SequenceNode, "!!seq", "", l.num, s.col(l, off))
	if d[off] == '{' {
		closing = '}'
		n.Kind, n.Tag = yaml.MappingNode, "!!map"
	}
	n.Style = yaml.FlowStyle
	off = skipSpaces(d, off+1, l.end)
	if off < l.end && d[off] == closing {
		return n, skipSpaces(d, off+1, l.end), true
	}
	for {
		if off == l.end || closing == '}' && (d[off] == '[' || d[off] == '{') {
			return nil, 0, false // keys are scalars
		}
		item, at, ok := s.flowItem(l, off)
		if !ok || at == l.end || closing == '}' && len(item.Value) > maxPlainKey {
			return nil, 0, false
		}
		n.Content = append(n.Content, item)
		if closing == '}' {
			if d[at] != ':' || at+1 == l.end || d[at+1] != ' ' {
				return nil, 0, false
			}
			at = skipSpaces(d, at+1, l.end)
			if at == l.end || d[at] == ',' || d[at] == '}' {
				return nil, 0, false
			}
			if item, at, ok = s.flowItem(l, at); !ok || at == l.end {
				return nil, 0, false
			}
			n.Content = append(n.Content, item)
		}
		switch d[at] {
		case closing:
			return n, skipSpaces(d, at+1, l.end), true
		case ',':
			off = skipSpaces(d, at+1, l.end)
			if off < l.end && (d[off] == ']' || d[off] == '}') {
				return nil, 0, false // a trailing comma
			}
		default:
			return nil, 0, false
		}
	}
}
