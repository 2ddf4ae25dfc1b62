package helpdesk

import (
	"testing"
	"time"
)

func TestParseDigest(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Digest
		bad  bool
	}{
		{in: "", want: Digest{}},
		{in: "off", want: Digest{}},
		{in: "daily", want: Digest{On: true}},
		{in: "daily@08:30", want: Digest{On: true, At: 8*time.Hour + 30*time.Minute}},
		{in: "daily@23:59", want: Digest{On: true, At: 23*time.Hour + 59*time.Minute}},
		{in: "daily@24:00", bad: true},
		{in: "daily@8:30", bad: true},
		{in: "daily@08:60", bad: true},
		{in: "weekly", bad: true},
		{in: "on", bad: true},
	} {
		got, err := ParseDigest(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("ParseDigest(%q) = %+v, %v; want %+v, bad %v", c.in, got, err, c.want, c.bad)
		}
		if err == nil && c.in != "" {
			if back, _ := ParseDigest(got.String()); back != got {
				t.Errorf("%q written back as %q reads %+v", c.in, got.String(), back)
			}
		}
	}
	if err := mustSetting(t, SettingDigest).Check("hourly"); err == nil {
		t.Error("the setting took hourly")
	}
}

func TestDigestPeriodStart(t *testing.T) {
	zone := time.FixedZone("X", 2*3600)
	d := Digest{On: true, At: 8 * time.Hour}
	for _, c := range []struct{ now, want time.Time }{
		{time.Date(2026, 3, 2, 8, 0, 0, 0, zone), time.Date(2026, 3, 2, 8, 0, 0, 0, zone)},
		{time.Date(2026, 3, 2, 7, 59, 0, 0, zone), time.Date(2026, 3, 1, 8, 0, 0, 0, zone)},
		{time.Date(2026, 3, 1, 7, 0, 0, 0, zone), time.Date(2026, 2, 28, 8, 0, 0, 0, zone)},
		{time.Date(2026, 3, 2, 23, 0, 0, 0, zone), time.Date(2026, 3, 2, 8, 0, 0, 0, zone)},
	} {
		if got := d.PeriodStart(c.now); !got.Equal(c.want) {
			t.Errorf("PeriodStart(%v) = %v, want %v", c.now, got, c.want)
		}
	}
}

// Who gets a digest when: two or more requests waiting since before the
// period began, and no digest yet in this period.
func TestDigestDue(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	daily9 := Digest{On: true, At: 9 * time.Hour}
	two := []PendingLink{{Ticket: 7, Since: at("2026-03-01 10:00")}, {Ticket: 3, Since: at("2026-03-01 15:00")}}
	for _, c := range []struct {
		name    string
		d       Digest
		pending []PendingLink
		last    string
		now     string
		want    []int
	}{
		{"off sends nothing", Digest{}, two, "", "2026-03-02 09:00", nil},
		{"one request: ordinary reminders only", daily9, two[:1], "", "2026-03-02 09:00", nil},
		{"two waiting, none sent yet", daily9, two, "", "2026-03-02 09:00", []int{3, 7}},
		{"before the digest time, yesterday's period", daily9, two, "", "2026-03-02 08:59", nil},
		{"sent this period already", daily9, two, "2026-03-02 09:00", "2026-03-02 17:00", nil},
		{"sent last period: due again", daily9, two, "2026-03-01 09:05", "2026-03-02 09:00", []int{3, 7}},
		{"second request arrived after the period began", daily9,
			[]PendingLink{two[0], {Ticket: 9, Since: at("2026-03-02 09:30")}}, "", "2026-03-02 10:00", nil},
		{"a third that arrived today waits for tomorrow", daily9,
			append([]PendingLink{{Ticket: 9, Since: at("2026-03-02 09:30")}}, two...), "", "2026-03-02 10:00", []int{3, 7}},
		{"midnight period", Digest{On: true}, two, "2026-03-01 23:00", "2026-03-02 00:10", []int{3, 7}},
	} {
		var last time.Time
		if c.last != "" {
			last = at(c.last)
		}
		var got []int
		for _, p := range c.d.Due(c.pending, last, at(c.now)) {
			got = append(got, p.Ticket)
		}
		if !equalInts(got, c.want) {
			t.Errorf("%s: digest of %v, want %v", c.name, got, c.want)
		}
		if covers := c.d.Covers(c.pending, at(c.now)); c.want != nil && !covers {
			t.Errorf("%s: a digest is due but the approver is not on the digest", c.name)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
