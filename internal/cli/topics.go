package cli

import (
	"fmt"
	"strings"

	"github.com/deskctl/deskctl/internal/config"
	"github.com/spf13/cobra"
)

// addHelpTopics adds `deskctl help exit-codes` and `deskctl help environment`.
// They are help topics, not commands: nothing to run, listed under
// "Additional help topics", and their help is just their text.
func addHelpTopics(root *cobra.Command) {
	defer func() {
		for _, name := range []string{"exit-codes", "environment"} {
			if c, _, err := root.Find([]string{name}); err == nil {
				c.SetHelpFunc(func(c *cobra.Command, _ []string) { fmt.Fprintln(c.OutOrStdout(), c.Long) })
			}
		}
	}()
	root.AddCommand(&cobra.Command{
		Use:   "exit-codes",
		Short: "The exit-code contract scripts and CI can rely on",
		Long: `deskctl exits with one of these codes:

  0  success (for checks: the answer is yes / valid / all tests passed)
  1  a well-formed negative answer: access can says no, policy validate found
     problems, policy test had failures, policy plan --exit-code saw changes,
     audit verify or db check found damage (db backup: in its copy), mail
     flush left mail undelivered, mail test was refused or found no server;
     the question of a command that asks before it changes something was
     not answered yes (nothing was changed)
  2  usage error: unknown command or flag, missing or malformed argument or
     value (text with a control or bidirectional formatting character
     included), policy or tests files over --max-file-size, a config file (or
     smtp.password-file, when mail is sent) that other users can read or
     change; a command that needs the database file run against a server; a
     token that would go over plain http to another host; a command that asks
     before it changes something run without a terminal on standard input
     and without --yes ("--yes required when not running interactively"); access graph -o svg
     without Graphviz's dot program
  3  not found: no such user, group, resource, right, setting or ticket (tickets
     you have no role on are not found either)
  4  forbidden: you lack the permission, or the ticket action is not available
     to you on that ticket now (the message says which condition failed); or,
     against a server, not authenticated (no, unknown, expired or revoked
     token; an OS login bound to no user) or --as without admin
  5  conflict or invalid state: already exists, pending approval, last
     administrator, ticket in the wrong state, database already exists
  6  busy: another deskctl process held the database longer than --lock-timeout;
     or the server refuses a client after too many failed authentications
  7  database unusable: missing (run deskctl init), damaged, or written by a
     newer deskctl; or the server cannot be reached
  8  internal error (a bug: please report it with the command line)

Errors print one line on stderr, "deskctl: …", often followed by "hint: …"
naming the next step.`,
	})
	var env strings.Builder
	env.WriteString("deskctl reads these environment variables. Flags win over them; they win over\nthe config file, which wins over defaults.\n\n")
	for _, d := range config.Docs() {
		fmt.Fprintf(&env, "  %-30s %s (config key %s", d.Env, d.Description, d.Key)
		if d.Default != "" {
			fmt.Fprintf(&env, ", default %s", d.Default)
		}
		env.WriteString(")\n")
	}
	env.WriteString(`  DESKCTL_CONFIG                 config file path (flag --config)
  NO_COLOR                       when set and not empty, no colour on a terminal (table headers, PASS/FAIL, plan + and -)
  COLUMNS                        a positive number: the width tables are fitted to on a terminal (default: its width)
  TERM                           dumb: tables drawn with + - | instead of box-drawing characters, and no colour
  DESKCTL_PAGER, PAGER           the pager for long output on a terminal (policy plan); empty or cat: none (default less -FRX)
  XDG_DATA_HOME                  base of the default database path
  XDG_CONFIG_HOME                base of the default config file path
  DESKCTL_APPROVAL_TOKEN         approval decide: the link token, instead of --token (keeps it out of the process list)
  USER / LOGNAME / USERNAME      the default acting user when registered in deskctl (else the account's name)
  CI                             in the test suite: tests that need Chromium or OPA fail instead of skipping
  DESKCTL_OPA                    in the test suite: the opa binary for the Rego agreement tests
  DESKCTL_SCREENSHOT             in the test suite: save the approval page as seen on a phone to this PNG
  DESKCTL_BENCH_DB, DESKCTL_BENCH_TICKETS
                                 in the benchmarks: the database to run on, or the size of a generated one`)
	root.AddCommand(&cobra.Command{
		Use:   "environment",
		Short: "Every DESKCTL_* variable and the others deskctl reads",
		Long:  env.String(),
	})
}
