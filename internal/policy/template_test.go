package policy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// withTeam is withAdmin with carol and dan (lines 3–4) and the group
// finance (lines 5–7), so that resources start at line 8.
func withTeam(ls ...string) string {
	return withAdmin(append([]string{
		"  - {login: carol, name: Carol, email: carol@example.com}",
		"  - {login: dan, name: Dan, email: dan@example.com, active: false}",
		"groups:",
		"  - name: finance",
		"    members: [carol]",
		"resources:",
	}, ls...)...)
}

func TestTemplateFindings(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"one stage written directly", withTeam(
			"  - name: purchasing",
			"    approval: {approvers: [carol, group:finance], rule: 2, reject-rule: all, gates: [close, assign], due: 48h, on-timeout: remind}"),
			nil},
		{"stages", withTeam(
			"  - name: purchasing",
			"    approval:",
			"      stages:",
			"        - {approvers: [carol], rule: all}",
			"        - {approvers: [group:finance, root], rule: majority}",
			"      gates: [close]"),
			nil},
		{"unknown and inactive approvers", withTeam(
			"  - name: purchasing",
			"    approval: {approvers: [carl, group:finace, dan, resource:x]}"),
			[]string{
				"p.yaml:10:28: unknown user 'carl' among the approvers of resource 'purchasing' (did you mean 'carol'?)",
				"p.yaml:10:34: unknown group 'finace' among the approvers of resource 'purchasing' (did you mean 'finance'?)",
				"p.yaml:10:48: user 'dan' is inactive and cannot approve for resource 'purchasing'; name an active user or a group",
				"p.yaml:10:53: 'resource:x' cannot approve for resource 'purchasing': approvers are logins (carol) and groups (group:finance)",
			}},
		{"approver named twice across stages", withTeam(
			"  - name: purchasing",
			"    approval:",
			"      stages:",
			"        - {approvers: [carol]}",
			"        - {approvers: [root, carol]}"),
			[]string{
				"p.yaml:13:30: approver carol is named twice in the approval template of resource 'purchasing' (first at p.yaml:12:24); name each approver once across all stages",
			}},
		{"bad rules", withTeam(
			"  - name: purchasing",
			"    approval:",
			"      stages:",
			"        - {approvers: [carol], rule: most}",
			"        - {approvers: [root, group:finance], rule: 3, reject-rule: 0}"),
			[]string{
				"p.yaml:12:38: rule 'most' in the approval template of resource 'purchasing' is not a rule; use any, all, majority or a number of approvers (1 or more)",
				"p.yaml:13:52: rule 3 in the approval template of resource 'purchasing' asks for more approvers than the stage has (2); lower it or name more approvers",
				"p.yaml:13:68: reject-rule '0' in the approval template of resource 'purchasing' is not a rule; use any, all, majority or a number of approvers (1 or more)",
			}},
		{"bad gates", withTeam(
			"  - name: purchasing",
			"    approval: {approvers: [carol], gates: [clse, admin, request-approval, close, close]}"),
			[]string{
				"p.yaml:10:44: unknown action 'clse' among the gates of resource 'purchasing' (did you mean 'close'?)",
				"p.yaml:10:50: admin is a permission, not a ticket action; gates hold back ticket actions",
				"p.yaml:10:57: request-approval cannot be gated: it is how a rejected approval is asked again",
				"p.yaml:10:82: warning: gate close is listed twice for resource 'purchasing' (first at p.yaml:10:75)",
			}},
		{"a custom action may be gated", withTeam(
			"  - name: purchasing",
			"    approval: {approvers: [carol], gates: [order]}",
			"actions:",
			"  - {name: order, category: supporter, from-states: [in-progress]}"),
			nil},
		{"bad deadline", withTeam(
			"  - name: purchasing",
			"    approval: {approvers: [carol], due: 2 days, on-timeout: explode}",
			"  - name: sales",
			"    approval: {approvers: [carol], due: 0s}",
			"  - name: legal",
			"    approval: {approvers: [carol], on-timeout: remind}"),
			[]string{
				"p.yaml:10:41: due of the approval template of resource 'purchasing' must be a duration such as 48h or 90m, not '2 days'",
				"p.yaml:10:61: on-timeout of the approval template of resource 'purchasing' must be one of remind, reject, cancel, escalate-to:LOGIN, not 'explode'",
				"p.yaml:12:41: due of the approval template of resource 'sales' must be a duration such as 48h or 90m, not '0s'",
				"p.yaml:14:48: on-timeout of the approval template of resource 'legal' needs due, the time after which it applies (such as due: 48h)",
			}},
		{"shape", withTeam(
			"  - name: purchasing",
			"    approval: {approvers: [carol], stages: [{approvers: [root]}], gate: [close]}",
			"  - name: sales",
			"    approval: [carol]",
			"  - name: legal",
			"    approval: {gates: [close]}",
			"  - name: hr",
			"    approval: {stages: [{rule: all, approver: carol}, carol]}"),
			[]string{
				"p.yaml:10:27: approval has both stages and approvers; write one stage's approvers and rules directly, or every stage under stages",
				"p.yaml:10:67: unknown key 'gate' in approval (did you mean 'gates'?)",
				"p.yaml:12:15: approval must be a mapping such as {approvers: [carol], gates: [close]}, not a list",
				"p.yaml:14:15: the approval template of resource 'legal' names no approvers; add approvers: [LOGIN or group:NAME], or stages",
				"p.yaml:16:25: stage 1 of the approval template of resource 'hr' has no approvers",
				"p.yaml:16:37: unknown key 'approver' in approval stage (did you mean 'approvers'?)",
				"p.yaml:16:55: each stage is a mapping such as {approvers: [carol], rule: all}; found a string",
			}},
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

