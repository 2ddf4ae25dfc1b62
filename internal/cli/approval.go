package cli

import (
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

var _ = register("approval", func(f *Factory) (string, *cobra.Command) {
	return "work", noun("approval", "Ad-hoc ticket approvals by email", `A technician asks any registered user to approve a ticket. The approver gets a mail
with Approve and Reject links that need no login; the link opens a confirmation page
served by `+"`deskctl serve`"+` where they may comment and decide. The requesting
technician is mailed the outcome. Request, cancel, reminder and decision are logged on
the ticket as technician-only system entries. Approvals must first be enabled:
`+"`deskctl settings set approvals.enabled true`.",
		newCmdApprovalRequest(f), newCmdApprovalShow(f), newCmdApprovalList(f), newCmdApprovalCancel(f),
		newCmdApprovalRemind(f), newCmdApprovalDecide(f, "approve"), newCmdApprovalDecide(f, "reject"), newCmdApprovalToken(f),
		newCmdApprovalDelegate(f), newCmdApprovalDelegations(f))
})

func approvalTab(vs []app.ApprovalView) output.Tab {
	t := output.Tab{Columns: output.Cols("#", "STATE", "APPROVER", "REQUESTED BY", "REQUESTED", "BADGE", "SUBJECT+", "LINK EXPIRES+"), Empty: "no approvals"}
	for _, v := range vs {
		t.Rows = append(t.Rows, []string{itoa(v.Ticket), v.State, v.Approver, v.RequestedBy, ts(v.RequestedAt), v.Badge, v.TicketSubject, linkExpires(v)})
	}
	return t
}

// linkExpires is when the approver's link stops working; a pending request
// has none until its mail leaves the outbox (the link is made then).
func linkExpires(v app.ApprovalView) string {
	if v.LinkExpires.IsZero() && v.State == "pending" {
		return "no link sent yet"
	}
	return ts(v.LinkExpires)
}

func approvalKV(v app.ApprovalView) output.Tab {
	rows := [][2]string{{"Ticket", "#" + itoa(v.Ticket) + " " + v.TicketSubject}, {"Approval", v.Badge},
		{"State", v.State}, {"Approver", v.Approver}, {"Requested by", v.RequestedBy},
		{"Requested at", ts(v.RequestedAt)}, {"Note", v.Note}, {"Decided at", ts(v.DecidedAt)},
		{"Comment", v.Comment}, {"Cancelled by", v.CancelledBy}, {"Link expires", linkExpires(v)},
		{"Round", itoa(v.Round)}, {"Reminders", itoa(v.Reminders)}}
	if v.OnTimeout != "" {
		onTimeout := v.OnTimeout
		if v.EscalateTo != "" {
			onTimeout += " to " + v.EscalateTo
		}
		due := "—"
		if !v.Due.IsZero() {
			due = ts(v.Due.Time)
		}
		rows = append(rows, [2]string{"Due", due + " (each stage " + v.DueWindow + " after it opens)"}, [2]string{"On timeout", onTimeout})
	}
	if severalApprovers(v) {
		rows = append(rows, stageRows(v)...)
	}
	return output.KV("approval of #"+itoa(v.Ticket), rows...)
}

// severalApprovers reports whether v is more than one user in one stage,
// whose stages are listed in show.
func severalApprovers(v app.ApprovalView) bool {
	return len(v.Stages) > 1 || (len(v.Stages) == 1 && (len(v.Stages[0].Approvers) > 1 || strings.HasPrefix(v.Stages[0].Approvers[0].Approver, "group:")))
}

// stageRows lists each stage with its rules, then each approver with their
// decision: who (for a group, which member), when, how, and the comment.
func stageRows(v app.ApprovalView) [][2]string {
	var rows [][2]string
	for _, st := range v.Stages {
		rows = append(rows, [2]string{"Stage " + itoa(st.Stage), st.State + " — rule " + st.Rule + " (" + itoa(st.Needed) + " of " +
			itoa(len(st.Approvers)) + "), reject-rule " + st.RejectRule})
		for _, a := range st.Approvers {
			text := "waiting"
			if st.State == "waiting" {
				text = "not asked yet"
			}
			if a.Decision != "" {
				text = a.Decision + " by " + a.DecidedBy
				if strings.HasPrefix(a.Approver, "group:") {
					text += " for " + a.Approver
				}
				text += " at " + ts(a.DecidedAt) + " (" + a.Via + ")"
				if a.Comment != "" {
					text += ": " + a.Comment
				}
			} else if strings.HasPrefix(a.Approver, "group:") {
				text += " (asked: " + strings.Join(a.Asked, ", ") + ")"
			}
			rows = append(rows, [2]string{"  " + a.Approver, text})
		}
	}
	return rows
}

func (f *Factory) printApproval(v app.ApprovalView, d app.Delivery, err error) error {
	if err != nil {
		return err
	}
	f.reportDelivery(d)
	return f.print(v, approvalKV(v))
}

// deadlineFlags reads --due, --on-timeout and --escalate-to; what they
// leave out the service fills in (approvals.default-due, remind).
func deadlineFlags(due, onTimeout, escalateTo string) (helpdesk.DeadlineSpec, error) {
	var d helpdesk.DeadlineSpec
	var err error
	if d.Due, err = helpdesk.ParseDue("--due", due); err != nil {
		return d, err
	}
	if onTimeout != "" {
		var to string
		if d.OnTimeout, to, err = helpdesk.ParseOnTimeout(onTimeout); err != nil {
			return d, err
		}
		if to != "" && escalateTo != "" && to != escalateTo {
			return d, errs.Usagef("--on-timeout %s and --escalate-to %s name different users", onTimeout, escalateTo).
				WithHint("give the user once: --on-timeout escalate --escalate-to LOGIN")
		}
		if to != "" {
			escalateTo = to
		}
	}
	d.EscalateTo = escalateTo
	return d, nil
}

// stagesFlag collects --approver, --rule, --reject-rule and --then in the
// order they were given: each --then starts the next stage, and the other
// three apply to the stage being written.
type stagesFlag struct {
	stages []stageFlags
}

type stageFlags struct {
	approvers          []string
	rule, reject       string
	ruleSet, rejectSet bool
	// twice and twiceReject: the flag was given again for the same stage.
	twice, twiceReject bool
}

func (s *stagesFlag) current() *stageFlags {
	if len(s.stages) == 0 {
		s.stages = append(s.stages, stageFlags{})
	}
	return &s.stages[len(s.stages)-1]
}

// stageValue is one of the four flags, writing into the shared stagesFlag.
type stageValue struct {
	s    *stagesFlag
	kind string // approver, rule, reject-rule, then
}

func (v stageValue) String() string { return "" }
func (v stageValue) Type() string {
	switch v.kind {
	case "then":
		return "bool"
	case "approver":
		return "LOGIN|group:NAME"
	}
	return "RULE"
}

func (v stageValue) Set(val string) error {
	switch v.kind {
	case "then":
		v.s.current()
		v.s.stages = append(v.s.stages, stageFlags{})
	case "approver":
		st := v.s.current()
		st.approvers = append(st.approvers, val)
	case "rule":
		st := v.s.current()
		st.twice = st.twice || st.ruleSet
		st.rule, st.ruleSet = val, true
	case "reject-rule":
		st := v.s.current()
		st.twiceReject = st.twiceReject || st.rejectSet
		st.reject, st.rejectSet = val, true
	}
	return nil
}

// specs turns the flags into stages, checking the rules' spelling.
func (s *stagesFlag) specs() ([]helpdesk.StageSpec, error) {
	var out []helpdesk.StageSpec
	for i, st := range s.stages {
		for _, dup := range []struct {
			flag string
			on   bool
		}{{"--rule", st.twice}, {"--reject-rule", st.twiceReject}} {
			if dup.on {
				return nil, errs.Usagef("%s is given twice for stage %d", dup.flag, i+1).
					WithHint("give one %s per stage; --then starts the next stage", dup.flag)
			}
		}
		rule, err := helpdesk.ParseApprovalRule("--rule", st.rule)
		if err != nil {
			return nil, err
		}
		reject, err := helpdesk.ParseApprovalRule("--reject-rule", st.reject)
		if err != nil {
			return nil, err
		}
		out = append(out, helpdesk.StageSpec{Approvers: st.approvers, Rule: rule, RejectRule: reject})
	}
	return out, nil
}

func newCmdApprovalRequest(f *Factory) *cobra.Command {
	var note, due, onTimeout, escalateTo string
	var stages stagesFlag
	cmd := &cobra.Command{
		Use:   "request N [--approver LOGIN|group:NAME... [--rule R] [--reject-rule R] [--then --approver ...]] [--note TEXT]",
		Short: "Ask one or more users or groups to approve a ticket (technicians)",
		Long: `Ask any active user to approve ticket N. You need the request-approval action
available on the ticket (Resource Members and Dispatchers holding it). A ticket has one
approval record: while it is pending a new request is refused; after a decision or a
cancel, requesting again resets it to pending with a new link (older links stop working).
The approver mail is queued in the same transaction and sent after commit; if SMTP is
down, not configured, or does not answer within smtp.send-wait (default 5s), the request
still succeeds and the mail waits in the outbox for mail flush or deskctl serve.
While the approver's delegation is active (see approval delegate), the request goes to
their delegate, who decides for them, and the approver is mailed that it did.

Several approvers: repeat --approver. A group (group:NAME) counts as one approver: each
of its active members gets a link of their own, and the first to decide decides for the
group. --rule says how many approvals settle the stage: any (the default), all,
majority (more than half) or a number. Any rejection rejects unless --reject-rule says
how many rejections it takes (any, all, majority or a number); approvals and rejections
are counted separately, and a stage whose rule can no longer be met is rejected.

Stages: --then starts the next stage, with its own --approver, --rule and --reject-rule.
A stage's mails go out when the stage before it is approved; a rejected stage rejects the
request. The technician is mailed once, when the request as a whole is decided.

Without --approver, the request asks the stages of the approval template of the ticket's
resource (or of its nearest ancestor with one), set in a policy file (docs/policy.md).
See docs/approvals.md.` +
			exitStatus("2  no approver and no approval template, an unknown or disabled approver, an empty group, a rule the stage cannot meet, an approver named twice (exit 3 and 5 for the one-approver form, as before)",
				"4  request-approval is not available to you on this ticket",
				"5  approvals are off, an approval is pending, or the approver is disabled or away without a usable delegate"),
		Example: `  deskctl approval request 42 --approver carol --note "new laptop over budget"
  deskctl approval request 42 --approver carol --approver group:finance --rule all
  deskctl approval request 42 --approver carol --then --approver group:finance --approver dan --rule majority
  deskctl approval request 42 --note "as the purchasing template says"`,
		Args: usageArgs(1, 1, "a ticket number"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := parseTicket(args[0])
			if err != nil {
				return err
			}
			specs, err := stages.specs()
			if err != nil {
				return err
			}
			fromTemplate := len(specs) == 0 || (len(specs) == 1 && len(specs[0].Approvers) == 0 && !stages.stages[0].ruleSet && !stages.stages[0].rejectSet)
			if !fromTemplate && len(specs) == 1 && len(specs[0].Approvers) == 0 {
				return errs.Usagef("--rule and --reject-rule need --approver LOGIN").
					WithHint("name the stage's approvers, or leave out every flag to use the resource's approval template")
			}
			dl, err := deadlineFlags(due, onTimeout, escalateTo)
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			if fromTemplate {
				specs = nil
			}
			return f.printApproval(svc.RequestApprovalWith(app.ApprovalRequestInput{Ticket: n, Stages: specs, Note: note, Deadline: dl}))
		},
		ValidArgsFunction: completeTickets(f),
	}
	cmd.Flags().Var(stageValue{&stages, "approver"}, "approver", "login of a user who decides, or group:NAME (repeat for several)")
	cmd.Flags().Var(stageValue{&stages, "rule"}, "rule", "approvals that settle the stage: any|all|majority|COUNT (default any)")
	cmd.Flags().Var(stageValue{&stages, "reject-rule"}, "reject-rule", "rejections that settle the stage: any|all|majority|COUNT (default any)")
	cmd.Flags().Var(stageValue{&stages, "then"}, "then", "start the next stage: the approvers after it are asked once this stage is approved")
	cmd.Flags().Lookup("then").NoOptDefVal = "true"
	cmd.Flags().StringVar(&note, "note", "", "what the approver should know")
	cmd.Flags().StringVar(&due, "due", "", "each stage must be settled this long after it opens, e.g. 48h (default approvals.default-due)")
	cmd.Flags().StringVar(&onTimeout, "on-timeout", "", "when a stage is not settled in time: remind|reject|cancel|escalate (default remind)")
	cmd.Flags().StringVar(&escalateTo, "escalate-to", "", "with --on-timeout escalate: the user who takes the place of the undecided approvers")
	_ = cmd.RegisterFlagCompletionFunc("on-timeout", fixedCompletion("remind", "reject", "cancel", "escalate"))
	_ = cmd.RegisterFlagCompletionFunc("escalate-to", completeValue(f, app.CompleteUsers))
	_ = cmd.RegisterFlagCompletionFunc("approver", completeValue(f, app.CompleteUsers))
	_ = cmd.RegisterFlagCompletionFunc("rule", fixedCompletion("any", "all", "majority"))
	_ = cmd.RegisterFlagCompletionFunc("reject-rule", fixedCompletion("any", "all", "majority"))
	return cmd
}

func newCmdApprovalShow(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show N",
		Short: "Show a ticket's approval record",
		Long: `Show the approval record: state and badge, approver, requested by and at, note,
decision, comment, decided at, link expiry. Visible to the ticket's technicians, the
approver, the requesting technician and administrators.
JSON fields: ticket, ticket_subject, state, approver, requested_by, requested_at, note,
decided_by, decided_at, comment, cancelled_by, link_expires, round, reminders, badge.` + exitStatus(),
		Example:           "  deskctl approval show 42",
		Args:              usageArgs(1, 1, "a ticket number"),
		ValidArgsFunction: completeTickets(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := parseTicket(args[0])
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			v, err := svc.ShowApproval(n)
			return f.printApproval(v, app.Delivery{}, err)
		},
	}
}

