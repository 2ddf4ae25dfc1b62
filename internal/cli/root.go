package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// NewRootCmd builds the whole command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := newRoot(f)
	addEveryCommand(f, root)
	return root
}

// newRunTree builds the tree a run of args needs. When args name one
// top-level command and nothing that looks at the rest of the tree (help,
// completion, --version, an unknown command or flag before the command),
// that is the root and that command: building all ~100 commands and their
// flags would be most of what a short command costs beyond starting the
// process. Otherwise it is the whole tree.
func newRunTree(f *Factory, args []string) *cobra.Command {
	root := newRoot(f)
	t, ok := onlyTopCommand(root, args)
	if !ok {
		addEveryCommand(f, root)
		return root
	}
	t.add(f, root)
	root.SetHelpCommand(newCmdHelp(root))
	root.SetHelpCommandGroupID("ops")
	// The args name another command, so the completion command is not
	// reached; cobra would otherwise build it on every run.
	root.CompletionOptions.DisableDefaultCmd = true
	markWithoutJSON(root)
	return root
}

// newRoot builds the root command alone: its help, persistent flags and
// command groups.
func newRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "deskctl",
		Short: "Helpdesk administration: tickets, ticket actions, permissions, approvals",
		Long: `deskctl administers a helpdesk kept in one embedded database file: users, groups
and resources; tickets worked through ticket actions; the permission engine that decides
and explains who may run which action; ad-hoc approvals by email; and the whole
directory and grant set as code.

Every command opens the database, does its work in one transaction and closes it,
so several deskctl processes and a running ` + "`deskctl serve`" + ` take turns. With --server
(or DESKCTL_SERVER) every command runs on a deskctl serve instead, as the user the
server authenticates (docs/security.md).` + exitStatus(),
		Example: `  deskctl init --admin alice --email alice@example.com --name "Alice Admin"
  deskctl --as alice user add bob --email bob@example.com --name "Bob Tech"
  deskctl access explain bob --ticket 42`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	f.root = root
	// Check the output format, a --jq expression and a --template before
	// any work, so a typo in them never follows a committed change.
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if _, _, err := f.outputFormat(); err != nil {
			return err
		}
		return f.refuseFilterWithoutJSON(cmd)
	}
	pf := root.PersistentFlags()
	pf.String("db", "", "database file (env DESKCTL_DB; default $XDG_DATA_HOME/deskctl/deskctl.db)")
	pf.String("as", "", "act as this user (env DESKCTL_USER; default: your OS login when registered)")
	pf.String("server", "", "run on a deskctl server: https://HOST, unix:///PATH (env DESKCTL_SERVER; default: the local file)")
	pf.Duration("lock-timeout", 0, "how long to wait for another deskctl process (env DESKCTL_LOCK_TIMEOUT; default 5s, also for 0)")
	pf.StringVar(&f.configFile, "config", "", "config file (env DESKCTL_CONFIG; default $XDG_CONFIG_HOME/deskctl/config.yaml)")
	pf.StringVarP(&f.output, "output", "o", "table", "output format: table|wide|json|yaml|csv|markdown")
	_ = root.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, fm := range output.Formats {
			out = append(out, string(fm))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	pf.StringVar(&f.jq, "jq", "", "filter the JSON output with the jq expression `EXPR`, e.g. '.[].login' (implies -o json; docs/json.md)")
	pf.StringVar(&f.template, "template", "", "format the JSON output with the Go template `TEXT`, e.g. '{{range .}}{{.login}}{{\"\\n\"}}{{end}}' (implies -o json)")
	_ = root.RegisterFlagCompletionFunc("jq", cobra.NoFileCompletions)
	_ = root.RegisterFlagCompletionFunc("template", cobra.NoFileCompletions)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &errs.Error{Kind: errs.Usage, Msg: err.Error()}
	})
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetVersionTemplate("{{.Version}}\n")

	root.AddGroup(&cobra.Group{ID: "work", Title: "Working tickets:"},
		&cobra.Group{ID: "admin", Title: "Directory and rights:"},
		&cobra.Group{ID: "ops", Title: "Operations:"})
	root.SetHelpFunc(printHelp)
	return root
}

