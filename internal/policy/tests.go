package policy

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// This file is the `policy test` runner: a tests file names ticket fixtures
// and lists assertions (can, cannot, role, who-can, needs-approval) that are checked against
// a policy with the permission engine, offline. docs/policy.md, section
// "Test files", describes the format.

// Assertion is the kind of question a test asks.
type Assertion string

const (
	AssertCan    Assertion = "can"     // the user holds the right, or the action is available on the ticket
	AssertCannot Assertion = "cannot"  // the opposite of can
	AssertRole   Assertion = "role"    // the user's role on the ticket
	AssertWhoCan Assertion = "who-can" // the exact set of users for whom can holds
	// AssertNeedsApproval: the approval template that applies to the
	// ticket's resource asks from (when given), and a pending or rejected
	// approval holds the action before back.
	AssertNeedsApproval Assertion = "needs-approval"
)

// Assertions lists the assertion kinds in the order the docs present them.
var Assertions = []Assertion{AssertCan, AssertCannot, AssertRole, AssertWhoCan, AssertNeedsApproval}

// Codes of findings only tests files have.
const (
	CodeUnknownUser     Code = "unknown-user"     // a login the policy does not define
	CodeUnknownFixture  Code = "unknown-fixture"  // a ticket fixture that is not defined
	CodeUnknownResource Code = "unknown-resource" // a fixture's resource the policy does not define
	CodeAssertion       Code = "assertion"        // a test without exactly one assertion
	CodeNoTests         Code = "no-tests"         // the tests files hold no test at all
)

// Keys of tests files.
const (
	keyFixtures  = "fixtures"
	keyTests     = "tests"
	keyNumber    = "number"
	keyState     = "state"
	keyResource  = "resource"
	keyRequester = "requester"
	keyRight     = "right"
	keyTicket    = "ticket"
	keyIs        = "is"
	keyReadOnly  = "read-only"
	keyBefore    = "before"
	keyFrom      = "from"
)

func keys(names ...string) []field {
	out := make([]field, len(names))
	for i, n := range names {
		out[i] = field{key: n}
	}
	return out
}

var (
	testsTopFields = keys(keyVersion, keyFixtures, keyTests)
	fixtureFields  = keys(keyNumber, keyState, keyResource, keyRequester)
	testFields     = keys(keyName, string(AssertCan), string(AssertCannot), string(AssertRole), string(AssertWhoCan), string(AssertNeedsApproval))
	canFields      = keys(keyUser, keyRight, keyTicket)
	roleFields     = keys(keyUser, keyTicket, keyIs, keyReadOnly)
	whoCanFields   = keys(keyRight, keyTicket, keyUsers)
	needsFields    = keys(keyTicket, keyBefore, keyFrom)
)

// Fixture is a ticket that tests ask about: only what the permission engine
// looks at. Named fixtures are listed under `fixtures`; a test may also
// write one inline, in which case Name is empty.
type Fixture struct {
	Origin
	Name      string
	Number    int // the ticket number the engine's explanations show
	State     helpdesk.State
	Resource  string // "" for a request
	Requester string // "" for none
}

// Ticket returns the fixture as a ticket.
func (f Fixture) Ticket() helpdesk.Ticket {
	return helpdesk.Ticket{Number: f.Number, Subject: "fixture " + f.Name, State: f.State,
		Resource: f.Resource, Requester: f.Requester}
}

// describe writes the fixture's name, if any, and fields.
func (f Fixture) describe() string {
	inline := Fixture{State: f.State, Resource: f.Resource, Requester: f.Requester}.label()
	if f.Name == "" {
		return inline
	}
	return f.Name + " " + inline
}

