package app

import (
	"slices"
	"testing"
)

func TestNumbersStartingWith(t *testing.T) {
	for _, tc := range []struct {
		prefix  string
		highest int
		want    []numberRange
	}{
		{"", 130, []numberRange{{1, 130}}},
		{"", 0, []numberRange{{1, 0}}},
		{"1", 130, []numberRange{{100, 130}, {10, 19}, {1, 1}}},
		{"12", 500000, []numberRange{{120000, 129999}, {12000, 12999}, {1200, 1299}, {120, 129}, {12, 12}}},
		{"5", 130, []numberRange{{50, 59}, {5, 5}}},
		{"13", 130, []numberRange{{130, 130}, {13, 13}}},
		{"131", 130, nil},
		{"999", 130, nil},
		{"0", 130, nil},
		{"01", 130, nil},
		{"x", 130, nil},
		{"1x", 130, nil},
		{"99999999999999999999999", 130, nil},
	} {
		if got := numbersStartingWith(tc.prefix, tc.highest); !slices.Equal(got, tc.want) {
			t.Errorf("numbersStartingWith(%q, %d) = %v, want %v", tc.prefix, tc.highest, got, tc.want)
		}
	}
}
