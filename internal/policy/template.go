package policy

import (
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Template is a resource's `approval` entry: the approval template that
// `approval request` uses for the resource's tickets when no approver is
// named. One stage may be written directly (approvers, rule, reject-rule
// under approval); several go under stages.
type Template struct {
	Origin
	Stages    []TemplateStage
	Gates     []Item
	Due       string
	OnTimeout string
	// both records that stages and a direct stage were written together,
	// which the parser reports.
	both bool
}

// TemplateStage is one stage of a template.
type TemplateStage struct {
	Origin
	Approvers  []Item // logins or group:NAME
	Rule       string // any (the default), all, majority or a number
	RejectRule string
}

// Template keys.
const (
	keyApproval   = "approval"
	keyStages     = "stages"
	keyApprovers  = "approvers"
	keyRule       = "rule"
	keyRejectRule = "reject-rule"
	keyGates      = "gates"
	keyDue        = "due"
	keyOnTimeout  = "on-timeout"
)

func ruleSchema() map[string]any {
	return map[string]any{
		"description": "any (the default: one approval settles it), all, majority, or a number of approvers.",
		"anyOf": []any{map[string]any{"enum": []any{"any", "all", "majority"}},
			map[string]any{"type": "integer", "minimum": 1},
			map[string]any{"type": "string", "pattern": "^[1-9][0-9]*$"},
			map[string]any{"type": "null"}},
	}
}

func approverSchema() map[string]any {
	return map[string]any{"type": "array", "minItems": 1,
		"items": map[string]any{"type": "string", "pattern": `^(group:)?[a-z0-9][a-z0-9._-]{0,63}$`,
			"description": "A user's login, or group:NAME (the group counts as one approver; its first member to decide decides for it)."}}
}

var stageFields = sync.OnceValue(func() []field {
	return []field{
		{keyApprovers, true, "Who is asked in this stage: logins and group:NAME, each once across the template.", approverSchema()},
		{keyRule, false, "How many approvals settle the stage as approved.", ruleSchema()},
		{keyRejectRule, false, "How many rejections settle the stage as rejected (default any).", ruleSchema()},
	}
})

var templateFields = sync.OnceValue(func() []field {
	return []field{
		{keyStages, false, "Stages asked one after the other, each once the one before is approved. Or write one stage's approvers, rule and reject-rule directly.",
			map[string]any{"type": "array", "minItems": 1, "items": ref("approval-stage")}},
		{keyApprovers, false, "The approvers of a single stage (instead of stages).", approverSchema()},
		{keyRule, false, "The rule of a single stage (instead of stages).", ruleSchema()},
		{keyRejectRule, false, "The reject rule of a single stage (instead of stages).", ruleSchema()},
		{keyGates, false, "Ticket actions held back while a ticket of this resource has a pending or rejected approval, besides approvals.gate-actions.",
			listOf(map[string]any{"type": "string", "pattern": namePattern})},
		{keyDue, false, "How long the approvers have, as a Go duration such as 48h. Stored and handed to each request.",
			nullable(map[string]any{"type": "string", "pattern": durationPattern, "not": map[string]any{"pattern": zeroDurationPattern}})},
		{keyOnTimeout, false, "What happens when due passes. Needs due.",
			nullable(map[string]any{"type": "string", "pattern": timeoutPattern})},
	}
})

// timeoutPattern is what on-timeout may say: remind, reject, cancel or
// escalate-to:LOGIN.
const timeoutPattern = `^(remind|reject|cancel|escalate-to:[a-z0-9][a-z0-9._-]{0,63})$`

// template reads a resource's approval entry.
func (d *decoder) template(n *yaml.Node) *Template {
	t := &Template{}
	t.Pos = d.pos(n)
	direct := TemplateStage{}
	direct.Pos = t.Pos
	hasDirect, hasStages := false, false
	for _, kv := range d.pairs(n) {
		switch k := kv.key.Value; k {
		case keyStages:
			hasStages = true
			d.mappings(&t.Origin, k, kv.val, "stages must be a list such as [{approvers: [carol]}, {approvers: [dan]}]",
				"each stage is a mapping such as {approvers: [carol], rule: all}", func(item *yaml.Node) {
					t.Stages = append(t.Stages, d.templateStage(item))
				})
		case keyApprovers:
			hasDirect = true
			direct.Approvers = d.items(&direct.Origin, k, kv.val)
			t.set(k, direct.At(k))
		case keyRule:
			hasDirect = true
			direct.Rule = d.str(&direct.Origin, k, kv.val)
			t.set(k, direct.At(k))
		case keyRejectRule:
			hasDirect = true
			direct.RejectRule = d.str(&direct.Origin, k, kv.val)
			t.set(k, direct.At(k))
		case keyGates:
			t.Gates = d.items(&t.Origin, k, kv.val)
		case keyDue:
			t.Due = d.str(&t.Origin, k, kv.val)
		case keyOnTimeout:
			t.OnTimeout = d.str(&t.Origin, k, kv.val)
		default:
			d.unknownKey(kv.key, "approval", templateFields())
		}
	}
	switch {
	case hasDirect && hasStages:
		t.both = true
		first := keyApprovers
		if _, ok := direct.Field(first); !ok {
			first = keyRule
			if _, ok := direct.Field(first); !ok {
				first = keyRejectRule
			}
		}
		d.fs.add(direct.At(first), CodeType, "approval has both stages and %s; write one stage's approvers and rules directly, or every stage under stages", first)
	case hasDirect:
		t.Stages = []TemplateStage{direct}
	}
	return t
}

func (d *decoder) templateStage(n *yaml.Node) TemplateStage {
	var s TemplateStage
	s.Pos = d.pos(n)
	for _, kv := range d.pairs(n) {
		switch k := kv.key.Value; k {
		case keyApprovers:
			s.Approvers = d.items(&s.Origin, k, kv.val)
		case keyRule:
			s.Rule = d.str(&s.Origin, k, kv.val)
		case keyRejectRule:
			s.RejectRule = d.str(&s.Origin, k, kv.val)
		default:
			d.unknownKey(kv.key, "approval stage", stageFields())
		}
	}
	return s
}

// template checks a resource's approval template: approvers the policy
// defines, each once; rules their stage can meet; gates that are ticket
// actions; a deadline that reads.
func (v *validator) template(r *Resource) {
	t := r.Approval
	if t == nil {
		return
	}
	who := "resource '" + r.Name + "'"
	if len(t.Stages) == 0 && !t.both && !t.bad[keyStages] {
		v.fs.add(t.Pos, CodeMissing, "the approval template of %s names no approvers; add approvers: [LOGIN or group:NAME], or stages", who)
	}
	seen := map[string]Pos{}
	for i, st := range t.Stages {
		if len(st.Approvers) == 0 {
			v.missing(st.Origin, keyApprovers, "stage %d of the approval template of %s has no approvers", i+1, who)
		}
		for _, it := range st.Approvers {
			if first, dup := seen[it.Value]; dup {
				v.fs.add(it.Pos, CodeRepeated, "approver %s is named twice in the approval template of %s (first at %s); name each approver once across all stages",
					it.Value, who, first)
				continue
			}
			seen[it.Value] = it.Pos
			v.approver(it, who)
		}
		v.rule(st, keyRule, st.Rule, who)
		v.rule(st, keyRejectRule, st.RejectRule, who)
	}
	v.gates(t, who)
	if t.Due != "" {
		if err := helpdesk.CheckDue(t.Due, ""); err != nil {
			v.fs.add(t.At(keyDue), CodeInvalidValue, "due of the approval template of %s must be a duration such as 48h or 90m, not '%s'", who, t.Due)
		}
	}
	if t.OnTimeout != "" {
		switch err := helpdesk.CheckDue("1h", t.OnTimeout); {
		case err != nil:
			v.fs.add(t.At(keyOnTimeout), CodeInvalidValue, "on-timeout of the approval template of %s must be one of %s, not '%s'",
				who, strings.Join(helpdesk.TimeoutActions, ", "), t.OnTimeout)
		case t.Due == "" && !t.bad[keyDue]:
			v.fs.add(t.At(keyOnTimeout), CodeMissing, "on-timeout of the approval template of %s needs due, the time after which it applies (such as due: 48h)", who)
		}
		if to, ok := strings.CutPrefix(t.OnTimeout, "escalate-to:"); ok && to != "" && !strings.Contains(to, ":") {
			v.approver(Item{Value: to, Pos: t.At(keyOnTimeout)}, who+" (escalate-to)")
		}
	}
}

// approver checks one approver: a user or a group the policy defines.
func (v *validator) approver(it Item, who string) {
	kind, name, isGroup := strings.Cut(it.Value, ":")
	switch {
	case isGroup && kind != string(helpdesk.KindGroup):
		v.fs.add(it.Pos, CodeInvalidMember, "'%s' cannot approve for %s: approvers are logins (carol) and groups (group:finance)", it.Value, who)
	case isGroup:
		if _, ok := v.groups[name]; (!ok || name == "") && name != helpdesk.Everyone {
			v.fs.add(it.Pos, CodeUnknownMember, "unknown group '%s' among the approvers of %s%s", name, who, suggest(name, v.groupNames()))
		}
	default:
		if u, ok := v.users[it.Value]; !ok {
			v.fs.add(it.Pos, CodeUnknownMember, "unknown user '%s' among the approvers of %s%s", it.Value, who, suggest(it.Value, v.userNames()))
		} else if !u.Active {
			v.fs.add(it.Pos, CodeInvalidMember, "user '%s' is inactive and cannot approve for %s; name an active user or a group", it.Value, who)
		}
	}
}

func (v *validator) rule(st TemplateStage, key, value, who string) {
	if value == "" {
		return
	}
	r, err := helpdesk.ParseApprovalRule(key, value)
	if err != nil {
		v.fs.add(st.At(key), CodeInvalidValue, "%s '%s' in the approval template of %s is not a rule; use any, all, majority or a number of approvers (1 or more)",
			key, value, who)
		return
	}
	if n := len(st.Approvers); n > 0 && r.Kind == helpdesk.RuleCount && r.Count > n {
		v.fs.add(st.At(key), CodeInvalidValue, "%s %d in the approval template of %s asks for more approvers than the stage has (%d); lower it or name more approvers",
			key, r.Count, who, n)
	}
}

func (v *validator) gates(t *Template, who string) {
	seen := map[string]Pos{}
	for _, it := range t.Gates {
		if first, dup := seen[it.Value]; dup {
			v.fs.warn(it.Pos, CodeRepeated, "gate %s is listed twice for %s (first at %s)", it.Value, who, first)
			continue
		}
		seen[it.Value] = it.Pos
		if it.Value == helpdesk.ActRequestApproval {
			v.fs.add(it.Pos, CodeInvalidValue, "%s cannot be gated: it is how a rejected approval is asked again", it.Value)
			continue
		}
		b, builtin := v.builtins[it.Value]
		_, custom := v.actions[it.Value]
		switch {
		case !builtin && !custom:
			v.fs.add(it.Pos, CodeUnknownRight, "unknown action '%s' among the gates of %s%s", it.Value, who,
				suggestOr(it.Value, v.actionNames(), "gates are ticket actions, built in or defined under actions"))
		case builtin && b.Kind != helpdesk.KindAction:
			v.fs.add(it.Pos, CodeInvalidValue, "%s is a permission, not a ticket action; gates hold back ticket actions", it.Value)
		}
	}
}

func (v *validator) actionNames() []string {
	var out []string
	for _, r := range v.builtins {
		if r.Kind == helpdesk.KindAction && r.Name != helpdesk.ActRequestApproval {
			out = append(out, r.Name)
		}
	}
	out = append(out, sortedKeys(v.actions)...)
	return out
}

// Helpdesk converts t to the record stored on a resource. It is meant for
// a template Validate accepts.
func (t *Template) Helpdesk() *helpdesk.ApprovalTemplate {
	if t == nil {
		return nil
	}
	out := &helpdesk.ApprovalTemplate{Due: t.Due, OnTimeout: t.OnTimeout, Gates: values(t.Gates)}
	for _, st := range t.Stages {
		sp := helpdesk.StageSpec{Approvers: values(st.Approvers)}
		sp.Rule, _ = helpdesk.ParseApprovalRule(keyRule, st.Rule)
		sp.RejectRule, _ = helpdesk.ParseApprovalRule(keyRejectRule, st.RejectRule)
		out.Stages = append(out.Stages, sp)
	}
	c := out.Canonical()
	return &c
}

// templateOf converts a stored template back to a policy entry.
func templateOf(t *helpdesk.ApprovalTemplate) *Template {
	if t == nil {
		return nil
	}
	out := &Template{Due: t.Due, OnTimeout: t.OnTimeout, Gates: plainItems(t.Gates)}
	for _, sp := range t.Stages {
		st := TemplateStage{Approvers: plainItems(sp.Approvers)}
		if sp.Rule.Kind != "" && sp.Rule.Kind != helpdesk.RuleAny {
			st.Rule = sp.Rule.String()
		}
		if sp.RejectRule.Kind != "" && sp.RejectRule.Kind != helpdesk.RuleAny {
			st.RejectRule = sp.RejectRule.String()
		}
		out.Stages = append(out.Stages, st)
	}
	return out
}

// templateNode writes a template: one stage directly, several under
// stages; lists in flow style.
func templateNode(t *Template) *yaml.Node {
	m := mapping()
	stage := func(m *yaml.Node, st TemplateStage) {
		addList(m, keyApprovers, values(st.Approvers))
		if st.Rule != "" {
			add(m, keyRule, ruleNode(st.Rule))
		}
		if st.RejectRule != "" {
			add(m, keyRejectRule, ruleNode(st.RejectRule))
		}
	}
	if len(t.Stages) == 1 {
		stage(m, t.Stages[0])
	} else {
		seq := sequence()
		for _, st := range t.Stages {
			sm := mapping()
			stage(sm, st)
			seq.Content = append(seq.Content, sm)
		}
		add(m, keyStages, seq)
	}
	addList(m, keyGates, values(t.Gates))
	addString(m, keyDue, t.Due)
	addString(m, keyOnTimeout, t.OnTimeout)
	return m
}

// ruleNode writes a count as a number, the other rules as words.
func ruleNode(r string) *yaml.Node {
	if r != "" && strings.Trim(r, "0123456789") == "" {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: r}
	}
	return str(r)
}
