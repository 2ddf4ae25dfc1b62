// Command deskctl-docs writes deskctl's man pages or its markdown command
// reference (docs/cli/) from the live command tree, so both stay true to the
// code. `make manpages`, `make docs-cli` and the release build run it. It is
// a program of its own so that the man and markdown generators (and the
// markdown parser they bring) are not linked into the deskctl binary.
//
//	go run ./internal/devgen/cmd/deskctl-docs man|markdown DIR
//
// Man pages: deskctl(1) and one page per command, in section 1, each with
// EXIT STATUS and ENVIRONMENT sections after its options; the help topics
// (`deskctl help environment`, `deskctl help exit-codes`) become
// deskctl-environment(7) and deskctl-exit-codes(7). The markdown reference
// has the same pages, with EXIT STATUS after the options as in --help.
//
// The output carries no generation date, so regenerating an unchanged command
// tree gives identical files. Exit status: 0 written, 2 usage, 1 write error.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/deskctl/deskctl/internal/cli"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
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
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if format == "markdown" {
		return genMarkdown(root, dir)
	}
	return genMan(root, dir)
}

// topics are the root's help topics: commands with nothing to run.
func topics(root *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, c := range root.Commands() {
		if c.IsAdditionalHelpTopicCommand() {
			out = append(out, c)
		}
	}
	return out
}

// prepare readies every command but the help topics for a generator: no
// dated auto-generated tag, and the long help as markdown (indented runs
// fenced) without its EXIT STATUS section, which more(c, status) turns into
// the text appended instead.
func prepare(root *cobra.Command, more func(c *cobra.Command, status string) string) {
	eachCommand(root, func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		if c.IsAdditionalHelpTopicCommand() {
			return
		}
		description, status := cli.SplitExitStatus(c)
		c.Long = fenceIndented(description) + more(c, status)
	})
}

// genMarkdown writes docs/cli: one page per command with its exit status
// after the options, and one per help topic.
func genMarkdown(root *cobra.Command, dir string) error {
	// The exit status goes in after cobra has written a page: in the long
	// help it would come before the synopsis line that follows it.
	statuses := map[string]string{}
	prepare(root, func(c *cobra.Command, status string) string {
		if status != "" {
			name := strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
			status = strings.Replace(status, "`deskctl help exit-codes`", "[`deskctl help exit-codes`](deskctl_exit-codes.md)", 1)
			statuses[name] = "### Exit status\n\n" + fenceIndented(status) + "\n\n"
		}
		return ""
	})
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		return err
	}
	for name, section := range statuses {
		err := rewrite(filepath.Join(dir, name), func(page []byte) []byte {
			return insertBefore(page, "### SEE ALSO\n", section)
		})
		if err != nil {
			return err
		}
	}
	var seeAlso strings.Builder
	for _, t := range topics(root) {
		name := "deskctl_" + t.Name() + ".md"
		page := fmt.Sprintf("## deskctl %s\n\n%s\n\n### Synopsis\n\n%s\n\n### SEE ALSO\n\n* [deskctl](deskctl.md)\t - %s\n\n",
			t.Name(), t.Short, fenceIndented(t.Long), root.Short)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(page), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&seeAlso, "* [deskctl %s](%s)\t - %s\n", t.Name(), name, t.Short)
	}
	return rewrite(filepath.Join(dir, "deskctl.md"), func(page []byte) []byte {
		return append(bytes.TrimRight(page, "\n"), "\n"+seeAlso.String()+"\n"...)
	})
}

// insertBefore inserts text before the line that starts with heading, or at
// the end when no line does.
func insertBefore(page []byte, heading, text string) []byte {
	at := len(page)
	if bytes.HasPrefix(page, []byte(heading)) {
		at = 0
	} else if i := bytes.Index(page, []byte("\n"+heading)); i >= 0 {
		at = i + 1
	}
	return slices.Concat(page[:at:at], []byte(text), page[at:])
}

