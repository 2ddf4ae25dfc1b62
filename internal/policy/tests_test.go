package policy

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// testPolicy is the directory the runner's tests ask about; the comments
// give line numbers for the coverage expectations.
var testPolicy = lines(
	"users:", // 1
	"  - {login: alice, name: Alice, email: alice@example.com, rights: [admin]}",
	"  - {login: bob, name: Bob, email: bob@example.com}",
	"  - {login: carol, name: Carol, email: carol@example.com}",
	"  - {login: dave, name: Dave, email: dave@example.com}", // 5
	"  - {login: erin, name: Erin, email: erin@example.com}",
	"  - {login: frank, name: Frank, email: frank@example.com}",
	"  - {login: grace, name: Grace, email: grace@example.com}",
	"  - {login: hank, name: Hank, email: hank@example.com, active: false, rights: [close]}",
	"groups:", // 10
	"  - {name: everyone, rights: [comment, reopen, withdraw]}",
	"  - {name: tier1, members: [bob, carol, group:tier2], rights: [reply, close]}",
	"  - {name: tier2, members: [dave], rights: [assign]}",
	"  - {name: dispatch, members: [erin], rights: [dispatcher, authorize]}",
	"  - {name: auditors, members: [grace], rights: [read-all-tickets]}", // 15
	"resources:",
	"  - name: network",
	"    members: [{user: bob, access: write}, {user: dave, access: write}, {user: frank, access: read}]",
	"    rights: [link]",
	"  - {name: network-wifi, parent: network}", // 20
)

var passingTests = lines(
	"fixtures:", // 1
	"  wifi: {state: new, resource: network-wifi, requester: carol}",
	"  request: {requester: carol}",
	"  closed: {state: closed, resource: network}",
	"tests:", // 5
	"  - name: tier1 closes wifi tickets",
	"    can: {user: bob, right: close, ticket: wifi}",
	"  - cannot: {user: carol, right: close, ticket: wifi}",
	"  - can: {user: alice, right: admin}",
	"  - cannot: {user: hank, right: close}", // 10
	"  - role: {user: frank, ticket: wifi, is: resource-member, read-only: true}",
	"  - role: {user: grace, ticket: wifi, is: resource-member}",
	"  - role: {user: erin, ticket: request, is: dispatcher}",
	"  - role: {user: carol, ticket: wifi, is: end-user}",
	"  - who-can: {right: admin, users: [alice]}", // 15
	"  - who-can: {right: close, ticket: wifi, users: [dave, bob]}",
	"  - can: {user: erin, right: authorize, ticket: request}",
	"  - cannot: {user: bob, right: close, ticket: closed}",
	"  - can: {user: dave, right: close, ticket: {state: in-progress, resource: network}}",
)

var failingTests = lines(
	"tests:", // 1
	"  - can: {user: carol, right: close, ticket: {resource: network}}",
	"  - cannot: {user: dave, right: close}",
	"  - role: {user: frank, ticket: {resource: network}, is: resource-member, read-only: false}",
	"  - who-can: {right: close, ticket: {resource: network}, users: [bob, carol]}", // 5
	"  - can: {user: bob, right: admin}",
	"  - role: {user: alice, ticket: {resource: network}, is: none}",
	"  - who-can: {right: dispatcher, users: []}",
	"  - cannot: {user: bob, right: close, ticket: wifi}",
	"fixtures:", // 10
	"  wifi: {resource: network-wifi, requester: carol}",
)

func loadTestPolicy(t testing.TB) *Policy {
	t.Helper()
	p, fs := Parse("policy.yaml", []byte(testPolicy))
	if fs = append(fs, Validate(p)...); len(fs) != 0 {
		t.Fatalf("test policy has findings: %q", strs(fs))
	}
	return p
}

// suite parses docs as tests files named tests.yaml, tests2.yaml, … and
// merges them as LoadTests does.
func suite(t testing.TB, docs ...string) (*Suite, []Finding) {
	t.Helper()
	s := &Suite{}
	var all []Finding
	for i, doc := range docs {
		name := "tests.yaml"
		if i > 0 {
			name = fmt.Sprintf("tests%d.yaml", i+1)
		}
		q, fs := ParseTests(name, []byte(doc))
		s.Files = append(s.Files, q.Files...)
		s.Fixtures = append(s.Fixtures, q.Fixtures...)
		s.Tests = append(s.Tests, q.Tests...)
		all = append(all, fs...)
	}
	s.number()
	return s, all
}

