package cli

import (
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

func delegationUntil(v app.DelegationView) string {
	if v.Until.IsZero() {
		return "until cleared"
	}
	return ts(v.Until)
}

func delegationTab(vs []app.DelegationView) output.Tab {
	t := output.Tab{Columns: output.Cols("USER", "DELEGATE", "FROM", "UNTIL", "STATE", "SET BY", "SET AT+"), Empty: "no delegations"}
	for _, v := range vs {
		t.Rows = append(t.Rows, []string{v.User, v.Delegate, ts(v.From), delegationUntil(v), v.State, v.SetBy, ts(v.SetAt)})
	}
	return t
}

func delegationKV(v app.DelegationView) output.Tab {
	return output.KV("delegation of "+v.User,
		[2]string{"User", v.User + " (" + v.UserName + ")"}, [2]string{"Delegate", v.Delegate + " (" + v.DelegateName + ")"},
		[2]string{"From", ts(v.From)}, [2]string{"Until", delegationUntil(v)}, [2]string{"State", v.State},
		[2]string{"Set by", v.SetBy}, [2]string{"Set at", ts(v.SetAt)})
}

func newCmdApprovalDelegate(f *Factory) *cobra.Command {
	var to, from, until string
	var openEnded, clearing bool
	cmd := &cobra.Command{
		Use:   "delegate USER --to LOGIN [--from WHEN] (--until WHEN | --open-ended) | delegate USER --clear",
		Short: "Let another user decide USER's approvals while they are away",
		Long: `Name a delegate who receives USER's approval requests during a window. A request made
while the window is active goes to the delegate, who decides for USER: the record and
the ticket log say "Dave User for Carol Jones", and USER is mailed that the delegate
got it. Requests made before the window keep their links.

WHEN is a date (2026-12-20) in the local time zone, or an RFC 3339 time. A date for
--from means the start of that day, for --until the end of it: --until 2027-01-06
covers the 6th. --from defaults to now. An end is required: --until, or --open-ended
for a delegation that lasts until --clear.

Users set their own delegation; administrators set anyone's. A user has one
delegation: a new one replaces the previous one (the command says so). The delegate
must be another active user with an email address. Delegations do not chain: while the
delegate is away too, a request to USER is refused, as is one to a disabled user.
--clear removes USER's delegation.
JSON fields: user, user_name, delegate, delegate_name, from, until (null when
open-ended), state (scheduled, active, ended), set_by, set_at, replaced (the previous
delegate, "" if none).` +
			exitStatus("2  bad dates, no end, --to and --clear together, or USER as their own delegate",
				"3  no such user, or (--clear) USER has no delegation",
				"4  USER is someone else and you are not an administrator",
				"5  the delegate is disabled or has no email address"),
		Example: `  deskctl approval delegate carol --to dave --from 2026-12-20 --until 2027-01-06
  deskctl approval delegate carol --to dave --open-ended
  deskctl approval delegate carol --clear`,
		Args:              usageArgs(1, 1, "a user login"),
		ValidArgsFunction: completeValue(f, app.CompleteUsers),
		RunE: func(cmd *cobra.Command, args []string) error {
			if clearing {
				if to != "" || from != "" || until != "" || openEnded {
					return errs.Usagef("--clear takes no --to, --from, --until or --open-ended").
						WithHint("clear with: deskctl approval delegate %s --clear", args[0])
				}
				svc, err := f.Service()
				if err != nil {
					return err
				}
				v, err := svc.ClearDelegation(args[0])
				if err != nil {
					return err
				}
				f.notef("cleared the delegation of %s to %s; their approval requests come to them again", v.User, v.Delegate)
				return f.print(v, delegationKV(v))
			}
			if to == "" {
				return errs.Usagef("approval delegate needs --to LOGIN, or --clear").
					WithHint("deskctl approval delegate %s --to LOGIN --until DATE", args[0])
			}
			in := app.DelegationInput{User: args[0], To: to, OpenEnded: openEnded}
			var err error
			if from != "" {
				if in.From, err = helpdesk.ParseWindowTime("--from", from, false, time.Local); err != nil {
					return err
				}
			}
			if until != "" {
				if in.Until, err = helpdesk.ParseWindowTime("--until", until, true, time.Local); err != nil {
					return err
				}
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			v, err := svc.SetDelegation(in)
			if err != nil {
				return err
			}
			if v.Replaced != "" {
				f.notef("replaced the delegation of %s to %s: a user has one delegate at a time", v.User, v.Replaced)
			}
			return f.print(v, delegationKV(v))
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "login of the delegate")
	cmd.Flags().StringVar(&from, "from", "", "start: a date or RFC 3339 time (default now)")
	cmd.Flags().StringVar(&until, "until", "", "end: a date (covers that day) or RFC 3339 time")
	cmd.Flags().BoolVar(&openEnded, "open-ended", false, "no end: delegate until --clear")
	cmd.Flags().BoolVar(&clearing, "clear", false, "remove USER's delegation")
	_ = cmd.RegisterFlagCompletionFunc("to", completeValue(f, app.CompleteUsers))
	return cmd
}

func newCmdApprovalDelegations(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "delegations",
		Short: "List approval delegations",
		Long: `List delegations with their window and state at this moment (scheduled, active or
ended). Administrators see all of them; other users those they gave or received.
JSON fields: as approval delegate, one object per delegation.` + exitStatus(),
		Example: "  deskctl approval delegations\n  deskctl approval delegations -o json",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			vs, err := svc.ListDelegations()
			if err != nil {
				return err
			}
			return f.print(vs, delegationTab(vs))
		},
	}
}
