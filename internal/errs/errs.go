// Package errs gives every deskctl error a kind. The CLI maps kinds to exit
// codes in one place (cli.ExitCode); everything below the CLI only says what
// went wrong and, where it can, what to do next.
package errs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind classifies an error for the exit-code contract.
type Kind int

const (
	// Internal is a bug or an unexpected I/O failure.
	Internal Kind = iota
	// Negative is a well-formed "no" answer, e.g. `access can` or findings from `policy validate`.
	Negative
	// Usage is a malformed command line or input value.
	Usage
	// NotFound names an entity that does not exist (or is invisible to the actor).
	NotFound
	// Forbidden is a permission denial.
	Forbidden
	// Conflict is a request that clashes with current state (duplicate, pending approval, wrong state).
	Conflict
	// Busy means another deskctl process holds the database lock.
	Busy
	// Unusable means the database cannot be used (missing, corrupt, newer schema).
	Unusable
)

func (k Kind) String() string {
	switch k {
	case Negative:
		return "negative"
	case Usage:
		return "usage"
	case NotFound:
		return "not-found"
	case Forbidden:
		return "forbidden"
	case Conflict:
		return "conflict"
	case Busy:
		return "busy"
	case Unusable:
		return "unusable"
	default:
		return "internal"
	}
}

// ParseKind is the inverse of Kind.String; unknown names are Internal.
func ParseKind(s string) Kind {
	for k := Internal; k <= Unusable; k++ {
		if k.String() == s {
			return k
		}
	}
	return Internal
}

// Error is an error with a kind and an optional hint naming the next step.
type Error struct {
	Kind Kind
	Msg  string
	Hint string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// WithHint returns a copy of e carrying hint.
func (e *Error) WithHint(format string, a ...any) *Error {
	c := *e
	c.Hint = fmt.Sprintf(format, a...)
	return &c
}

func newf(k Kind, format string, a ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, a...)}
}

func Usagef(format string, a ...any) *Error     { return newf(Usage, format, a...) }
func NotFoundf(format string, a ...any) *Error  { return newf(NotFound, format, a...) }
func Forbiddenf(format string, a ...any) *Error { return newf(Forbidden, format, a...) }
func Conflictf(format string, a ...any) *Error  { return newf(Conflict, format, a...) }
func Busyf(format string, a ...any) *Error      { return newf(Busy, format, a...) }
func Unusablef(format string, a ...any) *Error  { return newf(Unusable, format, a...) }
func Negativef(format string, a ...any) *Error  { return newf(Negative, format, a...) }
func Internalf(format string, a ...any) *Error  { return newf(Internal, format, a...) }

// Wrap attaches a kind and message to an underlying error.
func Wrap(k Kind, err error, format string, a ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, a...), Err: err}
}

// Kinded is implemented by domain errors that carry their own kind.
type Kinded interface{ Kind() Kind }

// KindOf reports the kind of err; errors without one are Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var k Kinded
	if errors.As(err, &k) {
		return k.Kind()
	}
	return Internal
}

// HintOf returns the hint attached to err, if any.
func HintOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Hint
	}
	return ""
}

// Is reports whether err has kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// Input shows user input in a message: as it is when every character is
// printable, Go-quoted otherwise, so control and bidirectional formatting
// characters appear as escapes (\x1b, \u202e) instead of acting on the
// terminal that prints the message.
func Input(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// Quote is Input for messages that put names in single quotes: 'bob' for
// plain text, "b\x1bob" for text that needs escapes.
func Quote(s string) string {
	if q := Input(s); q != s {
		return q
	}
	return "'" + s + "'"
}