// addEveryCommand adds every top-level command under root, the help command
// and topics, and the completion command.
func addEveryCommand(f *Factory, root *cobra.Command) {
	for _, t := range topCommands() {
		t.add(f, root)
	}
	root.SetHelpCommand(newCmdHelp(root))
	root.SetHelpCommandGroupID("ops")
	root.SetCompletionCommandGroupID("ops")
	addHelpTopics(root)
	documentCompletion(root)
	markWithoutJSON(root)
}

// documentCompletion gives cobra's completion commands the examples and the
// EXIT STATUS section every deskctl command has.
func documentCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	c, _, err := root.Find([]string{"completion"})
	if err != nil || c.Name() != "completion" {
		return
	}
	c.Example = "  deskctl completion bash > /etc/bash_completion.d/deskctl\n" +
		"  deskctl completion zsh > \"${fpath[1]}/_deskctl\""
	c.Long += exitStatus()
	for _, sh := range c.Commands() {
		sh.Example = "  deskctl completion " + sh.Name() + " --help"
		sh.Long += exitStatus()
	}
}

// A topCommand is a command directly under the root: the name it is run
// by and how to build it (with the group it is listed under in the root's
// help).
type topCommand struct {
	name  string
	build func(*Factory) (string, *cobra.Command)
}

func (t topCommand) add(f *Factory, root *cobra.Command) {
	group, c := t.build(f)
	c.GroupID = group
	root.AddCommand(c)
}

// topCommands are the commands under the root, in the order they are added.
func topCommands() []topCommand {
	in := func(group string, build func(*Factory) *cobra.Command) func(*Factory) (string, *cobra.Command) {
		return func(f *Factory) (string, *cobra.Command) { return group, build(f) }
	}
	return append([]topCommand{
		{"init", in("admin", newCmdInit)},
		{"user", in("admin", newCmdUser)},
		{"group", in("admin", newCmdGroup)},
		{"resource", in("admin", newCmdResource)},
		{"settings", in("admin", newCmdSettings)},
		{"audit", in("ops", newCmdAudit)},
		{"config", in("ops", newCmdConfig)},
		{"mail", in("ops", newCmdMail)},
		{"version", in("ops", newCmdVersion)},
	}, registered...)
}

// registered are the top-level commands whose files register themselves.
var registered []topCommand

// register adds the top-level command name, built by build, to the tree.
func register(name string, build func(*Factory) (string, *cobra.Command)) bool {
	registered = append(registered, topCommand{name, build})
	return true
}

// onlyTopCommand returns the top-level command args run when nothing else
// of the tree can matter to the run: args start with global flags of the
// root (with their values) and then the command's name, and ask for no
// help. It reports false for anything else (no command, help, completion,
// an unknown word or flag before the command), which needs the whole tree.
func onlyTopCommand(root *cobra.Command, args []string) (topCommand, bool) {
	for _, a := range args {
		if a == "-h" || a == "--help" || strings.HasPrefix(a, "--help=") {
			return topCommand{}, false
		}
	}
	flags := root.PersistentFlags()
	for i := 0; i < len(args); i++ {
		a := args[i]
		var fl *pflag.Flag
		attached := false
		switch {
		case a == "--" || a == "-":
			return topCommand{}, false
		case strings.HasPrefix(a, "--"):
			var name string
			name, _, attached = strings.Cut(a[2:], "=")
			fl = flags.Lookup(name)
		case strings.HasPrefix(a, "-"):
			fl = flags.ShorthandLookup(a[1:2])
			attached = len(a) > 2
		default:
			for _, t := range topCommands() {
				if t.name == a {
					return t, true
				}
			}
			return topCommand{}, false
		}
		if fl == nil || (fl.NoOptDefVal != "" && attached && !strings.HasPrefix(a, "--")) {
			return topCommand{}, false // unknown, or shorthands run together
		}
		if fl.NoOptDefVal == "" && !attached {
			i++ // the flag's value
		}
	}
	return topCommand{}, false
}

