package cli

import (
	"fmt"
	"strings"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

var _ = register("action", func(f *Factory) (string, *cobra.Command) {
	return "admin", noun("action", "The rights catalog: ticket actions and permissions", `The catalog of rights: built-in ticket actions by category (all-users, supporter,
edit, organizational), the permissions (admin, dispatcher, read-all-tickets,
edit-all-tickets) and custom ticket actions added by administrators.`,
		newCmdActionList(f), newCmdActionShow(f), newCmdActionPut(f, true), newCmdActionPut(f, false), newCmdActionRemove(f))
})

func statesText(ss []helpdesk.State) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

func rightsTab(rs []helpdesk.Right) output.Tab {
	t := output.Tab{Columns: output.Cols("NAME", "KIND", "CATEGORY", "FROM STATES", "TO STATE", "TEXT+", "INTERNAL+", "BUILTIN+", "DESCRIPTION*")}
	for _, r := range rs {
		to := string(r.ToState)
		if r.Kind == helpdesk.KindAction && to == "" {
			to = "unchanged"
		}
		t.Rows = append(t.Rows, []string{r.Name, string(r.Kind), string(r.Category), statesText(r.FromStates), to,
			yesNo(r.RequiresText), yesNo(r.Internal), yesNo(r.Builtin), r.Description})
	}
	return t
}

func newCmdActionList(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use: "list", Aliases: []string{"ls"}, Short: "List every right in the catalog",
		Long: `List ticket actions and permissions.
JSON fields: name, kind, category, description, from_states, to_state, requires_text,
internal, field, builtin, requires_right, not_for_resources, requester_only.` + exitStatus(),
		Example: "  deskctl action list\n  deskctl action list -o wide",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			rs, err := svc.ListRights()
			if err != nil {
				return err
			}
			return f.print(app.RightViews(rs), rightsTab(rs))
		},
	}
}

func newCmdActionShow(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use: "show NAME", Short: "Show one right and whom it is granted to directly",
		Long: `Show one right from the catalog with the subjects it is granted to directly.
JSON fields: name, kind, category, description, from_states, to_state, requires_text, internal,
field, builtin, requires_right, not_for_resources, requester_only, granted_to.` + exitStatus(),
		Example:           "  deskctl action show close",
		Args:              usageArgs(1, 1, "a right NAME"),
		ValidArgsFunction: completeFrom(f, app.CompleteRights),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			r, holders, err := svc.ShowRight(args[0])
			if err != nil {
				return err
			}
			to := string(r.ToState)
			if r.Kind == helpdesk.KindAction && to == "" {
				to = "unchanged"
			}
			return f.print(app.RightDetail{RightView: app.RightViews([]helpdesk.Right{r})[0], GrantedTo: holders}, output.KV(r.Name, [2]string{"Name", r.Name}, [2]string{"Kind", string(r.Kind)},
				[2]string{"Category", string(r.Category)}, [2]string{"Description", r.Description},
				[2]string{"From states", statesText(r.FromStates)}, [2]string{"To state", to},
				[2]string{"Requires text", yesNo(r.RequiresText)}, [2]string{"Internal", yesNo(r.Internal)},
				[2]string{"Built in", yesNo(r.Builtin)}, [2]string{"Granted to", join(holders)}))
		},
	}
}

func newCmdActionPut(f *Factory, create bool) *cobra.Command {
	var category, from, to, desc string
	var text, internal bool
	use, short := "add NAME --category C --from-states S1,S2 [--to-state S] [--requires-text] [--internal]", "Add a custom ticket action (admin)"
	if !create {
		use, short = "update NAME [--category C] [--from-states …] [--to-state S|unchanged] [--requires-text] [--internal]", "Change a custom ticket action (admin)"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `. A custom action has a category (which roles may use it), the states
it applies to, the state it leads to (or unchanged), whether it needs a text and whether
its log entry is hidden from the requester. Grant it like any right; run it with
` + "`deskctl ticket do N NAME`." + exitStatus("5  the name is taken or built in"),
		Example: `  deskctl action add escalate --category supporter --from-states new,in-progress --to-state in-progress --requires-text`,
		Args:    usageArgs(1, 1, "an action NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			r := helpdesk.Right{Name: args[0], Category: helpdesk.Category(category), Description: desc, RequiresText: text, Internal: internal}
			if !create {
				old, _, err := svc.ShowRight(args[0])
				if err != nil {
					return err
				}
				r = old
				fl := cmd.Flags()
				if fl.Changed("category") {
					r.Category = helpdesk.Category(category)
				}
				if fl.Changed("description") {
					r.Description = desc
				}
				if fl.Changed("requires-text") {
					r.RequiresText = text
				}
				if fl.Changed("internal") {
					r.Internal = internal
				}
				if !fl.Changed("from-states") {
					from = statesText(r.FromStates)
				}
				if !fl.Changed("to-state") {
					to = string(r.ToState)
				}
			} else if category == "" {
				return errs.Usagef("action add needs --category").WithHint("use all-users, supporter, edit or organizational")
			}
			r.FromStates = nil
			for _, s := range strings.Split(from, ",") {
				if s = strings.TrimSpace(s); s == "" {
					continue
				}
				st, err := helpdesk.ParseState(s)
				if err != nil {
					return err
				}
				r.FromStates = append(r.FromStates, st)
			}
			r.ToState = ""
			if to != "" && to != "unchanged" {
				r.ToState = helpdesk.State(to)
			}
			r, err = svc.PutAction(r, create)
			if err != nil {
				return err
			}
			return f.print(app.RightViews([]helpdesk.Right{r})[0], rightsTab([]helpdesk.Right{r}))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&category, "category", "", "all-users|supporter|edit|organizational")
	fl.StringVar(&from, "from-states", "", "comma-separated states the action applies to")
	fl.StringVar(&to, "to-state", "", "state it leads to (default unchanged)")
	fl.StringVar(&desc, "description", "", "what it does")
	fl.BoolVar(&text, "requires-text", false, "the action needs --text")
	fl.BoolVar(&internal, "internal", false, "its log entry is visible to technicians only")
	_ = cmd.RegisterFlagCompletionFunc("category", fixedCompletion("all-users", "supporter", "edit", "organizational"))
	return cmd
}

func newCmdActionRemove(f *Factory) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use: "remove NAME [--yes]", Short: "Remove a custom action and its grants (admin)",
		Long: `Remove a custom ticket action and every grant of it. Built-in rights cannot be removed.
On a terminal it asks first, naming how many grants go with it; without one it needs --yes.` +
			exitStatus(declinedStatus, noYesStatus, "5  the right is built in"),
		Example: "  deskctl action remove escalate\n  deskctl action remove escalate --yes",
		Args:    usageArgs(1, 1, "an action NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := f.confirmed(cmd, yes, func(svc app.UseCases) (string, error) {
				r, holders, err := svc.ShowRight(args[0])
				if err != nil || r.Builtin {
					return "", err // a built-in right is refused without asking
				}
				return fmt.Sprintf("Remove action %s%s?", r.Name, withParts(counted(len(holders), "grant", "grants"))), nil
			})
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			if err := svc.RemoveAction(args[0]); err != nil {
				return err
			}
			f.notef("removed action %s", args[0])
			return nil
		},
	}
	yesFlag(cmd, &yes)
	return cmd
}
