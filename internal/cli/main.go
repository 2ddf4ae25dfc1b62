// Package cli is deskctl's command line: the root command, the factory that
// hands commands their dependencies, one file per noun, and the single place
// that turns errors into exit codes and messages.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/spf13/cobra"
)

// Exit codes: the contract scripts and CI rely on (docs/exit-codes.md).
const (
	ExitOK        = 0
	ExitNegative  = 1 // a well-formed "no": access can, policy validate/test findings, audit verify, db check
	ExitUsage     = 2
	ExitNotFound  = 3
	ExitForbidden = 4
	ExitConflict  = 5
	ExitBusy      = 6
	ExitUnusable  = 7
	ExitInternal  = 8
)

// ExitCode maps an error to its exit code. It is the only such mapping.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	switch errs.KindOf(err) {
	case errs.Negative:
		return ExitNegative
	case errs.Usage:
		return ExitUsage
	case errs.NotFound:
		return ExitNotFound
	case errs.Forbidden:
		return ExitForbidden
	case errs.Conflict:
		return ExitConflict
	case errs.Busy:
		return ExitBusy
	case errs.Unusable:
		return ExitUnusable
	}
	return ExitInternal
}

// Main runs deskctl with args and returns the process exit code.
func Main(args []string) int {
	return run(args, DefaultIO())
}

func run(args []string, io *IOStreams) (code int) {
	// A panic is a bug: say so in one line with the internal exit code
	// rather than a stack trace (a write transaction it interrupted has
	// been rolled back by bbolt).
	defer func() {
		if r := recover(); r != nil {
			printError(io.ErrOut, nil, errs.Internalf("internal error: %v", r).
				WithHint("this is a bug in deskctl; please report it with the command you ran and `deskctl version`"))
			code = ExitInternal
		}
	}()
	f := NewFactory(io)
	root := newRunTree(f, args)
	if len(args) > 0 && strings.HasPrefix(args[0], cobra.ShellCompRequestCmd) {
		// Only a completion request needs the completions of every flag
		// and argument; other runs skip the walk over the tree.
		completeEverywhere(f, root)
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err != nil {
		if flagErr := unknownLeadingFlag(root, args); flagErr != nil {
			cmd, err = root, flagErr
		}
	}
	if err == nil {
		return ExitOK
	}
	err = classifyCobraError(err)
	var silent *silentError
	if !errors.As(err, &silent) {
		printError(io.ErrOut, cmd, err)
	}
	return ExitCode(err)
}

// silentError carries an exit code for a result already printed (e.g. `access can -q`).
type silentError struct{ err error }

func (e *silentError) Error() string { return e.err.Error() }
func (e *silentError) Unwrap() error { return e.err }

// classifyCobraError gives cobra's own argument and flag errors the usage kind.
func classifyCobraError(err error) error {
	if errs.KindOf(err) != errs.Internal {
		return err
	}
	msg := err.Error()
	if head, tail, ok := strings.Cut(msg, "\n\nDid you mean this?\n"); ok {
		var names []string
		for _, n := range strings.Fields(tail) {
			names = append(names, "'"+n+"'")
		}
		return &errs.Error{Kind: errs.Usage, Msg: head, Hint: "did you mean " + strings.Join(names, " or ") + "?"}
	}
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "requires at most", "if any flags in the group",
		"required flag", "bad flag syntax", "none of the others can be"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, p) {
			return &errs.Error{Kind: errs.Usage, Msg: msg}
		}
	}
	return err
}

func printError(w io.Writer, cmd *cobra.Command, err error) {
	fmt.Fprintf(w, "deskctl: %s\n", oneLine(err.Error()))
	if h := errs.HintOf(err); h != "" {
		fmt.Fprintf(w, "hint: %s\n", oneLine(h))
	}
	if errs.KindOf(err) == errs.Usage && cmd != nil {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
}

// oneLine keeps an error on one line and, whatever a message quoted without
// escaping, never lets it act on the terminal (helpdesk.EscapeText).
func oneLine(s string) string {
	return helpdesk.EscapeText(strings.ReplaceAll(strings.TrimSpace(s), "\n", " "))
}

// osLogin is the operating-system login name, used as the default actor.
func osLogin() string {
	for _, v := range []string{"USER", "LOGNAME", "USERNAME"} {
		if u := os.Getenv(v); u != "" {
			return u
		}
	}
	// No variable (cron, some containers): ask the system.
	if u, err := user.Current(); err == nil {
		name := u.Username
		if i := strings.LastIndexByte(name, '\\'); i >= 0 { // DOMAIN\user on Windows
			name = name[i+1:]
		}
		return name
	}
	return ""
}
