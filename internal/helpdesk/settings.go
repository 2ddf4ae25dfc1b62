package helpdesk

import (
	"sort"
	"strconv"
	"strings"
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
	SettingGateActions      = "approvals.gate-actions"
	SettingDefaultDue       = "approvals.default-due"
	SettingRemindAfter      = "approvals.remind-after"
	SettingRemindEvery      = "approvals.remind-every"
	SettingRemindMax        = "approvals.remind-max"
)

var settings = []Setting{
	{SettingApprovalsEnabled, "false", "allow technicians to request ad-hoc approvals", checkBool},
	{SettingLinkTTL, "168h", "how long an approval link stays valid", checkTTL},
	{SettingGateActions, GateNone, "ticket actions held back while the ticket's approval is pending or rejected", checkGateActions},
	{SettingDefaultDue, "off", "deadline of each approval stage when a request gives no --due (off: none)", checkDue},
	{SettingRemindAfter, "off", "remind undecided approvers this long after their stage opened (off: never)", checkDue},
	{SettingRemindEvery, "off", "then remind again this often (off: as approvals.remind-after)", checkDue},
	{SettingRemindMax, "3", "at most this many automatic reminders per stage (0: none)", checkCount},
	{SettingDigest, "off", "approvers with two or more pending requests get one mail a day listing them all (off, daily or daily@HH:MM server time)", checkDigest},
}

func checkDue(v string) error {
	if _, err := ParseDue("value", v); err != nil {
		return errs.Usagef("%q is not a duration between 1m and 8784h", v).WithHint("write it like 24h or 90m (days in hours); off or empty for none")
	}
	return nil
}

func checkDigest(v string) error {
	_, err := ParseDigest(v)
	return err
}

func checkCount(v string) error {
	if n, err := strconv.Atoi(v); err != nil || n < 0 {
		return errs.Usagef("%q is not a whole number of 0 or more", v).WithHint("write it like 3; 0 turns automatic reminders off")
	}
	return nil
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

// checkGateActions checks the form of a gate list; which names are ticket
// actions depends on the catalog, so the caller checks that (GateActions).
func checkGateActions(v string) error {
	seen := map[string]bool{}
	for _, name := range GateActions(v) {
		if err := ValidateName("action", name); err != nil {
			return err
		}
		if name == ActRequestApproval {
			return errs.Usagef("%s cannot be gated: it is how a rejected approval is asked again", name).
				WithHint("list the actions to hold back, e.g. close,assign")
		}
		if seen[name] {
			return errs.Usagef("%s is listed twice", name)
		}
		seen[name] = true
	}
	if t := strings.TrimSpace(v); t != "" && t != GateNone && len(seen) == 0 {
		return errs.Usagef("%q names no action", v).WithHint("write action names separated by commas, e.g. close,assign, or none")
	}
	return nil
}

// CheckGateActions checks that every name in an approvals.gate-actions
// value is a ticket action of catalog.
func CheckGateActions(v string, catalog []Right) error {
	var actions []string
	kinds := map[string]RightKind{}
	for _, r := range catalog {
		kinds[r.Name] = r.Kind
		if r.Kind == KindAction {
			actions = append(actions, r.Name)
		}
	}
	for _, name := range GateActions(v) {
		switch kind, ok := kinds[name]; {
		case !ok:
			return NotFound("action", name, actions)
		case kind != KindAction:
			return errs.Usagef("%s is a permission, not a ticket action", name).
				WithHint("gates hold back ticket actions; see deskctl action list")
		}
	}
	return nil
}

// GateNone is the approvals.gate-actions value that gates nothing (the
// default); an empty value means the same.
const GateNone = "none"

// GateActions reads an approvals.gate-actions value: action names separated
// by commas, blanks around them ignored; empty when none is gated.
func GateActions(v string) []string {
	if strings.TrimSpace(v) == GateNone {
		return nil
	}
	var out []string
	for part := range strings.SplitSeq(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
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
