package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/output"
)

func TestPlanSummary(t *testing.T) {
	p := app.Plan{
		Changes: []app.Change{
			{Op: "add", Subject: "user:dan", Detail: "dan@example.com"},
			{Op: "update", Subject: "user:bob", Detail: "name"},
			{Op: "disable", Subject: "user:old", Detail: "kept and disabled: tickets refer to them"},
			{Op: "remove", Subject: "group:legacy"},
			{Op: "add", Subject: "resource:printers", Detail: "members (none)"},
			{Op: "grant", Subject: "group:tier1", Detail: "close, reply"},
			{Op: "revoke", Subject: "user:bob", Detail: "admin"},
			{Op: "set", Subject: "setting:approval-expiry", Detail: "7d → 3d"},
		},
		Access: []app.AccessChange{
			{Op: "gains", User: "dan", Right: "note"},
			{Op: "gains", User: "bob", Right: "close"},
			{Op: "gains", User: "bob", Right: "reply"},
			{Op: "loses", User: "bob", Right: "admin"},
			{Op: "loses", User: "old", Resource: "printers", Access: "write"},
			{Op: "gains", User: "carol", Right: "a"},
			{Op: "gains", User: "carol", Right: "b"},
			{Op: "gains", User: "carol", Right: "c"},
			{Op: "gains", User: "carol", Right: "d"},
		},
	}
	var w bytes.Buffer
	writePlanSummary(&w, p, nil)
	want := `Plan: 8 changes
  users      1 to add, 1 to update, 1 to disable
  groups     1 to remove
  resources  1 to add
  settings   1 to set
  grants     2 rights to grant to 1 subject, 1 right to revoke from 1 subject
Effective access: 3 users gain access, 2 users lose access
  ± bob    gains close, reply; loses admin
  − old    loses the tickets of printers (write)
  + carol  gains a, b, c and 1 more
  + dan    gains note
`
	if got := w.String(); got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}
	// Where colour is allowed, a user's sign is green for gains only and
	// red for losses only; ± stays plain.
	var coloured bytes.Buffer
	writePlanSummary(&coloured, p, &output.Printer{Format: output.Table, Color: true})
	for _, line := range []string{"  \x1b[32m+\x1b[0m carol  gains", "  \x1b[31m−\x1b[0m old    loses", "  ± bob    gains"} {
		if !strings.Contains(coloured.String(), line) {
			t.Errorf("coloured summary lacks %q:\n%q", line, coloured.String())
		}
	}
	if got, want := planResult(p), "applied 8 changes: 3 users gain access, 2 users lose access"; got != want {
		t.Errorf("result %q, want %q", got, want)
	}
	if got, want := planResult(app.Plan{Changes: p.Changes[:1]}), "applied 1 change"; got != want {
		t.Errorf("result %q, want %q", got, want)
	}
}
