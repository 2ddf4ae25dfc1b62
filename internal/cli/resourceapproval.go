package cli

import (
	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

func newCmdResourceApproval(f *Factory) *cobra.Command {
	c := noun("approval", "Set, show or clear a resource's approval template", `A resource's approval template is what approval request asks when no --approver is
named for a ticket of the resource: the stages of approvers with their rules, the ticket
actions held back while the approval is pending or rejected (gates), and the deadline.
A resource without a template of its own uses its nearest ancestor's. Policy files set
the same template (approval: under the resource, docs/policy.md); see docs/approvals.md.`,
		newCmdResourceApprovalSet(f), newCmdResourceApprovalShow(f), newCmdResourceApprovalClear(f))
	c.Example = "  deskctl resource approval set purchasing --approver carol --approver group:finance --rule all --then --approver dan\n" +
		"  deskctl resource approval show purchasing.hardware\n  deskctl resource approval clear purchasing"
	return c
}

// resourceApprovalKV shows the template that applies to a resource.
func resourceApprovalKV(v app.ResourceApprovalView) output.Tab {
	from := v.From
	switch {
	case v.From == "":
		from = "(none: approval request needs --approver)"
	case v.Inherited:
		from = v.From + " (inherited)"
	}
	rows := [][2]string{{"Resource", v.Resource}, {"Template of", from}}
	for i, st := range v.Stages {
		rows = append(rows, [2]string{"Stage " + itoa(i+1), join(st.Approvers) + " (rule " + st.Rule + ", reject-rule " + st.RejectRule + ")"})
	}
	return output.KV("approval template of "+v.Resource, append(rows,
		[2]string{"Gates", join(v.Gates)}, [2]string{"Due", v.Due}, [2]string{"On timeout", v.OnTimeout})...)
}

// templateDeadline turns --due, --on-timeout and --escalate-to into a
// template's due and on-timeout as a policy file writes them (48h,
// escalate-to:dan). Without --on-timeout a request from the template
// reminds when due passes.
func templateDeadline(due, onTimeout, escalateTo string) (string, string, error) {
	d, err := deadlineFlags(due, onTimeout, escalateTo)
	if err != nil {
		return "", "", err
	}
	if d.Due == 0 {
		due = ""
	}
	if d.OnTimeout == "" && d.EscalateTo == "" {
		return due, "", nil
	}
	if due == "" {
		return "", "", errs.Usagef("--on-timeout and --escalate-to need --due").WithHint("add a due time such as --due 48h")
	}
	if d, err = d.Complete(); err != nil {
		return "", "", err
	}
	if d.OnTimeout == helpdesk.TimeoutEscalate {
		return due, "escalate-to:" + d.EscalateTo, nil
	}
	return due, string(d.OnTimeout), nil
}

func newCmdResourceApprovalSet(f *Factory) *cobra.Command {
	var due, onTimeout, escalateTo string
	var gates []string
	var stages stagesFlag
	cmd := &cobra.Command{
		Use:   "set RESOURCE --approver LOGIN|group:NAME... [--rule R] [--reject-rule R] [--then --approver ...] [--gate ACTION...] [--due D [--on-timeout A]]",
		Short: "Replace a resource's approval template (administrators)",
		Long: `Replace the resource's own approval template. The stages are written as for approval
request: repeat --approver, --rule and --reject-rule say how many approvals and rejections
settle a stage, --then starts the next stage. --gate (repeatable, or comma-separated)
names ticket actions held back while a ticket of the resource has a pending or rejected
approval. --due and --on-timeout give each request from the template its deadline.
The checks are those of a policy file: approvers that exist (users active), rules the
stage can meet, gates that are ticket actions other than request-approval, a deadline
that reads, and an escalation to an active user. The change is audited; policy plan
shows it against a file, and policy export writes it.
JSON fields: resource, from, inherited, stages (approvers, rule, reject_rule), gates,
due, on_timeout, summary.` +
			exitStatus("2  no approver, an unknown or disabled user, an unknown group, a bad rule or one the stage cannot meet, an unknown or ungateable gate, a bad --due or --on-timeout",
				"3  the resource does not exist",
				"4  you are not an administrator"),
		Example: `  deskctl resource approval set purchasing --approver carol --approver group:finance --rule all --then --approver dan
  deskctl resource approval set purchasing --approver carol --gate close --gate assign --due 48h --on-timeout reject`,
		Args:              usageArgs(1, 1, "a RESOURCE"),
		ValidArgsFunction: completeFrom(f, app.CompleteResources),
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, err := stages.specs()
			if err != nil {
				return err
			}
			due, onTimeout, err := templateDeadline(due, onTimeout, escalateTo)
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			v, err := svc.SetResourceApproval(args[0], helpdesk.ApprovalTemplate{Stages: specs, Gates: gates, Due: due, OnTimeout: onTimeout})
			if err != nil {
				return err
			}
			return f.print(v, resourceApprovalKV(v))
		},
	}
	cmd.Flags().Var(stageValue{&stages, "approver"}, "approver", "login of a user who decides, or group:NAME (repeat for several)")
	cmd.Flags().Var(stageValue{&stages, "rule"}, "rule", "approvals that settle the stage: any|all|majority|COUNT (default any)")
	cmd.Flags().Var(stageValue{&stages, "reject-rule"}, "reject-rule", "rejections that settle the stage: any|all|majority|COUNT (default any)")
	cmd.Flags().Var(stageValue{&stages, "then"}, "then", "start the next stage: the approvers after it are asked once this stage is approved")
	cmd.Flags().Lookup("then").NoOptDefVal = "true"
	cmd.Flags().StringSliceVar(&gates, "gate", nil, "ticket action held back while the approval is pending or rejected (repeat for several)")
	cmd.Flags().StringVar(&due, "due", "", "how long each stage of a request has, e.g. 48h")
	cmd.Flags().StringVar(&onTimeout, "on-timeout", "", "when a stage is not settled in time: remind|reject|cancel|escalate (default remind)")
	cmd.Flags().StringVar(&escalateTo, "escalate-to", "", "with --on-timeout escalate: the user who takes the place of the undecided approvers")
	_ = cmd.RegisterFlagCompletionFunc("approver", completeValue(f, app.CompleteMembers))
	_ = cmd.RegisterFlagCompletionFunc("rule", fixedCompletion("any", "all", "majority"))
	_ = cmd.RegisterFlagCompletionFunc("reject-rule", fixedCompletion("any", "all", "majority"))
	_ = cmd.RegisterFlagCompletionFunc("gate", completeValue(f, app.CompleteActions))
	_ = cmd.RegisterFlagCompletionFunc("on-timeout", fixedCompletion("remind", "reject", "cancel", "escalate"))
	_ = cmd.RegisterFlagCompletionFunc("escalate-to", completeValue(f, app.CompleteUsers))
	return cmd
}

