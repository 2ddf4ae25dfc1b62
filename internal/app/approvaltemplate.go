package app

import (
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
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
			WithHint("name the approvers (--approver LOGIN or group:NAME), or give resource %s an approval template (approval: in its policy entry, then deskctl policy apply)", res)
	}
	for _, sp := range tpl.Stages {
		stages = append(stages, helpdesk.StageSpec{Approvers: append([]string(nil), sp.Approvers...), Rule: sp.Rule, RejectRule: sp.RejectRule})
	}
	return stages, tpl.Due, tpl.OnTimeout, from, nil
}
