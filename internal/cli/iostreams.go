package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the only places commands write to.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY is true when stdin is a terminal (someone can answer a
	// question); OutTTY likewise for stdout, ErrTTY for stderr.
	InTTY  bool
	OutTTY bool
	ErrTTY bool
	// Color is allowed on a terminal unless NO_COLOR is set.
	Color bool
}

// DefaultIO wires the process's standard streams.
func DefaultIO() *IOStreams {
	in := term.IsTerminal(int(os.Stdin.Fd()))
	out := term.IsTerminal(int(os.Stdout.Fd()))
	errTTY := term.IsTerminal(int(os.Stderr.Fd()))
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, InTTY: in, OutTTY: out, ErrTTY: errTTY,
		Color: colorAllowed(out, os.Getenv)}
}

// colorAllowed says whether output on a terminal may be coloured: not when
// NO_COLOR is set to anything but the empty string (no-color.org), nor on a
// dumb terminal.
func colorAllowed(tty bool, getenv func(string) string) bool {
	return tty && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}
