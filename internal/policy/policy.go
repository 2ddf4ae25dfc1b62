// Package policy is deskctl's permissions-as-code model: a YAML (or JSON)
// document describing the desired users, groups, resources, custom ticket
// actions, grants and settings. It parses documents while keeping the source
// position of every entity, field and list item, checks their meaning, and
// converts between documents and plain directory data (State) so that the
// apply and plan use cases can compare a file with a database. The package
// is pure: it reads files only in Load and knows nothing of storage or the
// command line. docs/policy.md describes the format.
package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Version is the only document version this package reads and writes.
const Version = 1

// Pos is a place in a policy file. Line and Col start at 1; zero means
// unknown. The zero Pos belongs to entities that did not come from a file
// (FromState).
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
}

// IsZero reports whether p names no place at all.
func (p Pos) IsZero() bool { return p == Pos{} }

// String writes p as file:line:col, leaving out the parts that are unknown.
func (p Pos) String() string {
	s := p.File
	if p.Line > 0 {
		if s != "" {
			s += ":"
		}
		s += strconv.Itoa(p.Line)
		if p.Col > 0 {
			s += ":" + strconv.Itoa(p.Col)
		}
	}
	return s
}

// before orders positions by file, line and column.
func (p Pos) before(q Pos) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Col < q.Col
}

// Origin records where an entity was written: Pos is the start of its entry
// and Fields holds the position of each key's value, with the document key
// ("login", "from-states", …), in the order the keys were read. An entry
// has a handful of keys, so a list is smaller and quicker than a map.
type Origin struct {
	Pos    Pos
	Fields []FieldPos
	// bad marks keys whose value had the wrong type; the parser already
	// reported them, so Validate does not report them again as missing.
	bad map[string]bool
}

// FieldPos is the position of the value of one key of an entry.
type FieldPos struct {
	Key string
	Pos Pos
}

// At returns the position of key's value, or the entry's position when the
// key was not written.
func (o Origin) At(key string) Pos {
	if p, ok := o.Field(key); ok {
		return p
	}
	return o.Pos
}

// Field returns the position of key's value and whether the key was written.
func (o Origin) Field(key string) (Pos, bool) {
	for _, f := range o.Fields {
		if f.Key == key {
			return f.Pos, true
		}
	}
	return Pos{}, false
}

func (o *Origin) set(key string, p Pos) {
	for i := range o.Fields {
		if o.Fields[i].Key == key {
			o.Fields[i].Pos = p
			return
		}
	}
	if o.Fields == nil {
		o.Fields = make([]FieldPos, 0, 4)
	}
	o.Fields = append(o.Fields, FieldPos{key, p})
}

func (o *Origin) markBad(key string) {
	if o.bad == nil {
		o.bad = map[string]bool{}
	}
	o.bad[key] = true
}

// Item is one string of a list (a right, a ticket state) with its position.
type Item struct {
	Value string
	Pos   Pos
}

// Policy is one or more policy documents merged. Lists keep document order,
// duplicates included, so that Validate can name every definition.
type Policy struct {
	Files     []string // the files merged, in the order given
	Users     []User
	Groups    []Group
	Resources []Resource
	Actions   []Action
	Settings  []Setting
}

// User is a `users` entry. Active defaults to true.
type User struct {
	Origin
	Login  string
	Name   string
	Email  string
	Active bool
	// OSLogin binds the user on a server's Unix socket; "" keeps the
	// database's binding.
	OSLogin string
	Rights  []Item // granted directly to the user
}

// Group is a `groups` entry.
type Group struct {
	Origin
	Name        string
	Description string
	Members     []Member
	Rights      []Item
}

// Member is a group member: a user ("bob" or "user:bob") or a nested group
// ("group:tier1"). Raw is the text as written; Subject is what it names.
type Member struct {
	Subject helpdesk.Subject
	Raw     string
	Pos     Pos
}

// Resource is a `resources` entry.
type Resource struct {
	Origin
	Name        string
	Description string
	Parent      string
	Members     []ResourceMember
	Rights      []Item
	Approval    *Template // nil when the entry has no approval key
}

// ResourceMember is a user's membership in a resource with its access level.
type ResourceMember struct {
	Origin
	Login  string
	Access helpdesk.Access
}

// Action is an `actions` entry: a custom ticket action.
type Action struct {
	Origin
	Name         string
	Category     string
	FromStates   []Item
	ToState      string // "" leaves the ticket's state unchanged
	RequiresText bool
	Internal     bool
	Description  string
}

// Right converts the entry to a catalog right.
func (a Action) Right() helpdesk.Right {
	r := helpdesk.Right{
		Name:         a.Name,
		Kind:         helpdesk.KindAction,
		Category:     helpdesk.Category(a.Category),
		Description:  a.Description,
		ToState:      helpdesk.State(a.ToState),
		RequiresText: a.RequiresText,
		Internal:     a.Internal,
	}
	for _, s := range a.FromStates {
		r.FromStates = append(r.FromStates, helpdesk.State(s.Value))
	}
	return r
}

