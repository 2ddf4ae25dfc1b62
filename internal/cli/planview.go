package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/output"
)

// A plan can run to tens of thousands of lines. Programs (stdout not a
// terminal, or -o json/yaml/…) get all of it, as they always have; a person
// at a terminal gets a summary, then the full plan through the pager, or
// printed in full with --detail.

// summaryUsers bounds the users the summary names; summaryItems the rights
// it names per user.
const (
	summaryUsers = 10
	summaryItems = 3
)

// showPlan prints p on stdout. page says whether, on a terminal and without
// --detail, the full plan goes through the pager after the summary (plan,
// and apply before its question); otherwise the summary is all, and a note
// says how to see the rest.
func showPlan(f *Factory, p app.Plan, detail, page bool) error {
	pr, err := f.Printer()
	if err != nil {
		return err
	}
	if pr.Structured() || !f.IO.OutTTY || !p.HasChanges() {
		return printPlan(f, p)
	}
	writePlanSummary(f.IO.Out, p, pr)
	switch {
	case detail:
		fmt.Fprintln(f.IO.Out)
		return printPlan(f, p)
	case page:
		fmt.Fprintln(f.IO.Out)
		return f.IO.paged(pagerCommand(), func() error { return printPlan(f, p) })
	}
	f.notef("hint: --detail prints every change")
	return nil
}

// planCounts are the numbers of a plan's summary.
type planCounts struct {
	changes     int
	gain, lose  int                       // users gaining, losing effective access
	ops         map[string]map[string]int // kind → op → changes
	granted     [2]int                    // rights granted, to how many subjects
	revoked     [2]int                    // rights revoked, from how many subjects
	perUser     map[string]*userAccessDelta
	userOrdered []string
}

type userAccessDelta struct{ gains, loses []string }

func countPlan(p app.Plan) planCounts {
	c := planCounts{changes: len(p.Changes), ops: map[string]map[string]int{}, perUser: map[string]*userAccessDelta{}}
	for _, ch := range p.Changes {
		switch ch.Op {
		case "grant", "revoke":
			n := len(strings.Split(ch.Detail, ", "))
			t := &c.granted
			if ch.Op == "revoke" {
				t = &c.revoked
			}
			t[0] += n
			t[1]++
			continue
		}
		kind, _, _ := strings.Cut(ch.Subject, ":")
		if ch.Op == "set" {
			kind = "setting"
		}
		if c.ops[kind] == nil {
			c.ops[kind] = map[string]int{}
		}
		c.ops[kind][ch.Op]++
	}
	for _, a := range p.Access {
		d := c.perUser[a.User]
		if d == nil {
			d = &userAccessDelta{}
			c.perUser[a.User] = d
			c.userOrdered = append(c.userOrdered, a.User)
		}
		what := a.Right
		if a.Resource != "" {
			what = "the tickets of " + a.Resource + " (" + a.Access + ")"
		}
		if a.Op == "loses" {
			d.loses = append(d.loses, what)
		} else {
			d.gains = append(d.gains, what)
		}
	}
	for _, d := range c.perUser {
		if len(d.gains) > 0 {
			c.gain++
		}
		if len(d.loses) > 0 {
			c.lose++
		}
	}
	// Users losing access first (that is what breaks someone's work), then
	// by login.
	slices.SortStableFunc(c.userOrdered, func(a, b string) int {
		la, lb := len(c.perUser[a].loses) > 0, len(c.perUser[b].loses) > 0
		if la != lb {
			if la {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return c
}

// kindOrder is the order of the summary's rows.
var kindOrder = []string{"user", "group", "resource", "action", "setting"}

// opOrder is the order of the operations within a row.
var opOrder = []string{"add", "update", "disable", "remove", "set"}

// writePlanSummary writes the counts of p: changes by kind of entity and
// operation, then the users whose effective access changes, a bounded list,
// their signs coloured by pr (nil: plain, for a stream pr does not print to).
func writePlanSummary(w io.Writer, p app.Plan, pr *output.Printer) {
	c := countPlan(p)
	fmt.Fprintf(w, "Plan: %s\n", counted(c.changes, "change", "changes"))
	row := func(label, text string) { fmt.Fprintf(w, "  %-10s %s\n", label, text) }
	for _, k := range kindOrder {
		ops := c.ops[k]
		if ops == nil {
			continue
		}
		var parts []string
		for _, op := range opOrder {
			if n := ops[op]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d to %s", n, op))
			}
		}
		row(k+"s", strings.Join(parts, ", "))
	}
	if c.granted[1]+c.revoked[1] > 0 {
		var parts []string
		if c.granted[1] > 0 {
			parts = append(parts, fmt.Sprintf("%s to grant to %s", counted(c.granted[0], "right", "rights"), counted(c.granted[1], "subject", "subjects")))
		}
		if c.revoked[1] > 0 {
			parts = append(parts, fmt.Sprintf("%s to revoke from %s", counted(c.revoked[0], "right", "rights"), counted(c.revoked[1], "subject", "subjects")))
		}
		row("grants", strings.Join(parts, ", "))
	}
	if len(c.userOrdered) == 0 {
		fmt.Fprintln(w, "Effective access: no user gains or loses anything")
		return
	}
	fmt.Fprintf(w, "Effective access: %s\n", c.accessCounts())
	shown := c.userOrdered[:min(len(c.userOrdered), summaryUsers)]
	width := 0
	for _, u := range shown {
		width = max(width, min(len(u), 20))
	}
	for _, u := range shown {
		d := c.perUser[u]
		sign := "+"
		switch {
		case len(d.gains) > 0 && len(d.loses) > 0:
			sign = "±"
		case len(d.loses) > 0:
			sign = "−"
		}
		var parts []string
		if len(d.gains) > 0 {
			parts = append(parts, "gains "+firstFew(d.gains))
		}
		if len(d.loses) > 0 {
			parts = append(parts, "loses "+firstFew(d.loses))
		}
		if pr != nil {
			sign = pr.Paint(signTone(sign), sign)
		}
		fmt.Fprintf(w, "  %s %-*s  %s\n", sign, width, u, strings.Join(parts, "; "))
	}
	if more := len(c.userOrdered) - len(shown); more > 0 {
		fmt.Fprintf(w, "  … and %s\n", counted(more, "more user", "more users"))
	}
}

// firstFew names the first summaryItems of items and counts the rest.
func firstFew(items []string) string {
	if len(items) <= summaryItems {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:summaryItems], ", "), len(items)-summaryItems)
}

// planResult is the one line apply prints when it is done.
func planResult(p app.Plan) string {
	c := countPlan(p)
	line := "applied " + counted(c.changes, "change", "changes")
	if len(c.userOrdered) > 0 {
		line += ": " + c.accessCounts()
	}
	return line
}

// accessCounts is "N users gain access, M lose access", leaving out a zero.
func (c planCounts) accessCounts() string {
	var parts []string
	if c.gain > 0 {
		parts = append(parts, counted(c.gain, "user gains", "users gain")+" access")
	}
	if c.lose > 0 {
		parts = append(parts, counted(c.lose, "user loses", "users lose")+" access")
	}
	return strings.Join(parts, ", ")
}