// exitCodeLines are the codes every command shares, in order.
var exitCodeLines = []string{
	"0  success",
	"2  usage error: bad flag, argument or value",
	"3  not found: no such user, group, resource, right or ticket",
	"4  forbidden: the acting user lacks the permission or the action is not available, or the server did not authenticate you",
	"5  conflict: already exists, wrong state, pending approval, last administrator",
	"6  busy: another deskctl process holds the database past --lock-timeout",
	"7  database unusable: missing, damaged or written by a newer deskctl, or the server is unreachable",
	"8  internal error",
}

// exitMark brackets the codes a command adds to the EXIT STATUS section.
// Building the section for every command at start-up would cost every run
// for help that is rarely shown, so the tree carries only the command's own
// codes between marks, and ExpandHelp builds the section when help is shown.
const exitMark = "\x00exit-codes\x00"

// exitStatus is the EXIT STATUS section every long help ends with; extra
// lines describe codes specific to a command.
func exitStatus(extra ...string) string {
	return exitHeading + exitMark + strings.Join(extra, "\n") + exitMark
}

// ExpandHelp writes out the EXIT STATUS section of c's long help. The help
// function calls it for the command it shows; generators of man pages and
// reference docs call it for every command first.
func ExpandHelp(c *cobra.Command) {
	head, rest, ok := strings.Cut(c.Long, exitMark)
	if !ok {
		return
	}
	own, tail, _ := strings.Cut(rest, exitMark)
	var extra []string
	if own != "" {
		extra = strings.Split(own, "\n")
	}
	c.Long = strings.TrimSuffix(head, exitHeading) + buildExitStatus(extra) + tail
}

// SplitExitStatus returns c's long help without its EXIT STATUS section,
// and the section's body: the codes, one per indented line, and the line
// that points to `deskctl help exit-codes`. status is empty for a command
// without the section (help topics).
func SplitExitStatus(c *cobra.Command) (description, status string) {
	ExpandHelp(c)
	description, status, _ = strings.Cut(c.Long, exitHeading)
	return description, status
}

const exitHeading = "\n\nEXIT STATUS\n"

// printHelp shows a command's help: what it does, then cobra's usage
// (synopsis, examples, subcommands, flags), then EXIT STATUS, so that the
// usage comes first, as in a man page.
func printHelp(c *cobra.Command, _ []string) {
	w := c.OutOrStdout()
	description, status := SplitExitStatus(c)
	if description == "" {
		description = c.Short
	}
	if description = strings.TrimRight(description, " \t\n"); description != "" {
		fmt.Fprintf(w, "%s\n\n", description)
	}
	if !c.Runnable() && !c.HasSubCommands() {
		return
	}
	usage := c.UsageString()
	if status != "" {
		// Before the root's help topics and the closing pointer to
		// subcommand help, when there are any; else at the end.
		at := len(usage)
		for _, next := range []string{"\nAdditional help topics:", "\nUse \""} {
			if i := strings.Index(usage, next); i >= 0 && i < at {
				at = i
			}
		}
		usage = usage[:at] + "\nEXIT STATUS\n" + status + "\n" + usage[at:]
	}
	fmt.Fprint(w, usage)
}

func buildExitStatus(extra []string) string {
	var b strings.Builder
	b.WriteString(exitHeading)
	own := map[string]bool{}
	for _, l := range extra {
		own[strings.Fields(l)[0]] = true
	}
	lines := append([]string{}, extra...)
	for _, l := range exitCodeLines {
		if !own[strings.Fields(l)[0]] {
			lines = append(lines, l)
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i] < lines[j] })
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString("See `deskctl help exit-codes`.")
	return b.String()
}

