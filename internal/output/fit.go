package output

import (
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// ellipsis ends a cell shortened to fit the terminal.
const ellipsis = "…"

// A free-text column gives way first, down to freeFloor columns; then the
// other columns, down to otherFloor; then all of them, widest first.
const (
	freeFloor  = 12
	otherFloor = 6
)

// fitColumns shortens cells so that a table drawn in style s is at most
// width columns wide. cells[0] is the header row; free marks the free-text
// columns, which give way first, one column at a time from the widest; wrap marks the columns whose text is wrapped
// onto more lines instead of cut short with an ellipsis. Each line of a cell
// is measured and shortened on its own. When even one column each is too
// wide for the terminal, every column is left one column wide.
func fitColumns(cells [][]string, free, wrap []bool, width int, s table.Style) {
	n := len(free)
	if n == 0 || width <= 0 {
		return
	}
	natural := make([]int, n)
	for _, row := range cells {
		for i := range n {
			natural[i] = max(natural[i], text.LongestLineLen(row[i]))
		}
	}
	room := width - tableOverhead(n, s)
	widths := append([]int(nil), natural...)
	excess := sum(widths) - room
	if excess <= 0 {
		return
	}
	for _, giving := range []func(i int) bool{
		func(i int) bool { return free[i] && widths[i] > freeFloor },
		func(i int) bool { return !free[i] && widths[i] > otherFloor },
		func(i int) bool { return widths[i] > 1 },
	} {
		for excess > 0 {
			i := widest(widths, giving)
			if i < 0 {
				break
			}
			widths[i]--
			excess--
		}
	}
	for i := range n {
		if widths[i] == natural[i] {
			continue
		}
		for _, row := range cells {
			if wrap[i] {
				row[i] = wrapLines(row[i], widths[i])
			} else {
				row[i] = cutLines(row[i], widths[i])
			}
		}
	}
}

// tableOverhead is what style s draws around and between n columns.
func tableOverhead(n int, s table.Style) int {
	w := text.StringWidthWithoutEscSequences
	over := n * (w(s.Box.PaddingLeft) + w(s.Box.PaddingRight))
	if s.Options.SeparateColumns {
		over += (n - 1) * w(s.Box.MiddleVertical)
	}
	if s.Options.DrawBorder {
		over += w(s.Box.Left) + w(s.Box.Right)
	}
	return over
}

// widest is the index of the widest column ok accepts (the first of equals),
// or -1.
func widest(widths []int, ok func(int) bool) int {
	best := -1
	for i, w := range widths {
		if ok(i) && (best < 0 || w > widths[best]) {
			best = i
		}
	}
	return best
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}

// cutLines shortens every line of s wider than w, ending it with an ellipsis.
func cutLines(s string, w int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if text.StringWidthWithoutEscSequences(l) > w {
			lines[i] = text.Trim(l, w-text.StringWidthWithoutEscSequences(ellipsis)) + ellipsis
		}
	}
	return strings.Join(lines, "\n")
}

// wrapLines wraps every line of s to w columns, between words where it can.
func wrapLines(s string, w int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if text.StringWidthWithoutEscSequences(l) > w {
			lines[i] = strings.TrimRight(text.WrapSoft(l, w), " ")
		}
	}
	return strings.Join(lines, "\n")
}