func newCmdApprovalList(f *Factory) *cobra.Command {
	var q app.ApprovalQuery
	var older string
	cmd := &cobra.Command{
		Use:   "list [--state pending] [--approver U] [--requested-by U] [--older-than 48h]",
		Short: "List approvals, oldest request first",
		Long: `List the approvals you may see, oldest request first, to chase what is waiting.
JSON fields: as approval show, one object per approval.` + exitStatus(),
		Example: "  deskctl approval list --state pending --older-than 48h\n  deskctl approval list --approver carol -o json",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if older != "" {
				d, err := time.ParseDuration(older)
				if err != nil || d < 0 {
					return errs.Usagef("--older-than %q is not a duration", older).WithHint("write it like 48h")
				}
				q.OlderThan = d
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			vs, err := svc.ListApprovals(q)
			if err != nil {
				return err
			}
			return f.print(vs, approvalTab(vs))
		},
	}
	cmd.Flags().StringVar(&q.State, "state", "", "pending|approved|rejected|cancelled")
	cmd.Flags().StringVar(&q.Approver, "approver", "", "approver login")
	cmd.Flags().StringVar(&q.RequestedBy, "requested-by", "", "requesting technician's login")
	cmd.Flags().StringVar(&older, "older-than", "", "only requests older than this, e.g. 48h")
	_ = cmd.RegisterFlagCompletionFunc("state", fixedCompletion("pending", "approved", "rejected", "cancelled"))
	_ = cmd.RegisterFlagCompletionFunc("approver", completeValue(f, app.CompleteUsers))
	_ = cmd.RegisterFlagCompletionFunc("requested-by", completeValue(f, app.CompleteUsers))
	return cmd
}