// label names the fixture in a generated test name: its name, or its
// fields for an inline one.
func (f Fixture) label() string {
	if f.Name != "" {
		return f.Name
	}
	parts := []string{"state: " + string(f.State)}
	if f.Resource != "" {
		parts = append(parts, "resource: "+f.Resource)
	}
	if f.Requester != "" {
		parts = append(parts, "requester: "+f.Requester)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Test is one assertion with its position. Origin.Pos is the start of the
// test's entry; Origin.Fields holds the positions of its keys' values, those
// of the assertion's body included ("user", "right", "ticket", …).
type Test struct {
	Origin
	Name      string // as written; "" means Title generates one
	Assertion Assertion
	User      string // can, cannot, role
	Right     string // can, cannot, who-can
	Fixture   string // the named fixture the test asks about, or ""
	Inline    *Fixture
	Role      access.Role // role: the role expected
	ReadOnly  *bool       // role: whether the role is expected to be read-only; nil does not check
	Users     []Item      // who-can: the exact set of users expected
	Before    string      // needs-approval: the action held back
	From      string      // needs-approval: an approver the template must ask ("" checks none)
}

// HasTicket reports whether the test asks about a ticket.
func (t Test) HasTicket() bool { return t.Fixture != "" || t.Inline != nil }

func (t Test) ticketLabel(fixtures map[string]*Fixture) string {
	if t.Inline != nil {
		return t.Inline.label()
	}
	if f, ok := fixtures[t.Fixture]; ok {
		return f.label()
	}
	return t.Fixture
}

// Title is the test's name, or a description generated from the assertion,
// such as "can bob close on wifi-ticket".
func (t Test) Title() string {
	if t.Name != "" {
		return t.Name
	}
	return t.describe(nil)
}

func (t Test) describe(fixtures map[string]*Fixture) string {
	on := ""
	if t.HasTicket() {
		on = " on " + t.ticketLabel(fixtures)
	}
	switch t.Assertion {
	case AssertCan, AssertCannot:
		return fmt.Sprintf("%s %s %s%s", t.Assertion, t.User, t.Right, on)
	case AssertRole:
		return fmt.Sprintf("role %s%s is %s", t.User, on, t.expected())
	case AssertWhoCan:
		return fmt.Sprintf("who-can %s%s is %s", t.Right, on, t.expected())
	case AssertNeedsApproval:
		return fmt.Sprintf("needs-approval%s: %s", on, t.expected())
	}
	return "test"
}

// expected describes what the test expects.
func (t Test) expected() string {
	switch t.Assertion {
	case AssertRole:
		return roleText(t.Role, t.ReadOnly)
	case AssertWhoCan:
		var ls []string
		for _, u := range t.Users {
			ls = append(ls, u.Value)
		}
		slices.Sort(ls)
		return usersText(slices.Compact(ls))
	case AssertNeedsApproval:
		if t.From != "" {
			return "approval from " + t.From + " before " + t.Before
		}
		return "approval before " + t.Before
	}
	return string(t.Assertion)
}

func roleText(r access.Role, readOnly *bool) string {
	s := string(r)
	if r == access.RoleNone {
		s = "none"
	}
	if readOnly != nil {
		if *readOnly {
			s += " (read-only)"
		} else {
			s += " (not read-only)"
		}
	}
	return s
}

func usersText(ls []string) string {
	if len(ls) == 0 {
		return "nobody"
	}
	return strings.Join(ls, ", ")
}

// Suite is one or more tests files merged.
type Suite struct {
	Files    []string
	Fixtures []Fixture // named fixtures, in the order defined
	Tests    []Test
}

// LoadTests reads and merges tests files. A directory stands for the *.yaml,
// *.yml and *.json files directly inside it, in name order. The findings are
// those of ParseTests plus a suite without tests; Check adds those that need
// the policy. The error is for files that cannot be read at all, or that
// together hold more than maxBytes (DefaultMaxBytes when zero or less).
func LoadTests(maxBytes int64, paths ...string) (*Suite, []Finding, error) {
	if len(paths) == 0 {
		return nil, nil, errs.Usagef("no tests file given").WithHint("name one with --tests FILE")
	}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, nil, errs.Wrap(errs.Usage, err, "cannot read tests").WithHint("check the path")
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, nil, errs.Wrap(errs.Usage, err, "cannot read tests directory").WithHint("check the path and its permissions")
		}
		n := len(files)
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".yaml", ".yml", ".json":
				if !e.IsDir() {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
		}
		if len(files) == n {
			return nil, nil, errs.Usagef("no tests files in %s", p).WithHint("tests files end in .yaml, .yml or .json")
		}
	}
	s := &Suite{}
	var all []Finding
	b := newBudget("tests", maxBytes)
	for _, f := range files {
		data, err := b.readFile(f)
		if err != nil {
			return nil, nil, err
		}
		q, fs := ParseTests(f, data)
		s.Files = append(s.Files, q.Files...)
		s.Fixtures = append(s.Fixtures, q.Fixtures...)
		s.Tests = append(s.Tests, q.Tests...)
		all = append(all, fs...)
	}
	if len(s.Tests) == 0 && !HasErrors(all) {
		var fs findings
		fs.add(Pos{File: files[0]}, CodeNoTests, "no tests found; list them under tests:")
		all = append(all, fs...)
	}
	s.number()
	return s, sortFindings(all), nil
}

// number gives fixtures without a number one: named fixtures first, in
// order, then inline ones.
func (s *Suite) number() {
	next := 1
	taken := map[int]bool{}
	for _, f := range s.Fixtures {
		taken[f.Number] = true
	}
	for i := range s.Tests {
		if in := s.Tests[i].Inline; in != nil {
			taken[in.Number] = true
		}
	}
	assign := func(f *Fixture) {
		if f.Number > 0 {
			return
		}
		for taken[next] {
			next++
		}
		f.Number = next
		taken[next] = true
	}
	for i := range s.Fixtures {
		assign(&s.Fixtures[i])
	}
	for i := range s.Tests {
		if in := s.Tests[i].Inline; in != nil {
			assign(in)
		}
	}
}

// ParseTests reads one tests file, YAML or JSON, possibly several YAML
// documents. It reports syntax, unknown keys, values of the wrong type,
// unknown ticket states and roles, and tests without exactly one assertion.
// Like Parse, it never panics and returns what it could read.
func ParseTests(name string, data []byte) (*Suite, []Finding) {
	return parseTests(name, data, scanWhole)
}

func parseTests(name string, data []byte, mode scanMode) (*Suite, []Finding) {
	d := &testsDecoder{
		decoder: &decoder{file: name, budget: 2*len(data) + 10000, pol: &Policy{}},
		suite:   &Suite{Files: []string{name}},
	}
	d.documents(data, mode, d.document)
	return d.suite, sortFindings(d.fs)
}

