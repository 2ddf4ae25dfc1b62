package output

import "github.com/jedib0t/go-pretty/v6/text"

// Tone is what a colour says about a word on a terminal.
type Tone int

const (
	Good  Tone = iota // green: a test passed, something is added or gained
	Bad               // red: a test failed, something is removed or lost
	Plain             // no colour
)

var tones = map[Tone]text.Color{Good: text.FgGreen, Bad: text.FgRed}

// Paint colours s by its tone when the printer may use colour (a terminal,
// NO_COLOR unset or empty, TERM not dumb) and prints for reading (table or
// wide, not csv or markdown); it returns s unchanged otherwise.
func (p *Printer) Paint(t Tone, s string) string {
	c, ok := tones[t]
	if !p.Color || !ok || (p.Format != Table && p.Format != Wide) {
		return s
	}
	return c.Sprint(s)
}
