package cli

import (
	"io"
	"testing"
)

// BenchmarkCommandTree measures building the command tree, which every run
// does before it parses its arguments: the whole tree (help, completion) and
// the tree of one top-level command (every other run).
func BenchmarkCommandTree(b *testing.B) {
	streams := &IOStreams{Out: io.Discard, ErrOut: io.Discard}
	for _, bc := range []struct {
		name string
		args []string
	}{
		{"whole", nil},
		{"version", []string{"version"}},
		{"access-can", []string{"--as", "bob", "access", "can", "bob", "close", "--ticket", "4"}},
		{"ticket-list", []string{"ticket", "list"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				newRunTree(NewFactory(streams), bc.args)
			}
		})
	}
}
