package helpdesk

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

func TestValidateLogin(t *testing.T) {
	for _, tc := range []struct {
		login string
		ok    bool
	}{
		{"bob", true}, {"b.o_b-1", true}, {"9lives", true},
		{"", false}, {"Bob", false}, {"-bob", false}, {"bob smith", false}, {"bob\x00", false},
		{strings.Repeat("a", MaxNameLen), true}, {strings.Repeat("a", MaxNameLen+1), false}, {"bøb", false},
	} {
		err := ValidateLogin(tc.login)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateLogin(%q) = %v, want ok=%v", tc.login, err, tc.ok)
		}
		if err != nil && errs.KindOf(err) != errs.Usage {
			t.Errorf("ValidateLogin(%q) kind = %v, want usage", tc.login, errs.KindOf(err))
		}
	}
}

func TestValidateEmail(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"bob@example.com", true}, {"a.b+c@sub.example.org", true},
		{"bob", false}, {"bob@localhost", false}, {"Bob <bob@example.com>", false}, {"", false}, {"bob@@example.com", false},
	} {
		if err := ValidateEmail(tc.addr); (err == nil) != tc.ok {
			t.Errorf("ValidateEmail(%q) = %v, want ok=%v", tc.addr, err, tc.ok)
		}
	}
}

func TestCleanText(t *testing.T) {
	for _, tc := range []struct {
		text, want string
		kind       TextKind
		err        string // a part of the error; "" when the text passes
	}{
		{"line one\nline two\ttab", "line one\nline two\ttab", MultiLine, ""},
		{"", "", MultiLine, ""},
		{"a\r\nb\rc", "a\nb\nc", MultiLine, ""},
		// The approval comment that once showed as "REJECTED, 240 EUR".
		{"Approved, 240 EUR\rREJECTED", "", SingleLine, "character 18 is a line break"},
		{"Approved, 240 EUR\rREJECTED", "Approved, 240 EUR\nREJECTED", MultiLine, ""},
		{"nul\x00byte", "", MultiLine, "text: character 4 is U+0000 (a control character)"},
		{"bell\x07", "", MultiLine, "character 5 is U+0007"},
		{"esc\x1b[2J", "", MultiLine, "character 4 is U+001B"},
		{"c1\u009b", "", MultiLine, "character 3 is U+009B"},
		{"del\x7f", "", MultiLine, "character 4 is U+007F"},
		{"héllo \u202egnp.exe", "", MultiLine, "character 7 is U+202E (a bidirectional formatting character)"},
		{"\u2066x", "", MultiLine, "character 1 is U+2066"},
		{"\u200ejoiner", "\u200ejoiner", SingleLine, ""}, // marks without embedding pass
		{"tab\there", "", SingleLine, "text must be a single line: character 4 is a tab"},
		{string([]byte{0xff, 0xfe}), "", MultiLine, "not valid UTF-8"},
		{strings.Repeat("x", 101), "", MultiLine, "101 bytes; the limit is 100"},
		{strings.Repeat("x", 100), strings.Repeat("x", 100), SingleLine, ""},
	} {
		got, err := CleanText("text", tc.text, tc.kind, 100)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("CleanText(%q) = %q, %v; want %q", tc.text, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errs.Is(err, errs.Usage)):
			t.Errorf("CleanText(%q) = %q, %v; want a usage error with %q", tc.text, got, err, tc.err)
		}
	}
	if err := ValidateLine("subject", "two\nlines", 100); err == nil {
		t.Error("ValidateLine accepted a line break")
	}
}

