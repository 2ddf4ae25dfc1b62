package errs

import (
	"errors"
	"fmt"
	"testing"
)

type linkProblem struct{}

func (linkProblem) Error() string { return "used" }
func (linkProblem) Kind() Kind    { return Conflict }

func TestKindsSurviveWrapping(t *testing.T) {
	for _, tc := range []struct {
		err  error
		kind Kind
		hint string
	}{
		{NotFoundf("no such user 'x'").WithHint("did you mean 'y'?"), NotFound, "did you mean 'y'?"},
		{fmt.Errorf("context: %w", Busyf("locked")), Busy, ""},
		{Wrap(Usage, errors.New("bad"), "reading %s", "f"), Usage, ""},
		{fmt.Errorf("page: %w", linkProblem{}), Conflict, ""},
		{errors.New("plain"), Internal, ""},
	} {
		if got := KindOf(tc.err); got != tc.kind {
			t.Errorf("KindOf(%v) = %v, want %v", tc.err, got, tc.kind)
		}
		if got := HintOf(tc.err); got != tc.hint {
			t.Errorf("HintOf(%v) = %q, want %q", tc.err, got, tc.hint)
		}
	}
	if e := Wrap(Usage, errors.New("bad"), "reading %s", "f"); e.Error() != "reading f: bad" {
		t.Errorf("Wrap message %q", e.Error())
	}
	base := Usagef("x")
	if base.WithHint("h"); base.Hint != "" {
		t.Error("WithHint changed the original error")
	}
}

func TestInputQuotesOnlyUnusualText(t *testing.T) {
	for _, tc := range []struct{ in, input, quote string }{
		{"bob", "bob", "'bob'"},
		{"Bob Tech", "Bob Tech", "'Bob Tech'"},
		{"Grüße", "Grüße", "'Grüße'"},
		{"x\x1b[31mred", `"x\x1b[31mred"`, `"x\x1b[31mred"`},
		{"a\rb", `"a\rb"`, `"a\rb"`},
		{"pay\u202efdp.exe", `"pay\u202efdp.exe"`, `"pay\u202efdp.exe"`},
		{"caf\xe9", `"caf\xe9"`, `"caf\xe9"`},
	} {
		if got := Input(tc.in); got != tc.input {
			t.Errorf("Input(%q) = %s, want %s", tc.in, got, tc.input)
		}
		if got := Quote(tc.in); got != tc.quote {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.quote)
		}
	}
}
