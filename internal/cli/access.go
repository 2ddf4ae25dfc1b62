package cli

import (
	"fmt"
	"strings"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

var _ = register("access", func(f *Factory) (string, *cobra.Command) {
	return "admin", noun("access", "Grant rights and explain effective permissions", `Rights are ticket actions and permissions (see `+"`deskctl action list`"+`). A user holds
a right granted to them directly, to any group they are in (directly or through nested
groups, everyone included) or to any resource they are a direct member of. Grants are
additive and global. The explain, can, who-can, matrix and diff commands answer with
every path through which a right arrives, and for a denial the failed condition and the fix;
graph draws those paths as a picture.`,
		newCmdAccessGrant(f, true), newCmdAccessGrant(f, false), newCmdAccessExplain(f), newCmdAccessCan(f),
		newCmdAccessWhoCan(f), newCmdAccessMatrix(f), newCmdAccessDiff(f), newCmdAccessGraph(f))
})

func pathStrings(ps []access.Path) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

func newCmdAccessGrant(f *Factory, grant bool) *cobra.Command {
	var subject string
	use, short, flag := "grant RIGHT... --to SUBJECT", "Grant rights to user:U, group:G or resource:R (admin)", "to"
	if !grant {
		use, short, flag = "revoke RIGHT... --from SUBJECT", "Revoke rights from user:U, group:G or resource:R (admin)", "from"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `. Granting a right twice or revoking one that is not held
changes nothing. dispatcher, read-all-tickets and edit-all-tickets cannot be granted to
resources; edit-all-tickets needs read-all-tickets on the same subject.` +
			exitStatus("3  unknown right or subject, or (revoke) the subject holds none of the rights directly",
				"5  revoking would leave no active administrator"),
		Example: "  deskctl access grant close reply note --to group:tier1\n  deskctl access revoke delete --from resource:network",
		Args:    usageArgs(1, -1, "at least one RIGHT"),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			return completeFrom(f, app.CompleteRights)(cmd, nil, prefix)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if subject == "" {
				return errs.Usagef("name the subject with --%s user:LOGIN|group:NAME|resource:NAME", flag)
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			var r app.GrantResult
			if grant {
				r, err = svc.Grant(subject, args)
			} else {
				r, err = svc.Revoke(subject, args)
			}
			if err != nil {
				return err
			}
			verb := "granted"
			if !grant {
				verb = "revoked"
			}
			if len(r.Changed) > 0 {
				f.notef("%s %s: %s", r.Subject, verb, join(r.Changed))
			}
			if len(r.Already) > 0 {
				f.notef("%s unchanged: %s", r.Subject, join(r.Already))
			}
			return f.print(r, output.KV("", [2]string{"Subject", r.Subject}, [2]string{"Direct rights", join(r.Rights)}))
		},
	}
	cmd.Flags().StringVar(&subject, flag, "", "user:LOGIN, group:NAME or resource:NAME")
	_ = cmd.RegisterFlagCompletionFunc(flag, completeValue(f, app.CompleteSubjects))
	return cmd
}

type explainOptions struct {
	Ticket int
	Right  string
	All    bool
}

func newCmdAccessExplain(f *Factory) *cobra.Command {
	var o explainOptions
	cmd := &cobra.Command{
		Use:   "explain USER|group:G|resource:R [--ticket N] [--right R] [--all]",
		Short: "Explain effective rights: every path, and on a ticket the role and why",
		Long: `Explain a user's rights: per right GRANTED or not and every path that grants it
("direct", "group:everyone", "group:support ← group:tier1 ← bob", "resource:network (write)").
The paths are exactly the grants you would have to revoke to remove the right.

With --ticket it starts with the user's role on the ticket and why, then per action
AVAILABLE, or the first condition that fails and how to fix it. For users who are
supporters nowhere only all-users actions (and permissions they hold) are listed unless
--all. For group:G or resource:R it shows the rights granted to it, inherited from the
groups it is nested in, and who receives them.

You may explain yourself; explaining others needs the admin permission.
JSON: {"user": {...}, "subject": null} for a user, {"user": null, "subject": {...}} for a
group or resource, with the fields documented in docs/json.md.` + exitStatus(),
		Example:           "  deskctl access explain bob\n  deskctl access explain bob --ticket 42\n  deskctl access explain bob --right close -o json\n  deskctl access explain group:tier1",
		Args:              usageArgs(1, 1, "a USER, group:NAME or resource:NAME"),
		ValidArgsFunction: completeFrom(f, app.CompleteUsers),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			x, err := svc.Explain(app.ExplainInput{Who: args[0], Ticket: o.Ticket, Right: o.Right, All: o.All})
			if err != nil {
				return err
			}
			p, err := f.Printer()
			if err != nil {
				return err
			}
			if x.Subject != nil {
				return printSubjectExplanation(f, p, x)
			}
			return printUserExplanation(f, p, x)
		},
	}
	cmd.Flags().Var(ticketFlag{&o.Ticket}, "ticket", "explain the role on this ticket and each action's availability")
	cmd.Flags().StringVar(&o.Right, "right", "", "only this right")
	cmd.Flags().BoolVar(&o.All, "all", false, "list every right, not only all-users actions for non-supporters")
	_ = cmd.RegisterFlagCompletionFunc("ticket", completeValue(f, app.CompleteTickets))
	_ = cmd.RegisterFlagCompletionFunc("right", completeValue(f, app.CompleteRights))
	return cmd
}