type testsDecoder struct {
	*decoder
	suite *Suite
}

func (d *testsDecoder) document(doc *yaml.Node) {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return
	}
	root := d.resolve(doc.Content[0])
	if isNull(root) {
		return
	}
	if root.Kind != yaml.MappingNode {
		d.fs.add(d.pos(root), CodeType, "a tests document is a mapping with the keys %s; found %s",
			strings.Join(keysOf(testsTopFields), ", "), describe(root))
		return
	}
	for _, kv := range d.pairs(root) {
		switch kv.key.Value {
		case keyVersion:
			d.version(kv.val)
		case keyFixtures:
			d.fixtures(kv.val)
		case keyTests:
			d.tests(kv.val)
		default:
			if !strings.HasPrefix(kv.key.Value, extensionPrefix) {
				d.unknownKey(kv.key, "the tests file", testsTopFields)
			}
		}
	}
}

func (d *testsDecoder) fixtures(n *yaml.Node) {
	n = d.resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fs.add(d.pos(n), CodeType, "fixtures must be a mapping of names to tickets (\"wifi-ticket: {state: new, resource: network}\"), not %s", describe(n))
		return
	}
	for _, kv := range d.pairs(n) {
		if d.exhausted {
			return
		}
		f, ok := d.fixture(kv.val)
		if !ok {
			continue
		}
		f.Name = kv.key.Value
		f.Pos = d.pos(kv.key)
		d.suite.Fixtures = append(d.suite.Fixtures, f)
	}
}

// fixture reads a ticket mapping. A missing state means a request without a
// resource and a new ticket with one.
func (d *testsDecoder) fixture(n *yaml.Node) (Fixture, bool) {
	n = d.resolve(n)
	var f Fixture
	f.Pos = d.pos(n)
	if n.Kind != yaml.MappingNode {
		d.fs.add(d.pos(n), CodeType, "a ticket fixture is a mapping with the keys %s; found %s",
			strings.Join(keysOf(fixtureFields), ", "), describe(n))
		return f, false
	}
	state := ""
	for _, kv := range d.pairs(n) {
		switch k := kv.key.Value; k {
		case keyNumber:
			f.Number = d.number(&f.Origin, kv.val)
		case keyState:
			state = d.str(&f.Origin, k, kv.val)
		case keyResource:
			f.Resource = d.str(&f.Origin, k, kv.val)
		case keyRequester:
			f.Requester = d.str(&f.Origin, k, kv.val)
		default:
			d.unknownKey(kv.key, "ticket fixture", fixtureFields)
		}
	}
	switch {
	case state == "" && f.Resource == "":
		f.State = helpdesk.StateRequest
	case state == "":
		f.State = helpdesk.StateNew
	default:
		st, err := helpdesk.ParseState(state)
		if err != nil {
			var names []string
			for _, s := range helpdesk.States {
				names = append(names, string(s))
			}
			d.fs.add(f.At(keyState), CodeInvalidValue, "unknown ticket state '%s'%s", state,
				suggestOr(state, names, "use one of "+strings.Join(names, ", ")))
			return f, true
		}
		f.State = st
	}
	switch {
	case f.State == helpdesk.StateRequest && f.Resource != "":
		d.fs.add(f.At(keyResource), CodeInvalidValue,
			"a request has no resource yet; leave out resource, or give the state the ticket has once authorized (new, in-progress, waiting, closed)")
	case f.State != helpdesk.StateRequest && f.State != helpdesk.StateClosed && f.Resource == "" && !f.bad[keyResource]:
		// Only closed goes without: a request withdrawn before anyone
		// authorized it is closed and still has no resource.
		d.fs.add(f.At(keyState), CodeMissing,
			"a ticket in state %s is authorized into a resource; add resource: NAME, or use state: request", f.State)
	}
	return f, true
}

func (d *testsDecoder) number(o *Origin, n *yaml.Node) int {
	n = d.resolve(n)
	o.set(keyNumber, d.pos(n))
	if isNull(n) {
		return 0
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		if v, err := strconv.Atoi(n.Value); err == nil && v > 0 {
			return v
		}
	}
	o.markBad(keyNumber)
	d.fs.add(d.pos(n), CodeType, "number must be a ticket number above 0, not %s", shown(n))
	return 0
}

func (d *testsDecoder) tests(n *yaml.Node) {
	d.mappings(nil, "tests", n, `tests must be a list of entries ("- can: {user: bob, right: close}")`,
		"each test is a mapping with one of the keys "+joinAssertions(), func(item *yaml.Node) {
			if t, ok := d.test(item); ok {
				d.suite.Tests = append(d.suite.Tests, t)
			}
		})
}

func joinAssertions() string {
	var names []string
	for _, a := range Assertions {
		names = append(names, string(a))
	}
	return strings.Join(names, ", ")
}

