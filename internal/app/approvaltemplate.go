package app

import (
	"strings"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// templateSpecs returns the stages of the approval template that applies
// to ticket t (its resource's, or the nearest ancestor's), with the
// template's due time and on-timeout action as written, and the resource
// the template belongs to. Without a template it is a usage error naming
// both ways out: approvers on the command line, or a template.
func templateSpecs(c *Ctx, t helpdesk.Ticket) (stages []helpdesk.StageSpec, due, onTimeout, from string, err error) {
	var tpl helpdesk.ApprovalTemplate
	if t.Resource != "" {
		if tpl, from, err = c.Engine.Template(t.Resource); err != nil {
			return nil, "", "", "", err
		}
	}
	if from == "" || len(tpl.Stages) == 0 {
		where := "resource " + t.Resource + " has no approval template"
		res := t.Resource
		if t.Resource == "" {
			where, res = "the ticket is in no resource, so no approval template applies", "RESOURCE"
		}
		return nil, "", "", "", errs.Usagef("approval request needs --approver LOGIN: %s", where).
			WithHint("name the approvers (--approver LOGIN or group:NAME), or give resource %s an approval template (deskctl resource approval set %s --approver LOGIN, or approval: in its policy entry)", res, res)
	}
	for _, sp := range tpl.Stages {
		stages = append(stages, helpdesk.StageSpec{Approvers: append([]string(nil), sp.Approvers...), Rule: sp.Rule, RejectRule: sp.RejectRule})
	}
	return stages, tpl.Due, tpl.OnTimeout, from, nil
}

// ResourceApprovalView is the approval template that applies to a
// resource's tickets, as printed: its own, or its nearest ancestor's.
type ResourceApprovalView struct {
	Resource string `json:"resource"`
	// From is the resource whose template applies: Resource itself, an
	// ancestor, or "" when none does.
	From      string              `json:"from"`
	Inherited bool                `json:"inherited"`
	Stages    []TemplateStageView `json:"stages"`
	Gates     []string            `json:"gates"`
	Due       string              `json:"due"`
	OnTimeout string              `json:"on_timeout"`
	Summary   string              `json:"summary"`
}

// TemplateStageView is one stage of an approval template.
type TemplateStageView struct {
	Approvers  []string `json:"approvers"`
	Rule       string   `json:"rule"`
	RejectRule string   `json:"reject_rule"`
}

func resourceApprovalView(resource string, tpl helpdesk.ApprovalTemplate, from string) ResourceApprovalView {
	v := ResourceApprovalView{Resource: resource, From: from, Inherited: from != "" && from != resource,
		Stages: []TemplateStageView{}, Gates: []string{}}
	if from == "" {
		return v
	}
	tpl = tpl.Canonical()
	for _, sp := range tpl.Stages {
		v.Stages = append(v.Stages, TemplateStageView{Approvers: nonNil(sp.Approvers), Rule: sp.Rule.String(), RejectRule: sp.RejectRule.String()})
	}
	v.Gates = nonNil(tpl.Gates)
	v.Due, v.OnTimeout, v.Summary = tpl.Due, tpl.OnTimeout, tpl.String()
	return v
}

// ShowResourceApproval returns the approval template that applies to the
// resource's tickets and where it comes from.
func (s *Service) ShowResourceApproval(resource string) (ResourceApprovalView, error) {
	var out ResourceApprovalView
	err := s.readAnon(func(tx *store.Tx) error {
		r, err := mustResource(tx, resource)
		if err != nil {
			return err
		}
		tpl, from, err := access.New(tx).Template(r.Name)
		out = resourceApprovalView(r.Name, tpl, from)
		return err
	})
	return out, err
}

// SetResourceApproval replaces the resource's own approval template with
// tpl after the checks a policy file's template passes: its shape against
// the rights catalog, approvers that exist (users active), and an
// escalation to an active user.
func (s *Service) SetResourceApproval(resource string, tpl helpdesk.ApprovalTemplate) (ResourceApprovalView, error) {
	var out ResourceApprovalView
	_, err := s.write("resource approval set", func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		r, err := mustResource(c.Tx, resource)
		if err != nil {
			return err
		}
		catalog, err := c.Tx.Rights()
		if err != nil {
			return err
		}
		// An unknown gate is input to fix, like an unknown approver.
		if err := tpl.Check(catalog); err != nil {
			return notFoundAsUsage(err, "--gate: ", "gates are ticket actions: deskctl action list")
		}
		if err := checkTemplateDirectory(c.Tx, tpl); err != nil {
			return err
		}
		before := ownApprovalView(r)
		canon := tpl.Canonical()
		r.Approval = &canon
		if err := c.Tx.PutResource(r); err != nil {
			return err
		}
		out = ownApprovalView(r)
		return c.Audit("resource:"+r.Name, before, out)
	})
	return out, err
}

// ClearResourceApproval removes the resource's own approval template; its
// tickets then use the nearest ancestor's, if any. It returns what applies
// afterwards.
func (s *Service) ClearResourceApproval(resource string) (ResourceApprovalView, error) {
	var out ResourceApprovalView
	_, err := s.write("resource approval clear", func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		r, err := mustResource(c.Tx, resource)
		if err != nil {
			return err
		}
		if r.Approval == nil {
			return errs.NotFoundf("resource %s has no approval template of its own", r.Name).
				WithHint("see what applies to it: deskctl resource approval show %s", r.Name)
		}
		before := ownApprovalView(r)
		r.Approval = nil
		if err := c.Tx.PutResource(r); err != nil {
			return err
		}
		tpl, from, err := access.New(c.Tx).Template(r.Name)
		if err != nil {
			return err
		}
		out = resourceApprovalView(r.Name, tpl, from)
		return c.Audit("resource:"+r.Name, before, ownApprovalView(r))
	})
	return out, err
}

// ownApprovalView is the resource's own template, for audit records.
func ownApprovalView(r helpdesk.Resource) ResourceApprovalView {
	if r.Approval == nil {
		return resourceApprovalView(r.Name, helpdesk.ApprovalTemplate{}, "")
	}
	return resourceApprovalView(r.Name, *r.Approval, r.Name)
}

// checkTemplateDirectory looks up what a template names: each approver
// (a user who is active, or a group) and the user an escalation goes to.
func checkTemplateDirectory(tx *store.Tx, tpl helpdesk.ApprovalTemplate) error {
	for _, sp := range tpl.Stages {
		for _, ap := range sp.Approvers {
			if name, isGroup := strings.CutPrefix(ap, "group:"); isGroup {
				if _, err := mustGroup(tx, name); err != nil {
					return notFoundAsUsage(err, "", approverHint)
				}
				continue
			}
			if _, err := approvingUser(tx, ap, "", approverHint); err != nil {
				return err
			}
		}
	}
	if to, ok := strings.CutPrefix(tpl.OnTimeout, "escalate-to:"); ok {
		if _, err := approvingUser(tx, to, "--escalate-to: ", escalateHint); err != nil {
			return err
		}
	}
	return nil
}