func printUserExplanation(f *Factory, p *output.Printer, x app.ExplainResult) error {
	e := x.User
	tab := output.Tab{Columns: output.Cols("RIGHT", "KIND+", "CATEGORY+", "GRANTED", "PATHS*")}
	withTicket := e.Role != nil
	if withTicket {
		tab.Columns = output.Cols("RIGHT", "KIND+", "CATEGORY+", "GRANTED", "PATHS", "ON TICKET*")
	}
	for _, r := range e.Rights {
		granted := "GRANTED"
		if !r.Granted {
			granted = "no"
		}
		row := []string{r.Right, string(r.Kind), string(r.Category), granted, pathStrings(r.Paths)}
		if withTicket {
			row = append(row, checkText(r.Check))
		}
		tab.Rows = append(tab.Rows, row)
	}
	if p.Structured() || p.Format == output.CSV || p.Format == output.Markdown {
		return p.Print(x, tab)
	}
	w := f.IO.Out
	status := ""
	if !e.Active {
		status = " — disabled"
	}
	fmt.Fprintf(w, "User:      %s (%s)%s\n", e.User, helpdesk.EscapeText(e.Name), status)
	if e.Note != "" {
		fmt.Fprintf(w, "Note:      %s\n", e.Note)
	}
	var groups []string
	for _, g := range e.Groups {
		var chains []string
		for _, c := range g.Chains {
			chains = append(chains, c.String())
		}
		groups = append(groups, strings.Join(chains, " | "))
	}
	fmt.Fprintf(w, "Groups:    %s\n", orNone(strings.Join(groups, "; ")))
	var res []string
	for _, r := range e.Resources {
		res = append(res, r.Resource+" ("+string(r.Access)+")")
	}
	fmt.Fprintf(w, "Resources: %s\n", orNone(join(res)))
	if e.Role != nil {
		role := string(e.Role.Role)
		if role == "" {
			role = "none"
		}
		if e.Role.ReadOnly {
			role += " (read-only)"
		}
		fmt.Fprintf(w, "Role on #%d: %s — %s\n", e.Role.Ticket, role, e.Role.Reason)
	}
	fmt.Fprintln(w)
	if err := p.Print(x, tab); err != nil {
		return err
	}
	if e.Hidden > 0 {
		fmt.Fprintf(w, "(%d rights not shown: %s is a supporter nowhere; use --all)\n", e.Hidden, e.User)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func checkText(c *access.Check) string {
	if c == nil {
		return ""
	}
	if c.Available {
		return "AVAILABLE"
	}
	s := c.Reason
	if c.Fix != "" {
		s += " — fix: " + c.Fix
	}
	return s
}

func printSubjectExplanation(f *Factory, p *output.Printer, x app.ExplainResult) error {
	s := x.Subject
	tab := output.Tab{Columns: output.Cols("RIGHT", "HOW*")}
	for _, r := range s.Granted {
		tab.Rows = append(tab.Rows, []string{r, "granted to " + s.Subject})
	}
	for _, r := range s.Inherited {
		tab.Rows = append(tab.Rows, []string{r.Right, "inherited: " + pathStrings(r.Paths)})
	}
	if p.Structured() || p.Format == output.CSV || p.Format == output.Markdown {
		return p.Print(x, tab)
	}
	w := f.IO.Out
	fmt.Fprintf(w, "Subject:   %s\n", s.Subject)
	if s.Parent != "" {
		fmt.Fprintf(w, "Parent:    %s\n", s.Parent)
	}
	fmt.Fprintf(w, "Receivers: %d user(s): %s\n", s.MemberCount, orNone(join(s.Members)))
	if s.TicketMembersFrom != "" {
		var ms []string
		for _, m := range s.TicketMembers {
			ms = append(ms, m.Login+" ("+string(m.Access)+")")
		}
		fmt.Fprintf(w, "Works its tickets: %s (members of %s)\n", orNone(join(ms)), s.TicketMembersFrom)
	}
	fmt.Fprintln(w)
	tab.Empty = "no rights granted or inherited"
	return p.Print(x, tab)
}

func newCmdAccessCan(f *Factory) *cobra.Command {
	var ticket int
	var quiet bool
	cmd := &cobra.Command{
		Use:   "can USER RIGHT [--ticket N] [-q]",
		Short: "Answer yes or no — reason; exit 0 yes, 1 no",
		Long: `Answer whether USER holds RIGHT, or with --ticket whether the action is available
to them on that ticket now. Prints "yes" (with the first path) or "no — reason", and
the fix. -q prints nothing: use the exit code.` +
			exitStatus("1  no: the right is not held or the action is not available"),
		Example:           "  deskctl access can bob close --ticket 42\n  deskctl access can bob admin -q && echo admin",
		Args:              usageArgs(2, 2, "a USER and a RIGHT"),
		ValidArgsFunction: completeFrom(f, app.CompleteUsers, app.CompleteRights),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			c, err := svc.Can(args[0], args[1], ticket)
			if err != nil {
				return err
			}
			yes := c.Granted
			if ticket != 0 {
				yes = c.Available
			}
			if !quiet {
				p, err := f.Printer()
				if err != nil {
					return err
				}
				if p.Structured() {
					if err := p.Print(c, output.Tab{}); err != nil {
						return err
					}
				} else if yes {
					line := "yes"
					if len(c.Paths) > 0 {
						line += " — via " + pathStrings(c.Paths)
					}
					fmt.Fprintln(f.IO.Out, line)
				} else {
					fmt.Fprintln(f.IO.Out, "no — "+c.Reason)
					if c.Fix != "" {
						fmt.Fprintln(f.IO.Out, "fix: "+c.Fix)
					}
				}
			}
			if !yes {
				return &silentError{errs.Negativef("no")}
			}
			return nil
		},
	}
	cmd.Flags().Var(ticketFlag{&ticket}, "ticket", "check availability on this ticket")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing; answer with the exit code")
	return cmd
}

func newCmdAccessWhoCan(f *Factory) *cobra.Command {
	var ticket int
	cmd := &cobra.Command{
		Use:   "who-can RIGHT [--ticket N]",
		Short: "List users holding a right (or for whom an action is available on a ticket)",
		Long: `List the users holding RIGHT with every path (admin). With --ticket, the users for
whom the action is available on that ticket now, with their role.
JSON fields: login, name, role, paths.` + exitStatus(),
		Example:           "  deskctl access who-can admin\n  deskctl access who-can close --ticket 42",
		Args:              usageArgs(1, 1, "a RIGHT"),
		ValidArgsFunction: completeFrom(f, app.CompleteRights),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			hs, err := svc.WhoCan(args[0], ticket)
			if err != nil {
				return err
			}
			tab := output.Tab{Columns: output.Cols("LOGIN", "NAME", "ROLE", "PATHS*"), Empty: "nobody"}
			for _, h := range hs {
				tab.Rows = append(tab.Rows, []string{h.Login, h.Name, string(h.Role), pathStrings(h.Paths)})
			}
			return f.print(hs, tab)
		},
	}
	cmd.Flags().Var(ticketFlag{&ticket}, "ticket", "only users for whom the action is available on this ticket now")
	return cmd
}