func (d *testsDecoder) test(n *yaml.Node) (Test, bool) {
	var t Test
	t.Pos = d.pos(n)
	var body *yaml.Node
	for _, kv := range d.pairs(n) {
		switch k := kv.key.Value; k {
		case keyName:
			t.Name = d.str(&t.Origin, k, kv.val)
		case string(AssertCan), string(AssertCannot), string(AssertRole), string(AssertWhoCan), string(AssertNeedsApproval):
			if body != nil {
				d.fs.add(d.pos(kv.key), CodeAssertion, "a test makes one assertion, and this one already has %s; split it into two tests", t.Assertion)
				continue
			}
			t.Assertion, body = Assertion(k), kv.val
			t.set(k, d.pos(kv.key))
		default:
			d.unknownKey(kv.key, "test", testFields)
		}
	}
	if body == nil {
		d.fs.add(t.Pos, CodeAssertion, "test has no assertion; add one of %s", joinAssertions())
		return t, false
	}
	body = d.resolve(body)
	valid := canFields
	switch t.Assertion {
	case AssertRole:
		valid = roleFields
	case AssertWhoCan:
		valid = whoCanFields
	case AssertNeedsApproval:
		valid = needsFields
	}
	if body.Kind != yaml.MappingNode {
		d.fs.add(d.pos(body), CodeType, "%s takes a mapping with the keys %s; found %s",
			t.Assertion, strings.Join(keysOf(valid), ", "), describe(body))
		return t, false
	}
	role := ""
	for _, kv := range d.pairs(body) {
		k := kv.key.Value
		if !slices.ContainsFunc(valid, func(f field) bool { return f.key == k }) {
			d.unknownKey(kv.key, string(t.Assertion), valid)
			continue
		}
		switch k {
		case keyUser:
			t.User = d.str(&t.Origin, k, kv.val)
		case keyRight:
			t.Right = d.str(&t.Origin, k, kv.val)
		case keyTicket:
			d.ticket(&t, kv.val)
		case keyIs:
			role = d.str(&t.Origin, k, kv.val)
		case keyReadOnly:
			b := d.boolean(&t.Origin, k, kv.val, false)
			if !t.bad[k] && !isNull(d.resolve(kv.val)) {
				t.ReadOnly = &b
			}
		case keyUsers:
			t.Users = d.items(&t.Origin, k, kv.val)
		case keyBefore:
			t.Before = d.str(&t.Origin, k, kv.val)
		case keyFrom:
			t.From = d.str(&t.Origin, k, kv.val)
		}
	}
	// need reports a required value that is absent or empty: at the value
	// when the key is there, else at the assertion's key.
	need := func(ok bool, key, what string) {
		if ok || t.bad[key] {
			return
		}
		at, there := t.Field(key)
		if !there {
			at = t.At(string(t.Assertion))
		}
		d.fs.add(at, CodeMissing, "%s needs %s", t.Assertion, what)
	}
	switch t.Assertion {
	case AssertCan, AssertCannot:
		need(t.User != "", keyUser, "user: LOGIN")
		need(t.Right != "", keyRight, "right: NAME")
	case AssertRole:
		need(t.User != "", keyUser, "user: LOGIN")
		need(t.HasTicket(), keyTicket, "ticket: a fixture name or {state: …, resource: …, requester: …}")
		need(role != "", keyIs, "is: end-user, resource-member, dispatcher or none")
		if r, ok := parseRole(role); ok {
			t.Role = r
		} else if role != "" {
			d.fs.add(t.At(keyIs), CodeInvalidValue, "unknown role '%s'%s", role,
				suggestOr(role, roleNames, "use one of "+strings.Join(roleNames, ", ")))
		}
	case AssertWhoCan:
		need(t.Right != "", keyRight, "right: NAME")
		_, listed := t.Field(keyUsers)
		need(listed, keyUsers, "users: the exact list of logins expected ([] for nobody)")
	case AssertNeedsApproval:
		need(t.HasTicket(), keyTicket, "ticket: a fixture name or {state: …, resource: …}")
		need(t.Before != "", keyBefore, "before: the ticket action the approval holds back")
	}
	return t, true
}

var roleNames = []string{string(access.RoleEndUser), string(access.RoleResourceMember), string(access.RoleDispatcher), "none"}

func parseRole(s string) (access.Role, bool) {
	switch s {
	case "none":
		return access.RoleNone, true
	case string(access.RoleEndUser), string(access.RoleResourceMember), string(access.RoleDispatcher):
		return access.Role(s), true
	}
	return access.RoleNone, false
}

// ticket reads a test's ticket: a fixture name or an inline fixture.
func (d *testsDecoder) ticket(t *Test, n *yaml.Node) {
	n = d.resolve(n)
	t.set(keyTicket, d.pos(n))
	switch {
	case isNull(n):
	case n.Kind == yaml.MappingNode:
		if f, ok := d.fixture(n); ok {
			t.Inline = &f
		} else {
			t.markBad(keyTicket)
		}
	case n.Kind == yaml.ScalarNode:
		t.Fixture = n.Value
	default:
		t.markBad(keyTicket)
		d.fs.add(d.pos(n), CodeType, "ticket must be a fixture name or a mapping such as {state: new, resource: network}, not %s", describe(n))
	}
}