// A template survives policy → State → export → parse unchanged, and the
// stored form compares equal however its gates were ordered.
func TestTemplateRoundTrip(t *testing.T) {
	doc := withTeam(
		"  - name: purchasing",
		"    approval:",
		"      stages:",
		"        - {approvers: [carol, group:finance], rule: 2, reject-rule: all}",
		"        - {approvers: [root]}",
		"      gates: [close, assign]",
		"      due: 48h",
		"      on-timeout: remind",
		"  - name: sales",
		"    approval: {approvers: [group:finance], rule: majority}")
	p, fs := Parse("p.yaml", []byte(doc))
	if fs = append(fs, Validate(p)...); len(fs) != 0 {
		t.Fatalf("findings: %q", strs(fs))
	}
	st := p.State()
	want := &helpdesk.ApprovalTemplate{
		Stages: []helpdesk.StageSpec{
			{Approvers: []string{"carol", "group:finance"}, Rule: helpdesk.ApprovalRule{Kind: helpdesk.RuleCount, Count: 2}, RejectRule: helpdesk.ApprovalRule{Kind: helpdesk.RuleAll}},
			{Approvers: []string{"root"}, Rule: helpdesk.ApprovalRule{Kind: helpdesk.RuleAny}, RejectRule: helpdesk.ApprovalRule{Kind: helpdesk.RuleAny}},
		},
		Gates: []string{"assign", "close"}, Due: "48h", OnTimeout: "remind",
	}
	if got := st.Resources[0].Approval; st.Resources[0].Name != "purchasing" || !reflect.DeepEqual(got, want) {
		t.Fatalf("purchasing's template = %+v, want %+v", got, want)
	}
	out, err := Export(st, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"    approval:\n      stages:\n", "          rule: 2\n          reject-rule: all\n",
		"      gates: [assign, close]\n", "    approval:\n      approvers: ['group:finance']\n      rule: majority\n"} {
		if !strings.Contains(string(out), line) {
			t.Errorf("export lacks %q:\n%s", line, out)
		}
	}
	for _, format := range []string{"yaml", "json"} {
		out, err := Export(st, format)
		if err != nil {
			t.Fatal(err)
		}
		q, fs := Parse("exported."+format, out)
		if fs = append(fs, Validate(q)...); len(fs) != 0 {
			t.Fatalf("%s export has findings: %q\n%s", format, strs(fs), out)
		}
		if back := q.State(); !reflect.DeepEqual(back, st) {
			t.Errorf("%s export reads back as\n%+v\nwant\n%+v", format, back.Resources, st.Resources)
		}
		if errs := schemaErrors(t, out); len(errs) != 0 {
			t.Errorf("%s export does not match the schema: %q", format, errs)
		}
	}
	if errs := schemaErrors(t, []byte(doc)); len(errs) != 0 {
		t.Errorf("the document does not match the schema: %q", errs)
	}
}

func TestEffectiveTemplate(t *testing.T) {
	tpl := &helpdesk.ApprovalTemplate{Stages: []helpdesk.StageSpec{{Approvers: []string{"carol"}}}}
	res := map[string]helpdesk.Resource{
		"a":     {Name: "a", Approval: tpl},
		"a.b":   {Name: "a.b", Parent: "a"},
		"a.b.c": {Name: "a.b.c", Parent: "a.b"},
		"x":     {Name: "x", Parent: "y"},
		"y":     {Name: "y", Parent: "x"},
	}
	lookup := func(n string) (helpdesk.Resource, bool, error) { r, ok := res[n]; return r, ok, nil }
	for name, want := range map[string]string{"a": "a", "a.b.c": "a", "x": "", "missing": ""} {
		got, from, err := helpdesk.EffectiveTemplate(name, lookup)
		if err != nil || from != want || (want != "" && !reflect.DeepEqual(got, *tpl)) {
			t.Errorf("EffectiveTemplate(%s) = %+v, %q, %v; want a's template from %q", name, got, from, err, want)
		}
	}
}
