package cli

import (
	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

type initOptions struct {
	Admin, Email, Name string
}

func newCmdInit(f *Factory) *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init --admin LOGIN --email ADDR [--name NAME]",
		Short: "Create a new database with its first administrator",
		Long: `Create the database file (mode 0600, directory 0700), the built-in group
everyone (every active user belongs to it implicitly) with the all-users ticket
actions (comment, reopen, withdraw), and the first administrator.

init never changes an existing database, except to complete one that has no users yet
(an empty bbolt file, as an interrupted init leaves). The schema, the administrator,
the everyone group and the first audit record are written in one transaction.` + exitStatus("5  a database already exists at the path"),
		Example: `  deskctl init --admin alice --email alice@example.com --name "Alice Admin"
  deskctl --db ./helpdesk.db init --admin root --email root@example.com`,
		Args: usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Admin == "" || o.Email == "" {
				return errs.Usagef("init needs --admin and --email")
			}
			svc, err := f.LocalService()
			if err != nil {
				return err
			}
			u, err := svc.Init(app.InitInput{Admin: o.Admin, Email: o.Email, Name: o.Name})
			if err != nil {
				return err
			}
			f.notef("created %s with administrator %s", svc.DBName(), u.Login)
			p, err := f.Printer()
			if err != nil {
				return err
			}
			if p.Structured() {
				return p.Print(map[string]any{"database": svc.DBName(), "admin": u}, output.Tab{})
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Admin, "admin", "", "login of the first administrator")
	cmd.Flags().StringVar(&o.Email, "email", "", "the administrator's email address")
	cmd.Flags().StringVar(&o.Name, "name", "", "the administrator's display name (default: the login)")
	return cmd
}
