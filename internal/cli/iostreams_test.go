package cli

import "testing"

func TestColorAllowed(t *testing.T) {
	for _, tc := range []struct {
		name string
		tty  bool
		env  map[string]string
		want bool
	}{
		{"terminal", true, map[string]string{"TERM": "xterm"}, true},
		{"not a terminal", false, map[string]string{"TERM": "xterm"}, false},
		{"NO_COLOR set", true, map[string]string{"TERM": "xterm", "NO_COLOR": "1"}, false},
		{"NO_COLOR empty counts as unset", true, map[string]string{"TERM": "xterm", "NO_COLOR": ""}, true},
		{"dumb terminal", true, map[string]string{"TERM": "dumb"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := colorAllowed(tc.tty, func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("colorAllowed = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTerminalWidth(t *testing.T) {
	for _, tc := range []struct {
		columns string
		want    int
	}{
		{"100", 100},
		{"", 0}, // fd -1 is no terminal: no width
		{"0", 0},
		{"-3", 0},
		{"wide", 0},
	} {
		if got := terminalWidth(-1, func(k string) string { return map[string]string{"COLUMNS": tc.columns}[k] }); got != tc.want {
			t.Errorf("COLUMNS=%q: width %d, want %d", tc.columns, got, tc.want)
		}
	}
}
