package cli

import (
	"fmt"
	"strconv"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

var _ = register("token", func(f *Factory) (string, *cobra.Command) {
	return "ops", noun("token", "Create, list and revoke API tokens for deskctl serve", `API tokens let a person or a CI job use `+"`deskctl --server https://…`"+` from another host.
A token is shown once, when it is created; the server keeps only its SHA-256. Users
create and revoke their own tokens; administrators anyone's. See docs/security.md.`,
		newCmdTokenCreate(f), newCmdTokenList(f), newCmdTokenRevoke(f))
})

func tokenTab(tokens []app.TokenView) output.Tab {
	t := output.Tab{Columns: output.Cols("ID", "NAME", "USER", "CREATED", "EXPIRES", "LAST USED"), Empty: "no tokens"}
	for _, v := range tokens {
		exp := ts(v.Expires)
		if v.Expires.IsZero() {
			exp = "never"
		}
		t.Rows = append(t.Rows, []string{strconv.FormatUint(v.ID, 10), v.Name, v.User, ts(v.Created), exp, ts(v.LastUsed)})
	}
	return t
}

func newCmdTokenCreate(f *Factory) *cobra.Command {
	var in app.TokenInput
	var expires string
	cmd := &cobra.Command{
		Use:   "create [--user LOGIN] [--name NAME] [--expires 90d|never]",
		Short: "Create an API token and print it once",
		Long: `Create an API token for yourself, or (administrators) for --user. The token is
printed once on stdout; store it at once (deskctl login reads it from stdin). Only its
hash is kept, so a lost token cannot be shown again: revoke it and create another.
--expires takes days (90d), hours (12h) or never; the default is 90 days.
JSON fields: id, name, user, created, expires, last_used, token.` +
			exitStatus("3  no such user", "4  creating a token for another user needs admin", "5  the user already has a token of that name"),
		Example: "  deskctl token create --name laptop\n  deskctl token create --user ci-bot --name deploy --expires 30d | deskctl login --server https://help.example.com",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if in.Lifetime, err = helpdesk.ParseExpiry(expires); err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			t, err := svc.CreateToken(in)
			if err != nil {
				return err
			}
			p, err := f.Printer()
			if err != nil {
				return err
			}
			if p.Structured() {
				return p.Print(t, output.Tab{})
			}
			fmt.Fprintln(f.IO.Out, t.Token)
			f.notef("created token %s (id %d) for %s; it is shown only this once", t.Name, t.ID, t.User)
			return nil
		},
	}
	cmd.Flags().StringVar(&in.User, "user", "", "the token's user (default: you; another user needs admin)")
	cmd.Flags().StringVar(&in.Name, "name", "", "a name to recognise it by (default token-ID)")
	cmd.Flags().StringVar(&expires, "expires", "90d", "lifetime: days (90d), hours (12h) or never")
	_ = cmd.RegisterFlagCompletionFunc("user", completeValue(f, app.CompleteUsers))
	return cmd
}

func newCmdTokenList(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List API tokens (never their secrets)",
		Long: `List your API tokens; administrators see everyone's. The last-used time is written
at most once a minute per token, so it can lag by that much.
JSON fields: id, name, user, created, expires, last_used.` + exitStatus(),
		Example: "  deskctl token list\n  deskctl token list -o json",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			ts, err := svc.ListTokens()
			if err != nil {
				return err
			}
			return f.print(ts, tokenTab(ts))
		},
	}
}

func newCmdTokenRevoke(f *Factory) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "revoke NAME|ID [--yes]",
		Short: "Revoke an API token at once",
		Long: `Delete an API token; the next request that presents it is refused. Users revoke
their own tokens, administrators anyone's (by ID when several users have a token of
that name). On a terminal it asks first; without one it needs --yes.
JSON fields: id, name, user, created, expires, last_used.` +
			exitStatus(declinedStatus, noYesStatus, "3  no such token among those you may see", "5  several tokens have that name: give the ID"),
		Example: "  deskctl token revoke laptop\n  deskctl token revoke 12 --yes",
		Args:    usageArgs(1, 1, "a token NAME or ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := f.confirmed(cmd, yes, func(app.UseCases) (string, error) {
				return fmt.Sprintf("Revoke token %s? Requests that present it are refused from now on.", errs.Input(args[0])), nil
			})
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			t, err := svc.RevokeToken(args[0])
			if err != nil {
				return err
			}
			f.notef("revoked token %s (id %d) of %s", t.Name, t.ID, t.User)
			return f.print(t, tokenTab([]app.TokenView{t}))
		},
	}
	yesFlag(cmd, &yes)
	return cmd
}
