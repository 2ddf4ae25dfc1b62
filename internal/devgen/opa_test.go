package devgen

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// opaBinary finds OPA: $DESKCTL_OPA, then PATH, then $GOPATH/bin (where
// `go install github.com/open-policy-agent/opa@latest` puts it).
func opaBinary() string {
	if p := os.Getenv("DESKCTL_OPA"); p != "" {
		return p
	}
	if p, err := exec.LookPath("opa"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(string(trimNL(out)), "bin", "opa")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// requireOPA returns the opa binary, or skips the test without one, except
// under CI=true, where a missing OPA fails it.
func requireOPA(t *testing.T) string {
	t.Helper()
	bin := opaBinary()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("opa not found; CI must install it (go install github.com/open-policy-agent/opa@v1.22.2)")
		}
		t.Skip("opa not installed (go install github.com/open-policy-agent/opa@v1.22.2, or set DESKCTL_OPA)")
	}
	return bin
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// opaEval evaluates query over the Rego model and m's data with input, in one
// OPA process, and decodes the result into out.
func opaEval(t *testing.T, bin string, m *access.Memory, input any, query string, out any) {
	t.Helper()
	dir := t.TempDir()
	if err := WriteOPA(dir, m); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "input.json")
	if err := writeJSON(in, input); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "eval", "-f", "raw", "-d", filepath.Join(dir, "deskctl.rego"), "-d", filepath.Join(dir, "data.json"), "-i", in, query)
	raw, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("opa eval: %v: %s", err, stderr)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("opa eval printed %q: %v", raw, err)
	}
}

// TestRegoAgreesWithEngine asks OPA, over the exported data and the Rego
// model, the questions the benchmarks time, and compares every answer with
// the engine's: the role on a ticket and availability of actions for users
// in every situation (requester, read and write members, members of a
// parent resource, dispatchers, read-all holders, disabled users, others),
// which rights users hold, and through which grants. Skipped without OPA,
// except under CI=true, where a missing OPA fails.
func TestRegoAgreesWithEngine(t *testing.T) {
	bin := requireOPA(t)
	m := Model(small())
	e := access.New(m)
	gen, err := NewTicketGen(5, m)
	if err != nil {
		t.Fatal(err)
	}
	logins, _ := m.Users()
	special := map[string][]string{}
	for _, r := range []string{helpdesk.PermDispatcher, helpdesk.PermReadAllTickets, helpdesk.PermEditAllTickets} {
		hs, _ := e.WhoCan(r, nil)
		for _, h := range hs[:min(2, len(hs))] {
			special[r] = append(special[r], h.Login)
		}
	}
	var disabled string
	for _, l := range logins {
		if u, _, _ := m.User(l); !u.Active {
			disabled = l
			break
		}
	}
	actions := []string{helpdesk.ActComment, helpdesk.ActWithdraw, helpdesk.ActReopen, helpdesk.ActClose, helpdesk.ActStart,
		helpdesk.ActNote, helpdesk.ActAuthorize, helpdesk.ActEditSubject, "custom-00", "custom-04"}

	type query struct {
		OPAInput
		want     bool
		wantRole string
	}
	var qs []query
	for i := range 30 {
		tk := gen.Next()
		users := []string{tk.Requester, logins[(i*37)%len(logins)], disabled}
		for _, us := range special {
			users = append(users, us...)
		}
		if tk.Resource != "" {
			for cur := tk.Resource; cur != ""; {
				r, _, _ := m.Resource(cur)
				for _, mem := range r.Members[:min(3, len(r.Members))] {
					users = append(users, mem.Login)
				}
				cur = r.Parent
			}
		}
		for _, u := range users {
			role, err := e.Role(u, &tk)
			if err != nil {
				t.Fatal(err)
			}
			wantRole := string(role.Role)
			if wantRole == "" {
				wantRole = "none"
			}
			for _, a := range actions {
				c, err := e.Available(u, &tk, a)
				if err != nil {
					t.Fatal(err)
				}
				qs = append(qs, query{OPAInput{User: u, Action: a, Ticket: TicketInput(tk)}, c.Available, wantRole})
			}
		}
	}
	inputs := make([]OPAInput, len(qs))
	for i, q := range qs {
		inputs[i] = q.OPAInput
	}
	var got [][2]any
	opaEval(t, bin, m, map[string]any{"checks": inputs},
		`[[a, r] | some c in input.checks; a := data.deskctl.allow with input as c; r := data.deskctl.role with input as c]`, &got)
	if len(got) != len(qs) {
		t.Fatalf("OPA answered %d of %d checks", len(got), len(qs))
	}
	yes, bad := 0, 0
	for i, q := range qs {
		if got[i][0] != q.want || got[i][1] != q.wantRole {
			if bad++; bad <= 10 {
				t.Errorf("%s %s #%d (%s, %q): OPA says %v as %v, engine %v as %s", q.User, q.Action, q.Ticket.Number,
					q.Ticket.State, q.Ticket.Resource, got[i][0], got[i][1], q.want, q.wantRole)
			}
		}
		if q.want {
			yes++
		}
	}
	if yes == 0 || yes == len(qs) {
		t.Errorf("%d of %d checks available; the sample does not exercise both answers", yes, len(qs))
	}

	// Rights held and the grants they come through.
	sample := append([]string{AdminLogin, disabled}, logins[:30]...)
	type why struct {
		Held []string            `json:"held"`
		Via  map[string][]string `json:"via"`
	}
	var whys []why
	opaEval(t, bin, m, map[string]any{"users": sample},
		`[{"held": h, "via": v} | some u in input.users; h := data.deskctl.held with input as {"user": u}; v := data.deskctl.grants_via with input as {"user": u}]`, &whys)
	for i, u := range sample {
		x, err := e.Explain(u, access.ExplainOptions{All: true})
		if err != nil {
			t.Fatal(err)
		}
		wantVia := map[string][]string{}
		for _, r := range x.Rights {
			for _, p := range r.Paths {
				wantVia[r.Right] = append(wantVia[r.Right], grantText(p))
			}
		}
		var wantHeld []string
		for r, v := range wantVia {
			wantHeld = append(wantHeld, r)
			sort.Strings(v)
			wantVia[r] = slices.Compact(v)
		}
		sort.Strings(wantHeld)
		gotHeld := slices.Sorted(slices.Values(whys[i].Held))
		if !slices.Equal(gotHeld, wantHeld) {
			t.Errorf("%s: OPA holds %v, engine %v", u, gotHeld, wantHeld)
		}
		for r, v := range whys[i].Via {
			sort.Strings(v)
			if !slices.Equal(v, wantVia[r]) {
				t.Errorf("%s %s: OPA via %v, engine %v", u, r, v, wantVia[r])
			}
		}
	}
}