// genMan writes the section 1 pages, each with EXIT STATUS and ENVIRONMENT
// after its options, and a section 7 page per help topic.
func genMan(root *cobra.Command, dir string) error {
	date, err := manDate()
	if err != nil {
		return err
	}
	env := environment(root)
	prepare(root, func(c *cobra.Command, status string) string {
		text := env.short
		if !c.HasParent() {
			text = env.full
		}
		status = strings.Replace(status, "`deskctl help exit-codes`", "**deskctl-exit-codes**(7)", 1)
		return "\n\n# EXIT STATUS\n" + fenceIndented(status) + "\n\n# ENVIRONMENT\n" + text
	})
	header := &doc.GenManHeader{Section: "1", Source: "deskctl", Manual: "deskctl manual", Date: &date}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return err
	}
	err = rewriteAll(dir, ".1", func(page []byte) []byte {
		return moveSections(page, ".SH ", []string{"EXIT STATUS", "ENVIRONMENT"}, []string{"EXAMPLE", "SEE ALSO"})
	})
	if err != nil {
		return err
	}
	var refs []string
	for _, t := range topics(root) {
		refs = append(refs, `\fBdeskctl-`+t.Name()+`(7)\fP`)
	}
	for _, t := range topics(root) {
		name := "deskctl-" + t.Name()
		others := slices.DeleteFunc(slices.Clone(refs), func(r string) bool { return strings.Contains(r, name+"(") })
		src := fmt.Sprintf("%% %q \"7\" %q \"deskctl\" \"deskctl manual\"\n# NAME\n%s \\- %s\n\n# DESCRIPTION\n%s\n\n# SEE ALSO\n**deskctl(1)**\n",
			strings.ToUpper(name), date.Format("Jan 2006"), name, t.Short, fenceIndented(t.Long))
		page := md2man.Render([]byte(src))
		page = appendSeeAlso(page, others)
		if err := os.WriteFile(filepath.Join(dir, name+".7"), page, 0o644); err != nil {
			return err
		}
	}
	return rewrite(filepath.Join(dir, "deskctl.1"), func(page []byte) []byte { return appendSeeAlso(page, refs) })
}

// manDate is the month man pages carry: that of SOURCE_DATE_EPOCH when set
// (reproducible builds), else now.
func manDate() (time.Time, error) {
	epoch := os.Getenv("SOURCE_DATE_EPOCH")
	if epoch == "" {
		return time.Now(), nil
	}
	sec, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", epoch)
	}
	return time.Unix(sec, 0).UTC(), nil
}

type envText struct{ full, short string }

var envFlag = regexp.MustCompile(`\benv ([A-Z_]+)`)

// environment is the ENVIRONMENT section of the man pages: deskctl(1) has
// every variable (the text of `deskctl help environment`); a command's page
// names the variables behind the global options and points to
// deskctl-environment(7).
func environment(root *cobra.Command) envText {
	var full string
	if c, _, err := root.Find([]string{"environment"}); err == nil && c.IsAdditionalHelpTopicCommand() {
		full = fenceIndented(c.Long)
	}
	var pairs []string
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if m := envFlag.FindStringSubmatch(f.Usage); m != nil {
			pairs = append(pairs, "--"+f.Name+" from "+m[1])
		}
	})
	short := fmt.Sprintf("The global options take their defaults from the environment: %s. **deskctl-environment**(7) lists every variable deskctl reads.",
		list(pairs))
	return envText{full: full, short: short}
}

// list joins words as prose: "a, b and c".
func list(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// appendSeeAlso adds references to the SEE ALSO section of a man page,
// which the generators write last.
func appendSeeAlso(page []byte, refs []string) []byte {
	if len(refs) == 0 {
		return page
	}
	page = bytes.TrimRight(page, "\n")
	return append(page, []byte(", "+strings.Join(refs, ", ")+"\n")...)
}

// moveSections moves the sections titled one of move (in that order) before
// the first section titled one of before, or to the end when there is none.
// A section runs from its heading line (prefix + title) to the next heading.
func moveSections(page []byte, prefix string, move, before []string) []byte {
	lines := strings.SplitAfter(string(page), "\n")
	title := func(l string) (string, bool) {
		if !strings.HasPrefix(l, prefix) {
			return "", false
		}
		return strings.Trim(strings.TrimSpace(strings.TrimPrefix(l, prefix)), `"`), true
	}
	var rest []string
	moved := make([][]string, len(move))
	cur := -1 // index into move of the section being lifted out, or -1
	for _, l := range lines {
		if t, ok := title(l); ok {
			cur = slices.Index(move, t)
		}
		if cur >= 0 {
			moved[cur] = append(moved[cur], l)
		} else {
			rest = append(rest, l)
		}
	}
	at := len(rest)
	for i, l := range rest {
		if t, ok := title(l); ok && slices.Contains(before, t) {
			at = i
			break
		}
	}
	out := slices.Clone(rest[:at])
	for _, m := range moved {
		out = append(out, m...)
	}
	out = append(out, rest[at:]...)
	return []byte(strings.Join(out, ""))
}

func rewriteAll(dir, ext string, fn func([]byte) []byte) error {
	paths, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil {
		return err
	}
	for _, p := range paths {
		if err := rewrite(p, fn); err != nil {
			return err
		}
	}
	return nil
}

func rewrite(path string, fn func([]byte) []byte) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, fn(b), 0o644)
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
