package cli

import (
	"fmt"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

func newCmdUser(f *Factory) *cobra.Command {
	return noun("user", "Manage users", `Users are the people deskctl knows: requesters, technicians, approvers and
administrators. Changing users needs the admin permission.`,
		newCmdUserAdd(f), newCmdUserList(f), newCmdUserShow(f), newCmdUserUpdate(f),
		newCmdUserActive(f, false), newCmdUserActive(f, true), newCmdUserRemove(f))
}

func userTab(us []app.UserView) output.Tab {
	t := output.Tab{Columns: output.Cols("LOGIN", "NAME", "EMAIL", "ACTIVE", "CREATED+"), Empty: "no users"}
	for _, u := range us {
		t.Rows = append(t.Rows, []string{u.Login, u.Name, u.Email, yesNo(u.Active), ts(u.Created)})
	}
	return t
}

func newCmdUserAdd(f *Factory) *cobra.Command {
	var in app.UserInput
	cmd := &cobra.Command{
		Use:   "add LOGIN --email ADDR [--name NAME] [--os-login NAME]",
		Short: "Register a user",
		Long: `Register a user. Logins are lower-case letters, digits, '.', '_' and '-'.
Every active user is implicitly a member of the group everyone.

On a server's Unix socket a user is whoever the kernel says connected: the OS login
of the same name, or the one --os-login binds (docs/security.md).` + exitStatus("5  the login is taken, or the OS login belongs to another user"),
		Example: `  deskctl user add bob --email bob@example.com --name "Bob Tech"`,
		Args:    usageArgs(1, 1, "a LOGIN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Login = args[0]
			if in.Email == "" {
				return errs.Usagef("user add needs --email")
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			u, err := svc.AddUser(in)
			if err != nil {
				return err
			}
			return f.print(u, userTab([]app.UserView{u}))
		},
	}
	cmd.Flags().StringVar(&in.Email, "email", "", "email address")
	cmd.Flags().StringVar(&in.Name, "name", "", "display name (default: the login)")
	cmd.Flags().StringVar(&in.OSLogin, "os-login", "", "OS login that acts as this user on the server's socket (default: the same name)")
	return cmd
}

func newCmdUserUpdate(f *Factory) *cobra.Command {
	var in app.UserInput
	cmd := &cobra.Command{
		Use:   "update LOGIN [--email ADDR] [--name NAME] [--os-login NAME]",
		Short: "Change a user's name, email or OS login",
		Long: `Change a user's display name, email address or the OS login bound to them on a
server's Unix socket (--os-login LOGIN itself restores the default). The login never changes.` +
			exitStatus("5  the OS login belongs to another user"),
		Example:           `  deskctl user update bob --name "Robert Tech"`,
		Args:              usageArgs(1, 1, "a LOGIN"),
		ValidArgsFunction: completeFrom(f, app.CompleteUsers),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Login = args[0]
			if in.Email == "" && in.Name == "" && in.OSLogin == "" {
				return errs.Usagef("nothing to change").WithHint("pass --name, --email or --os-login")
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			u, err := svc.UpdateUser(in)
			if err != nil {
				return err
			}
			return f.print(u, userTab([]app.UserView{u}))
		},
	}
	cmd.Flags().StringVar(&in.Email, "email", "", "new email address")
	cmd.Flags().StringVar(&in.Name, "name", "", "new display name")
	cmd.Flags().StringVar(&in.OSLogin, "os-login", "", "OS login that acts as this user on the server's socket")
	return cmd
}

func newCmdUserActive(f *Factory, enable bool) *cobra.Command {
	use, short, long := "disable LOGIN", "Disable a user (keeps their history)",
		`Disable a user: they can no longer act, hold no rights and have no role on tickets,
but every ticket, approval and audit record that names them stays intact.
Disabling the last active administrator is refused.`
	if enable {
		use, short, long = "enable LOGIN", "Enable a disabled user", `Enable a disabled user again.`
	}
	return &cobra.Command{
		Use:               use,
		Short:             short,
		Long:              long + exitStatus(),
		Example:           "  deskctl user " + use[:len(use)-6] + " bob",
		Args:              usageArgs(1, 1, "a LOGIN"),
		ValidArgsFunction: completeFrom(f, app.CompleteUsers),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			u, err := svc.SetUserActive(args[0], enable)
			if err != nil {
				return err
			}
			return f.print(u, userTab([]app.UserView{u}))
		},
	}
}

func newCmdUserRemove(f *Factory) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "remove LOGIN [--yes]",
		Short: "Remove a user nothing refers to",
		Long: `Remove a user with their memberships and direct grants. A user that tickets or
approvals refer to cannot be removed (history must not be orphaned): disable them instead.
On a terminal it asks first, naming what goes with the user; without one it needs --yes.` +
			exitStatus(declinedStatus, noYesStatus, "5  tickets or approvals refer to the user, or they are the last administrator"),
		Example:           "  deskctl user remove temp-contractor\n  deskctl user remove temp-contractor --yes",
		Args:              usageArgs(1, 1, "a LOGIN"),
		ValidArgsFunction: completeFrom(f, app.CompleteUsers),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := f.confirmed(cmd, yes, func(svc app.UseCases) (string, error) {
				u, err := svc.ShowUser(args[0])
				return fmt.Sprintf("Remove user %s%s?", u.Login, withParts(
					counted(len(u.Groups), "group membership", "group memberships"),
					counted(len(u.Resources), "resource membership", "resource memberships"),
					counted(len(u.Rights), "direct right", "direct rights"))), err
			})
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			if err := svc.RemoveUser(args[0]); err != nil {
				return err
			}
			f.notef("removed user %s", args[0])
			return nil
		},
	}
	yesFlag(cmd, &yes)
	return cmd
}

func newCmdUserList(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List users",
		Long:    `List every user. JSON fields: login, name, email, active, created, os_login (when bound).` + exitStatus(),
		Example: "  deskctl user list\n  deskctl user list -o json",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			us, err := svc.ListUsers()
			if err != nil {
				return err
			}
			if us == nil {
				us = []app.UserView{}
			}
			return f.print(us, userTab(us))
		},
	}
}

func newCmdUserShow(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show LOGIN",
		Short: "Show a user with groups, resources and direct rights",
		Long: `Show a user, the groups that list them directly, their resource memberships and
the rights granted to them directly. For every effective right and its paths use
` + "`deskctl access explain LOGIN`." + `
JSON fields: login, name, email, active, created, os_login (when bound), groups, resources (resource,
access), direct_rights.` + exitStatus(),
		Example:           "  deskctl user show bob",
		Args:              usageArgs(1, 1, "a LOGIN"),
		ValidArgsFunction: completeFrom(f, app.CompleteUsers),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			u, err := svc.ShowUser(args[0])
			if err != nil {
				return err
			}
			var res []string
			for _, r := range u.Resources {
				res = append(res, r.Resource+" ("+r.Access+")")
			}
			return f.print(u, output.KV("user "+u.Login,
				[2]string{"Login", u.Login}, [2]string{"Name", u.Name}, [2]string{"Email", u.Email},
				[2]string{"Active", yesNo(u.Active)}, [2]string{"Created", ts(u.Created)},
				[2]string{"Groups", join(withEveryone(u.Groups, u.Active))},
				[2]string{"Resources", join(res)}, [2]string{"Direct rights", join(u.Rights)}))
		},
	}
}

func withEveryone(groups []string, active bool) []string {
	if !active {
		return groups
	}
	return append(append([]string{}, groups...), "everyone (implicit)")
}
