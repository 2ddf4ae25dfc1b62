package cli

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestTopCommandNames checks that each top-level command is registered under
// the name it is run by, once, and that together they are every command of
// the whole tree but help, completion and the help topics.
func TestTopCommandNames(t *testing.T) {
	f := NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	var names []string
	for _, top := range topCommands() {
		_, c := top.build(f)
		if c.Name() != top.name {
			t.Errorf("registered as %q, runs as %q", top.name, c.Name())
		}
		if len(c.Aliases) > 0 {
			t.Errorf("%s has aliases %v, which a run would not find without the whole tree", top.name, c.Aliases)
		}
		if slices.Contains(names, top.name) {
			t.Errorf("%s registered twice", top.name)
		}
		names = append(names, top.name)
	}
	var inTree []string
	for _, c := range NewRootCmd(f).Commands() {
		if c.Name() != "help" && c.Name() != "completion" && !isHelpTopic(c) {
			inTree = append(inTree, c.Name())
		}
	}
	slices.Sort(names)
	slices.Sort(inTree)
	if !slices.Equal(names, inTree) {
		t.Errorf("registered %v, whole tree %v", names, inTree)
	}
}

// TestRunTree checks which runs build only their top-level command, and that
// the command such a tree finds is the one the whole tree finds, with the
// same flags and annotations.
func TestRunTree(t *testing.T) {
	for _, tc := range []struct {
		args string
		only string // the one top-level command built; "" for the whole tree
	}{
		{"version", "version"},
		{"access can bob close --ticket 4", "access"},
		{"--db x.db --as bob -o json access can bob close", "access"},
		{"--db=x.db -ojson ticket list --state open", "ticket"},
		{"--lock-timeout 2s --jq .[] user list", "user"},
		{"--template={{.}} user remove bob", "user"},
		{"user remove bob --yes", "user"},
		{"login", "login"},
		{"", ""},
		{"help", ""},
		{"help access can", ""},
		{"access can --help", ""},
		{"-h", ""},
		{"access --help=true", ""},
		{"--version", ""},
		{"-v", ""},
		{"completion bash", ""},
		{"__complete access ", ""},
		{"__completeNoDesc user ", ""},
		{"exit-codes", ""},
		{"acess can bob close", ""},
		{"--verbose user list", ""},
		{"--db", ""},
		{"--db access can", ""}, // access is --db's value, can no command
		{"-- user list", ""},
		{"-x user list", ""},
	} {
		t.Run(tc.args, func(t *testing.T) {
			args := strings.Fields(tc.args)
			f := NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
			run := newRunTree(f, args)
			var tops []string
			for _, c := range run.Commands() {
				tops = append(tops, c.Name())
			}
			if tc.only == "" {
				if len(tops) < 10 {
					t.Fatalf("built %v, want the whole tree", tops)
				}
				return
			}
			if !slices.Equal(tops, []string{tc.only, "help"}) && !slices.Equal(tops, []string{tc.only}) {
				t.Fatalf("built %v, want only %s", tops, tc.only)
			}
			whole := NewRootCmd(NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}))
			got, gotArgs, gotErr := run.Find(args)
			want, wantArgs, wantErr := whole.Find(args)
			if got.CommandPath() != want.CommandPath() || !slices.Equal(gotArgs, wantArgs) || (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("found %q %v %v, whole tree %q %v %v", got.CommandPath(), gotArgs, gotErr, want.CommandPath(), wantArgs, wantErr)
			}
			top, _, _ := whole.Find([]string{tc.only})
			walk(top, func(w *cobra.Command) {
				path := strings.Fields(strings.TrimPrefix(w.CommandPath(), "deskctl"))
				g, _, err := run.Find(path)
				if err != nil || g.CommandPath() != w.CommandPath() {
					t.Errorf("%s: not in the run's tree", w.CommandPath())
					return
				}
				if flagsOf(g) != flagsOf(w) || !maps.Equal(g.Annotations, w.Annotations) || g.Long != w.Long {
					t.Errorf("%s differs from the whole tree's", w.CommandPath())
				}
			})
		})
	}
}

func flagsOf(c *cobra.Command) string {
	var b strings.Builder
	c.Flags().VisitAll(func(f *pflag.Flag) { b.WriteString(f.Name + "=" + f.DefValue + ";") })
	b.WriteString("|")
	c.InheritedFlags().VisitAll(func(f *pflag.Flag) { b.WriteString(f.Name + ";") })
	return b.String()
}
