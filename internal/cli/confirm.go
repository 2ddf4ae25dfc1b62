package cli

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/spf13/cobra"
)

// Commands whose change cannot be undone from the command line (policy
// apply, the remove commands, ticket delete, db restore, token revoke) ask
// before they make it. The rule depends on the command line and standard
// input only, never on what the database holds, so a script can tell from
// its own text whether it needs --yes:
//
//   - with --yes, nothing is asked;
//   - when standard input is a terminal, the question is asked (on stderr,
//     so it shows even when stdout goes to a pipe or a file);
//   - otherwise nobody can answer, and the command refuses before doing
//     anything, as a usage error.

// Lines of the EXIT STATUS section of every command that asks.
const (
	declinedStatus = "1  you did not answer yes at the prompt: nothing was changed"
	noYesStatus    = "2  standard input is not a terminal and --yes was not given"
)

// yesFlag adds --yes/-y to a command that asks before it changes something.
func yesFlag(cmd *cobra.Command, yes *bool) {
	cmd.Flags().BoolVarP(yes, "yes", "y", false, "do not ask for confirmation (required when standard input is not a terminal)")
}

// canConfirm refuses a command that would have to ask but cannot: standard
// input is not a terminal and --yes was not given. Commands call it before
// any other work.
func (f *Factory) canConfirm(cmd *cobra.Command, yes bool) error {
	if yes || f.IO.InTTY {
		return nil
	}
	return errs.Usagef("--yes required when not running interactively").
		WithHint("standard input is not a terminal, so nobody can confirm; add --yes to %s if the change is meant", cmd.CommandPath())
}

// confirm asks question on stderr and reads one line from standard input.
// y or yes, in any case, goes ahead; anything else declines, and so do an
// empty line and the end of input. A declined change is a negative answer
// (exit 1) and nothing has been changed.
func (f *Factory) confirm(question string) error {
	fmt.Fprintf(f.IO.ErrOut, "%s [y/N] ", question)
	line, err := bufio.NewReader(f.IO.In).ReadString('\n')
	if err != nil || !f.IO.ErrTTY {
		// The terminal did not echo a newline (the input ended), or the
		// prompt went elsewhere: end the prompt's line there.
		fmt.Fprintln(f.IO.ErrOut)
	}
	if answerIsYes(line) {
		return nil
	}
	return errs.Negativef("not confirmed: nothing was changed").
		WithHint("answer y or yes to go ahead, or pass --yes to skip the question")
}

func answerIsYes(line string) bool {
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// confirmed is what a command that asks does before its change: refuse when
// nobody can answer, skip the question with --yes, otherwise ask. question
// is called only when the question is asked, so the work of describing the
// change (a read of the database) is done only then; its error ends the
// command before anything is asked, and an empty question means the change
// will be refused anyway (the action is not available), so there is
// nothing to ask.
func (f *Factory) confirmed(cmd *cobra.Command, yes bool, question func(svc app.UseCases) (string, error)) error {
	if err := f.canConfirm(cmd, yes); err != nil || yes {
		return err
	}
	svc, err := f.Service()
	if err != nil {
		return err
	}
	q, err := question(svc)
	if err != nil || q == "" {
		return err
	}
	return f.confirm(q)
}

// counted is "1 thing" or "N things".
func counted(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// withParts is " with a, b and c" for the parts that are not empty, or "".
func withParts(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" && !strings.HasPrefix(p, "0 ") {
			kept = append(kept, p)
		}
	}
	switch len(kept) {
	case 0:
		return ""
	case 1:
		return " with " + kept[0]
	}
	return " with " + strings.Join(kept[:len(kept)-1], ", ") + " and " + kept[len(kept)-1]
}
