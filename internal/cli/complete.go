package cli

import (
	"io"
	"strings"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const maxInput = 64 << 20

func readAllLimited(r io.Reader) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err == nil && len(raw) > maxInput {
		return nil, errs.Usagef("input is larger than %d MiB", maxInput>>20)
	}
	return raw, err
}

func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, v := range values {
			if strings.HasPrefix(v, prefix) {
				out = append(out, v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeFrom completes positional arguments from the database.
func completeFrom(f *Factory, kinds ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if len(args) >= len(kinds) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		svc, err := f.Service()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return svc.Complete(kinds[len(args)], prefix), cobra.ShellCompDirectiveNoFileComp
	}
}

func completeTickets(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return completeFrom(f, app.CompleteTickets)
}

func completeTicketThenAction(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return completeFrom(f, app.CompleteTickets, app.CompleteActions)
}

// completeValue completes a flag's value from the database, whatever the
// positional arguments are.
func completeValue(f *Factory, kind string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		return completeFrom(f, kind)(cmd, nil, prefix)
	}
}

type completeFunc = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

// noCompletion offers nothing and no file names: free text, numbers, times.
func noCompletion(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// commaList completes the last element of a comma-separated value with one.
func commaList(one completeFunc) completeFunc {
	return func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		head := ""
		if i := strings.LastIndexByte(prefix, ','); i >= 0 {
			head, prefix = prefix[:i+1], prefix[i+1:]
		}
		got, dir := one(cmd, args, prefix)
		for i := range got {
			got[i] = head + got[i]
		}
		return got, dir | cobra.ShellCompDirectiveNoSpace
	}
}

var ticketStates = []string{"request", "new", "in-progress", "waiting", "closed"}

// flagCompletions says how a flag is completed wherever it appears, by its
// name: the same name means the same kind of value across deskctl. Names not
// listed keep the shell's file-name completion (files, directories).
func flagCompletions(f *Factory) map[string]completeFunc {
	users := completeValue(f, app.CompleteUsers)
	m := map[string]completeFunc{
		"as": users, "requester": users, "assignee": users, "approver": users, "requested-by": users, "actor": users,
		"users":       commaList(users),
		"rights":      commaList(completeValue(f, app.CompleteRights)),
		"ticket":      completeValue(f, app.CompleteTickets),
		"resource":    completeValue(f, app.CompleteResources),
		"access":      fixedCompletion("read", "write"),
		"priority":    fixedCompletion("low", "normal", "high", "urgent"),
		"from-states": commaList(fixedCompletion(ticketStates...)),
		"to-state":    fixedCompletion(append(ticketStates[1:], "unchanged")...),
		"format":      fixedCompletion("jsonl", "csv"),
	}
	for _, name := range []string{"text", "comment", "note", "description", "subject", "name", "category", "value",
		"token", "due", "since", "older-than", "listen", "admin", "email", "to", "limit", "before", "lock-timeout",
		"batch", "groups", "resources", "tickets", "seed"} {
		m[name] = noCompletion
	}
	return m
}

// completeEverywhere fills in the completions commands did not register
// themselves: flags by name (flagCompletions), and positional arguments from
// the command's usage line, N being a ticket number and a command without
// arguments offering no file names.
func completeEverywhere(f *Factory, root *cobra.Command) {
	byName := flagCompletions(f)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.LocalNonPersistentFlags(), c.PersistentFlags()} {
			fs.VisitAll(func(fl *pflag.Flag) {
				if _, ok := c.GetFlagCompletionFunc(fl.Name); ok || fl.Value.Type() == "bool" {
					return
				}
				if fn, ok := byName[fl.Name]; ok {
					_ = c.RegisterFlagCompletionFunc(fl.Name, fn)
				}
			})
		}
		if c.Runnable() && c.ValidArgsFunction == nil && len(c.ValidArgs) == 0 {
			switch first := firstArgument(c.Use); {
			case first == "N":
				c.ValidArgsFunction = completeTickets(f)
			case first == "NAME" && c.Parent() != nil && c.Parent().Name() == "action" && c.Name() != "add":
				c.ValidArgsFunction = completeFrom(f, app.CompleteActions)
			case first == "FILE":
				// the shell's file names
			default: // nothing, or a new name
				c.ValidArgsFunction = noCompletion
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// firstArgument is the first positional argument named in a usage line
// ("log N" → "N"), "" when it names none.
func firstArgument(use string) string {
	flagValue := false // the token after --flag is its value, not an argument
	for _, tok := range strings.Fields(use)[1:] {
		tok = strings.Trim(tok, "[]")
		if strings.HasPrefix(tok, "-") {
			flagValue = !strings.Contains(tok, "=")
			continue
		}
		if tok == "" || flagValue {
			flagValue = false
			continue
		}
		if strings.ToUpper(tok) == tok && tok[0] >= 'A' && tok[0] <= 'Z' {
			return strings.TrimSuffix(tok, "...")
		}
	}
	return ""
}
