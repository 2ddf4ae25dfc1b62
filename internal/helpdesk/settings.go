package helpdesk

import (
	"sort"
	"strconv"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

// Setting describes one helpdesk-wide setting kept in the database.
type Setting struct {
	Key         string
	Default     string
	Description string
	check       func(string) error
}

// Setting keys.
const (
	SettingApprovalsEnabled = "approvals.enabled"
	SettingLinkTTL          = "approvals.link-ttl"
)

var settings = []Setting{
	{SettingApprovalsEnabled, "false", "allow technicians to request ad-hoc approvals", checkBool},
	{SettingLinkTTL, "168h", "how long an approval link stays valid", checkTTL},
}

func checkBool(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return errs.Usagef("%q is not true or false", v)
	}
	return nil
}

func checkTTL(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Minute || d > 90*24*time.Hour {
		return errs.Usagef("%q is not a duration between 1m and 2160h", v).WithHint("write it like 72h or 30m")
	}
	return nil
}

// Settings lists every known setting, sorted by key.
func Settings() []Setting {
	out := append([]Setting(nil), settings...)
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// LookupSetting finds a setting by key, with suggestions when unknown.
func LookupSetting(key string) (Setting, error) {
	var names []string
	for _, s := range settings {
		if s.Key == key {
			return s, nil
		}
		names = append(names, s.Key)
	}
	return Setting{}, NotFound("setting", key, names)
}

// Check validates a value for the setting.
func (s Setting) Check(v string) error {
	if err := ValidateLine(s.Key, v, 200); err != nil {
		return err
	}
	if err := s.check(v); err != nil {
		if e, ok := err.(*errs.Error); ok {
			e.Msg = s.Key + ": " + e.Msg
			return e
		}
		return err
	}
	return nil
}

// LinkTTL reads approvals.link-ttl from stored settings.
func LinkTTL(stored map[string]string) time.Duration {
	v, ok := stored[SettingLinkTTL]
	if !ok {
		v = "168h"
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 168 * time.Hour
	}
	return d
}

// ApprovalsEnabled reads approvals.enabled from stored settings.
func ApprovalsEnabled(stored map[string]string) bool {
	b, _ := strconv.ParseBool(stored[SettingApprovalsEnabled])
	return b
}