// Check reports what in the suite does not fit the policy: unknown users,
// rights, resources and fixtures, fixtures defined twice, and permissions
// tested on a ticket. Give it a policy Validate accepts.
func (s *Suite) Check(p *Policy) []Finding {
	var fs findings
	users := map[string]bool{}
	var logins []string
	for _, u := range p.Users {
		if !users[u.Login] {
			users[u.Login] = true
			logins = append(logins, u.Login)
		}
	}
	resources := map[string]bool{}
	var resNames []string
	for _, r := range p.Resources {
		if !resources[r.Name] {
			resources[r.Name] = true
			resNames = append(resNames, r.Name)
		}
	}
	rights := map[string]helpdesk.Right{}
	var rightNames []string
	for _, r := range helpdesk.Builtins() {
		rights[r.Name] = r
		rightNames = append(rightNames, r.Name)
	}
	for _, a := range p.Actions {
		if _, ok := rights[a.Name]; !ok {
			rights[a.Name] = a.Right()
			rightNames = append(rightNames, a.Name)
		}
	}
	groups := map[string]bool{helpdesk.Everyone: true}
	for _, g := range p.Groups {
		groups[g.Name] = true
	}
	slices.Sort(logins)
	slices.Sort(resNames)
	slices.Sort(rightNames)

	user := func(login string, at Pos, what string) {
		if login != "" && !users[login] {
			fs.add(at, CodeUnknownUser, "unknown %s '%s'%s", what, login,
				suggestOr(login, logins, "the policy defines no such user"))
		}
	}
	checkFixture := func(f *Fixture) {
		if f.Resource != "" && !resources[f.Resource] {
			fs.add(f.At(keyResource), CodeUnknownResource, "unknown resource '%s'%s", f.Resource,
				suggestOr(f.Resource, resNames, "the policy defines no such resource"))
		}
		user(f.Requester, f.At(keyRequester), "requester")
	}

	fixtures := map[string]*Fixture{}
	var fixtureNames []string
	for i := range s.Fixtures {
		f := &s.Fixtures[i]
		if first, dup := fixtures[f.Name]; dup {
			fs.add(f.Pos, CodeDuplicate, "fixture '%s' is defined twice (first at %s)", f.Name, first.Pos)
			continue
		}
		fixtures[f.Name] = f
		fixtureNames = append(fixtureNames, f.Name)
		checkFixture(f)
	}
	slices.Sort(fixtureNames)

	for i := range s.Tests {
		t := &s.Tests[i]
		user(t.User, t.At(keyUser), "user")
		if t.Inline != nil {
			checkFixture(t.Inline)
		} else if t.Fixture != "" {
			if _, ok := fixtures[t.Fixture]; !ok {
				fs.add(t.At(keyTicket), CodeUnknownFixture, "unknown fixture '%s'%s", t.Fixture,
					suggestOr(t.Fixture, fixtureNames, "define it under fixtures:, or write the ticket inline: {state: …, resource: …}"))
			}
		}
		if t.Right != "" {
			r, ok := rights[t.Right]
			switch {
			case !ok:
				fs.add(t.At(keyRight), CodeUnknownRight, "unknown right '%s'%s", t.Right,
					suggestOr(t.Right, rightNames, "it is neither built in nor defined under actions"))
			case r.Kind != helpdesk.KindAction && t.HasTicket():
				fs.add(t.At(keyTicket), CodeInvalidValue, "%s is a permission, not a ticket action; leave out ticket to test that it is held", t.Right)
			}
		}
		if t.Before != "" {
			switch r, ok := rights[t.Before]; {
			case !ok:
				fs.add(t.At(keyBefore), CodeUnknownRight, "unknown action '%s'%s", t.Before,
					suggestOr(t.Before, rightNames, "it is neither built in nor defined under actions"))
			case r.Kind != helpdesk.KindAction:
				fs.add(t.At(keyBefore), CodeInvalidValue, "%s is a permission, not a ticket action; approvals hold back ticket actions", t.Before)
			}
		}
		if kind, name, isGroup := strings.Cut(t.From, ":"); isGroup {
			if kind != string(helpdesk.KindGroup) || !groups[name] {
				fs.add(t.At(keyFrom), CodeUnknownMember, "unknown approver '%s'; approvers are logins and group:NAME of groups the policy defines", t.From)
			}
		} else {
			user(t.From, t.At(keyFrom), "approver")
		}
		seen := map[string]Pos{}
		for _, u := range t.Users {
			if first, dup := seen[u.Value]; dup {
				fs.warn(u.Pos, CodeRepeated, "%s is listed twice in users (first at %s)", u.Value, first)
				continue
			}
			seen[u.Value] = u.Pos
			user(u.Value, u.Pos, "user")
		}
	}
	return sortFindings(fs)
}

// Result is the outcome of one test.
type Result struct {
	Name      string    `json:"name"`
	Assertion Assertion `json:"assertion"`
	File      string    `json:"file"`
	Line      int       `json:"line"`
	Passed    bool      `json:"passed"`
	Expected  string    `json:"expected"`
	Actual    string    `json:"actual"`
	// Explanation is, for a failure, the engine's account of the actual
	// answer, one "label: text" line each: the reason (why), each path
	// through which the right is held (via), the change that would make
	// the test pass (fix); for who-can the unexpected and missing users.
	Explanation []string `json:"explanation"`
	// The engine's answer: Check for can and cannot, Role for role,
	// Holders (with paths) for who-can; the others are nil.
	Check   *access.Check    `json:"check"`
	Role    *access.RoleInfo `json:"role"`
	Holders []access.Holder  `json:"holders"`
	// Duration is how long the engine took; only the JUnit report shows it.
	Duration time.Duration `json:"-"`

	exercised []grant
}

