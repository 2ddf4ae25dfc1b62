package output

import "github.com/jedib0t/go-pretty/v6/text"

// Tone is what a colour says about a word on a terminal.
type Tone int

const (
	Good Tone = iota // green: a test passed
	Bad              // red: a test failed
)

var tones = map[Tone]text.Color{Good: text.FgGreen, Bad: text.FgRed}

// Paint colours s by its tone when the printer may use colour (a terminal,
// NO_COLOR unset or empty, TERM not dumb) and returns it unchanged otherwise.
func (p *Printer) Paint(t Tone, s string) string {
	if !p.Color {
		return s
	}
	return tones[t].Sprint(s)
}
