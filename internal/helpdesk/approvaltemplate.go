package helpdesk

import (
	"slices"
	"strconv"
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
)

// ApprovalTemplate is a resource's standing approval: the stages
// `approval request` asks when no approver is named, the ticket actions it
// holds back while a ticket of the resource has a pending or rejected
// approval, and the deadline carried into each request. A resource without
// a template of its own uses its nearest ancestor's (EffectiveTemplate).
type ApprovalTemplate struct {
	Stages []StageSpec `json:"stages"`
	// Gates are ticket actions held back, in addition to the setting
	// approvals.gate-actions, for tickets of the resource.
	Gates []string `json:"gates,omitempty"`
	// Due is how long the approvers have, as a Go duration such as 48h;
	// OnTimeout is what happens when it passes. Both are kept as written
	// and handed to the request.
	Due       string `json:"due,omitempty"`
	OnTimeout string `json:"on_timeout,omitempty"`
}

// TimeoutActions are the values OnTimeout may take, as people write them.
var TimeoutActions = []string{"remind", "reject", "cancel", "escalate-to:LOGIN"}

// Canonical returns a copy of t with rules spelled out ("any" for the
// zero rule) and gates sorted without repeats, so that two templates that
// mean the same are equal.
func (t ApprovalTemplate) Canonical() ApprovalTemplate {
	out := ApprovalTemplate{Due: t.Due, OnTimeout: t.OnTimeout}
	for _, sp := range t.Stages {
		c := StageSpec{Approvers: slices.Clone(sp.Approvers), Rule: sp.Rule, RejectRule: sp.RejectRule}
		if c.Rule.Kind == "" {
			c.Rule.Kind = RuleAny
		}
		if c.RejectRule.Kind == "" {
			c.RejectRule.Kind = RuleAny
		}
		out.Stages = append(out.Stages, c)
	}
	if len(t.Gates) > 0 {
		out.Gates = slices.Clone(t.Gates)
		slices.Sort(out.Gates)
		out.Gates = slices.Compact(out.Gates)
	}
	return out
}

// Equal reports whether two templates mean the same.
func (t ApprovalTemplate) Equal(u ApprovalTemplate) bool {
	a, b := t.Canonical(), u.Canonical()
	if a.Due != b.Due || a.OnTimeout != b.OnTimeout || !slices.Equal(a.Gates, b.Gates) || len(a.Stages) != len(b.Stages) {
		return false
	}
	for i := range a.Stages {
		x, y := a.Stages[i], b.Stages[i]
		if x.Rule != y.Rule || x.RejectRule != y.RejectRule || !slices.Equal(x.Approvers, y.Approvers) {
			return false
		}
	}
	return true
}

// String writes the template on one line, the way plans and listings show
// it: "carol, group:finance (all) then dan; gates close, assign; due 48h
// (remind)".
func (t ApprovalTemplate) String() string {
	var stages []string
	for _, sp := range t.Stages {
		s := strings.Join(sp.Approvers, ", ")
		var rules []string
		if sp.Rule.Kind != "" && sp.Rule.Kind != RuleAny {
			rules = append(rules, sp.Rule.String())
		}
		if sp.RejectRule.Kind != "" && sp.RejectRule.Kind != RuleAny {
			rules = append(rules, "reject "+sp.RejectRule.String())
		}
		if len(rules) > 0 {
			s += " (" + strings.Join(rules, ", ") + ")"
		}
		stages = append(stages, s)
	}
	out := strings.Join(stages, " then ")
	if len(t.Gates) > 0 {
		out += "; gates " + strings.Join(t.Gates, ", ")
	}
	if t.Due != "" {
		out += "; due " + t.Due
		if t.OnTimeout != "" {
			out += " (" + t.OnTimeout + ")"
		}
	}
	return out
}

// CheckDue checks a template's deadline: a duration ParseDue accepts, and
// an on-timeout action ParseOnTimeout reads (escalation naming its user)
// only together with it.
func CheckDue(due, onTimeout string) error {
	if _, err := ParseDue("due", due); err != nil {
		return err
	}
	if onTimeout != "" {
		act, to, err := ParseOnTimeout(onTimeout)
		if err == nil && act == TimeoutEscalate && to == "" {
			err = errs.Usagef("on-timeout escalate needs the user to escalate to").WithHint("write escalate-to:LOGIN")
		}
		if err != nil {
			return errs.Usagef("on-timeout %q is not known", onTimeout).WithHint("use one of %s", strings.Join(TimeoutActions, ", "))
		}
		if due == "" {
			return errs.Usagef("on-timeout %s needs a due time", onTimeout).WithHint("add a due time such as 48h")
		}
	}
	return nil
}

// Deadline is the template's deadline as a request takes it; the zero
// spec when the template has none. Check has accepted it before.
func (t ApprovalTemplate) Deadline() (DeadlineSpec, error) {
	var d DeadlineSpec
	var err error
	if d.Due, err = ParseDue("due", t.Due); err != nil || t.OnTimeout == "" {
		return d, err
	}
	d.OnTimeout, d.EscalateTo, err = ParseOnTimeout(t.OnTimeout)
	return d, err
}

// Check checks a template's shape against catalog: every stage names
// approvers (each once across the template) under rules they can meet, the
// gates are ticket actions that may be gated, and the deadline reads. It
// does not look the approvers up; the caller does, against its directory.
func (t ApprovalTemplate) Check(catalog []Right) error {
	if len(t.Stages) == 0 {
		return errs.Usagef("an approval template needs at least one approver").WithHint("name them with --approver LOGIN or --approver group:NAME")
	}
	seen := map[string]bool{}
	for i, sp := range t.Stages {
		label := "stage " + strconv.Itoa(i+1)
		if len(sp.Approvers) == 0 {
			return errs.Usagef("%s has no approver", label).WithHint("name at least one --approver in each stage")
		}
		for _, ap := range sp.Approvers {
			if seen[ap] {
				return errs.Usagef("approver %s is named twice", ap).WithHint("name each approver once across all stages")
			}
			seen[ap] = true
		}
		if err := sp.Rule.Check("--rule", len(sp.Approvers)); err != nil {
			return err
		}
		if err := sp.RejectRule.Check("--reject-rule", len(sp.Approvers)); err != nil {
			return err
		}
	}
	if len(t.Gates) > 0 {
		v := strings.Join(t.Gates, ",")
		if err := checkGateActions(v); err != nil {
			return err
		}
		if err := CheckGateActions(v, catalog); err != nil {
			return err
		}
	}
	return CheckDue(t.Due, t.OnTimeout)
}

// EffectiveTemplate returns the template that applies to tickets of
// resource: its own, or else its nearest ancestor's. from names the
// resource whose template it is ("" when none applies). lookup returns a
// resource by name; a missing resource or a parent cycle ends the walk.
func EffectiveTemplate(resource string, lookup func(name string) (Resource, bool, error)) (tpl ApprovalTemplate, from string, err error) {
	seen := map[string]bool{}
	for name := resource; name != "" && !seen[name]; {
		seen[name] = true
		r, ok, err := lookup(name)
		if err != nil || !ok {
			return ApprovalTemplate{}, "", err
		}
		if r.Approval != nil {
			return *r.Approval, r.Name, nil
		}
		name = r.Parent
	}
	return ApprovalTemplate{}, "", nil
}
