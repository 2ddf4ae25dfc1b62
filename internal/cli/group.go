package cli

import (
	"fmt"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

func newCmdGroup(f *Factory) *cobra.Command {
	return noun("group", "Manage groups (nested)", `Groups collect users and other groups; rights granted to a group reach every
user in it, directly or through nested groups. The built-in group everyone holds
every active user implicitly.`,
		newCmdGroupAdd(f), newCmdGroupList(f), newCmdGroupShow(f), newCmdGroupRemove(f),
		newCmdGroupMember(f, true), newCmdGroupMember(f, false))
}

func groupTab(gs []app.GroupView) output.Tab {
	t := output.Tab{Columns: output.Cols("NAME", "MEMBERS", "DESCRIPTION*", "CREATED+"), Empty: "no groups"}
	for _, g := range gs {
		members := join(g.Members)
		if g.Name == "everyone" {
			members = "(every active user)"
		}
		t.Rows = append(t.Rows, []string{g.Name, members, g.Description, ts(g.Created)})
	}
	return t
}

func newCmdGroupAdd(f *Factory) *cobra.Command {
	var desc string
	cmd := &cobra.Command{
		Use:     "add NAME [--description TEXT]",
		Short:   "Create a group",
		Long:    `Create an empty group.` + exitStatus("5  the group exists"),
		Example: `  deskctl group add tier1 --description "First-line support"`,
		Args:    usageArgs(1, 1, "a group NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			g, err := svc.AddGroup(args[0], desc)
			if err != nil {
				return err
			}
			return f.print(g, groupTab([]app.GroupView{g}))
		},
	}
	cmd.Flags().StringVar(&desc, "description", "", "what the group is for")
	return cmd
}

func newCmdGroupRemove(f *Factory) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "remove NAME [--yes]",
		Short: "Remove a group with its memberships and grants",
		Long: `Remove a group: it leaves every group it was nested in, and its grants go with it.
The group everyone cannot be removed. On a terminal it asks first, naming what goes
with the group; without one it needs --yes.` +
			exitStatus(declinedStatus, noYesStatus, "5  the group is everyone, or removing it leaves no administrator"),
		Example:           "  deskctl group remove old-team\n  deskctl group remove old-team --yes",
		Args:              usageArgs(1, 1, "a group NAME"),
		ValidArgsFunction: completeFrom(f, app.CompleteGroups),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := f.confirmed(cmd, yes, func(svc app.UseCases) (string, error) {
				g, err := svc.ShowGroup(args[0])
				return fmt.Sprintf("Remove group %s%s?", g.Name, withParts(
					counted(len(g.Members), "member", "members"),
					counted(len(g.ParentOf), "membership in another group", "memberships in other groups"),
					counted(len(g.Rights), "direct right", "direct rights"))), err
			})
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			if err := svc.RemoveGroup(args[0]); err != nil {
				return err
			}
			f.notef("removed group %s", args[0])
			return nil
		},
	}
	yesFlag(cmd, &yes)
	return cmd
}

func newCmdGroupMember(f *Factory, add bool) *cobra.Command {
	use, short, long := "add-member GROUP MEMBER", "Add a user or a nested group (group:NAME)",
		`Add a user (LOGIN or user:LOGIN) or another group (group:NAME) to a group. Groups
nest to any depth; a membership that would create a cycle is refused and the cycle
is printed.`
	extra := "5  already a member, or the membership would create a cycle"
	if !add {
		use, short, long = "remove-member GROUP MEMBER", "Remove a user or nested group from a group",
			`Remove a direct member from a group.`
		extra = "5  removing it leaves no administrator"
	}
	return &cobra.Command{
		Use:               use,
		Short:             short,
		Long:              long + exitStatus(extra),
		Example:           "  deskctl group " + use[:len(use)-13] + " tier1 bob\n  deskctl group " + use[:len(use)-13] + " support group:tier1",
		Args:              usageArgs(2, 2, "a GROUP and a MEMBER"),
		ValidArgsFunction: completeFrom(f, app.CompleteGroups, app.CompleteMembers),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			g, err := svc.SetGroupMember(args[0], args[1], add)
			if err != nil {
				return err
			}
			return f.print(g, groupTab([]app.GroupView{g}))
		},
	}
}

func newCmdGroupList(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List groups",
		Long:    `List every group with its direct members. JSON fields: name, description, members, created.` + exitStatus(),
		Example: "  deskctl group list -o yaml",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			gs, err := svc.ListGroups()
			if err != nil {
				return err
			}
			if gs == nil {
				gs = []app.GroupView{}
			}
			return f.print(gs, groupTab(gs))
		},
	}
}

func newCmdGroupShow(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show a group with direct and effective members",
		Long: `Show a group: its direct members, every user it reaches through nested groups
(effective members), the groups it is nested in, and the rights granted to it.
JSON fields: name, description, members, created, effective_members, member_of, direct_rights.` + exitStatus(),
		Example:           "  deskctl group show support",
		Args:              usageArgs(1, 1, "a group NAME"),
		ValidArgsFunction: completeFrom(f, app.CompleteGroups),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			g, err := svc.ShowGroup(args[0])
			if err != nil {
				return err
			}
			return f.print(g, output.KV("group "+g.Name,
				[2]string{"Name", g.Name}, [2]string{"Description", g.Description},
				[2]string{"Direct members", join(g.Members)}, [2]string{"Effective members", join(g.Effective)},
				[2]string{"Member of", join(g.ParentOf)}, [2]string{"Direct rights", join(g.Rights)},
				[2]string{"Created", ts(g.Created)}))
		},
	}
}
