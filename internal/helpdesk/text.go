package helpdesk

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/deskctl/deskctl/internal/errs"
)

// TextKind says whether a free-text field may span lines.
type TextKind int

const (
	// SingleLine fields (names, subjects, categories, descriptions of
	// groups, resources and actions) take neither line breaks nor tabs.
	SingleLine TextKind = iota
	// MultiLine fields (ticket descriptions and texts, approval notes and
	// comments) keep newlines and tabs.
	MultiLine
)

// CleanText is the one rule for free text entering deskctl, whichever way it
// comes (flags, files, import, policy, the approval page): "\r\n" and a lone
// "\r" become "\n"; any other control character (C0, DEL, C1) and the
// bidirectional embeddings, overrides and isolates (U+202A–U+202E,
// U+2066–U+2069), which let stored text move the cursor or reorder what a
// table shows, are refused, as are line breaks and tabs in a single-line
// field. The error names the field, the character's position (1-based, in
// characters of s) and its code point. Empty text passes; callers decide
// whether text is required. The returned text is what to store.
func CleanText(field, s string, kind TextKind, limit int) (string, error) {
	if !utf8.ValidString(s) {
		return "", errs.Usagef("%s is not valid UTF-8", field).WithHint("re-encode the text as UTF-8")
	}
	out := s
	if strings.IndexByte(s, '\r') >= 0 {
		out = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	pos := 0
	for _, r := range s {
		pos++
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			if kind == SingleLine {
				what := "a line break"
				if r == '\t' {
					what = "a tab"
				}
				return "", errs.Usagef("%s must be a single line: character %d is %s", field, pos, what).
					WithHint("remove line breaks and tabs from the %s", field)
			}
		case UnsafeRune(r):
			return "", errs.Usagef("%s: character %d is %s", field, pos, describeRune(r)).
				WithHint("remove control and bidirectional formatting characters (newlines and tabs are fine in multi-line texts)")
		}
	}
	if len(out) > limit {
		return "", errs.Usagef("%s is %d bytes; the limit is %d", field, len(out), limit).WithHint("shorten it")
	}
	return out, nil
}

// ValidateLine checks a single-line value such as a name or subject. A
// single-line value that passes is stored as it is, so no cleaned copy is
// returned.
func ValidateLine(field, s string, limit int) error {
	_, err := CleanText(field, s, SingleLine, limit)
	return err
}

// UnsafeRune reports whether r is a character no stored text may carry: a
// C0 control other than newline and tab (carriage return included: it is
// normalised on the way in), DEL, a C1 control, or a bidirectional
// embedding, override or isolate.
func UnsafeRune(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\n' && r != '\t'
	case r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func describeRune(r rune) string {
	if r >= 0x202a {
		return fmt.Sprintf("U+%04X (a bidirectional formatting character)", r)
	}
	return fmt.Sprintf("U+%04X (a control character)", r)
}

// EscapeText makes the characters UnsafeRune reports visible, for output of
// text stored before deskctl refused them: a carriage return reads \r, any
// other such character <U+XXXX>. Newlines and tabs stay as they are.
func EscapeText(s string) string {
	if strings.IndexFunc(s, UnsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\r':
			b.WriteString(`\r`)
		case UnsafeRune(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
