// Command deskctl-docs writes deskctl's man pages or its markdown command
// reference (docs/cli/) from the live command tree, so both stay true to the
// code. `make manpages`, `make docs-cli` and the release build run it. It is
// a program of its own so that the man and markdown generators (and the
// markdown parser they bring) are not linked into the deskctl binary.
//
//	go run ./internal/devgen/cmd/deskctl-docs man|markdown DIR
//
// The output carries no generation date, so regenerating an unchanged command
// tree gives identical files. Exit status: 0 written, 2 usage, 1 write error.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/deskctl/deskctl/internal/cli"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	if len(args) != 2 || (args[0] != "man" && args[0] != "markdown") {
		fmt.Fprintln(stderr, "usage: deskctl-docs man|markdown DIR")
		return 2
	}
	root := cli.NewRootCmd(cli.NewFactory(&cli.IOStreams{Out: io.Discard, ErrOut: stderr}))
	if err := genDocs(root, args[0], args[1]); err != nil {
		fmt.Fprintln(stderr, "deskctl-docs:", err)
		return 1
	}
	return 0
}

func genDocs(root *cobra.Command, format, dir string) error {
	// The auto-generated tag carries today's date; without it the output is
	// reproducible and a stale-reference check can compare it byte for byte.
	eachCommand(root, func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		cli.ExpandHelp(c)
		c.Long = fenceIndented(c.Long)
	})
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if format == "markdown" {
		return doc.GenMarkdownTree(root, dir)
	}
	return doc.GenManTree(root, &doc.GenManHeader{
		Section: "1",
		Source:  "deskctl",
		Manual:  "deskctl manual",
	}, dir)
}

// fenceIndented puts each run of indented lines of a long help (the EXIT
// STATUS table, lists of variables) into a fenced block. Both generators read
// the text as markdown, which would otherwise run those lines together into
// one paragraph.
func fenceIndented(long string) string {
	var b strings.Builder
	inBlock := false
	for _, line := range strings.Split(long, "\n") {
		indented := strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "\t")
		if indented != inBlock {
			b.WriteString("```\n")
			inBlock = indented
		}
		b.WriteString(line + "\n")
	}
	if inBlock {
		b.WriteString("```\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func eachCommand(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		eachCommand(sub, fn)
	}
}