// Pos returns the position of the test in its file.
func (r Result) Pos() Pos { return Pos{File: r.File, Line: r.Line} }

// Report is the outcome of a suite run.
type Report struct {
	Passed   int           `json:"passed"`
	Failed   int           `json:"failed"`
	Results  []Result      `json:"results"`
	Duration time.Duration `json:"-"`
}

// Summary is the closing line of a run: "12 passed, 1 failed".
func (r Report) Summary() string { return fmt.Sprintf("%d passed, %d failed", r.Passed, r.Failed) }

// grant is one right granted to one subject.
type grant struct {
	subject helpdesk.Subject
	right   string
}

// Run checks every test against p with one permission engine, so that what
// the engine reads and derives (group closures, resource members) is shared
// by the whole run. Give it a suite Check accepts; a question the engine
// cannot answer fails its test with the error.
func (s *Suite) Run(p *Policy) Report {
	start := time.Now()
	return s.run(start, ToMemory(p))
}

// RunOn is Run with p already loaded into m, as CheckForTests does.
func (s *Suite) RunOn(m *access.Memory) Report { return s.run(time.Now(), m) }

func (s *Suite) run(start time.Time, m *access.Memory) Report {
	e := access.New(m)
	fixtures := map[string]*Fixture{}
	for i := range s.Fixtures {
		if _, dup := fixtures[s.Fixtures[i].Name]; !dup {
			fixtures[s.Fixtures[i].Name] = &s.Fixtures[i]
		}
	}
	rep := Report{Results: make([]Result, 0, len(s.Tests))}
	for _, t := range s.Tests {
		began := time.Now()
		r := run(e, t, fixtures)
		r.Duration = time.Since(began)
		if r.Passed {
			rep.Passed++
		} else {
			rep.Failed++
		}
		rep.Results = append(rep.Results, r)
	}
	rep.Duration = time.Since(start)
	return rep
}

func run(e *access.Engine, t Test, fixtures map[string]*Fixture) Result {
	r := Result{Name: t.Name, Assertion: t.Assertion, File: t.Pos.File, Line: t.Pos.Line, Expected: t.expected(), Explanation: []string{}}
	if r.Name == "" {
		r.Name = t.describe(fixtures)
	}
	r.Name = printable(r.Name) // names are free text, shown in terminals and CI logs
	var ticket *helpdesk.Ticket
	if t.Inline != nil {
		tk := t.Inline.Ticket()
		ticket = &tk
	} else if t.Fixture != "" {
		f, ok := fixtures[t.Fixture]
		if !ok {
			r.Actual = "error: unknown fixture " + t.Fixture
			return r
		}
		tk := f.Ticket()
		ticket = &tk
	}
	var err error
	switch t.Assertion {
	case AssertCan, AssertCannot:
		err = runCan(e, t, ticket, &r)
	case AssertRole:
		if ticket == nil {
			err = fmt.Errorf("role needs a ticket")
			break
		}
		err = runRole(e, t, ticket, &r)
	case AssertWhoCan:
		err = runWhoCan(e, t, ticket, &r)
	case AssertNeedsApproval:
		if ticket == nil {
			err = fmt.Errorf("needs-approval needs a ticket")
			break
		}
		err = runNeedsApproval(e, t, ticket, &r)
	default:
		err = fmt.Errorf("unknown assertion %q", t.Assertion)
	}
	if err != nil {
		r.Passed, r.Actual, r.Explanation = false, "error: "+oneLine(err), []string{}
	}
	if !r.Passed && ticket != nil && err == nil {
		// The engine's sentences name the ticket by number.
		f := t.Inline
		if f == nil {
			f = fixtures[t.Fixture]
		}
		r.Explanation = append([]string{fmt.Sprintf("ticket: #%d is %s", ticket.Number, printable(f.describe()))}, r.Explanation...)
	}
	return r
}

func oneLine(err error) string {
	s := err.Error()
	if h := errs.HintOf(err); h != "" {
		s += " (" + h + ")"
	}
	return strings.ReplaceAll(s, "\n", " ")
}

func runCan(e *access.Engine, t Test, ticket *helpdesk.Ticket, r *Result) error {
	c, err := e.Can(t.User, t.Right, ticket)
	if err != nil {
		return err
	}
	r.Check = &c
	r.Actual = "can"
	if !c.Available {
		r.Actual = fmt.Sprintf("cannot (%s)", c.Condition)
	}
	r.Passed = c.Available == (t.Assertion == AssertCan)
	// A grant counts as exercised when the answer rests on it: always for
	// can, and for cannot when the test failed because of it.
	if t.Assertion == AssertCan || !r.Passed {
		r.exercised = grantsOf(t.Right, c.Paths)
	}
	if r.Passed {
		return nil
	}
	r.Explanation = append(r.Explanation, "why: "+c.Reason)
	for _, p := range c.Paths {
		r.Explanation = append(r.Explanation, "via: "+p.String())
	}
	if t.Assertion == AssertCan && c.Fix != "" {
		r.Explanation = append(r.Explanation, "fix: "+policyFix(c.Fix))
	}
	if t.Assertion == AssertCannot {
		if ss := access.Grants(c.Paths); len(ss) > 0 {
			r.Explanation = append(r.Explanation, "fix: remove "+t.Right+" from the rights of "+joinSubjects(ss))
		}
	}
	return nil
}

