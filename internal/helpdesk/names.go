package helpdesk

import (
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/deskctl/deskctl/internal/errs"
)

// MaxNameLen bounds logins and group, resource and action names.
const MaxNameLen = 64

// ValidateLogin checks a user login: lower-case letters, digits, '.', '_' and
// '-', starting with a letter or digit.
func ValidateLogin(login string) error {
	if err := validateToken(login); err != nil {
		return errs.Usagef("invalid login %q: %s", login, err.Error()).
			WithHint("use lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (at most %d)", MaxNameLen)
	}
	return nil
}

// ValidateName checks the name of a group, resource or action.
func ValidateName(kind, name string) error {
	if err := validateToken(name); err != nil {
		return errs.Usagef("invalid %s name %q: %s", kind, name, err.Error()).
			WithHint("use lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (at most %d)", MaxNameLen)
	}
	return nil
}

type tokenError string

func (e tokenError) Error() string { return string(e) }

func validateToken(s string) error {
	if s == "" {
		return tokenError("empty")
	}
	if len(s) > MaxNameLen {
		return tokenError("too long")
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '.' || r == '_' || r == '-') && i > 0:
		case r >= 'A' && r <= 'Z':
			return tokenError("upper-case letter")
		default:
			return tokenError("character " + quoteRune(r) + " not allowed")
		}
	}
	return nil
}

func quoteRune(r rune) string {
	if r == utf8.RuneError || !unicode.IsPrint(r) {
		// Never echo control characters (C0, DEL, C1) to a terminal.
		return fmt.Sprintf("U+%04X", r)
	}
	return "'" + string(r) + "'"
}

// ValidateEmail checks a single bare address such as bob@example.com.
func ValidateEmail(addr string) error {
	if err := ValidateLine("email", addr, 254); err != nil {
		return err
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr || a.Name != "" || !strings.Contains(addr[strings.LastIndexByte(addr, '@')+1:], ".") {
		return errs.Usagef("invalid email %q", addr).WithHint("give a plain address such as bob@example.com")
	}
	return nil
}

// Closest returns up to three candidates nearest to name by edit distance,
// best first, for "did you mean" hints. Only reasonably close names count.
func Closest(name string, candidates []string) []string {
	type scored struct {
		s string
		d int
	}
	var out []scored
	limit := max(2, len(name)/3)
	for _, c := range candidates {
		d := editDistance(name, c)
		if d <= limit || (len(name) >= 3 && strings.Contains(c, name)) {
			out = append(out, scored{c, d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].d != out[j].d {
			return out[i].d < out[j].d
		}
		return out[i].s < out[j].s
	})
	var names []string
	for i := 0; i < len(out) && i < 3; i++ {
		names = append(names, out[i].s)
	}
	return names
}

// NotFound builds the standard "no such KIND 'x'" error with suggestions.
func NotFound(kind, name string, candidates []string) error {
	e := errs.NotFoundf("no such %s %s", kind, errs.Quote(name))
	if near := Closest(name, candidates); len(near) > 0 {
		return e.WithHint("did you mean %s?", joinQuoted(near))
	}
	return e
}

func joinQuoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	switch len(q) {
	case 1:
		return q[0]
	case 2:
		return q[0] + " or " + q[1]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