func newCmdAccessMatrix(f *Factory) *cobra.Command {
	var users, rights []string
	cmd := &cobra.Command{
		Use:   "matrix [--users a,b] [--rights r1,r2]",
		Short: "Users × rights table (✓ held, · not held); -o csv for spreadsheets",
		Long: `Print a users × rights table (admin). Default: every user and every right.
JSON fields: users, rights, rows (user, rights: {RIGHT: true|false, ...} in column order).
With -o csv, as in every command, a cell that starts with =, +, -, @, tab or
carriage return gets a leading ' so a spreadsheet does not run it as a formula.` + exitStatus(),
		Example: "  deskctl access matrix --rights close,reply,admin\n  deskctl access matrix -o csv > rights.csv",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			m, err := svc.Matrix(users, rights)
			if err != nil {
				return err
			}
			p, err := f.Printer()
			if err != nil {
				return err
			}
			yes, no := "✓", "·"
			if p.Format == output.CSV {
				yes, no = "1", "0"
			}
			tab := output.Tab{Columns: output.Cols(append([]string{"USER"}, m.Rights...)...)}
			for i, u := range m.Users {
				row := []string{u}
				for _, c := range m.Cells[i] {
					if c {
						row = append(row, yes)
					} else {
						row = append(row, no)
					}
				}
				tab.Rows = append(tab.Rows, row)
			}
			return p.Print(m, tab)
		},
	}
	cmd.Flags().StringSliceVar(&users, "users", nil, "only these logins")
	cmd.Flags().StringSliceVar(&rights, "rights", nil, "only these rights")
	return cmd
}

func newCmdAccessDiff(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "diff USER1 USER2",
		Short: "Rights one user has that the other lacks, with paths",
		Long: `Compare two users' rights (admin): what USER1 holds that USER2 lacks and the other
way round, each with the paths through which it is held.
JSON fields: a, b, only_a, only_b (each: right, paths).` + exitStatus(),
		Example:           "  deskctl access diff bob carol",
		Args:              usageArgs(2, 2, "two USERs"),
		ValidArgsFunction: completeFrom(f, app.CompleteUsers, app.CompleteUsers),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			d, err := svc.Diff(args[0], args[1])
			if err != nil {
				return err
			}
			tab := output.Tab{Columns: output.Cols("ONLY", "RIGHT", "PATHS*"), Empty: "no difference"}
			for _, r := range d.OnlyA {
				tab.Rows = append(tab.Rows, []string{d.A, r.Right, pathStrings(r.Paths)})
			}
			for _, r := range d.OnlyB {
				tab.Rows = append(tab.Rows, []string{d.B, r.Right, pathStrings(r.Paths)})
			}
			return f.print(d, tab)
		},
	}
}
