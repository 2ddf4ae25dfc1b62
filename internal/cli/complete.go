package cli

import (
	"io"
	"strings"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/spf13/cobra"
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
