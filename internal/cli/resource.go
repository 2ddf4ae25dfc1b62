package cli

import (
	"fmt"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

func newCmdResource(f *Factory) *cobra.Command {
	return noun("resource", "Manage resources and their members", `Resources are the units tickets are authorized into (e.g. network). Their members
work the tickets: members with write access act on them, members with read access
only see them. A sub-resource with no members of its own uses its parent's members.`,
		newCmdResourceAdd(f), newCmdResourceList(f), newCmdResourceShow(f), newCmdResourceRemove(f),
		newCmdResourceMember(f, true), newCmdResourceMember(f, false), newCmdResourceApproval(f))
}

func memberList(ms []app.ResourceMember) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, m.Login+" ("+m.Access+")")
	}
	return join(parts)
}

func resourceTab(rs []app.ResourceView) output.Tab {
	t := output.Tab{Columns: output.Cols("NAME", "PARENT", "MEMBERS", "DESCRIPTION+", "CREATED+"), Empty: "no resources"}
	for _, r := range rs {
		t.Rows = append(t.Rows, []string{r.Name, r.Parent, memberList(r.Members), r.Description, ts(r.Created)})
	}
	return t
}

func newCmdResourceAdd(f *Factory) *cobra.Command {
	var parent, desc string
	cmd := &cobra.Command{
		Use:     "add NAME [--parent RESOURCE] [--description TEXT]",
		Short:   "Create a resource, optionally under a parent",
		Long:    `Create a resource. With --parent it is a sub-resource: until it has members of its own, its parent's members work its tickets.` + exitStatus("5  the resource exists"),
		Example: "  deskctl resource add network\n  deskctl resource add network-wifi --parent network",
		Args:    usageArgs(1, 1, "a resource NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			r, err := svc.AddResource(args[0], parent, desc)
			if err != nil {
				return err
			}
			return f.print(r, resourceTab([]app.ResourceView{r}))
		},
	}
	cmd.Flags().StringVar(&parent, "parent", "", "parent resource")
	_ = cmd.RegisterFlagCompletionFunc("parent", completeValue(f, app.CompleteResources))
	cmd.Flags().StringVar(&desc, "description", "", "what the resource covers")
	return cmd
}

func newCmdResourceRemove(f *Factory) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "remove NAME [--yes]",
		Short: "Remove a resource without tickets or sub-resources",
		Long: `Remove a resource with its memberships and grants. A resource that still has tickets or
sub-resources is kept. On a terminal it asks first, naming what goes with the resource;
without one it needs --yes.` + exitStatus(declinedStatus, noYesStatus, "5  the resource has tickets or sub-resources"),
		Example:           "  deskctl resource remove old-printers\n  deskctl resource remove old-printers --yes",
		Args:              usageArgs(1, 1, "a resource NAME"),
		ValidArgsFunction: completeFrom(f, app.CompleteResources),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := f.confirmed(cmd, yes, func(svc app.UseCases) (string, error) {
				r, err := svc.ShowResource(args[0])
				return fmt.Sprintf("Remove resource %s%s?", r.Name, withParts(
					counted(len(r.Members), "member", "members"),
					counted(len(r.Rights), "direct right", "direct rights"))), err
			})
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			if err := svc.RemoveResource(args[0]); err != nil {
				return err
			}
			f.notef("removed resource %s", args[0])
			return nil
		},
	}
	yesFlag(cmd, &yes)
	return cmd
}

func newCmdResourceMember(f *Factory, add bool) *cobra.Command {
	var accessFlag string
	use, short, long := "add-member RESOURCE LOGIN [--access read|write]", "Add a member or change their access",
		`Make a user a member of a resource with read or write access (default write).
Running it again with another --access changes the member's access.`
	if !add {
		use, short, long = "remove-member RESOURCE LOGIN", "Remove a member from a resource", `Remove a user's membership in a resource.`
	}
	cmd := &cobra.Command{
		Use:               use,
		Short:             short,
		Long:              long + exitStatus(),
		Example:           "  deskctl resource add-member network bob --access write\n  deskctl resource remove-member network bob",
		Args:              usageArgs(2, 2, "a RESOURCE and a LOGIN"),
		ValidArgsFunction: completeFrom(f, app.CompleteResources, app.CompleteUsers),
		RunE: func(cmd *cobra.Command, args []string) error {
			acc := helpdesk.AccessWrite
			if add {
				var err error
				if acc, err = helpdesk.ParseAccess(accessFlag); err != nil {
					return err
				}
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			r, err := svc.SetResourceMember(args[0], args[1], acc, add)
			if err != nil {
				return err
			}
			return f.print(r, resourceTab([]app.ResourceView{r}))
		},
	}
	if add {
		cmd.Flags().StringVar(&accessFlag, "access", "write", "read or write")
	}
	return cmd
}

func newCmdResourceList(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List resources",
		Long:    `List every resource with its direct members. JSON fields: name, description, parent, members (login, access), created.` + exitStatus(),
		Example: "  deskctl resource list -o wide",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			rs, err := svc.ListResources()
			if err != nil {
				return err
			}
			if rs == nil {
				rs = []app.ResourceView{}
			}
			return f.print(rs, resourceTab(rs))
		},
	}
}

func newCmdResourceShow(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show a resource with its effective members",
		Long: `Show a resource: parent, sub-resources, direct members, and the effective members
who work its tickets (its own, or the nearest ancestor's when it has none).
JSON fields: name, description, parent, members, created, effective_from, effective_members,
children, direct_rights.` + exitStatus(),
		Example:           "  deskctl resource show network-wifi",
		Args:              usageArgs(1, 1, "a resource NAME"),
		ValidArgsFunction: completeFrom(f, app.CompleteResources),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			r, err := svc.ShowResource(args[0])
			if err != nil {
				return err
			}
			eff := memberList(r.EffectiveMembers)
			if r.EffectiveFrom != r.Name {
				eff += " (from " + r.EffectiveFrom + ")"
			}
			return f.print(r, output.KV("resource "+r.Name,
				[2]string{"Name", r.Name}, [2]string{"Description", r.Description}, [2]string{"Parent", r.Parent},
				[2]string{"Sub-resources", join(r.Children)}, [2]string{"Direct members", memberList(r.Members)},
				[2]string{"Effective members", eff}, [2]string{"Direct rights", join(r.Rights)},
				[2]string{"Created", ts(r.Created)}))
		},
	}
}
