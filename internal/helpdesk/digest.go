package helpdesk

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

// SettingDigest turns the approver digest on: off (the default) or
// daily, optionally daily@HH:MM.
const SettingDigest = "approvals.digest"

// Digest is the approver digest: when On, an approver with two or more
// pending requests gets one mail per period listing them all, with fresh
// links, in place of their automatic reminders. A period is a day that
// starts at At past midnight in the server's time zone.
type Digest struct {
	On bool
	At time.Duration
}

// ParseDigest reads an approvals.digest value: "", off, daily (periods
// start at midnight) or daily@HH:MM (24-hour clock, server time zone).
func ParseDigest(v string) (Digest, error) {
	switch v = strings.TrimSpace(v); v {
	case "", "off":
		return Digest{}, nil
	case "daily":
		return Digest{On: true}, nil
	}
	at, ok := strings.CutPrefix(v, "daily@")
	var h, m int
	if ok && len(at) == 5 && at[2] == ':' {
		if _, err := fmt.Sscanf(at, "%02d:%02d", &h, &m); err == nil && h >= 0 && h < 24 && m >= 0 && m < 60 {
			return Digest{On: true, At: time.Duration(h)*time.Hour + time.Duration(m)*time.Minute}, nil
		}
	}
	return Digest{}, errs.Usagef("%q is not off, daily or daily@HH:MM", v).
		WithHint("write daily@08:30 for a digest each morning at 08:30 server time, or off")
}

// DigestSettings reads approvals.digest from stored settings; a value
// that does not parse counts as off.
func DigestSettings(stored map[string]string) Digest {
	d, _ := ParseDigest(stored[SettingDigest])
	return d
}

// String writes the digest as it is set: off, daily or daily@HH:MM.
func (d Digest) String() string {
	switch {
	case !d.On:
		return "off"
	case d.At == 0:
		return "daily"
	}
	return fmt.Sprintf("daily@%02d:%02d", int(d.At/time.Hour), int(d.At%time.Hour/time.Minute))
}

// PeriodStart is when the period holding now began: the latest day's
// HH:MM, in now's time zone, that is not after now.
func (d Digest) PeriodStart(now time.Time) time.Time {
	y, mo, day := now.Date()
	start := time.Date(y, mo, day, 0, 0, 0, 0, now.Location()).Add(d.At)
	if now.Before(start) {
		start = time.Date(y, mo, day-1, 0, 0, 0, 0, now.Location()).Add(d.At)
	}
	return start
}

// PendingLink is a request an approver has a usable link for and has not
// decided: its ticket, and since when they have had it (when the request
// or its last reminder reached them).
type PendingLink struct {
	Ticket int
	Since  time.Time
}

// Waiting is what of pending counts towards a digest at now: the requests
// that have waited since before the period began, in ticket order. A
// request that arrived during the period was mailed moments ago and waits
// for the next digest.
func (d Digest) Waiting(pending []PendingLink, now time.Time) []PendingLink {
	if !d.On {
		return nil
	}
	start := d.PeriodStart(now)
	var out []PendingLink
	for _, p := range pending {
		if p.Since.Before(start) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ticket < out[j].Ticket })
	return out
}

// Covers says whether the approver with these pending requests is on the
// digest at now, which then replaces their automatic reminders: the digest
// is on and two or more requests have waited since before the period.
func (d Digest) Covers(pending []PendingLink, now time.Time) bool {
	return len(d.Waiting(pending, now)) >= 2
}

// Due lists the requests of the approver's digest at now, or nothing when
// no digest is due: they are not on the digest, or theirs of this period
// went out already (last is when their previous digest was sent, zero for
// never).
func (d Digest) Due(pending []PendingLink, last, now time.Time) []PendingLink {
	w := d.Waiting(pending, now)
	if len(w) < 2 || !last.Before(d.PeriodStart(now)) {
		return nil
	}
	return w
}