// grantText names a path's granted subject as the Rego model does.
func grantText(p access.Path) string {
	switch p.Grant.Kind {
	case helpdesk.KindUser:
		return "direct"
	case helpdesk.KindResource:
		return fmt.Sprintf("resource:%s (%s)", p.Grant.Name, p.Access)
	}
	return p.Grant.String()
}

// TestSuiteAgreesWithOPA runs the generated benchmark suite, which holds the
// engine's answers, through `opa test` over the Rego model: every assertion
// passes, and an assertion turned round fails in OPA too.
func TestSuiteAgreesWithOPA(t *testing.T) {
	bin := requireOPA(t)
	m := Model(small())
	dir := t.TempDir()
	if err := WriteOPA(dir, m); err != nil {
		t.Fatal(err)
	}
	_, as, err := Suite(3, m, 300)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, a := range as {
		switch {
		case a.Right == "":
			kinds["role "+a.Role]++
		case a.Want:
			kinds["can"]++
		default:
			kinds["cannot"]++
		}
	}
	if kinds["can"] == 0 || kinds["cannot"] == 0 || len(kinds) < 5 {
		t.Fatalf("the suite does not exercise both answers and several roles: %v", kinds)
	}
	opaTest := func(as []Assertion) (string, error) {
		tests := filepath.Join(dir, "deskctl_test.rego")
		if err := os.WriteFile(tests, SuiteRego(as), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "test", filepath.Join(dir, "deskctl.rego"), filepath.Join(dir, "data.json"), tests).CombinedOutput()
		return string(out), err
	}
	if out, err := opaTest(as); err != nil || !strings.Contains(out, "PASS: 300/300") {
		t.Fatalf("opa test: %v\n%s", err, tail(out, 2000))
	}
	for _, i := range []int{0, 1, 2} {
		as[i].Want = !as[i].Want
		if as[i].Right == "" {
			as[i].Role = "nobody"
		}
	}
	if out, err := opaTest(as); err == nil || !strings.Contains(out, "FAIL: 3/300") {
		t.Fatalf("opa test with three assertions turned round: %v\n%s", err, tail(out, 2000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
