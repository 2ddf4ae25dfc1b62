package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/jedib0t/go-pretty/v6/progress"
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

// ts prints a time, time.Time or app.OptTime, to the minute in local time;
// "" when unset.
func ts(t interface {
	IsZero() bool
	Local() time.Time
}) string {
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

// progress shows a progress bar on stderr when it is a terminal; otherwise
// report does nothing. stop must be called when the work ends.
func (f *Factory) progress(message string) (report func(done, total int), stop func()) {
	if !f.IO.ErrTTY {
		return nil, func() {}
	}
	pw := progress.NewWriter()
	pw.SetOutputWriter(f.IO.ErrOut)
	pw.SetAutoStop(true)
	pw.SetUpdateFrequency(100 * time.Millisecond)
	tracker := &progress.Tracker{Message: message, Units: progress.UnitsDefault}
	pw.AppendTracker(tracker)
	go pw.Render()
	report = func(done, total int) {
		tracker.UpdateTotal(int64(total))
		tracker.SetValue(int64(done))
	}
	stop = func() {
		tracker.MarkAsDone()
		for pw.IsRenderInProgress() {
			pw.Stop()
			time.Sleep(10 * time.Millisecond)
		}
	}
	return report, stop
}