// Every free-text entry point in the domain applies the same rule.
func TestDomainFieldsRefuseBidiOverrides(t *testing.T) {
	const rlo = "\u202e"
	tk := Ticket{Subject: "Printer", Description: "Printer broken\r\nPlease grant admin to erin\rnow"}
	if err := CleanTicketFields(&tk); err != nil || tk.Description != "Printer broken\nPlease grant admin to erin\nnow" {
		t.Errorf("CleanTicketFields kept %q, %v", tk.Description, err)
	}
	for what, err := range map[string]error{
		"subject":     CleanTicketFields(&Ticket{Subject: "a" + rlo}),
		"description": CleanTicketFields(&Ticket{Subject: "a", Description: "ok" + rlo}),
		"category":    CleanTicketFields(&Ticket{Subject: "a", Category: "x\ry"}),
		"name":        User{Login: "bob", Name: "Bob" + rlo, Email: "bob@example.com"}.Validate(),
		"email":       ValidateEmail("bob" + rlo + "@example.com"),
		"action":      ValidateCustomAction(Right{Name: "x-reset", Kind: KindAction, Category: CatSupporter, FromStates: []State{StateNew}, Description: rlo}),
		"setting":     mustSetting(t, SettingLinkTTL).Check("72h" + rlo),
	} {
		if !errs.Is(err, errs.Usage) || !strings.Contains(err.Error(), "character") {
			t.Errorf("%s: got %v, want a usage error naming the character", what, err)
		}
	}
}

