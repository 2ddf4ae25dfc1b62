package policy

import (
	"reflect"
	"testing"
)

// withAdmin starts a document with a users list holding one active
// administrator (lines 1–2), so that cases start at line 3 and only show the
// findings they are about. Cases may add users with "  - {…}" lines first.
func withAdmin(ls ...string) string {
	return lines(append([]string{
		"users:",
		"  - {login: root, name: Root, email: root@example.com, rights: [admin]}",
	}, ls...)...)
}

func TestValidateFindings(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"valid", withAdmin(
			"  - {login: bob, name: Bob, email: bob@example.com}",
			"groups:",
			"  - name: tier1",
			"    members: [bob]",
			"    rights: [close, escalate]",
			"actions:",
			"  - {name: escalate, category: supporter, from-states: [new]}"),
			nil},
		{"duplicate names", withAdmin(
			"  - {login: root, name: Root Again, email: root@example.com}",
			"groups:",
			"  - name: g",
			"  - name: g",
			"resources:",
			"  - name: r",
			"  - name: r",
			"actions:",
			"  - {name: a, category: supporter, from-states: [new]}",
			"  - {name: a, category: edit, from-states: [new]}"),
			[]string{
				"p.yaml:3:13: user 'root' is defined twice (first at p.yaml:2:13)",
				"p.yaml:6:11: group 'g' is defined twice (first at p.yaml:5:11)",
				"p.yaml:9:11: resource 'r' is defined twice (first at p.yaml:8:11)",
				"p.yaml:12:12: action 'a' is defined twice (first at p.yaml:11:12)",
			}},
		{"invalid logins and emails", withAdmin(
			"  - {login: Bob, name: Bob, email: bob@example.com}",
			"  - {login: carol, name: Carol, email: \"Carol <carol@example.com>\"}",
			"  - {login: dave, name: Dave, email: dave@localhost}"),
			[]string{
				`p.yaml:3:13: invalid login "Bob": upper-case letter; use lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (at most 64)`,
				`p.yaml:4:40: user 'carol': invalid email "Carol <carol@example.com>"`,
				`p.yaml:5:38: user 'dave': invalid email "dave@localhost"`,
			}},
		{"missing user fields", withAdmin(
			"  - {name: Nobody, email: n@example.com}",
			"  - {login: bob, name: \" \"}",
			"  - {login: carol, name: Carol, email: \"\"}"),
			[]string{
				"p.yaml:3:5: user entry has no login",
				"p.yaml:4:5: user 'bob' has no email",
				"p.yaml:4:24: user 'bob' has no name",
				"p.yaml:5:40: user 'carol' has no email",
			}},
		{"a value of the wrong type is not reported again as missing", withAdmin(
			"  - {login: [bob], name: Bob, email: bob@example.com}"),
			[]string{"p.yaml:3:13: login must be a string, not a list"}},
		{"invalid names and texts", withAdmin(
			"  - {login: bob, name: \"Bob\\u0007\", email: bob@example.com}",
			"groups:",
			"  - name: Tier1",
			"  - name: ok",
			"    description: \"two\\nlines\"",
			"resources:",
			"  - name: \"net work\"",
			"  - name: pay",
			"    description: \"invoice \\u202Efdp.exe\"",
			"  - name: cr",
			"    description: \"Approved\\rREJECTED\""),
			[]string{
				"p.yaml:3:24: user 'bob': name: character 4 is U+0007 (a control character); remove control and bidirectional formatting characters (newlines and tabs are fine in multi-line texts)",
				`p.yaml:5:11: invalid group name "Tier1": upper-case letter; use lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (at most 64)`,
				"p.yaml:7:18: group 'ok': description must be a single line: character 4 is a line break; remove line breaks and tabs from the description",
				`p.yaml:9:11: invalid resource name "net work": character ' ' not allowed; use lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (at most 64)`,
				"p.yaml:11:18: resource 'pay': description: character 9 is U+202E (a bidirectional formatting character); remove control and bidirectional formatting characters (newlines and tabs are fine in multi-line texts)",
				"p.yaml:13:18: resource 'cr': description must be a single line: character 9 is a line break; remove line breaks and tabs from the description",
			}},
		{"unknown rights", withAdmin(
			"  - {login: bob, name: Bob, email: bob@example.com, rights: [clse, fly-to-the-moon, escalte]}",
			"actions:",
			"  - {name: escalate, category: supporter, from-states: [new]}"),
			[]string{
				"p.yaml:3:62: unknown right 'clse' (did you mean 'close'?)",
				"p.yaml:3:68: unknown right 'fly-to-the-moon'; it is neither built in nor defined under actions",
				"p.yaml:3:85: unknown right 'escalte' (did you mean 'escalate'?)",
			}},
		{"repeated entries are warnings", withAdmin(
			"  - {login: bob, name: Bob, email: bob@example.com, rights: [close, close]}",
			"groups:",
			"  - {name: g, members: [bob, user:bob]}",
			"actions:",
			"  - {name: a, category: supporter, from-states: [new, new]}"),
			[]string{
				"p.yaml:3:69: warning: right close is listed twice for user 'bob' (first at p.yaml:3:62)",
				"p.yaml:5:30: warning: user:bob is listed twice in the members of group 'g' (first at p.yaml:5:25)",
				"p.yaml:7:55: warning: state new is listed twice in from-states of action 'a' (first at p.yaml:7:50)",
			}},
		{"unknown and invalid members", withAdmin(
			"  - {login: bob, name: Bob, email: bob@example.com}",
			"groups:",
			"  - name: tier1",
			"    members: [bbo, group:tier3, group:everyone, resource:network, group:]",
			"  - name: tier2",
			"resources:",
			"  - name: network",
			"    members: [{user: carol, access: write}]"),
			[]string{
				"p.yaml:6:15: unknown user 'bbo' in the members of group 'tier1' (did you mean 'bob'?)",
				"p.yaml:6:20: unknown group 'tier3' in the members of group 'tier1' (did you mean 'tier1' or 'tier2'?)",
				"p.yaml:6:49: 'resource:network' cannot be a member of group 'tier1': members are users (bob or user:bob) and groups (group:tier1)",
				"p.yaml:6:67: unknown group '' in the members of group 'tier1'",
				"p.yaml:10:22: unknown user 'carol' in the members of resource 'network'",
			}},
		{"everyone takes rights but no members", withAdmin(
			"  - {login: bob, name: Bob, email: bob@example.com}",
			"groups:",
			"  - name: everyone",
			"    members: [bob]",
			"    rights: [comment]"),
			[]string{"p.yaml:6:14: group everyone cannot list members: every active user belongs to it; remove its members and keep only its rights"}},
		{"group cycles", withAdmin(
			"groups:",
			"  - {name: a, members: [group:b]}",
			"  - {name: b, members: [group:c]}",
			"  - {name: c, members: [group:a]}",
			"  - {name: d, members: [group:d]}",
			"  - {name: e, members: [group:a]}"),
			[]string{
				"p.yaml:6:25: group cycle: group:c → group:a → group:b → group:c; groups may nest but never contain themselves",
				"p.yaml:7:25: group cycle: group:d → group:d; groups may nest but never contain themselves",
			}},
		{"resource parents", withAdmin(
			"resources:",
			"  - {name: a, parent: b}",
			"  - {name: b, parent: a}",
			"  - {name: c, parent: c}",
			"  - {name: d, parent: netwrk}",
			"  - {name: network}",
			"  - {name: e, parent: a}"),
			[]string{
				"p.yaml:4:23: resource parent cycle: resource:a → resource:b → resource:a (each arrow points to the parent)",
				"p.yaml:6:23: resource 'c' cannot be its own parent",
				"p.yaml:7:23: unknown parent resource 'netwrk' of resource 'd' (did you mean 'network'?)",
			}},
		{"resource members", withAdmin(
			"  - {login: bob, name: Bob, email: bob@example.com}",
			"resources:",
			"  - name: r",
			"    members:",
			"      - {user: bob, access: rw}",
			"      - {user: bob, access: read}",
			"      - {access: read}",
			"      - {user: root}"),
			[]string{
				"p.yaml:7:29: access must be read or write, not 'rw'",
				"p.yaml:8:16: bob is listed twice in the members of resource 'r' (first at p.yaml:7:16)",
				"p.yaml:9:9: member entry of resource 'r' has no user",
				"p.yaml:10:9: member root of resource 'r' needs access: read or write",
			}},
		{"permissions resources cannot hold", withAdmin(
			"resources:",
			"  - name: r",
			"    rights: [admin, dispatcher, read-all-tickets, edit-all-tickets, close]"),
			[]string{
				"p.yaml:5:21: dispatcher cannot be granted to a resource; grant it to the users or a group instead",
				"p.yaml:5:33: read-all-tickets cannot be granted to a resource; grant it to the users or a group instead",
				"p.yaml:5:51: edit-all-tickets cannot be granted to a resource; grant it to the users or a group instead",
			}},
		{"edit-all-tickets needs read-all-tickets on the same subject", withAdmin(
			"  - {login: bob, name: Bob, email: bob@example.com, rights: [edit-all-tickets]}",
			"  - {login: carol, name: Carol, email: carol@example.com, rights: [edit-all-tickets, read-all-tickets]}",
			"groups:",
			"  - {name: g, members: [bob], rights: [read-all-tickets]}",
			"  - {name: h, rights: [edit-all-tickets]}"),
			[]string{
				"p.yaml:3:62: edit-all-tickets requires read-all-tickets on the same subject; add read-all-tickets to the rights of user 'bob'",
				"p.yaml:7:24: edit-all-tickets requires read-all-tickets on the same subject; add read-all-tickets to the rights of group 'h'",
			}},
		{"custom actions", withAdmin(
			"actions:",
			"  - {name: close, category: supporter, from-states: [new]}",
			"  - {name: a, category: support, from-states: [nwe, finished], to-state: request}",
			"  - {name: b, to-state: done}",
			"  - {name: Caps, category: edit, from-states: [new], description: \"x\\ny\"}"),
			[]string{
				"p.yaml:4:12: 'close' is a built-in action; choose another name for the custom action",
				`p.yaml:5:25: action 'a': unknown category "support"; use all-users, supporter, edit or organizational`,
				"p.yaml:5:48: unknown ticket state 'nwe' (did you mean 'new'?)",
				"p.yaml:5:53: unknown ticket state 'finished'; use one of request, new, in-progress, waiting, closed",
				"p.yaml:5:74: an action cannot turn a ticket back into a request; use new, in-progress, waiting or closed",
				"p.yaml:6:5: action 'b' applies to no state; list the states in from-states",
				"p.yaml:6:5: action 'b' has no category; use one of all-users, supporter, edit, organizational",
				"p.yaml:6:25: unknown ticket state 'done'; use one of request, new, in-progress, waiting, closed",
				`p.yaml:7:12: invalid action name "Caps": upper-case letter; use lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (at most 64)`,
				"p.yaml:7:67: action 'Caps': description must be a single line: character 2 is a line break; remove line breaks and tabs from the description",
			}},
		{"settings", withAdmin(
			"settings:",
			"  approvals.enabled: yes",
			"  approvals.link-ttl: 0s",
			"  approvals.linkttl: 1h",
			"  smtp.host: mail",
			"---",
			"settings:",
			"  approvals.enabled: false"),
			[]string{
				"p.yaml:4:22: approvals.enabled must be true or false, not 'yes'",
				"p.yaml:5:23: approvals.link-ttl must be longer than zero, not '0s'",
				"p.yaml:6:3: unknown setting 'approvals.linkttl' (did you mean 'approvals.link-ttl' or 'approvals.digest'?)",
				"p.yaml:7:3: unknown setting 'smtp.host'; known settings are approvals.enabled, approvals.link-ttl, approvals.gate-actions, approvals.default-due, approvals.remind-after, approvals.remind-every, approvals.remind-max, approvals.digest",
				"p.yaml:10:3: setting approvals.enabled is set twice (first at p.yaml:4:3)",
			}},
		{"gate actions may name custom actions", withAdmin(
			"actions:",
			"  - {name: escalate, category: supporter, from-states: [new]}",
			"settings:",
			"  approvals.gate-actions: close, escalate"),
			nil},
		{"gate actions checked against the catalog", withAdmin(
			"settings:",
			"  approvals.gate-actions: close,clse"),
			[]string{"p.yaml:4:27: approvals.gate-actions: no such action 'clse' (did you mean 'close'?)"}},
		{"gate actions name no permission", withAdmin(
			"settings:",
			"  approvals.gate-actions: admin"),
			[]string{"p.yaml:4:27: approvals.gate-actions: admin is a permission, not a ticket action (gates hold back ticket actions; see deskctl action list)"}},
		{"request-approval is not gated", withAdmin(
			"settings:",
			"  approvals.gate-actions: close,request-approval"),
			[]string{"p.yaml:4:27: approvals.gate-actions must list ticket actions separated by commas (request-approval cannot be gated: it is how a rejected approval is asked again), not 'close,request-approval'"}},
		{"no admin at all", lines(
			"users:",
			"  - {login: bob, name: Bob, email: bob@example.com}"),
			[]string{"p.yaml:1:1: no active user holds admin; grant admin to an active user (rights: [admin]) or to a group with an active member"}},
		{"an inactive admin does not count", lines(
			"users:",
			"  - {login: bob, name: Bob, email: bob@example.com, active: false, rights: [admin]}"),
			[]string{"p.yaml:1:1: no active user holds admin; grant admin to an active user (rights: [admin]) or to a group with an active member"}},
		{"admin through nested groups", lines(
			"users:",
			"  - {login: bob, name: Bob, email: bob@example.com}",
			"groups:",
			"  - {name: admins, members: [group:ops], rights: [admin]}",
			"  - {name: ops, members: [bob]}"),
			nil},
		{"admin through a resource", lines(
			"users:",
			"  - {login: bob, name: Bob, email: bob@example.com}",
			"resources:",
			"  - {name: r, members: [{user: bob, access: read}], rights: [admin]}"),
			nil},
		{"admin through everyone", lines(
			"users:",
			"  - {login: bob, name: Bob, email: bob@example.com}",
			"groups:",
			"  - {name: admins, members: [group:everyone], rights: [admin]}"),
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fs := Parse("p.yaml", []byte(tt.doc))
			fs = sortFindings(append(fs, Validate(p)...))
			if got := strs(fs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("findings:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestValidateFindingFields(t *testing.T) {
	p, _ := Parse("p.yaml", []byte(withAdmin("  - {login: bob, name: Bob, email: bob@example.com, rights: [clse, close, close]}")))
	fs := Validate(p)
	want := []Finding{
		{File: "p.yaml", Line: 3, Col: 62, Severity: SeverityError, Code: CodeUnknownRight, Message: "unknown right 'clse' (did you mean 'close'?)"},
		{File: "p.yaml", Line: 3, Col: 75, Severity: SeverityWarning, Code: CodeRepeated, Message: "right close is listed twice for user 'bob' (first at p.yaml:3:68)"},
	}
	if !reflect.DeepEqual(fs, want) {
		t.Errorf("findings = %+v", fs)
	}
	if !HasErrors(fs) || HasErrors(fs[1:]) {
		t.Error("HasErrors must count errors and ignore warnings")
	}
}

func TestValidateWithoutFiles(t *testing.T) {
	// A policy built from plain data has no positions; findings are plain messages.
	fs := Validate(FromState(State{}))
	if got := strs(fs); !reflect.DeepEqual(got, []string{"no active user holds admin; grant admin to an active user (rights: [admin]) or to a group with an active member"}) {
		t.Errorf("findings = %q", got)
	}
	if Validate(nil) != nil {
		t.Error("Validate(nil) should find nothing")
	}
}
