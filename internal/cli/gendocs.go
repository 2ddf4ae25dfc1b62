package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// The hidden `__gendocs` command writes the man pages and the markdown
// reference (docs/cli/) from the live command tree, so both stay true to the
// code; `make manpages`, `make docs-cli` and the release build call it.
var _ = register(func(f *Factory) (string, *cobra.Command) {
	return "ops", newCmdGenDocs(f)
})

func newCmdGenDocs(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "__gendocs man|markdown DIR",
		Short: "Generate man pages or the markdown command reference into DIR",
		Long: `Write one page per command into DIR: section 1 man pages (man) or the markdown
reference kept in docs/cli/ (markdown). The output carries no generation date, so
regenerating an unchanged command tree gives identical files.` + exitStatus(),
		Example:   "  deskctl __gendocs man build/man\n  deskctl __gendocs markdown docs/cli",
		Hidden:    true,
		Args:      usageArgs(2, 2, "a format (man or markdown) and a directory"),
		ValidArgs: []string{"man", "markdown"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return genDocs(cmd.Root(), args[0], args[1])
		},
	}
}

func genDocs(root *cobra.Command, format, dir string) error {
	if format != "man" && format != "markdown" {
		return errs.Usagef("unknown format %q", format).WithHint("use man or markdown")
	}
	// The auto-generated tag carries today's date; without it the output is
	// reproducible and a stale-reference check can compare it byte for byte.
	eachCommand(root, func(c *cobra.Command) {
		c.DisableAutoGenTag = true
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