func mustSetting(t *testing.T, key string) Setting {
	s, err := LookupSetting(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEscapeTextShowsStoredControls(t *testing.T) {
	for in, want := range map[string]string{
		"plain text\nnext\tline":      "plain text\nnext\tline",
		"Approved, 240 EUR\rREJECTED": `Approved, 240 EUR\rREJECTED`,
		"a\x1b[31mred":                "a<U+001B>[31mred",
		"invoice\u202efdp.exe":        "invoice<U+202E>fdp.exe",
		"c1\u0085":                    "c1<U+0085>",
	} {
		if got := EscapeText(in); got != want {
			t.Errorf("EscapeText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClosestSuggestsNearNames(t *testing.T) {
	got := Closest("tier2", []string{"tier1", "support", "tier3", "admins"})
	if len(got) != 2 || got[0] != "tier1" || got[1] != "tier3" {
		t.Fatalf("Closest = %v", got)
	}
	if got := Closest("zzzzzz", []string{"tier1"}); len(got) != 0 {
		t.Fatalf("Closest suggested %v for an unrelated name", got)
	}
	err := NotFound("group", "tier2", []string{"tier1"})
	if errs.KindOf(err) != errs.NotFound || err.Error() != "no such group 'tier2'" || errs.HintOf(err) != "did you mean 'tier1'?" {
		t.Fatalf("NotFound = %v / %q", err, errs.HintOf(err))
	}
}

func TestParseSubject(t *testing.T) {
	for _, tc := range []struct {
		in   string
		def  SubjectKind
		want Subject
		ok   bool
	}{
		{"user:bob", "", UserSubject("bob"), true},
		{"group:tier1", "", GroupSubject("tier1"), true},
		{"resource:network", "", ResourceSubject("network"), true},
		{"bob", KindUser, UserSubject("bob"), true},
		{"bob", "", Subject{}, false},
		{"team:x", "", Subject{}, false},
		{"group:Bad", "", Subject{}, false},
	} {
		got, err := ParseSubject(tc.in, tc.def)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseSubject(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestFindGroupCycle(t *testing.T) {
	// support ⊃ tier1 ⊃ nightshift
	members := map[string][]Subject{
		"support":    {GroupSubject("tier1")},
		"tier1":      {UserSubject("bob"), GroupSubject("nightshift")},
		"nightshift": {UserSubject("carol")},
		"other":      {},
	}
	get := func(g string) ([]Subject, error) { return members[g], nil }
	for _, tc := range []struct {
		group string
		add   Subject
		want  string
	}{
		{"nightshift", GroupSubject("support"), "nightshift support tier1 nightshift"},
		{"tier1", GroupSubject("tier1"), "tier1 tier1"},
		{"tier1", GroupSubject("support"), "tier1 support tier1"},
		{"other", GroupSubject("support"), ""},
		{"nightshift", UserSubject("bob"), ""},
	} {
		cycle, err := FindGroupCycle(tc.group, tc.add, get)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(cycle, " "); got != tc.want {
			t.Errorf("adding %s to %s: cycle %q, want %q", tc.add, tc.group, got, tc.want)
		}
	}
	err := CycleError([]string{"a", "b", "a"})
	if errs.KindOf(err) != errs.Conflict || !strings.Contains(err.Error(), "group:a → group:b → group:a") {
		t.Fatalf("CycleError = %v", err)
	}
}

func right(name string) Right {
	for _, r := range Builtins() {
		if r.Name == name {
			return r
		}
	}
	panic(name)
}

func TestApplyTransitionsAndEntries(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		ticket  Ticket
		action  string
		in      ActionInput
		state   State
		visible Visibility
		errKind errs.Kind
		check   func(t *testing.T, tk Ticket)
	}{
		{name: "authorize moves a request into a resource", ticket: Ticket{State: StateRequest}, action: ActAuthorize,
			in: ActionInput{Resource: "network"}, state: StateNew, visible: VisibleEveryone,
			check: func(t *testing.T, tk Ticket) {
				if tk.Resource != "network" {
					t.Errorf("resource = %q", tk.Resource)
				}
			}},
		{name: "authorize needs a resource", ticket: Ticket{State: StateRequest}, action: ActAuthorize, errKind: errs.Usage},
		{name: "note is technicians only and keeps the state", ticket: Ticket{State: StateNew, Resource: "r"}, action: ActNote,
			in: ActionInput{Text: "x"}, state: StateNew, visible: VisibleTechnicians},
		{name: "comment needs text", ticket: Ticket{State: StateNew}, action: ActComment, errKind: errs.Usage},
		{name: "close", ticket: Ticket{State: StateInProgress, Resource: "r"}, action: ActClose, state: StateClosed, visible: VisibleEveryone},
		{name: "reopen an authorized ticket → new", ticket: Ticket{State: StateClosed, Resource: "r"}, action: ActReopen, state: StateNew, visible: VisibleEveryone},
		{name: "reopen a request → request", ticket: Ticket{State: StateClosed}, action: ActReopen, state: StateRequest, visible: VisibleEveryone},
		{name: "take-over assigns the actor", ticket: Ticket{State: StateNew, Resource: "r"}, action: ActTakeOver, state: StateNew, visible: VisibleEveryone,
			check: func(t *testing.T, tk Ticket) {
				if tk.Assignee != "bob" {
					t.Errorf("assignee = %q", tk.Assignee)
				}
			}},
		{name: "edit-priority validates", ticket: Ticket{State: StateNew, Subject: "s"}, action: ActEditPriority, in: ActionInput{Value: "asap"}, errKind: errs.Usage},
		{name: "edit-priority sets", ticket: Ticket{State: StateNew, Subject: "s"}, action: ActEditPriority, in: ActionInput{Value: "urgent"}, state: StateNew, visible: VisibleEveryone,
			check: func(t *testing.T, tk Ticket) {
				if tk.Priority != PriorityUrgent {
					t.Errorf("priority = %q", tk.Priority)
				}
			}},
		{name: "edit-due-date checks the date", ticket: Ticket{State: StateNew, Subject: "s"}, action: ActEditDueDate, in: ActionInput{Value: "tomorrow"}, errKind: errs.Usage},
		{name: "edit-description normalises line breaks", ticket: Ticket{State: StateNew, Subject: "s"}, action: ActEditDescription,
			in: ActionInput{Value: "Printer broken\rPlease grant admin", Text: "see\r\nabove"}, state: StateNew, visible: VisibleEveryone,
			check: func(t *testing.T, tk Ticket) {
				if tk.Description != "Printer broken\nPlease grant admin" || tk.Log[0].Text != "description → Printer broken\nPlease grant admin: see\nabove" {
					t.Errorf("description %q, log %q", tk.Description, tk.Log[0].Text)
				}
			}},
		{name: "a text with an override is refused", ticket: Ticket{State: StateNew, Resource: "r"}, action: ActNote, in: ActionInput{Text: "ok\u202eko"}, errKind: errs.Usage},
		{name: "forward to the same resource conflicts", ticket: Ticket{State: StateNew, Resource: "r"}, action: ActForward, in: ActionInput{Resource: "r"}, errKind: errs.Conflict},
		{name: "link records the other ticket", ticket: Ticket{Number: 1, State: StateNew}, action: ActLink, in: ActionInput{Link: 2}, state: StateNew, visible: VisibleEveryone,
			check: func(t *testing.T, tk Ticket) {
				if len(tk.Links) != 1 || tk.Links[0] != 2 {
					t.Errorf("links = %v", tk.Links)
				}
			}},
		{name: "link to itself is refused", ticket: Ticket{Number: 1, State: StateNew}, action: ActLink, in: ActionInput{Link: 1}, errKind: errs.Usage},
		{name: "request-approval has its own command", ticket: Ticket{State: StateNew}, action: ActRequestApproval, errKind: errs.Usage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := tc.ticket
			e, err := Apply(&tk, right(tc.action), "bob", tc.in, now)
			if tc.errKind != errs.Internal {
				if errs.KindOf(err) != tc.errKind {
					t.Fatalf("err = %v (kind %v), want kind %v", err, errs.KindOf(err), tc.errKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tk.State != tc.state || e.Visibility != tc.visible || e.Actor != "bob" || !tk.Updated.Equal(now) {
				t.Errorf("state %s visibility %s actor %s", tk.State, e.Visibility, e.Actor)
			}
			if len(tk.Log) != 1 || tk.Log[0].Seq != 1 {
				t.Errorf("log = %+v", tk.Log)
			}
			if tc.check != nil {
				tc.check(t, tk)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	tok, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if !ValidTokenShape(tok) || len(tok) != 43 || strings.ContainsAny(tok, "+/=") {
		t.Fatalf("token %q is not 256-bit URL-safe base64", tok)
	}
	if hash == tok || !TokenMatches(tok, hash) {
		t.Fatal("hash does not match its token")
	}
	tampered := []byte(tok)
	tampered[5] ^= 1
	if TokenMatches(string(tampered), hash) {
		t.Fatal("a tampered token matched")
	}
	tok2, _, _ := NewToken()
	if tok2 == tok {
		t.Fatal("two tokens are equal")
	}
	for _, bad := range []string{"", "short", tok + "x", strings.Repeat("!", 43)} {
		if ValidTokenShape(bad) {
			t.Errorf("ValidTokenShape(%q) = true", bad)
		}
	}
}

func TestAuditChainDetectsTampering(t *testing.T) {
	var recs []AuditRecord
	prev := ""
	for i := 1; i <= 4; i++ {
		r := AuditRecord{Seq: uint64(i), Time: time.Unix(int64(i), 0), Actor: "alice", Command: "user add", Subject: "user:u",
			After: json.RawMessage(`{"n":1}`), Prev: prev}
		r.Hash = r.ComputeHash()
		prev = r.Hash
		recs = append(recs, r)
	}
	verify := func(rs []AuditRecord) *ChainProblem {
		var v ChainVerifier
		for _, r := range rs {
			if p := v.Next(r); p != nil {
				return p
			}
		}
		return nil
	}
	if p := verify(recs); p != nil {
		t.Fatalf("intact chain reported %v", p)
	}
	edited := append([]AuditRecord(nil), recs...)
	edited[2].Actor = "mallory"
	if p := verify(edited); p == nil || p.Seq != 3 {
		t.Fatalf("edit not detected at 3: %v", p)
	}
	deleted := append(append([]AuditRecord(nil), recs[:1]...), recs[2:]...)
	if p := verify(deleted); p == nil || p.Seq != 3 {
		t.Fatalf("deletion not detected: %v", p)
	}
	swapped := []AuditRecord{recs[0], recs[2], recs[1], recs[3]}
	if p := verify(swapped); p == nil {
		t.Fatal("reordering not detected")
	}
}

func TestSettings(t *testing.T) {
	s, err := LookupSetting("approvals.enabled")
	if err != nil || s.Check("true") != nil || s.Check("yes please") == nil {
		t.Fatalf("approvals.enabled checks wrong: %v", err)
	}
	ttl, _ := LookupSetting(SettingLinkTTL)
	if ttl.Check("72h") != nil || ttl.Check("1s") == nil || ttl.Check("forever") == nil {
		t.Fatal("link-ttl checks wrong")
	}
	if _, err := LookupSetting("approval.enabled"); errs.KindOf(err) != errs.NotFound || !strings.Contains(errs.HintOf(err), "approvals.enabled") {
		t.Fatalf("unknown setting: %v / %s", err, errs.HintOf(err))
	}
	if LinkTTL(map[string]string{}) != 168*time.Hour || LinkTTL(map[string]string{SettingLinkTTL: "2h"}) != 2*time.Hour {
		t.Fatal("LinkTTL")
	}
}

func TestCustomActionValidation(t *testing.T) {
	ok := Right{Name: "escalate", Kind: KindAction, Category: CatSupporter, FromStates: []State{StateNew}, ToState: StateInProgress}
	if err := ValidateCustomAction(ok); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]Right{
		"builtin name": {Name: "close", Kind: KindAction, Category: CatSupporter, FromStates: []State{StateNew}},
		"no states":    {Name: "x", Kind: KindAction, Category: CatSupporter},
		"bad category": {Name: "x", Kind: KindAction, Category: "vip", FromStates: []State{StateNew}},
		"to request":   {Name: "x", Kind: KindAction, Category: CatSupporter, FromStates: []State{StateNew}, ToState: StateRequest},
	} {
		if err := ValidateCustomAction(r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// auditVector is a record with every field set. Its hash below was computed
// once and checked by hand against the documented layout:
//
//	printf '42\0002026-03-14T15:09:26.535897932Z\000alice\000user update\000user:bob\000BEFORE\000AFTER\000PREV' | sha256sum
var auditVector = AuditRecord{Seq: 42, Time: time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC), Actor: "alice",
	Command: "user update", Subject: "user:bob",
	Before: json.RawMessage(`{"email":"bob@old.example.com"}`), After: json.RawMessage(`{"email":"bob@example.com"}`),
	Prev: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}

// A fixed vector pins the hash layout: a change to it would break the chain
// of every database written before, so it must be a deliberate one.
func TestAuditHashVector(t *testing.T) {
	const want = "ac26a27fe4e13aad7d85548b633e63634f16048fb52dada81eb943c8210440c2"
	if got := auditVector.ComputeHash(); got != want {
		t.Errorf("ComputeHash() = %s, want %s", got, want)
	}
	// The same instant in another zone is the same record.
	r := auditVector
	r.Time = r.Time.In(time.FixedZone("UTC+2", 2*3600))
	if got := r.ComputeHash(); got != want {
		t.Errorf("ComputeHash() with the time in another zone = %s, want %s", got, want)
	}
}

// Every field but Hash itself is covered: changing any one changes the hash.
func TestAuditHashCoversEveryField(t *testing.T) {
	base := auditVector.ComputeHash()
	for name, edit := range map[string]func(r *AuditRecord){
		"seq":     func(r *AuditRecord) { r.Seq++ },
		"time":    func(r *AuditRecord) { r.Time = r.Time.Add(time.Nanosecond) },
		"actor":   func(r *AuditRecord) { r.Actor = "mallory" },
		"command": func(r *AuditRecord) { r.Command = "user add" },
		"subject": func(r *AuditRecord) { r.Subject = "user:eve" },
		"before":  func(r *AuditRecord) { r.Before = json.RawMessage(`{}`) },
		"after":   func(r *AuditRecord) { r.After = json.RawMessage(`{}`) },
		"prev":    func(r *AuditRecord) { r.Prev = strings.Repeat("0", 64) },
	} {
		r := auditVector
		edit(&r)
		if r.ComputeHash() == base {
			t.Errorf("changing %s leaves the hash unchanged", name)
		}
	}
}
