package helpdesk

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/deskctl/deskctl/internal/errs"
)

// The targets below run their seeds in every `go test`; .ci/fuzz.sh runs
// them under the fuzz engine for a bounded time. Crashers it finds are kept
// in testdata/fuzz as regression cases.

// checkUsageError asserts that a refusal is a usage error whose message the
// CLI can print on one line without echoing control characters to the
// terminal: user input ends up in these messages.
func checkUsageError(t *testing.T, what string, err error) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Usage {
		t.Fatalf("%s: error %v (%T) is not a usage error", what, err, err)
	}
	for _, text := range []string{err.Error(), errs.HintOf(err)} {
		for _, r := range text {
			if unicode.IsControl(r) {
				t.Fatalf("%s: message carries control character U+%04X: %q", what, r, text)
			}
		}
	}
}

func FuzzParseSubject(f *testing.F) {
	for _, seed := range []struct {
		text string
		def  uint8
	}{
		{"user:bob", 0}, {"group:tier1", 0}, {"resource:network-wifi", 0}, {"bob", 1}, {"tier1", 2}, {"net", 3},
		{"user:", 0}, {":bob", 0}, {"group:a:b", 0}, {"team:x", 0}, {"User:bob", 0}, {"user:Bob", 0},
		{"user:bob\x00", 0}, {"group:" + strings.Repeat("a", MaxNameLen+1), 0}, {"user:b\u00f8b", 0},
		{"\xff:\xfe", 1}, {"", 1}, {"", 0},
	} {
		f.Add(seed.text, seed.def)
	}
	kinds := []SubjectKind{"", KindUser, KindGroup, KindResource}
	f.Fuzz(func(t *testing.T, text string, def uint8) {
		kind := kinds[int(def)%len(kinds)]
		s, err := ParseSubject(text, kind)
		if err != nil {
			checkUsageError(t, fmt.Sprintf("ParseSubject(%q)", text), err)
			return
		}
		switch s.Kind {
		case KindUser:
			if ValidateLogin(s.Name) != nil {
				t.Fatalf("ParseSubject(%q) accepted invalid login %q", text, s.Name)
			}
		case KindGroup, KindResource:
			if ValidateName(string(s.Kind), s.Name) != nil {
				t.Fatalf("ParseSubject(%q) accepted invalid name %q", text, s.Name)
			}
		default:
			t.Fatalf("ParseSubject(%q) returned kind %q", text, s.Kind)
		}
		if s.IsZero() {
			t.Fatalf("ParseSubject(%q) returned the zero subject without an error", text)
		}
		// The written form is what grants and memberships store: it must read
		// back as the same subject without any default kind.
		again, err := ParseSubject(s.String(), "")
		if err != nil || again != s {
			t.Fatalf("ParseSubject(%q) = %v; reading %q back gave %v, %v", text, s, s.String(), again, err)
		}
		if !strings.Contains(text, ":") && kind != "" && s.Kind != kind {
			t.Fatalf("ParseSubject(%q, %q) ignored the default kind: %v", text, kind, s)
		}
	})
}

func FuzzValidateLoginAndText(f *testing.F) {
	for _, s := range []string{
		"bob", "b.o_b-1", "9lives", "", "Bob", "-bob", ".x", "bob smith", "bob\x00", "b\u00f8b",
		strings.Repeat("a", MaxNameLen), strings.Repeat("a", MaxNameLen+1), "line one\nline two\ttab", "cr\r",
		"bell\x07", "del\x7f", "crlf\r\nend", "rtl\u202eoverride", "iso\u2067late", "c1\u0085", "\xff\xfe", "caf\xe9", "\u2028", "\ufffd", "\xef\xbf\xbd",
	} {
		f.Add(s, uint16(100))
	}
	f.Add(strings.Repeat("x", 300), uint16(MaxSubject))
	f.Fuzz(func(t *testing.T, s string, limit uint16) {
		maxLen := int(limit)

		loginErr := ValidateLogin(s)
		nameErr := ValidateName("group", s)
		if (loginErr == nil) != (nameErr == nil) {
			t.Fatalf("logins and names follow one rule, yet ValidateLogin(%q) = %v and ValidateName = %v", s, loginErr, nameErr)
		}
		if loginErr != nil {
			checkUsageError(t, "ValidateLogin", loginErr)
			checkUsageError(t, "ValidateName", nameErr)
		} else {
			if len(s) == 0 || len(s) > MaxNameLen || !utf8.ValidString(s) {
				t.Fatalf("ValidateLogin accepted %q", s)
			}
			for _, kind := range []SubjectKind{KindUser, KindGroup, KindResource} {
				sub := Subject{Kind: kind, Name: s}
				got, err := ParseSubject(sub.String(), "")
				if err != nil || got != sub {
					t.Fatalf("valid %v does not round-trip through String/ParseSubject: %v, %v", sub, got, err)
				}
			}
		}

		cleaned, textErr := CleanText("description", s, MultiLine, maxLen)
		if textErr != nil {
			checkUsageError(t, "CleanText", textErr)
		} else {
			if !utf8.ValidString(s) || len(cleaned) > maxLen {
				t.Fatalf("CleanText(%q, %d) accepted it", s, maxLen)
			}
			if strings.ContainsRune(cleaned, '\r') {
				t.Fatalf("CleanText(%q) kept a carriage return: %q", s, cleaned)
			}
			for _, r := range cleaned {
				if unicode.IsControl(r) && r != '\n' && r != '\t' || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
					t.Fatalf("CleanText(%q) let U+%04X through", s, r)
				}
			}
			if again, err := CleanText("description", cleaned, MultiLine, maxLen); err != nil || again != cleaned {
				t.Fatalf("CleanText is not idempotent on %q: %q, %v", cleaned, again, err)
			}
		}
		lineErr := ValidateLine("subject", s, maxLen)
		switch {
		case lineErr != nil:
			checkUsageError(t, "ValidateLine", lineErr)
		case textErr != nil:
			t.Fatalf("ValidateLine(%q) accepted what CleanText refused: %v", s, textErr)
		case strings.ContainsAny(s, "\r\n\t"):
			t.Fatalf("ValidateLine(%q) accepted a line break or tab", s)
		}
		if esc := EscapeText(s); strings.IndexFunc(esc, UnsafeRune) >= 0 {
			t.Fatalf("EscapeText(%q) = %q still carries an unsafe character", s, esc)
		}
	})
}

func FuzzTokenShape(f *testing.F) {
	tok, _, err := NewToken()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		tok, tok[:42], tok + "A", strings.Repeat("A", 43), strings.Repeat("_", 43), strings.Repeat("-", 43),
		strings.Repeat("A", 42) + "B", strings.Repeat("+", 43), strings.Repeat("/", 43), strings.Repeat("A", 42) + "=",
		strings.Repeat("A", 44), strings.Repeat("\xff", 43), "", "../../../../etc/passwd",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidTokenShape(s) {
			return
		}
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(raw) != TokenBytes {
			t.Fatalf("ValidTokenShape(%q) accepted what decodes to %d bytes (%v)", s, len(raw), err)
		}
		if strings.ContainsAny(s, "/+=%?#.\\") {
			t.Fatalf("ValidTokenShape(%q) accepted a character that is not URL-safe base64", s)
		}
		h := HashToken(s)
		if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
			t.Fatalf("HashToken(%q) = %q is not a hex SHA-256", s, h)
		}
		if !TokenMatches(s, h) {
			t.Fatalf("TokenMatches refused %q with its own hash", s)
		}
	})
}