func newCmdResourceApprovalShow(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show RESOURCE",
		Short: "Show the approval template that applies to a resource",
		Long: `Show the approval template that applies to tickets of the resource: its own, or the
nearest ancestor's, named under "Template of". JSON fields: resource, from ("" when no
template applies), inherited, stages (approvers, rule, reject_rule), gates, due,
on_timeout, summary.` + exitStatus("3  the resource does not exist"),
		Example:           "  deskctl resource approval show purchasing.hardware -o json",
		Args:              usageArgs(1, 1, "a RESOURCE"),
		ValidArgsFunction: completeFrom(f, app.CompleteResources),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			v, err := svc.ShowResourceApproval(args[0])
			if err != nil {
				return err
			}
			return f.print(v, resourceApprovalKV(v))
		},
	}
}

func newCmdResourceApprovalClear(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "clear RESOURCE",
		Short: "Remove a resource's own approval template (administrators)",
		Long: `Remove the resource's own approval template. Its tickets then use the nearest
ancestor's template, if any; it prints what applies afterwards (fields as for show).
Approvals already requested keep their stages. The change is audited.` +
			exitStatus("3  the resource does not exist, or has no approval template of its own",
				"4  you are not an administrator"),
		Example:           "  deskctl resource approval clear purchasing",
		Args:              usageArgs(1, 1, "a RESOURCE"),
		ValidArgsFunction: completeFrom(f, app.CompleteResources),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			v, err := svc.ClearResourceApproval(args[0])
			if err != nil {
				return err
			}
			return f.print(v, resourceApprovalKV(v))
		},
	}
}