func TestParseTestsFindings(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"empty file", "", nil},
		{"syntax error", lines("tests:", "  - name: bob: closes"),
			[]string{"tests.yaml:2: mapping values are not allowed in this context"}},
		{"top level is a list", "- can: {user: bob, right: close}\n",
			[]string{"tests.yaml:1:1: a tests document is a mapping with the keys version, fixtures, tests; found a list"}},
		{"unknown top-level key", lines("test:", "  - can: {user: bob, right: close}", "x-anchors: {a: 1}"),
			[]string{"tests.yaml:1:1: unknown key 'test' in the tests file (did you mean 'tests'?)"}},
		{"sections of the wrong type", lines("fixtures: [a]", "tests: {can: x}"),
			[]string{
				`tests.yaml:1:11: fixtures must be a mapping of names to tickets ("wifi-ticket: {state: new, resource: network}"), not a list`,
				`tests.yaml:2:8: tests must be a list of entries ("- can: {user: bob, right: close}"), not a mapping`,
			}},
		{"a test that is not a mapping", lines("tests:", "  - can bob close"),
			[]string{"tests.yaml:2:5: each test is a mapping with one of the keys can, cannot, role, who-can, needs-approval; found a string"}},
		{"unknown keys in a test and in its assertion", lines(
			"tests:",
			"  - nmae: bob closes",
			"    can: {user: bob, rigth: close}"),
			[]string{
				"tests.yaml:2:5: unknown key 'nmae' in test (did you mean 'name'?)",
				"tests.yaml:3:5: can needs right: NAME",
				"tests.yaml:3:22: unknown key 'rigth' in can (did you mean 'right'?)",
			}},
		{"a key of another assertion", lines("tests:", "  - who-can: {right: close, user: bob, users: [bob]}"),
			[]string{"tests.yaml:2:29: unknown key 'user' in who-can (did you mean 'users'?)"}},
		{"no assertion", lines("tests:", "  - name: nothing to check"),
			[]string{"tests.yaml:2:5: test has no assertion; add one of can, cannot, role, who-can, needs-approval"}},
		{"two assertions", lines(
			"tests:",
			"  - can: {user: bob, right: close}",
			"    cannot: {user: dave, right: close}"),
			[]string{"tests.yaml:3:5: a test makes one assertion, and this one already has can; split it into two tests"}},
		{"assertion body of the wrong type", lines("tests:", "  - can: bob"),
			[]string{"tests.yaml:2:10: can takes a mapping with the keys user, right, ticket; found a string"}},
		{"empty values", lines("tests:", "  - can: {user: ~, right: close}", "  - cannot: {}"),
			[]string{
				"tests.yaml:2:17: can needs user: LOGIN",
				"tests.yaml:3:5: cannot needs right: NAME",
				"tests.yaml:3:5: cannot needs user: LOGIN",
			}},
		{"role needs a ticket and a known role", lines(
			"tests:",
			"  - role: {user: bob, is: member}",
			"  - role: {user: bob, ticket: {resource: network}}"),
			[]string{
				"tests.yaml:2:5: role needs ticket: a fixture name or {state: …, resource: …, requester: …}",
				"tests.yaml:2:27: unknown role 'member' (did you mean 'resource-member'?)",
				"tests.yaml:3:5: role needs is: end-user, resource-member, dispatcher or none",
			}},
		{"read-only must be a boolean", lines("tests:", "  - role: {user: bob, ticket: t, is: none, read-only: yes}"),
			[]string{"tests.yaml:2:55: read-only must be true or false, not 'yes'"}},
		{"who-can needs users", lines("tests:", "  - who-can: {right: admin}", "  - who-can: {right: admin, users: ~}"),
			[]string{"tests.yaml:2:5: who-can needs users: the exact list of logins expected ([] for nobody)"}},
		{"fixtures: states, resources and numbers", lines(
			"fixtures:",
			"  a: {state: nwe, resource: network}",
			"  b: {state: request, resource: network}",
			"  c: {state: waiting}",
			"  d: {number: 0, resource: network}",
			"  e: {resource: network, asignee: bob}",
			"  f: new",
			"tests:",
			"  - can: {user: bob, right: close, ticket: [a]}"),
			[]string{
				"tests.yaml:2:14: unknown ticket state 'nwe' (did you mean 'new'?)",
				"tests.yaml:3:33: a request has no resource yet; leave out resource, or give the state the ticket has once authorized (new, in-progress, waiting, closed)",
				"tests.yaml:4:14: a ticket in state waiting is authorized into a resource; add resource: NAME, or use state: request",
				"tests.yaml:5:15: number must be a ticket number above 0, not '0'",
				"tests.yaml:6:26: unknown key 'asignee' in ticket fixture; valid keys are number, state, resource, requester",
				"tests.yaml:7:6: a ticket fixture is a mapping with the keys number, state, resource, requester; found a string",
				"tests.yaml:9:44: ticket must be a fixture name or a mapping such as {state: new, resource: network}, not a list",
			}},
		{"inline fixtures are checked like named ones", lines("tests:", "  - can: {user: bob, right: close, ticket: {state: gone}}"),
			[]string{"tests.yaml:2:52: unknown ticket state 'gone'; use one of request, new, in-progress, waiting, closed"}},
		{"duplicate keys", lines("fixtures:", "  a: {resource: x}", "  a: {resource: y}", "tests:", "  - can: {user: bob, user: dave, right: close}"),
			[]string{
				"tests.yaml:3:3: key 'a' is repeated (first at tests.yaml:2:3)",
				"tests.yaml:5:22: key 'user' is repeated (first at tests.yaml:5:11)",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fs := ParseTests("tests.yaml", []byte(tt.doc))
			if got := strs(fs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("findings:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParseTestsModel(t *testing.T) {
	s, fs := suite(t, lines(
		"x-bob: &bob {user: bob}",
		"fixtures:",
		"  wifi: {state: waiting, resource: network-wifi, requester: carol, number: 7}",
		"  req: {requester: carol}",
		"tests:",
		"  - name: bob closes",
		"    can: {<<: *bob, right: close, ticket: wifi}",
		"  - role: {user: frank, ticket: {resource: network}, is: resource-member, read-only: false}",
		"  - who-can: {right: admin, users: [alice, bob]}"))
	if len(fs) != 0 {
		t.Fatalf("findings: %q", strs(fs))
	}
	wantFixtures := []Fixture{
		{Name: "wifi", Number: 7, State: helpdesk.StateWaiting, Resource: "network-wifi", Requester: "carol"},
		{Name: "req", Number: 1, State: helpdesk.StateRequest, Requester: "carol"},
	}
	if len(s.Fixtures) != len(wantFixtures) {
		t.Fatalf("fixtures = %+v", s.Fixtures)
	}
	for i, want := range wantFixtures {
		got := s.Fixtures[i]
		got.Origin = Origin{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("fixture %d = %+v, want %+v", i, got, want)
		}
	}
	if p := s.Fixtures[0].Pos; p != (Pos{"tests.yaml", 3, 3}) {
		t.Errorf("fixture position = %v", p)
	}
	if len(s.Tests) != 3 {
		t.Fatalf("tests = %+v", s.Tests)
	}
	can := s.Tests[0]
	if can.Name != "bob closes" || can.Assertion != AssertCan || can.User != "bob" || can.Right != "close" || can.Fixture != "wifi" {
		t.Errorf("can test = %+v", can)
	}
	if can.Pos != (Pos{"tests.yaml", 6, 5}) || can.At(keyRight) != (Pos{"tests.yaml", 7, 28}) {
		t.Errorf("can test positions: entry %v, right %v", can.Pos, can.At(keyRight))
	}
	role := s.Tests[1]
	if role.Role != access.RoleResourceMember || role.ReadOnly == nil || *role.ReadOnly || role.Inline == nil {
		t.Fatalf("role test = %+v", role)
	}
	if in := *role.Inline; in.State != helpdesk.StateNew || in.Resource != "network" || in.Number != 2 {
		t.Errorf("inline fixture = %+v", in)
	}
	if got := role.Title(); got != "role frank on {state: new, resource: network} is resource-member (not read-only)" {
		t.Errorf("generated name = %q", got)
	}
	who := s.Tests[2]
	if who.Assertion != AssertWhoCan || len(who.Users) != 2 || who.Users[1] != (Item{"bob", Pos{"tests.yaml", 9, 44}}) {
		t.Errorf("who-can test = %+v", who)
	}
}

func TestCheckTests(t *testing.T) {
	p := loadTestPolicy(t)
	s, fs := suite(t, lines(
		"fixtures:",
		"  wifi: {resource: network-wfi, requester: carl}",
		"tests:",
		"  - can: {user: bbo, right: clsoe}",
		"  - can: {user: bob, right: close, ticket: wify}",
		"  - cannot: {user: bob, right: admin, ticket: wifi}",
		"  - who-can: {right: custom, users: [alice, zed, alice]}",
		"  - role: {user: bob, ticket: {resource: printers}, is: none}"),
		lines(
			"fixtures:",
			"  wifi: {resource: network}",
			"tests:",
			"  - can: {user: bob, right: close}"))
	if len(fs) != 0 {
		t.Fatalf("parse findings: %q", strs(fs))
	}
	want := []string{
		"tests.yaml:2:20: unknown resource 'network-wfi' (did you mean 'network-wifi'?)",
		"tests.yaml:2:44: unknown requester 'carl' (did you mean 'carol'?)",
		"tests.yaml:4:17: unknown user 'bbo' (did you mean 'bob'?)",
		"tests.yaml:4:29: unknown right 'clsoe' (did you mean 'close'?)",
		"tests.yaml:5:44: unknown fixture 'wify' (did you mean 'wifi'?)",
		"tests.yaml:6:47: admin is a permission, not a ticket action; leave out ticket to test that it is held",
		"tests.yaml:7:22: unknown right 'custom'; it is neither built in nor defined under actions",
		"tests.yaml:7:45: unknown user 'zed'; the policy defines no such user",
		"tests.yaml:7:50: warning: alice is listed twice in users (first at tests.yaml:7:38)",
		"tests.yaml:8:42: unknown resource 'printers'; the policy defines no such resource",
		"tests2.yaml:2:3: fixture 'wifi' is defined twice (first at tests.yaml:2:3)",
	}
	if got := strs(s.Check(p)); !reflect.DeepEqual(got, want) {
		t.Errorf("findings:\n got %q\nwant %q", got, want)
	}

	// Custom actions are rights like built-in ones.
	p.Actions = append(p.Actions, Action{Name: "custom", Category: "supporter", FromStates: []Item{{Value: "new"}}})
	s, _ = suite(t, lines("tests:", "  - can: {user: bob, right: custom, ticket: {resource: network}}"))
	if fs := s.Check(p); len(fs) != 0 {
		t.Errorf("a custom action: %q", strs(fs))
	}
}

func TestRunPassingSuite(t *testing.T) {
	p := loadTestPolicy(t)
	s, fs := suite(t, passingTests)
	if fs = append(fs, s.Check(p)...); len(fs) != 0 {
		t.Fatalf("findings: %q", strs(fs))
	}
	r := s.Run(p)
	if r.Passed != 13 || r.Failed != 0 || len(r.Results) != 13 || r.Summary() != "13 passed, 0 failed" {
		t.Fatalf("report: %d passed, %d failed of %d", r.Passed, r.Failed, len(r.Results))
	}
	for _, res := range r.Results {
		if !res.Passed || len(res.Explanation) != 0 {
			t.Errorf("%s %q: passed %v, actual %q, explanation %q", res.Pos(), res.Name, res.Passed, res.Actual, res.Explanation)
		}
	}
	want := []struct {
		line             int
		name, actual     string
		assertion        Assertion
		hasCheck, isRole bool
	}{
		{6, "tier1 closes wifi tickets", "can", AssertCan, true, false},
		{8, "cannot carol close on wifi", "cannot (role)", AssertCannot, true, false},
		{9, "can alice admin", "can", AssertCan, true, false},
		{10, "cannot hank close", "cannot (user-disabled)", AssertCannot, true, false},
		{11, "role frank on wifi is resource-member (read-only)", "resource-member (read-only)", AssertRole, false, true},
		{12, "role grace on wifi is resource-member", "resource-member (read-only)", AssertRole, false, true},
		{13, "role erin on request is dispatcher", "dispatcher", AssertRole, false, true},
		{14, "role carol on wifi is end-user", "end-user", AssertRole, false, true},
		{15, "who-can admin is alice", "alice", AssertWhoCan, false, false},
		{16, "who-can close on wifi is bob, dave", "bob, dave", AssertWhoCan, false, false},
		{17, "can erin authorize on request", "can", AssertCan, true, false},
		{18, "cannot bob close on closed", "cannot (state)", AssertCannot, true, false},
		{19, "can dave close on {state: in-progress, resource: network}", "can", AssertCan, true, false},
	}
	for i, w := range want {
		res := r.Results[i]
		if res.File != "tests.yaml" || res.Line != w.line || res.Name != w.name || res.Actual != w.actual || res.Assertion != w.assertion ||
			(res.Check != nil) != w.hasCheck || (res.Role != nil) != w.isRole {
			t.Errorf("result %d = %s %q %s actual %q (check %v, role %v)", i, res.Pos(), res.Name, res.Assertion, res.Actual, res.Check != nil, res.Role != nil)
		}
	}
	if hs := r.Results[9].Holders; len(hs) != 2 || hs[1].Login != "dave" || hs[1].Paths[0].String() != "group:tier1 ← group:tier2 ← dave" {
		t.Errorf("who-can holders = %+v", hs)
	}
}

func TestRunFailures(t *testing.T) {
	p := loadTestPolicy(t)
	s, fs := suite(t, failingTests)
	if fs = append(fs, s.Check(p)...); len(fs) != 0 {
		t.Fatalf("findings: %q", strs(fs))
	}
	r := s.Run(p)
	want := []struct {
		passed      bool
		expected    string
		actual      string
		explanation []string
	}{
		{false, "can", "cannot (no-role)", []string{
			"ticket: #2 is {state: new, resource: network}",
			"why: carol has no role on #2: carol is not a member of network, does not hold read-all-tickets and is not the requester of #2",
			"via: group:tier1",
			"fix: add {user: carol, access: write} to the members of resource network",
		}},
		{false, "cannot", "can", []string{
			"why: dave holds close (via group:tier1 ← group:tier2 ← dave)",
			"via: group:tier1 ← group:tier2 ← dave",
			"fix: remove close from the rights of group:tier1",
		}},
		{false, "resource-member (not read-only)", "resource-member (read-only)", []string{
			"ticket: #3 is {state: new, resource: network}",
			"why: Resource Member: member of network (read); read-only: read access and no edit-all-tickets",
		}},
		{false, "bob, carol", "bob, dave", []string{
			"ticket: #4 is {state: new, resource: network}",
			"unexpected: dave as Resource Member via group:tier1 ← group:tier2 ← dave",
			"missing: carol — carol has no role on #4: carol is not a member of network, does not hold read-all-tickets and is not the requester of #4; fix: add {user: carol, access: write} to the members of resource network",
		}},
		{false, "can", "cannot (not-granted)", []string{
			"why: bob does not hold admin",
			"fix: add admin to the rights of group:tier1",
		}},
		{true, "none", "none", nil},
		{false, "nobody", "erin", []string{"unexpected: erin via group:dispatch"}},
		{false, "cannot", "can", []string{
			"ticket: #1 is wifi {state: new, resource: network-wifi, requester: carol}",
			"why: bob may close #1 as Resource Member (via group:tier1)",
			"via: group:tier1",
			"fix: remove close from the rights of group:tier1",
		}},
	}
	if len(r.Results) != len(want) || r.Passed != 1 || r.Failed != 7 || r.Summary() != "1 passed, 7 failed" {
		t.Fatalf("report: %d passed, %d failed of %d", r.Passed, r.Failed, len(r.Results))
	}
	for i, w := range want {
		res := r.Results[i]
		if res.Passed != w.passed || res.Expected != w.expected || res.Actual != w.actual || !slices.Equal(res.Explanation, w.explanation) {
			t.Errorf("%s %q:\n got %v %q → %q %q\nwant %v %q → %q %q", res.Pos(), res.Name,
				res.Passed, res.Expected, res.Actual, res.Explanation, w.passed, w.expected, w.actual, w.explanation)
		}
	}
}

// A test the engine cannot answer (Check was skipped) fails with the error
// instead of stopping the run.
func TestRunReportsEngineErrors(t *testing.T) {
	p := loadTestPolicy(t)
	s, _ := suite(t, lines("tests:", "  - can: {user: nobody, right: close}", "  - can: {user: bob, right: close, ticket: missing}", "  - can: {user: bob, right: close}"))
	r := s.Run(p)
	if r.Passed != 1 || r.Failed != 2 {
		t.Fatalf("report: %+v", r)
	}
	if got := r.Results[0].Actual; !strings.HasPrefix(got, "error: no such user 'nobody'") {
		t.Errorf("unknown user: %q", got)
	}
	if got := r.Results[1].Actual; got != "error: unknown fixture missing" {
		t.Errorf("unknown fixture: %q", got)
	}
}

func TestPolicyFix(t *testing.T) {
	for in, want := range map[string]string{
		"deskctl access grant close --to group:tier1":              "add close to the rights of group:tier1",
		"deskctl access grant edit-all-tickets --to user:bob":      "add edit-all-tickets to the rights of user:bob",
		"deskctl resource add-member network carol":                "add {user: carol, access: write} to the members of resource network",
		"deskctl resource add-member network frank --access write": "make frank a member of resource network with access: write",
		"deskctl user enable hank":                                 "set active: true for user hank",
		"deskctl ticket do 4 reopen, then close":                   "deskctl ticket do 4 reopen, then close",
		"":                                                         "",
	} {
		if got := policyFix(in); got != want {
			t.Errorf("policyFix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCoverage(t *testing.T) {
	p := loadTestPolicy(t)
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"passing suite", passingTests, []string{
			"policy.yaml:9:80: user:hank close", // disabled users exercise nothing
			"policy.yaml:11:31: group:everyone comment",
			"policy.yaml:11:40: group:everyone reopen",
			"policy.yaml:11:48: group:everyone withdraw",
			"policy.yaml:12:64: group:tier1 reply",
			"policy.yaml:13:45: group:tier2 assign",
			"policy.yaml:19:14: resource:network link",
		}},
		{"failing tests count too", failingTests, []string{
			"policy.yaml:2:68: user:alice admin",
			"policy.yaml:9:80: user:hank close",
			"policy.yaml:11:31: group:everyone comment",
			"policy.yaml:11:40: group:everyone reopen",
			"policy.yaml:11:48: group:everyone withdraw",
			"policy.yaml:12:64: group:tier1 reply",
			"policy.yaml:13:45: group:tier2 assign",
			"policy.yaml:14:60: group:dispatch authorize",
			"policy.yaml:15:49: group:auditors read-all-tickets",
			"policy.yaml:19:14: resource:network link",
		}},
		// A passing cannot rests on no grant; a failing one on the grants it found.
		{"cannot", lines("tests:",
			"  - cannot: {user: bob, right: assign}",
			"  - cannot: {user: dave, right: assign}",
			"  - cannot: {user: frank, right: link, ticket: {resource: network}}"), []string{
			"policy.yaml:2:68: user:alice admin",
			"policy.yaml:9:80: user:hank close",
			"policy.yaml:11:31: group:everyone comment",
			"policy.yaml:11:40: group:everyone reopen",
			"policy.yaml:11:48: group:everyone withdraw",
			"policy.yaml:12:64: group:tier1 reply",
			"policy.yaml:12:71: group:tier1 close",
			"policy.yaml:14:48: group:dispatch dispatcher",
			"policy.yaml:14:60: group:dispatch authorize",
			"policy.yaml:15:49: group:auditors read-all-tickets",
			"policy.yaml:19:14: resource:network link",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := suite(t, tt.doc)
			var got []string
			for _, u := range Coverage(p, s.Run(p)) {
				got = append(got, u.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("uncovered:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// The JUnit report is read back with encoding/xml, as a CI system would.
func TestWriteJUnit(t *testing.T) {
	p := loadTestPolicy(t)
	s, _ := suite(t, passingTests, failingTests)
	r := s.Run(p)
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration: %.60q", buf.String())
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Time     string   `xml:"time,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Time     string `xml:"time,attr"`
			Cases    []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Line      int    `xml:"line,attr"`
				Time      string `xml:"time,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
					Body    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not valid XML: %v\n%s", err, buf.String())
	}
	if doc.Tests != 21 || doc.Failures != 7 || len(doc.Suites) != 2 {
		t.Fatalf("testsuites: tests %d, failures %d, %d suites", doc.Tests, doc.Failures, len(doc.Suites))
	}
	if _, err := strconv.ParseFloat(doc.Time, 64); err != nil {
		t.Errorf("time %q: %v", doc.Time, err)
	}
	pass, fail := doc.Suites[0], doc.Suites[1]
	if pass.Name != "tests.yaml" || pass.Tests != 13 || pass.Failures != 0 || len(pass.Cases) != 13 ||
		fail.Name != "tests2.yaml" || fail.Tests != 8 || fail.Failures != 7 || len(fail.Cases) != 8 {
		t.Fatalf("suites: %s %d/%d, %s %d/%d", pass.Name, pass.Tests, pass.Failures, fail.Name, fail.Tests, fail.Failures)
	}
	first := pass.Cases[0]
	if first.Name != "tier1 closes wifi tickets" || first.Classname != "tests.yaml" || first.Line != 6 || first.Failure != nil {
		t.Errorf("first case = %+v", first)
	}
	if _, err := strconv.ParseFloat(first.Time, 64); err != nil {
		t.Errorf("case time %q: %v", first.Time, err)
	}
	c := fail.Cases[1]
	if c.Name != "cannot dave close" || c.Line != 3 || c.Failure == nil {
		t.Fatalf("failed case = %+v", c)
	}
	if c.Failure.Message != "expected cannot, got can" || c.Failure.Type != "cannot" {
		t.Errorf("failure attributes = %+v", c.Failure)
	}
	wantBody := "tests2.yaml:3\nexpected: cannot\nactual: can\nwhy: dave holds close (via group:tier1 ← group:tier2 ← dave)\n" +
		"via: group:tier1 ← group:tier2 ← dave\nfix: remove close from the rights of group:tier1"
	if c.Failure.Body != wantBody {
		t.Errorf("failure body:\n got %q\nwant %q", c.Failure.Body, wantBody)
	}
	if fail.Cases[5].Failure != nil {
		t.Errorf("a passing test has a failure: %+v", fail.Cases[5])
	}
}

func TestLoadTests(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.yaml", lines("fixtures:", "  wifi: {resource: network-wifi}", "tests:", "  - can: {user: bob, right: close, ticket: wifi}"))
	sub := filepath.Join(dir, "more")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, sub, "b.yml", lines("tests:", "  - cannot: {user: carol, right: close, ticket: wifi}"))
	writeFile(t, sub, "c.json", `{"tests": [{"who-can": {"right": "admin", "users": ["alice"]}}]}`)
	writeFile(t, sub, "notes.txt", "not a tests file")
	s, fs, err := LoadTests(0, a, sub)
	if err != nil || len(fs) != 0 {
		t.Fatalf("LoadTests: %v, %q", err, strs(fs))
	}
	wantFiles := []string{a, filepath.Join(sub, "b.yml"), filepath.Join(sub, "c.json")}
	if !reflect.DeepEqual(s.Files, wantFiles) || len(s.Tests) != 3 {
		t.Fatalf("files %q, %d tests", s.Files, len(s.Tests))
	}
	// A fixture of one file serves the tests of another.
	p := loadTestPolicy(t)
	if fs := s.Check(p); len(fs) != 0 {
		t.Fatalf("check: %q", strs(fs))
	}
	if r := s.Run(p); r.Failed != 0 || r.Results[1].File != wantFiles[1] || r.Results[2].Line != 1 {
		t.Errorf("run: %+v", r)
	}

	empty := writeFile(t, dir, "empty.yaml", "fixtures: {}\n")
	if _, fs, err := LoadTests(0, empty); err != nil || !reflect.DeepEqual(strs(fs), []string{empty + ": no tests found; list them under tests:"}) {
		t.Errorf("empty suite: %v, %q", err, strs(fs))
	}
	for name, args := range map[string][]string{
		"no file":       nil,
		"missing file":  {filepath.Join(dir, "nope.yaml")},
		"empty dir":     {t.TempDir()},
		"read a dir ok": nil,
	} {
		if name == "read a dir ok" {
			continue
		}
		if _, _, err := LoadTests(0, args...); errs.KindOf(err) != errs.Usage {
			t.Errorf("%s: error %v, want a usage error", name, err)
		}
	}
}

// Tests files in docs/policy.md (```yml blocks with a tests key; ```yaml
// blocks are policies, see TestDocsExampleIsValid) must be valid against
// the complete example policy and pass.
func TestDocsTestsExamples(t *testing.T) {
	_, complete := docExamples(t)
	p, fs := Parse("policy.yaml", []byte(complete[0]))
	if len(fs) != 0 {
		t.Fatalf("docs example: %q", strs(fs))
	}
	md, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, block := range regexp.MustCompile("(?s)\n```yml\n(.*?)```").FindAllStringSubmatch(string(md), -1) {
		if !regexp.MustCompile(`(?m)^tests:`).MatchString(block[1]) {
			continue
		}
		n++
		name := fmt.Sprintf("policy.md tests %d", n)
		s, fs := ParseTests(name, []byte(block[1]))
		s.number()
		if fs = append(fs, s.Check(p)...); len(fs) != 0 {
			t.Errorf("%s has findings: %q", name, strs(fs))
			continue
		}
		for _, r := range s.Run(p).Results {
			if !r.Passed {
				t.Errorf("%s: %s %q fails: expected %s, actual %s %q", name, r.Pos(), r.Name, r.Expected, r.Actual, r.Explanation)
			}
		}
	}
	if n == 0 {
		t.Fatal("docs/policy.md has no tests file example")
	}
}

func FuzzParseTests(f *testing.F) {
	for _, seed := range []string{passingTests, failingTests, "tests: [{can: {ticket: {state: x}}}]", "fixtures: {a: &a {resource: *a}}"} {
		f.Add([]byte(seed))
	}
	p, _ := Parse("policy.yaml", []byte(testPolicy))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, fs := ParseTests("fuzz.yaml", data)
		s.number()
		fs = append(fs, s.Check(p)...)
		if !HasErrors(fs) {
			s.Run(p)
		}
	})
}

// benchSuite builds the scale case of the policy issue: the access package's
// generated directory (10 000 users, 1 000 groups nested 8 deep, 200
// resources) as a Policy, and a tests file of 1 000 assertions whose
// expectations come from an engine over the same directory.
func benchSuite(b *testing.B) (*Policy, []byte) {
	b.Helper()
	m := access.GenerateMemory(1, 10000, 1000, 200)
	// The generator grants edit-all-tickets without read-all-tickets, which
	// a policy may not. Alone it has no effect, so revoking it changes no
	// answer and lets the policy validate.
	for _, h := range must(m.Holders(helpdesk.PermEditAllTickets)) {
		if !slices.Contains(must(m.Grants(h)), helpdesk.PermReadAllTickets) {
			m.Revoke(h, helpdesk.PermEditAllTickets)
		}
	}
	p := FromState(memoryState(b, m))
	if fs := Validate(p); HasErrors(fs) {
		b.Fatalf("generated policy: %q", strs(fs)[:min(5, len(fs))])
	}
	e := access.New(m)
	tickets := access.GenerateTickets(1, m, 50)
	users, _ := m.Users()
	rights, _ := m.Rights()
	rng := rand.New(rand.NewSource(1))

	var doc strings.Builder
	doc.WriteString("fixtures:\n")
	for _, tk := range tickets {
		fmt.Fprintf(&doc, "  t%d: {number: %d, state: %s, resource: %q, requester: %s}\n", tk.Number, tk.Number, tk.State, tk.Resource, tk.Requester)
	}
	doc.WriteString("tests:\n")
	for i := range 1000 {
		u := users[rng.Intn(len(users))]
		r := rights[rng.Intn(len(rights))]
		tk := tickets[rng.Intn(len(tickets))]
		withTicket := r.Kind == helpdesk.KindAction && rng.Intn(2) == 0
		switch k := i % 20; {
		case k < 13: // can or cannot
			var ticket *helpdesk.Ticket
			on := ""
			if withTicket {
				ticket, on = &tk, fmt.Sprintf(", ticket: t%d", tk.Number)
			}
			c, err := e.Can(u, r.Name, ticket)
			if err != nil {
				b.Fatal(err)
			}
			verb := "cannot"
			if c.Available {
				verb = "can"
			}
			fmt.Fprintf(&doc, "  - %s: {user: %s, right: %s%s}\n", verb, u, r.Name, on)
		case k < 19: // role
			info, err := e.Role(u, &tk)
			if err != nil {
				b.Fatal(err)
			}
			role := string(info.Role)
			if role == "" {
				role = "none"
			}
			fmt.Fprintf(&doc, "  - role: {user: %s, ticket: t%d, is: %s, read-only: %v}\n", u, tk.Number, role, info.ReadOnly)
		default: // who-can on a ticket: the set a review would pin down
			if r.Kind != helpdesk.KindAction {
				r = rights[0]
			}
			hs, err := e.WhoCan(r.Name, &tk)
			if err != nil {
				b.Fatal(err)
			}
			var ls []string
			for _, h := range hs {
				ls = append(ls, h.Login)
			}
			fmt.Fprintf(&doc, "  - who-can: {right: %s, ticket: t%d, users: [%s]}\n", r.Name, tk.Number, strings.Join(ls, ", "))
		}
	}
	return p, []byte(doc.String())
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// memoryState reads a whole Memory back as a State.
func memoryState(b testing.TB, m *access.Memory) State {
	s := State{Grants: map[helpdesk.Subject][]string{}}
	grants := func(subj helpdesk.Subject) {
		rs, err := m.Grants(subj)
		if err != nil {
			b.Fatal(err)
		}
		if len(rs) > 0 {
			s.Grants[subj] = rs
		}
	}
	logins, _ := m.Users()
	for _, l := range logins {
		u, _, _ := m.User(l)
		s.Users = append(s.Users, u)
		grants(helpdesk.UserSubject(l))
	}
	groups, _ := m.Groups()
	for _, n := range groups {
		g, _, _ := m.Group(n)
		s.Groups = append(s.Groups, g)
		grants(helpdesk.GroupSubject(n))
	}
	resources, _ := m.Resources()
	for _, n := range resources {
		r, _, _ := m.Resource(n)
		s.Resources = append(s.Resources, r)
		grants(helpdesk.ResourceSubject(n))
	}
	rights, _ := m.Rights()
	for _, r := range rights {
		if !r.Builtin {
			s.Actions = append(s.Actions, r)
		}
	}
	return s.Canonical()
}

// BenchmarkPolicyTest measures what `policy test` does after loading the
// policy: parse 1 000 assertions, check them against the policy and run
// them with one engine over the 10 000-user directory.
func BenchmarkPolicyTest(b *testing.B) {
	p, doc := benchSuite(b)
	for b.Loop() {
		s, fs := ParseTests("bench.yaml", doc)
		s.number()
		if fs = append(fs, s.Check(p)...); HasErrors(fs) {
			b.Fatalf("findings: %q", strs(fs)[:min(5, len(fs))])
		}
		if r := s.Run(p); r.Failed != 0 || r.Passed != 1000 {
			b.Fatalf("%s", r.Summary())
		}
	}
}

// A request withdrawn before anyone authorized it is closed and has no
// resource; a fixture can describe it.
func TestRunWithdrawnRequest(t *testing.T) {
	p := loadTestPolicy(t)
	s, fs := suite(t, lines(
		"fixtures:",
		"  withdrawn: {state: closed, requester: carol}",
		"tests:",
		"  - can: {user: carol, right: reopen, ticket: withdrawn}",
		"  - role: {user: carol, ticket: withdrawn, is: end-user}",
		"  - cannot: {user: bob, right: close, ticket: withdrawn}",
	))
	if fs = append(fs, s.Check(p)...); len(fs) != 0 {
		t.Fatalf("findings: %q", strs(fs))
	}
	if r := s.Run(p); r.Passed != 3 || r.Failed != 0 {
		for _, res := range r.Results {
			t.Logf("%s: passed %v, actual %q", res.Name, res.Passed, res.Actual)
		}
		t.Fatalf("report: %s", r.Summary())
	}
}
