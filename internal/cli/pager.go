package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/deskctl/deskctl/internal/errs"
)

// pagerCommand is the pager long output goes through on a terminal:
// $DESKCTL_PAGER, else $PAGER, else `less -FRX` when less is installed (it
// prints what fits on one screen and exits at once). Empty or "cat" means no
// pager.
func pagerCommand() string {
	for _, name := range []string{"DESKCTL_PAGER", "PAGER"} {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
	}
	if _, err := exec.LookPath("less"); err == nil {
		return "less -FRX"
	}
	return ""
}

// paged runs write with stdout going through the pager command (a program
// and its arguments, separated by spaces), and waits for the pager to end.
// When stdout is not a terminal, there is no pager, or it cannot be
// started, write goes straight to stdout. A pager quit before the end of
// the output is not an error.
func (s *IOStreams) paged(command string, write func() error) error {
	args := strings.Fields(command)
	if !s.OutTTY || len(args) == 0 || command == "cat" {
		return write()
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = s.Out, s.ErrOut
	cmd.Env = os.Environ()
	if _, ok := os.LookupEnv("LESS"); !ok {
		cmd.Env = append(cmd.Env, "LESS=FRX") // PAGER=less: colour, and no paging of one screen
	}
	in, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		fmt.Fprintf(s.ErrOut, "warning: cannot run the pager %s: %v\n", errs.Input(command), err)
		return write()
	}
	out := s.Out
	s.Out = in
	err = write()
	s.Out = out
	in.Close()
	waitErr := cmd.Wait()
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrClosed) {
		err = nil
	}
	if err == nil && waitErr != nil {
		var exit *exec.ExitError
		if !errors.As(waitErr, &exit) { // a pager's own exit status is its business
			err = waitErr
		}
	}
	return err
}