// Setting is one `settings` entry. Pos is the key's position.
type Setting struct {
	Key      string
	Value    string
	Pos      Pos
	ValuePos Pos
}

// Severity says whether a finding makes a policy invalid.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning" // harmless, e.g. a right listed twice
)

// Code classifies a finding with a stable name for scripts.
type Code string

const (
	CodeSyntax          Code = "syntax"            // not YAML at all
	CodeUnknownKey      Code = "unknown-key"       // a key the format does not have
	CodeDuplicateKey    Code = "duplicate-key"     // the same key twice in one mapping
	CodeType            Code = "type"              // a value of the wrong type
	CodeMissing         Code = "missing"           // a required key is absent
	CodeVersion         Code = "version"           // an unsupported version
	CodeTooComplex      Code = "too-complex"       // aliases expand beyond reason
	CodeDuplicate       Code = "duplicate"         // an entity or setting defined twice
	CodeRepeated        Code = "repeated"          // a list names the same thing twice
	CodeInvalidLogin    Code = "invalid-login"     // a login that breaks the naming rules
	CodeInvalidName     Code = "invalid-name"      // a group, resource or action name that breaks the naming rules
	CodeInvalidEmail    Code = "invalid-email"     // not a plain address
	CodeInvalidText     Code = "invalid-text"      // a display name or description that cannot be shown safely
	CodeInvalidValue    Code = "invalid-value"     // an access level, category, state or setting value out of range
	CodeInvalidMember   Code = "invalid-member"    // a group member that is neither a user nor a group
	CodeInvalidAction   Code = "invalid-action"    // a custom action the catalog refuses
	CodeUnknownRight    Code = "unknown-right"     // a right neither built in nor defined under actions
	CodeUnknownMember   Code = "unknown-member"    // a member that is not defined
	CodeUnknownParent   Code = "unknown-parent"    // a resource parent that is not defined
	CodeUnknownSetting  Code = "unknown-setting"   // a settings key deskctl does not have
	CodeGroupCycle      Code = "group-cycle"       // groups that contain themselves
	CodeParentCycle     Code = "parent-cycle"      // resources that are their own ancestors
	CodeNotForResources Code = "not-for-resources" // a permission granted to a resource that cannot hold it
	CodeRequiresRight   Code = "requires-right"    // edit-all-tickets without read-all-tickets
	CodeEveryoneMembers Code = "everyone-members"  // members listed for the implicit group everyone
	CodeNoAdmin         Code = "no-admin"          // no active user would hold admin
)

// Finding is one problem found in a policy.
type Finding struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Col      int      `json:"col"`
	Severity Severity `json:"severity"`
	Code     Code     `json:"code"`
	Message  string   `json:"message"`
}

// Pos returns the finding's position.
func (f Finding) Pos() Pos { return Pos{f.File, f.Line, f.Col} }

// String writes the finding as file:line:col: message, the form editors and
// CI annotations understand. Warnings say so after the position.
func (f Finding) String() string {
	msg := f.Message
	if f.Severity == SeverityWarning {
		msg = "warning: " + msg
	}
	if p := f.Pos().String(); p != "" {
		return p + ": " + msg
	}
	return msg
}

// HasErrors reports whether any finding is an error rather than a warning.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity != SeverityWarning {
			return true
		}
	}
	return false
}

// findings collects findings while parsing or validating.
type findings []Finding

func (fs *findings) add(p Pos, code Code, format string, a ...any) {
	fs.report(SeverityError, p, code, format, a...)
}

func (fs *findings) warn(p Pos, code Code, format string, a ...any) {
	fs.report(SeverityWarning, p, code, format, a...)
}

func (fs *findings) report(sev Severity, p Pos, code Code, format string, a ...any) {
	for i, x := range a {
		if s, ok := x.(string); ok {
			a[i] = printable(s)
		}
	}
	*fs = append(*fs, Finding{File: printable(p.File), Line: p.Line, Col: p.Col, Severity: sev, Code: code,
		Message: fmt.Sprintf(format, a...)})
}

// printable escapes control characters and invalid UTF-8 in text copied
// from a policy file, so a finding cannot rewrite the terminal or CI log
// that shows it.
func printable(s string) string {
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0 {
		q := strconv.Quote(s)
		return q[1 : len(q)-1]
	}
	return s
}

// sortFindings orders findings by file, line and column, then by message so
// that the order never depends on map iteration, and drops repeats (an
// anchor merged in many places reports its own problems once).
func sortFindings(fs []Finding) []Finding {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		pa, pb := a.Pos(), b.Pos()
		switch {
		case pa.before(pb):
			return -1
		case pb.before(pa):
			return 1
		}
		switch {
		case a.Message < b.Message:
			return -1
		case a.Message > b.Message:
			return 1
		}
		return 0
	})
	return slices.Compact(fs)
}