// runNeedsApproval checks what a technician's `approval request` without
// approvers would ask for the ticket, and whether a pending approval holds
// the action back, exactly as the engine decides both.
func runNeedsApproval(e *access.Engine, t Test, ticket *helpdesk.Ticket, r *Result) error {
	tpl, from := helpdesk.ApprovalTemplate{}, ""
	if ticket.Resource != "" {
		var err error
		if tpl, from, err = e.Template(ticket.Resource); err != nil {
			return err
		}
	}
	gated, _, err := e.Gated(ticket, t.Before)
	if err != nil {
		return err
	}
	asks := t.From == ""
	for _, sp := range tpl.Stages {
		asks = asks || slices.Contains(sp.Approvers, t.From)
	}
	switch {
	case from == "":
		r.Actual = "no approval template applies"
		r.Explanation = append(r.Explanation, fmt.Sprintf("why: neither resource %s nor an ancestor has an approval template", ticket.Resource),
			fmt.Sprintf("fix: add approval: {approvers: [...], gates: [%s]} to resource %s", t.Before, ticket.Resource))
	default:
		r.Actual = "approval from " + helpdesk.ApproverList(stagesOf(tpl)) + " (template of resource " + from + ")"
		if gated {
			r.Actual += " before " + t.Before
		} else {
			r.Actual += "; " + t.Before + " not held back"
		}
	}
	r.Passed = from != "" && gated && asks
	if r.Passed || from == "" {
		return nil
	}
	if !asks {
		r.Explanation = append(r.Explanation, fmt.Sprintf("why: the approval template of resource %s does not ask %s", from, t.From),
			fmt.Sprintf("fix: add %s to the approvers of the approval template of resource %s", t.From, from))
	}
	if !gated {
		if !e.ApprovalsEnabled() {
			r.Explanation = append(r.Explanation, "why: approvals are off ("+helpdesk.SettingApprovalsEnabled+" is not true), so nothing waits for them",
				"fix: set "+helpdesk.SettingApprovalsEnabled+": true under settings")
		} else {
			r.Explanation = append(r.Explanation,
				fmt.Sprintf("why: %s is neither among the gates of the approval template of resource %s nor in %s", t.Before, from, helpdesk.SettingGateActions),
				fmt.Sprintf("fix: add %s to the gates of the approval template of resource %s", t.Before, from))
		}
	}
	return nil
}

// stagesOf gives a template's stages the shape ApproverList reads.
func stagesOf(tpl helpdesk.ApprovalTemplate) []helpdesk.ApprovalStage {
	var out []helpdesk.ApprovalStage
	for _, sp := range tpl.Stages {
		var st helpdesk.ApprovalStage
		for _, a := range sp.Approvers {
			st.Approvers = append(st.Approvers, helpdesk.ApproverSlot{Approver: a})
		}
		out = append(out, st)
	}
	return out
}

func runRole(e *access.Engine, t Test, ticket *helpdesk.Ticket, r *Result) error {
	info, err := e.Role(t.User, ticket)
	if err != nil {
		return err
	}
	r.Role = &info
	// Read-only shows when it was asserted or is the case.
	var shown *bool
	if t.ReadOnly != nil || info.ReadOnly {
		shown = &info.ReadOnly
	}
	r.Actual = roleText(info.Role, shown)
	r.Passed = info.Role == t.Role && (t.ReadOnly == nil || *t.ReadOnly == info.ReadOnly)
	if info.Permission != "" {
		r.exercised = grantsOf(info.Permission, info.Paths)
	}
	if !r.Passed {
		r.Explanation = append(r.Explanation, "why: "+info.Reason)
		for _, p := range info.Paths {
			r.Explanation = append(r.Explanation, "via: "+p.String())
		}
	}
	return nil
}

func runWhoCan(e *access.Engine, t Test, ticket *helpdesk.Ticket, r *Result) error {
	hs, err := e.WhoCan(t.Right, ticket)
	if err != nil {
		return err
	}
	r.Holders = hs
	want := map[string]bool{}
	for _, u := range t.Users {
		want[u.Value] = true
	}
	got := map[string]bool{}
	var logins []string
	for _, h := range hs {
		got[h.Login] = true
		logins = append(logins, h.Login)
		r.exercised = append(r.exercised, grantsOf(t.Right, h.Paths)...)
	}
	r.Actual = usersText(logins)
	var unexpected []access.Holder
	for _, h := range hs {
		if !want[h.Login] {
			unexpected = append(unexpected, h)
		}
	}
	var missing []string
	for _, u := range t.Users {
		if !got[u.Value] && !slices.Contains(missing, u.Value) {
			missing = append(missing, u.Value)
		}
	}
	slices.Sort(missing)
	r.Passed = len(unexpected) == 0 && len(missing) == 0
	for _, h := range unexpected {
		line := "unexpected: " + h.Login
		if h.Role != "" {
			line += " as " + h.Role.Title()
		}
		r.Explanation = append(r.Explanation, line+" via "+pathList(h.Paths))
	}
	for _, login := range missing {
		c, err := e.Can(login, t.Right, ticket)
		if err != nil {
			return err
		}
		line := "missing: " + login + " — " + c.Reason
		if c.Fix != "" {
			line += "; fix: " + policyFix(c.Fix)
		}
		r.Explanation = append(r.Explanation, line)
	}
	return nil
}

