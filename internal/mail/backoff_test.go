package mail

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{-1, 0},
		{0, 0},
		{1, time.Minute},
		{2, 5 * time.Minute},
		{3, 15 * time.Minute},
		{4, time.Hour},
		{5, 6 * time.Hour},
		{6, 6 * time.Hour},
		{1000, 6 * time.Hour},
	}
	for _, tt := range tests {
		if got := Backoff(tt.attempt); got != tt.want {
			t.Errorf("Backoff(%d) = %s, want %s", tt.attempt, got, tt.want)
		}
	}
}

func TestBackoffNeverShrinks(t *testing.T) {
	prev := Backoff(0)
	for attempt := 1; attempt <= 50; attempt++ {
		d := Backoff(attempt)
		if d < prev {
			t.Fatalf("Backoff(%d) = %s is shorter than Backoff(%d) = %s", attempt, d, attempt-1, prev)
		}
		prev = d
	}
}
