package cli

import (
	"bytes"
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