func grantsOf(right string, ps []access.Path) []grant {
	var out []grant
	for _, s := range access.Grants(ps) {
		out = append(out, grant{s, right})
	}
	return out
}

func pathList(ps []access.Path) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

func joinSubjects(ss []helpdesk.Subject) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

// policyFix words the engine's fix, a deskctl command for a database, as
// the change to make in a policy file; fixes with no file counterpart (a
// ticket action) are returned as they are.
func policyFix(fix string) string {
	f := strings.Fields(fix)
	switch {
	case len(f) == 6 && f[0] == "deskctl" && f[1] == "access" && f[2] == "grant" && f[4] == "--to":
		return fmt.Sprintf("add %s to the rights of %s", f[3], f[5])
	case len(f) == 5 && f[0] == "deskctl" && f[1] == "resource" && f[2] == "add-member":
		return fmt.Sprintf("add {user: %s, access: write} to the members of resource %s", f[4], f[3])
	case len(f) == 7 && f[0] == "deskctl" && f[1] == "resource" && f[2] == "add-member" && f[5] == "--access":
		return fmt.Sprintf("make %s a member of resource %s with access: %s", f[4], f[3], f[6])
	case len(f) == 4 && f[0] == "deskctl" && f[1] == "user" && f[2] == "enable":
		return fmt.Sprintf("set active: true for user %s", f[3])
	}
	return fix
}

// UncoveredGrant is a grant written in the policy that no test exercised.
type UncoveredGrant struct {
	Subject string `json:"subject"` // user:bob, group:tier1, resource:network
	Right   string `json:"right"`
	Pos     Pos    `json:"pos"` // where the right is listed
}

// String writes the grant as "file:line:col: group:tier1 close".
func (u UncoveredGrant) String() string {
	s := u.Subject + " " + u.Right
	if p := u.Pos.String(); p != "" {
		return p + ": " + s
	}
	return s
}

// Coverage lists, in file order, the grants of p that no test in r
// exercised. A grant is exercised when it is one of the paths of a can,
// role or who-can answer (passing or failing), or of a cannot that failed
// because of it.
func Coverage(p *Policy, r Report) []UncoveredGrant {
	done := map[grant]bool{}
	for _, res := range r.Results {
		for _, g := range res.exercised {
			done[g] = true
		}
	}
	var out []UncoveredGrant
	seen := map[grant]bool{}
	add := func(s helpdesk.Subject, items []Item) {
		for _, it := range items {
			g := grant{s, it.Value}
			if seen[g] {
				continue
			}
			seen[g] = true
			if !done[g] {
				out = append(out, UncoveredGrant{Subject: s.String(), Right: it.Value, Pos: it.Pos})
			}
		}
	}
	defined := map[helpdesk.Subject]bool{}
	first := func(s helpdesk.Subject) bool {
		if defined[s] {
			return false
		}
		defined[s] = true
		return true
	}
	for _, u := range p.Users {
		if s := helpdesk.UserSubject(u.Login); first(s) {
			add(s, u.Rights)
		}
	}
	for _, g := range p.Groups {
		if s := helpdesk.GroupSubject(g.Name); first(s) {
			add(s, g.Rights)
		}
	}
	for _, res := range p.Resources {
		if s := helpdesk.ResourceSubject(res.Name); first(s) {
			add(s, res.Rights)
		}
	}
	slices.SortStableFunc(out, func(a, b UncoveredGrant) int {
		switch {
		case a.Pos.before(b.Pos):
			return -1
		case b.Pos.before(a.Pos):
			return 1
		}
		return 0
	})
	return out
}

// WriteJUnit writes r as a JUnit XML report, the format CI systems show
// test results from: one testsuite per tests file, one testcase per test,
// a failure element with the expected and actual answers and the engine's
// explanation for each failed test.
func WriteJUnit(w io.Writer, r Report) error {
	doc := junitSuites{Name: "deskctl policy test", Tests: len(r.Results), Failures: r.Failed, Time: seconds(r.Duration)}
	index := map[string]int{}
	for _, res := range r.Results {
		i, ok := index[res.File]
		if !ok {
			i = len(doc.Suites)
			index[res.File] = i
			doc.Suites = append(doc.Suites, junitSuite{Name: res.File})
		}
		s := &doc.Suites[i]
		c := junitCase{Name: res.Name, Classname: res.File, File: res.File, Line: res.Line, Time: seconds(res.Duration)}
		s.Tests++
		s.duration += res.Duration
		if !res.Passed {
			s.Failures++
			body := []string{res.Pos().String(), "expected: " + res.Expected, "actual: " + res.Actual}
			body = append(body, res.Explanation...)
			c.Failure = &junitFailure{Type: string(res.Assertion),
				Message: fmt.Sprintf("expected %s, got %s", res.Expected, res.Actual),
				Body:    strings.Join(body, "\n")}
		}
		s.Cases = append(s.Cases, c)
	}
	for i := range doc.Suites {
		doc.Suites[i].Time = seconds(doc.Suites[i].duration)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
	duration time.Duration
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}