// usageArgs checks the positional argument count with a usage-kind error.
func usageArgs(least, most int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < least || (most >= 0 && len(args) > most) {
			if len(args) < least {
				return errs.Usagef("%s needs %s", cmd.CommandPath(), names)
			}
			return errs.Usagef("%s takes %s; %q is one too many", cmd.CommandPath(), names, args[most]).
				WithHint("quote a value that contains spaces, e.g. --text \"two words\"")
		}
		return nil
	}
}

// needsGroup is the RunE of noun commands: a bare noun is a usage error listing its verbs.
func needsGroup(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		err := errs.Usagef("unknown command %q for %q", args[0], cmd.CommandPath())
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2
		}
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			return err.WithHint("did you mean '%s'?", s[0])
		}
		return err
	}
	var verbs []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			verbs = append(verbs, c.Name())
		}
	}
	return errs.Usagef("%s needs a subcommand: %s", cmd.CommandPath(), strings.Join(verbs, ", "))
}

func noun(use, short, long string, verbs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Long: long + exitStatus(), RunE: needsGroup, Args: cobra.ArbitraryArgs,
		Example: nounExample(use)}
	c.AddCommand(verbs...)
	return c
}

// newCmdHelp replaces cobra's help command so an unknown topic is a usage
// error (exit 2) instead of a silent success.
func newCmdHelp(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:     "help [command|topic]",
		Short:   "Help about any command or topic (exit-codes, environment)",
		Long:    "Help about any command, or the topics exit-codes and environment." + exitStatus(),
		Example: "  deskctl help ticket do\n  deskctl help exit-codes",
		ValidArgsFunction: func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			var out []string
			cmd, _, err := root.Find(args)
			if err != nil || cmd == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
					if strings.HasPrefix(sub.Name(), prefix) {
						out = append(out, sub.Name())
					}
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || cmd == nil || len(rest) > 0 {
				return errs.Usagef("no help topic %q", strings.Join(args, " ")).WithHint("run `deskctl --help` for the commands, or `deskctl help exit-codes`")
			}
			cmd.InitDefaultHelpFlag()
			return cmd.Help()
		},
	}
}

// unknownLeadingFlag finds an unknown flag before the command name. cobra
// takes the word after an unknown flag for its value, so `deskctl --verbose
// user list` would otherwise complain about the command "list"; naming the
// flag says what is really wrong.
func unknownLeadingFlag(root *cobra.Command, args []string) error {
	flags := pflag.NewFlagSet("leading", pflag.ContinueOnError)
	flags.AddFlagSet(root.PersistentFlags())
	flags.AddFlagSet(root.Flags())
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return nil
		}
		var name string
		var fl *pflag.Flag
		if strings.HasPrefix(a, "--") {
			name = strings.TrimPrefix(a, "--")
			name, _, _ = strings.Cut(name, "=")
			fl = flags.Lookup(name)
			name = "--" + name
		} else {
			name = a[:2]
			fl = flags.ShorthandLookup(a[1:2])
		}
		if fl == nil {
			if name == "--help" || name == "-h" || name == "--version" || name == "-v" {
				return nil
			}
			var global []string
			root.PersistentFlags().VisitAll(func(f *pflag.Flag) { global = append(global, "--"+f.Name) })
			return errs.Usagef("unknown flag: %s", quoteArg(name)).
				WithHint("only global flags (%s) may come before the command; a command's own flags go after it", strings.Join(global, ", "))
		}
		takesValue := fl.NoOptDefVal == ""
		attached := strings.Contains(a, "=") || (!strings.HasPrefix(a, "--") && len(a) > 2)
		if takesValue && !attached {
			i++ // the flag's value
		}
	}
	return nil
}

// quoteArg quotes a command-line word when it holds anything but plain
// printable characters, so an error message never echoes control bytes.
func quoteArg(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r > 0x7e {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
