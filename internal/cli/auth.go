package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/config"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

var _ = register("auth", func(f *Factory) (string, *cobra.Command) {
	return "ops", noun("auth", "Show who you are to deskctl, and how that was established", `Who deskctl takes you to be: against a server, the user its Unix socket or your
token proves; on the local file, whoever --as or your OS login names.`, newCmdAuthStatus(f))
})

var _ = register("login", func(f *Factory) (string, *cobra.Command) { return "ops", newCmdLogin(f) })
var _ = register("logout", func(f *Factory) (string, *cobra.Command) { return "ops", newCmdLogout(f) })

func authTab(s app.AuthStatus) output.Tab {
	rows := [][2]string{{"user", s.User}, {"name", s.Name}, {"admin", yesNo(s.Admin)}, {"via", s.Via}}
	if s.OSUser != "" {
		rows = append(rows, [2]string{"os user", s.OSUser})
	}
	if s.Token != "" {
		exp := ts(s.Expires)
		if s.Expires.IsZero() {
			exp = "never"
		}
		rows = append(rows, [2]string{"token", s.Token}, [2]string{"expires", exp})
	}
	if s.RealUser != "" {
		rows = append(rows, [2]string{"acting as", s.User + " (authenticated as " + s.RealUser + ")"})
	}
	return output.KV("", rows...)
}

func newCmdAuthStatus(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show who you are and how the server knows it",
		Long: `Ask who the acting user is: against a server (--server, DESKCTL_SERVER or server: in
the config), the user its socket's peer credentials or your token authenticate, the
token's name and expiry, and with --as whom you act for; on the local file, the user
--as or your OS login names.
JSON fields: user, name, admin, via (file, socket or token), os_user, token, expires,
real_user.` + exitStatus("4  not authenticated: no token, or it is expired, revoked or unknown to this server"),
		Example: "  deskctl auth status\n  deskctl --server unix:///run/deskctl/deskctl.sock auth status -o json",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			s, err := svc.WhoAmI()
			if err != nil {
				return err
			}
			return f.print(s, authTab(s))
		},
	}
}

func newCmdLogin(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "login --server URL",
		Short: "Save an API token for a deskctl server",
		Long: `Read an API token (made with deskctl token create) from a prompt that does not echo,
or from standard input when it is not a terminal, check it against the server, and save
it for that server in the config file (written with mode 0600). Commands with that
--server (or DESKCTL_SERVER, or server: in the config) then use it. DESKCTL_TOKEN
overrides a saved token, for CI. A Unix socket needs no login.` +
			exitStatus("2  no --server, a socket or plain-http address, or a malformed token",
				"4  the server does not accept the token"),
		Example: "  deskctl login --server https://help.example.com\n  echo \"$TOKEN\" | deskctl login --server https://help.example.com",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Config()
			if err != nil {
				return err
			}
			server := c.Server
			if server == "" {
				return errs.Usagef("login needs --server URL").WithHint("e.g. deskctl login --server https://help.example.com")
			}
			if strings.HasPrefix(server, "unix:") {
				return errs.Usagef("a Unix socket needs no login: the server knows you by your OS login").
					WithHint("run commands with --server %s directly", server)
			}
			token, err := readToken(f, server)
			if err != nil {
				return err
			}
			cl, err := f.Remote(server, token)
			if err != nil {
				return err
			}
			s, err := cl.WhoAmI()
			if err != nil {
				return err
			}
			if err := config.SaveLogin(c.Path, server, token); err != nil {
				return err
			}
			f.notef("logged in to %s as %s (token %s); saved in %s", server, s.User, s.Token, c.Path)
			return f.print(s, authTab(s))
		},
	}
}

// readToken reads a token without echo on a terminal, else one line of stdin.
func readToken(f *Factory, server string) (string, error) {
	var raw string
	if in, ok := f.IO.In.(*os.File); ok && term.IsTerminal(int(in.Fd())) {
		fmt.Fprintf(f.IO.ErrOut, "Token for %s: ", server)
		b, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(f.IO.ErrOut)
		if err != nil {
			return "", errs.Wrap(errs.Usage, err, "cannot read the token")
		}
		raw = string(b)
	} else {
		line, err := bufio.NewReader(f.IO.In).ReadString('\n')
		if err != nil && line == "" {
			return "", errs.Usagef("no token on standard input").WithHint("pipe it in: echo \"$TOKEN\" | deskctl login --server %s", server)
		}
		raw = line
	}
	token := strings.TrimSpace(raw)
	if !helpdesk.ValidAPITokenShape(token) {
		// Never echo what was typed: it may be a real secret with a typo.
		return "", errs.Usagef("that is not a deskctl API token").WithHint("tokens start with %s; make one with: deskctl token create", helpdesk.APITokenPrefix)
	}
	return token, nil
}

func newCmdLogout(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [--server URL]",
		Short: "Forget the API token saved for a server",
		Long: `Remove the token saved for the server (--server, DESKCTL_SERVER or server: in the
config) from the config file. The token itself stays valid until it expires or is
revoked: run deskctl token revoke NAME first to end it everywhere.` +
			exitStatus("2  no server given", "3  no token is saved for that server"),
		Example: "  deskctl logout --server https://help.example.com",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Config()
			if err != nil {
				return err
			}
			if c.Server == "" {
				return errs.Usagef("logout needs --server URL")
			}
			removed, err := config.RemoveLogin(c.Path, c.Server)
			if err != nil {
				return err
			}
			if !removed {
				return errs.NotFoundf("no token is saved for %s in %s", c.Server, c.Path).WithHint("nothing to do; deskctl auth status shows how you are known")
			}
			f.notef("logged out of %s (the token is still valid until revoked: deskctl token revoke NAME)", c.Server)
			return nil
		},
	}
}
