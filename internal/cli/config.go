package cli

import (
	"slices"

	"github.com/deskctl/deskctl/internal/config"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

func newCmdConfig(f *Factory) *cobra.Command {
	return noun("config", "Show the effective configuration", `Configuration comes from, in order of precedence: flags, DESKCTL_* environment
variables, the config file (--config, default $XDG_CONFIG_HOME/deskctl/config.yaml)
and defaults. See `+"`deskctl help environment`."+`

The config file and smtp.password-file may hold the SMTP password: like ssh with keys,
deskctl refuses them (exit 2) while other users can read or change them; the fix is
chmod 600 FILE.`,
		newCmdConfigShow(f), newCmdConfigPath(f))
}

func newCmdConfigShow(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Print every effective value and where it came from",
		Long: `Print every configuration key, its effective value and its source (flag, env,
file or default). Secrets such as smtp.password are redacted. When nothing names the
acting user, user shows the OS login that commands act as (source "OS login"; it must
be a registered, enabled deskctl user), or, with a server, that the server decides
from the token or the socket's peer.
JSON fields: key, value, source, env, secret.` +
			exitStatus("2  a bad value, or a config file or smtp.password-file that other users can read or change, or that cannot be read"),
		Example: "  deskctl config show\n  DESKCTL_SMTP_HOST=mail.example.com deskctl config show -o json",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Config()
			if err != nil {
				return err
			}
			entries := effectiveUser(c)
			t := output.Tab{Columns: output.Cols("KEY", "VALUE*", "SOURCE", "ENV+")}
			for _, e := range entries {
				t.Rows = append(t.Rows, []string{e.Key, e.Value, e.Source, e.Env})
			}
			if err := f.print(entries, t); err != nil {
				return err
			}
			// Other commands go on without it; here it is the point.
			return c.SMTP.PasswordErr
		},
	}
}

// effectiveUser is c's entries with the default of user filled in as
// commands resolve it: the OS login locally, the server's say remotely.
func effectiveUser(c *config.Config) []config.Entry {
	entries := slices.Clone(c.Entries())
	for i, e := range entries {
		if e.Key != "user" || e.Source != "default" {
			continue
		}
		switch login := osLogin(); {
		case c.Server != "":
			entries[i].Source = "server (token or socket peer)"
		case login != "":
			entries[i].Value, entries[i].Source = login, "OS login"
		}
	}
	return entries
}

func newCmdConfigPath(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "path",
		Short: "Print the config file and database paths",
		Long: `Print the config file that is read (or would be) and the database file in use.
JSON fields: config, db.` + exitStatus(),
		Args: usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Config()
			if err != nil {
				return err
			}
			file := c.File
			if file == "" {
				file = config.DefaultConfigPath() + " (not present)"
				if f.configFile != "" {
					file = f.configFile
				}
			}
			data := map[string]string{"config": file, "db": c.DB}
			return f.print(data, output.KV("", [2]string{"config", file}, [2]string{"db", c.DB}))
		},
		Example: "  deskctl config path",
	}
}
