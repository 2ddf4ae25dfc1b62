package helpdesk

import (
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
)

// SubjectKind is what a grant or membership points at.
type SubjectKind string

const (
	KindUser     SubjectKind = "user"
	KindGroup    SubjectKind = "group"
	KindResource SubjectKind = "resource"
)

// Subject names a user, group or resource, written "kind:name".
type Subject struct {
	Kind SubjectKind
	Name string
}

// UserSubject, GroupSubject and ResourceSubject build subjects.
func UserSubject(login string) Subject    { return Subject{KindUser, login} }
func GroupSubject(name string) Subject    { return Subject{KindGroup, name} }
func ResourceSubject(name string) Subject { return Subject{KindResource, name} }

func (s Subject) String() string { return string(s.Kind) + ":" + s.Name }

// IsZero reports whether s is the empty subject.
func (s Subject) IsZero() bool { return s.Kind == "" && s.Name == "" }

// ParseSubject reads "user:bob", "group:tier1" or "resource:network". A bare
// name gets def as its kind; def == "" makes the prefix mandatory.
func ParseSubject(text string, def SubjectKind) (Subject, error) {
	kind, name, found := strings.Cut(text, ":")
	if !found {
		if def == "" {
			return Subject{}, errs.Usagef("subject %q has no kind", text).
				WithHint("write user:NAME, group:NAME or resource:NAME")
		}
		kind, name = string(def), text
	}
	s := Subject{Kind: SubjectKind(kind), Name: name}
	switch s.Kind {
	case KindUser:
		return s, ValidateLogin(name)
	case KindGroup, KindResource:
		return s, ValidateName(string(s.Kind), name)
	}
	return Subject{}, errs.Usagef("unknown subject kind %q in %q", kind, text).
		WithHint("write user:NAME, group:NAME or resource:NAME")
}
