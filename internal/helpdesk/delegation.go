package helpdesk

import (
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

// Delegation hands a user's approval requests to another user for a time
// window: while it is active, links for new requests go to the delegate,
// who decides for the user. A user has at most one delegation.
type Delegation struct {
	User     string    `json:"user"`     // the approver who is away
	Delegate string    `json:"delegate"` // who decides for them meanwhile
	From     time.Time `json:"from"`
	Until    time.Time `json:"until,omitzero"` // zero: open-ended, until cleared
	SetBy    string    `json:"set_by"`
	SetAt    time.Time `json:"set_at"`
}

// DelegationState is where a delegation's window stands at some instant.
type DelegationState string

const (
	DelegationScheduled DelegationState = "scheduled" // before From
	DelegationActive    DelegationState = "active"    // From ≤ now < Until
	DelegationEnded     DelegationState = "ended"     // Until ≤ now
)

// StateAt places now in the window [From, Until): From is the first
// instant requests go to the delegate, Until the first they no longer do.
func (d Delegation) StateAt(now time.Time) DelegationState {
	switch {
	case now.Before(d.From):
		return DelegationScheduled
	case d.Until.IsZero() || now.Before(d.Until):
		return DelegationActive
	}
	return DelegationEnded
}

// ActiveAt reports whether requests made at now go to the delegate.
func (d Delegation) ActiveAt(now time.Time) bool { return d.StateAt(now) == DelegationActive }

// UntilText is the end of the window for messages: a time, or "further notice".
func (d Delegation) UntilText() string {
	if d.Until.IsZero() {
		return "further notice"
	}
	return d.Until.Format("2006-01-02 15:04 MST")
}

// ParseWindowTime reads a --from or --until value: an RFC 3339 time, or a
// date (2006-01-02) in loc. A date means its first instant for --from and,
// for --until, the first instant of the next day, so "--until 2027-01-06"
// covers the whole of the 6th.
func ParseWindowTime(flag, s string, until bool, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil {
		return time.Time{}, errs.Usagef("%s %s is neither a date nor an RFC 3339 time", flag, errs.Quote(s)).
			WithHint("write a date like 2026-12-20 or a time like 2026-12-20T09:00:00+01:00")
	}
	if until {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// CheckWindow validates a new delegation's window at now: --until is
// required unless openEnded, must come after --from, and must not be past.
func CheckWindow(from, until time.Time, openEnded bool, now time.Time) error {
	switch {
	case openEnded && !until.IsZero():
		return errs.Usagef("--until and --open-ended exclude each other").
			WithHint("give an end with --until DATE, or --open-ended to delegate until --clear")
	case !openEnded && until.IsZero():
		return errs.Usagef("a delegation needs an end: --until DATE").
			WithHint("give --until 2027-01-06 (a date covers that whole day), or --open-ended to delegate until --clear")
	case openEnded:
		return nil
	case !until.After(from):
		return errs.Usagef("--until %s is not after --from %s", until.Format(time.RFC3339), from.Format(time.RFC3339)).
			WithHint("the window runs from --from up to --until; give a later --until")
	case !until.After(now):
		return errs.Usagef("--until %s is already past", until.Format(time.RFC3339)).
			WithHint("give a future --until, or clear an old delegation with --clear")
	}
	return nil
}

// CheckDelegate says why delegate cannot decide for user, or nil: the
// delegate must be someone else, active, and reachable by mail.
func CheckDelegate(user string, delegate User) error {
	switch {
	case delegate.Login == user:
		return errs.Usagef("%s cannot be their own delegate", user).WithHint("name another user with --to")
	case !delegate.Active:
		return errs.Conflictf("user %s is disabled and cannot be a delegate", delegate.Login).
			WithHint("name an active user with --to")
	case delegate.Email == "":
		return errs.Conflictf("user %s has no email address, so approval links cannot reach them", delegate.Login).
			WithHint("set one with: deskctl user update %s --email ADDRESS, or name another user", delegate.Login)
	}
	return nil
}
