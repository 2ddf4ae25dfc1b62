package cli

import (
	"io"
	"os"
	"strconv"

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
	// Width is the terminal's width in columns when stdout is a terminal
	// (0 when unknown or not a terminal): tables are made to fit it.
	Width int
	// ASCII is true on a dumb terminal: tables without box-drawing characters.
	ASCII bool
}

// DefaultIO wires the process's standard streams.
func DefaultIO() *IOStreams {
	in := term.IsTerminal(int(os.Stdin.Fd()))
	out := term.IsTerminal(int(os.Stdout.Fd()))
	errTTY := term.IsTerminal(int(os.Stderr.Fd()))
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, InTTY: in, OutTTY: out, ErrTTY: errTTY,
		Color: colorAllowed(out, os.Getenv)}
	if out {
		s.Width = terminalWidth(int(os.Stdout.Fd()), os.Getenv)
		s.ASCII = os.Getenv("TERM") == "dumb"
	}
	return s
}

// terminalWidth is COLUMNS when it holds a positive number, else the width
// of the terminal on fd, else 0.
func terminalWidth(fd int, getenv func(string) string) int {
	if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if w, _, err := term.GetSize(fd); err == nil && w > 0 {
		return w
	}
	return 0
}

// colorAllowed says whether output on a terminal may be coloured: not when
// NO_COLOR is set to anything but the empty string (no-color.org), nor on a
// dumb terminal.
func colorAllowed(tty bool, getenv func(string) string) bool {
	return tty && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}
