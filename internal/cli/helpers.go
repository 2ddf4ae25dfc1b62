package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/output"
)

// print renders data in the -o format: structured formats get data itself,
// the others the table form.
func (f *Factory) print(data any, tab output.Tab) error {
	p, err := f.Printer()
	if err != nil {
		return err
	}
	return p.Print(data, tab)
}

// notef writes a progress or status line to stderr.
func (f *Factory) notef(format string, a ...any) {
	fmt.Fprintf(f.IO.ErrOut, format+"\n", a...)
}

// reportDelivery tells the user on stderr what happened to queued mail.
func (f *Factory) reportDelivery(d app.Delivery) {
	for _, to := range d.Sent {
		f.notef("mail sent to %s", to)
	}
	if len(d.Queued) > 0 {
		f.notef("mail to %s queued: %s", strings.Join(d.Queued, ", "), d.Reason)
	}
	if len(d.Failed) > 0 {
		f.notef("mail to %s %s\nhint: %s", strings.Join(d.Failed, ", "), d.FailReason, d.Resend)
	}
	if d.Warning != "" {
		f.notef("warning: %s", d.Warning)
	}
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func join(s []string) string { return strings.Join(s, ", ") }

func itoa(n int) string { return strconv.Itoa(n) }

// progress shows on stderr, when it is a terminal, what a long task is
// doing: report is given a status ("writing batch 3/40") as the work goes on,
// and the latest one is drawn on one line. Nothing is drawn during the
// first second, so quick work shows nothing; stop clears the line and must
// be called before anything else is printed.
func (f *Factory) progress() (report func(status string), stop func()) {
	if !f.IO.ErrTTY {
		return nil, func() {}
	}
	l := newProgressLine(f.IO.ErrOut, time.Now())
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(progressFrame)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				l.draw(now)
			}
		}
	}()
	return l.set, func() {
		close(done)
		<-finished
		l.clear()
	}
}

// progressDelay is how long work runs before its progress shows;
// progressFrame how often the line is redrawn.
const (
	progressDelay = time.Second
	progressFrame = 100 * time.Millisecond
)

// progressLine is the one line of progress on a terminal.
type progressLine struct {
	w     io.Writer
	start time.Time
	mu    sync.Mutex
	// status is the latest status reported; shown what the line shows.
	status, shown string
}

func newProgressLine(w io.Writer, start time.Time) *progressLine {
	return &progressLine{w: w, start: start}
}

func (l *progressLine) set(status string) {
	l.mu.Lock()
	l.status = status
	l.mu.Unlock()
}

// draw shows the latest status, once the work has run for progressDelay and
// only when it changed.
func (l *progressLine) draw(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) < progressDelay || l.status == l.shown {
		return
	}
	fmt.Fprintf(l.w, "\r\x1b[K%s", l.status)
	l.shown = l.status
}

// clear removes the line, if anything was drawn.
func (l *progressLine) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shown != "" {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.shown = ""
	}
}
