package cli

import (
	"io"
	"testing"
)

// BenchmarkNewRootCmd measures building the whole command tree, which every
// run of deskctl does before it parses its arguments.
func BenchmarkNewRootCmd(b *testing.B) {
	io := &IOStreams{In: nil, Out: io.Discard, ErrOut: io.Discard}
	b.ReportAllocs()
	for b.Loop() {
		NewRootCmd(NewFactory(io))
	}
}
