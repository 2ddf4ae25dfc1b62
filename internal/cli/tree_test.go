package cli

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// TestEveryCommandIsDocumented walks the whole tree: each command has a short
// and long description, examples and an EXIT STATUS section, and no command
// has two flags with the same shorthand (including inherited ones).
func TestEveryCommandIsDocumented(t *testing.T) {
	root := NewRootCmd(NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}))
	count := 0
	walk(root, func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || strings.HasPrefix(c.Name(), "__") || isHelpTopic(c) {
			return
		}
		count++
		path := c.CommandPath()
		if c.Short == "" {
			t.Errorf("%s: no short description", path)
		}
		if c.Long == "" {
			t.Errorf("%s: no long description", path)
		}
		if c.Example == "" {
			t.Errorf("%s: no example", path)
		}
		if !strings.Contains(c.Long, "EXIT STATUS") {
			t.Errorf("%s: long help has no EXIT STATUS section", path)
		}
		ExpandHelp(c)
		if !strings.Contains(c.Long, "  0  success\n") || !strings.HasSuffix(c.Long, "See `deskctl help exit-codes`.") || strings.Contains(c.Long, "\x00") {
			t.Errorf("%s: EXIT STATUS section not written out by ExpandHelp:\n%s", path, c.Long)
		}
		shorts := map[string]string{}
		check := func(fl *pflag.Flag) {
			if fl.Shorthand == "" {
				return
			}
			if other, dup := shorts[fl.Shorthand]; dup && other != fl.Name {
				t.Errorf("%s: -%s is both --%s and --%s", path, fl.Shorthand, other, fl.Name)
			}
			shorts[fl.Shorthand] = fl.Name
		}
		c.LocalFlags().VisitAll(check)
		c.InheritedFlags().VisitAll(check)
	})
	if count < 60 {
		t.Fatalf("walked only %d commands; the tree is smaller than expected", count)
	}
}

func isHelpTopic(c *cobra.Command) bool {
	return c.Name() == "exit-codes" || c.Name() == "environment"
}

// TestEveryHelpRuns renders --help for every command through Main's path,
// which catches flag definitions that clash at run time.
func TestEveryHelpRuns(t *testing.T) {
	root := NewRootCmd(NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}))
	var paths [][]string
	walk(root, func(c *cobra.Command) {
		p := strings.Fields(c.CommandPath())[1:]
		paths = append(paths, p)
	})
	for _, p := range paths {
		var out, errOut bytes.Buffer
		code := run(append(append([]string{}, p...), "--help"), &IOStreams{Out: &out, ErrOut: &errOut})
		if code != 0 {
			t.Errorf("deskctl %s --help exited %d: %s", strings.Join(p, " "), code, errOut.String())
		}
		if out.Len() == 0 {
			t.Errorf("deskctl %s --help printed nothing", strings.Join(p, " "))
		}
	}
}

func TestExitCodeMapping(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"no-such-command"}, ExitUsage},
		{[]string{"user", "list", "--no-such-flag"}, ExitUsage},
		{[]string{"user", "add"}, ExitUsage},
		{[]string{"-o", "xml", "version"}, ExitUsage},
		{[]string{"version"}, ExitOK},
	} {
		var out, errOut bytes.Buffer
		if code := run(tc.args, &IOStreams{Out: &out, ErrOut: &errOut}); code != tc.code {
			t.Errorf("deskctl %v exited %d, want %d (stderr %q)", tc.args, code, tc.code, errOut.String())
		}
	}
}

// TestExamplesParse: every deskctl command line in every example names a
// real command, with flags it has and as many arguments as it takes, so
// examples cannot drift from the commands. Noun commands show verbs, not
// just --help.
func TestExamplesParse(t *testing.T) {
	tree := NewRootCmd(NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}))
	checked := 0
	walk(tree, func(c *cobra.Command) {
		if c.Hidden || isHelpTopic(c) {
			return
		}
		path := c.CommandPath()
		if c.HasAvailableSubCommands() && c.HasParent() && strings.Contains(c.Example, " --help") {
			t.Errorf("%s: a noun's examples should show its verbs, not --help:\n%s", path, c.Example)
		}
		for _, line := range strings.Split(strings.ReplaceAll(c.Example, "\\\n", " "), "\n") {
			for _, argv := range deskctlCommands(line) {
				checked++
				// A fresh tree per line: parsing sets flags.
				root := NewRootCmd(NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}))
				cmd, rest, err := root.Find(argv)
				help := false
				if err == nil {
					// Commands whose help flag cobra adds only when run
					// report --help as pflag.ErrHelp.
					err = cmd.ParseFlags(rest)
					help = errors.Is(err, pflag.ErrHelp) || isHelpRequest(cmd)
					if help {
						err = nil
					}
				}
				if err == nil && !help {
					if err = cmd.ValidateArgs(cmd.Flags().Args()); err == nil {
						err = cmd.ValidateRequiredFlags()
					}
				}
				if err == nil && !cmd.Runnable() {
					err = errors.New("names no runnable command")
				}
				if err != nil {
					t.Errorf("%s: example %q: %v", path, line, err)
				}
			}
		}
	})
	if checked < 150 {
		t.Errorf("checked only %d example command lines", checked)
	}
}

func isHelpRequest(c *cobra.Command) bool {
	h, err := c.Flags().GetBool("help")
	return err == nil && h
}

// deskctlCommands returns the arguments of each deskctl command on a shell
// line: pipelines and lists are split, variable assignments before the
// command and redirections are dropped, quotes and $(…) keep words whole.
func deskctlCommands(line string) [][]string {
	var out [][]string
	var words []string
	var word strings.Builder
	inWord, redirect := false, false
	var quote rune
	depth := 0
	end := func() {
		if inWord && !redirect {
			words = append(words, word.String())
		}
		word.Reset()
		inWord, redirect = false, redirect && !inWord
	}
	flush := func() {
		end()
		redirect = false
		for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
			words = words[1:]
		}
		if len(words) > 0 && words[0] == "deskctl" {
			out = append(out, words[1:])
		}
		words = nil
	}
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case depth > 0:
			word.WriteRune(r)
			switch r {
			case '(':
				depth++
			case ')':
				depth--
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == '$' && i+1 < len(rs) && rs[i+1] == '(':
			word.WriteString("$(")
			i++
			depth, inWord = 1, true
		case r == '|' || r == ';' || r == '&':
			flush()
		case r == '>' || r == '<':
			end()
			redirect = true
		case r == ' ' || r == '\t':
			end()
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	flush()
	return out
}

func TestDeskctlCommands(t *testing.T) {
	for _, tc := range []struct {
		line string
		want [][]string
	}{
		{`  deskctl user add bob --name "Bob Tech"`, [][]string{{"user", "add", "bob", "--name", "Bob Tech"}}},
		{`  echo "$TOKEN" | deskctl login --server https://h`, [][]string{{"login", "--server", "https://h"}}},
		{`  deskctl policy export > policy.yaml`, [][]string{{"policy", "export"}}},
		{`  deskctl db backup /b/deskctl-$(date +%F).db`, [][]string{{"db", "backup", "/b/deskctl-$(date +%F).db"}}},
		{`  DESKCTL_X=… deskctl a b -q && echo yes`, [][]string{{"a", "b", "-q"}}},
		{`  deskctl a; deskctl b 'c d'`, [][]string{{"a"}, {"b", "c d"}}},
		{`  make install`, nil},
	} {
		if got := deskctlCommands(tc.line); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("deskctlCommands(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}
