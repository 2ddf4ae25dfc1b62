package cli

import (
	"fmt"
	"strconv"
	"strings"
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