func newCmdApprovalCancel(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel N",
		Short: "Cancel a pending approval (administrators)",
		Long: `Cancel a pending approval request. The link stops working at once and the
approver is mailed that the request was withdrawn.` + exitStatus("5  the approval is not pending"),
		Example:           "  deskctl approval cancel 42",
		Args:              usageArgs(1, 1, "a ticket number"),
		ValidArgsFunction: completeTickets(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := parseTicket(args[0])
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			return f.printApproval(svc.CancelApproval(n))
		},
	}
}

func newCmdApprovalRemind(f *Factory) *cobra.Command {
	var due bool
	cmd := &cobra.Command{
		Use:   "remind N | remind --due",
		Short: "Re-send the approver mail with a fresh link, or sweep what is due",
		Long: `Send the approver a reminder with a new link; the previous link stops working.
Allowed to technicians who may request approval on the ticket, and administrators.

With --due and no ticket (administrators; for cron when no deskctl serve runs), do one
sweep as a running serve does every minute: remind the undecided approvers of every
pending request whose automatic reminder is due (approvals.remind-after, remind-every,
remind-max), and carry out every deadline that has come (--due and --on-timeout of
approval request). With approvals.digest on, a person with two or more requests waiting
since before the day's digest time gets one digest mail listing them all, in place of
their automatic reminders. Each is logged on its ticket, audited, and printed. Sweeps by
several processes at once never remind or time out a request twice, nor send a person two
digests in one period.
JSON fields (--due): at, actions (ticket, tickets, action, to, detail);
action is remind, digest, timeout-remind, timeout-reject, timeout-cancel or timeout-escalate.` +
			exitStatus("2  a ticket with --due, or neither", "4  --due and you are not an administrator", "5  the approval is not pending"),
		Example:           "  deskctl approval remind 42\n  # from cron, every few minutes:\n  deskctl approval remind --due -o json",
		Args:              usageArgs(0, 1, "a ticket number, or --due alone"),
		ValidArgsFunction: completeTickets(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if due == (len(args) == 1) {
				return errs.Usagef("approval remind needs a ticket number, or --due alone").
					WithHint("remind one request: deskctl approval remind N; sweep every due one: deskctl approval remind --due")
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			if due {
				res, d, err := svc.SweepApprovals()
				if err != nil {
					return err
				}
				f.reportDelivery(d)
				return f.print(res, sweepTab(res))
			}
			n, err := parseTicket(args[0])
			if err != nil {
				return err
			}
			return f.printApproval(svc.RemindApproval(n))
		},
	}
	cmd.Flags().BoolVar(&due, "due", false, "sweep: send the automatic reminders and carry out the deadlines that are due")
	return cmd
}

func sweepTab(r app.SweepResult) output.Tab {
	t := output.Tab{Columns: output.Cols("#", "ACTION", "TO", "DETAIL"), Empty: "nothing due"}
	for _, a := range r.Actions {
		num := itoa(a.Ticket)
		if len(a.Tickets) > 1 {
			var ns []string
			for _, n := range a.Tickets {
				ns = append(ns, itoa(n))
			}
			num = strings.Join(ns, ",")
		}
		t.Rows = append(t.Rows, []string{num, a.Action, strings.Join(a.To, ", "), a.Detail})
	}
	return t
}

func newCmdApprovalDecide(f *Factory, verb string) *cobra.Command {
	var comment string
	cmd := &cobra.Command{
		Use:   verb + " N [--comment TEXT]",
		Short: "As the approver, " + verb + " a pending request",
		Long: `Decide a pending approval yourself on the command line (you must be its approver).
The technician who asked is mailed the outcome and comment.` +
			exitStatus("4  you are not the approver", "5  the approval is not pending"),
		Example:           "  deskctl --as carol approval " + verb + " 42 --comment \"ok within budget\"",
		Args:              usageArgs(1, 1, "a ticket number"),
		ValidArgsFunction: completeTickets(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := parseTicket(args[0])
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			return f.printApproval(svc.Decide(n, verb == "approve", comment))
		},
	}
	cmd.Flags().StringVar(&comment, "comment", "", "optional comment for the technician")
	return cmd
}

func newCmdApprovalToken(f *Factory) *cobra.Command {
	var token, comment string
	var approve, reject bool
	cmd := &cobra.Command{
		Use:   "decide --token T --approve|--reject [--comment TEXT]",
		Short: "Decide with a link's token (for scripts; no login)",
		Long: `Decide with the token from an approval link, as the page does. The token is the
bearer secret from the mail: single use, expires with approvals.link-ttl. Pass it with
--token or DESKCTL_APPROVAL_TOKEN (keeps it out of the process list).` +
			exitStatus("3  the link is unknown or tampered", "5  the link was used, cancelled, superseded or expired"),
		Example: "  DESKCTL_APPROVAL_TOKEN=… deskctl approval decide --approve --comment ok",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if token == "" {
				token = envToken()
			}
			if token == "" {
				return errs.Usagef("approval decide needs --token or DESKCTL_APPROVAL_TOKEN")
			}
			if approve == reject {
				return errs.Usagef("pass exactly one of --approve and --reject")
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			return f.printApproval(svc.DecideByToken(token, approve, comment))
		},
	}
	cmd.Flags().StringVar(&token, "token", "", "the token from the approval link")
	cmd.Flags().BoolVar(&approve, "approve", false, "approve")
	cmd.Flags().BoolVar(&reject, "reject", false, "reject")
	cmd.Flags().StringVar(&comment, "comment", "", "optional comment")
	return cmd
}
