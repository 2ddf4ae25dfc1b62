package cli

import (
	"bytes"
	"testing"
	"time"
)

// The progress line stays empty for quick work, shows the latest status
// after the delay, is not redrawn while the status stays the same, and is
// cleared at the end only if something was drawn.
func TestProgressLine(t *testing.T) {
	var w bytes.Buffer
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newProgressLine(&w, start)

	l.draw(start.Add(progressDelay)) // nothing reported yet: no "???"
	l.set("writing batch 1/4")
	l.draw(start.Add(progressDelay / 2))
	if w.Len() != 0 {
		t.Fatalf("drawn before the delay: %q", w.String())
	}
	l.set("writing batch 2/4")
	l.draw(start.Add(progressDelay))
	l.draw(start.Add(progressDelay + progressFrame))
	if got, want := w.String(), "\r\x1b[Kwriting batch 2/4"; got != want {
		t.Fatalf("after the delay: %q, want %q", got, want)
	}
	l.set("writing batch 3/4")
	l.draw(start.Add(progressDelay + 2*progressFrame))
	l.clear()
	if got, want := w.String(), "\r\x1b[Kwriting batch 2/4\r\x1b[Kwriting batch 3/4\r\x1b[K"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}

	// Quick work: nothing drawn, nothing to clear.
	w.Reset()
	l = newProgressLine(&w, start)
	l.set("checking 12 lines")
	l.draw(start.Add(progressFrame))
	l.clear()
	if w.Len() != 0 {
		t.Fatalf("quick work printed %q", w.String())
	}
}

// Not on a terminal there is no progress at all.
func TestProgressOnlyOnATerminal(t *testing.T) {
	var errOut bytes.Buffer
	f := NewFactory(&IOStreams{ErrOut: &errOut})
	report, stop := f.progress()
	if report != nil {
		t.Error("a reporter without a terminal")
	}
	stop()
	if errOut.Len() != 0 {
		t.Errorf("printed %q", errOut.String())
	}
}
