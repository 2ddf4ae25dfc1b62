package helpdesk

import (
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

func TestDelegationWindowBoundaries(t *testing.T) {
	from := time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)
	until := time.Date(2027, 1, 7, 0, 0, 0, 0, time.UTC)
	closed := Delegation{User: "carol", Delegate: "dave", From: from, Until: until}
	open := Delegation{User: "carol", Delegate: "dave", From: from}
	for _, tc := range []struct {
		name string
		d    Delegation
		now  time.Time
		want DelegationState
	}{
		{"just before from", closed, from.Add(-time.Nanosecond), DelegationScheduled},
		{"at from", closed, from, DelegationActive},
		{"inside", closed, from.Add(72 * time.Hour), DelegationActive},
		{"just before until", closed, until.Add(-time.Nanosecond), DelegationActive},
		{"at until", closed, until, DelegationEnded},
		{"after until", closed, until.Add(time.Hour), DelegationEnded},
		{"open-ended, just before from", open, from.Add(-time.Nanosecond), DelegationScheduled},
		{"open-ended, at from", open, from, DelegationActive},
		{"open-ended, years later", open, from.AddDate(10, 0, 0), DelegationActive},
		// The same instant in another zone is the same instant.
		{"at from, other zone", closed, from.In(time.FixedZone("CET", 3600)), DelegationActive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.StateAt(tc.now); got != tc.want {
				t.Fatalf("StateAt(%s) = %s, want %s", tc.now, got, tc.want)
			}
			if got := tc.d.ActiveAt(tc.now); got != (tc.want == DelegationActive) {
				t.Fatalf("ActiveAt(%s) = %v", tc.now, got)
			}
		})
	}
}

func TestParseWindowTime(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		in    string
		until bool
		want  time.Time
	}{
		{"2026-12-20", false, time.Date(2026, 12, 20, 0, 0, 0, 0, cet)},
		// A date as --until covers that whole day.
		{"2027-01-06", true, time.Date(2027, 1, 7, 0, 0, 0, 0, cet)},
		{"2026-12-31", true, time.Date(2027, 1, 1, 0, 0, 0, 0, cet)},
		// A time is taken exactly, whichever flag it is for.
		{"2026-12-20T09:30:00Z", false, time.Date(2026, 12, 20, 9, 30, 0, 0, time.UTC)},
		{"2027-01-06T17:00:00+01:00", true, time.Date(2027, 1, 6, 16, 0, 0, 0, time.UTC)},
	} {
		got, err := ParseWindowTime("--x", tc.in, tc.until, cet)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseWindowTime(%q, until=%v) = %v, %v; want %v", tc.in, tc.until, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "tomorrow", "2026-13-01", "20/12/2026", "2026-12-20 09:00"} {
		_, err := ParseWindowTime("--from", bad, false, cet)
		if errs.KindOf(err) != errs.Usage {
			t.Errorf("ParseWindowTime(%q): %v, want a usage error", bad, err)
		}
	}
}

func TestCheckWindow(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	from, until := now.AddDate(0, 0, 19), now.AddDate(0, 1, 5)
	for _, tc := range []struct {
		name        string
		from, until time.Time
		open        bool
		ok          bool
	}{
		{"future window", from, until, false, true},
		{"starting now", now, until, false, true},
		{"open-ended", from, time.Time{}, true, true},
		{"no end", from, time.Time{}, false, false},
		{"both ends", from, until, true, false},
		{"until equals from", from, from, false, false},
		{"until before from", until, from, false, false},
		{"already over", now.AddDate(0, -1, 0), now, false, false},
	} {
		err := CheckWindow(tc.from, tc.until, tc.open, now)
		if (err == nil) != tc.ok {
			t.Errorf("%s: CheckWindow = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && errs.KindOf(err) != errs.Usage {
			t.Errorf("%s: %v is not a usage error", tc.name, err)
		}
	}
}

func TestCheckDelegate(t *testing.T) {
	dave := User{Login: "dave", Email: "dave@example.com", Active: true}
	if err := CheckDelegate("carol", dave); err != nil {
		t.Fatalf("an active user with mail: %v", err)
	}
	disabled, noMail := dave, dave
	disabled.Active, noMail.Email = false, ""
	for _, tc := range []struct {
		user string
		d    User
		kind errs.Kind
	}{
		{"dave", dave, errs.Usage}, {"carol", disabled, errs.Conflict}, {"carol", noMail, errs.Conflict},
	} {
		if err := CheckDelegate(tc.user, tc.d); errs.KindOf(err) != tc.kind {
			t.Errorf("CheckDelegate(%s, %+v) = %v, want kind %v", tc.user, tc.d, err, tc.kind)
		}
	}
}
