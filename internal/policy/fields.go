package policy

import (
	"strings"
	"sync"
	"time"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// field is one key of a mapping in the format. The same tables drive the
// unknown-key check, its suggestions and the JSON Schema, so the three
// cannot drift apart.
type field struct {
	key      string
	required bool
	desc     string
	schema   map[string]any
}

func keysOf(fs []field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.key
	}
	return out
}

// Document keys, as written in files.
const (
	keyVersion   = "version"
	keyUsers     = "users"
	keyGroups    = "groups"
	keyResources = "resources"
	keyActions   = "actions"
	keySettings  = "settings"
	keySchema    = "$schema"

	keyLogin        = "login"
	keyName         = "name"
	keyEmail        = "email"
	keyOSLogin      = "os_login"
	keyActive       = "active"
	keyRights       = "rights"
	keyDescription  = "description"
	keyMembers      = "members"
	keyParent       = "parent"
	keyUser         = "user"
	keyAccess       = "access"
	keyCategory     = "category"
	keyFromStates   = "from-states"
	keyToState      = "to-state"
	keyRequiresText = "requires-text"
	keyInternal     = "internal"
)

func ref(def string) map[string]any { return map[string]any{"$ref": "#/$defs/" + def} }

// listOf is an optional list: the loader reads null as an empty one.
func listOf(item map[string]any) map[string]any {
	return map[string]any{"type": []any{"array", "null"}, "items": item}
}

// nullable lets an optional value be written as null (~), which the loader
// reads as its default.
func nullable(s map[string]any) map[string]any {
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// extensionPrefix starts top-level keys that deskctl ignores.
const extensionPrefix = "x-"

var topFields = sync.OnceValue(func() []field {
	return []field{
		{keyVersion, false, "Format version; only 1 exists. Optional.", map[string]any{"const": Version}},
		{keyUsers, false, "Registered people.", listOf(ref("user"))},
		{keyGroups, false, "Named sets of users and other groups. List `everyone` here only to grant it rights.", listOf(ref("group"))},
		{keyResources, false, "Units tickets are authorized into, with their members.", listOf(ref("resource"))},
		{keyActions, false, "Custom ticket actions, added to the built-in catalog.", listOf(ref("action"))},
		{keySettings, false, "Helpdesk settings, key to value.", ref("settings")},
		{keySchema, false, "Path or URL of this format's JSON Schema, for editors; deskctl does not read it.", map[string]any{"type": "string"}},
	}
})

var userFields = sync.OnceValue(func() []field {
	return []field{
		{keyLogin, true, "Stable key of the user.", ref("login")},
		{keyName, true, "Display name.", map[string]any{"type": "string", "minLength": 1, "maxLength": 200}},
		{keyEmail, true, "Plain address such as bob@example.com.", map[string]any{"type": "string", "format": "email"}},
		{keyActive, false, "Inactive users keep their records but hold nothing. Default true.", map[string]any{"type": []any{"boolean", "null"}, "default": true}},
		{keyOSLogin, false, "OS login that acts as this user on a server's Unix socket. Default: the login; left out, the database's binding is kept.",
			map[string]any{"type": "string", "minLength": 1, "maxLength": 256, "pattern": `^[A-Za-z0-9._@$\\-]+$`}},
		{keyRights, false, "Rights granted to the user directly.", ref("rights")},
	}
})

var groupFields = sync.OnceValue(func() []field {
	return []field{
		{keyName, true, "Group name.", ref("name")},
		{keyDescription, false, "What the group is for.", nullable(ref("description"))},
		{keyMembers, false, "Users (`bob` or `user:bob`) and nested groups (`group:tier1`). Not allowed for `everyone`.",
			listOf(ref("member"))},
		{keyRights, false, "Rights every member holds.", ref("rights")},
	}
})

var resourceFields = sync.OnceValue(func() []field {
	return []field{
		{keyName, true, "Resource name.", ref("name")},
		{keyDescription, false, "What the resource covers.", nullable(ref("description"))},
		{keyParent, false, "Parent resource; its members work this resource's tickets while it has no members of its own.",
			map[string]any{"anyOf": []any{ref("name"), map[string]any{"const": ""}, map[string]any{"type": "null"}}}},
		{keyMembers, false, "Users working this resource's tickets.", listOf(ref("resource-member"))},
		{keyRights, false, "Rights every member holds, on every ticket. Not dispatcher, read-all-tickets or edit-all-tickets.", ref("rights")},
		{keyApproval, false, "Approval template: whom `approval request` asks for this resource's tickets (and its sub-resources' without one) when no approver is named, and the actions held back meanwhile.",
			nullable(ref("approval-template"))},
	}
})

var resourceMemberFields = sync.OnceValue(func() []field {
	return []field{
		{keyUser, true, "Login of the member.", ref("login")},
		{keyAccess, true, "`write` works tickets; `read` only sees them.", map[string]any{"enum": []any{"read", "write"}}},
	}
})

var actionFields = sync.OnceValue(func() []field {
	return []field{
		{keyName, true, "Action name; must not be a built-in right.", ref("name")},
		{keyCategory, true, "Which roles the action admits.", map[string]any{"enum": categoryNames()}},
		{keyFromStates, true, "Ticket states the action applies to.", map[string]any{"type": "array", "minItems": 1, "items": ref("state")}},
		{keyToState, false, "State the ticket moves to; omit to leave it unchanged.",
			map[string]any{"anyOf": []any{map[string]any{"enum": toStateNames()}, map[string]any{"type": "null"}}}},
		{keyRequiresText, false, "Whether the action needs a text. Default false.", map[string]any{"type": []any{"boolean", "null"}, "default": false}},
		{keyInternal, false, "Whether its log entry is hidden from the requester. Default false.", map[string]any{"type": []any{"boolean", "null"}, "default": false}},
		{keyDescription, false, "One line shown in the catalog.", nullable(ref("description"))},
	}
})

// setting is a key deskctl knows under `settings`.
type setting struct {
	key    string
	desc   string
	schema map[string]any
	check  func(string) string // "" when the value is fine, else what is wrong
}

var settings = sync.OnceValue(func() []setting {
	return []setting{
		{"approvals.enabled", "Whether technicians may request approvals: true or false.",
			map[string]any{"enum": []any{true, false, "true", "false"}},
			func(v string) string {
				if v == "true" || v == "false" {
					return ""
				}
				return "must be true or false"
			}},
		{"approvals.link-ttl", "How long an approval link stays valid, as a Go duration such as 168h (the default) or 36h30m.",
			map[string]any{"type": "string", "pattern": durationPattern, "not": map[string]any{"pattern": zeroDurationPattern}},
			func(v string) string {
				d, err := time.ParseDuration(v)
				if err != nil {
					return "must be a duration such as 168h or 90m"
				}
				if d <= 0 {
					return "must be longer than zero"
				}
				return ""
			}},
		{helpdesk.SettingGateActions, "Ticket actions held back while a ticket's approval is pending or rejected, " +
			"separated by commas, such as close,assign; none (the default) for none.",
			map[string]any{"type": "string"},
			func(v string) string {
				st, _ := helpdesk.LookupSetting(helpdesk.SettingGateActions)
				if err := st.Check(v); err != nil {
					return "must list ticket actions separated by commas (" +
						strings.TrimPrefix(err.Error(), helpdesk.SettingGateActions+": ") + ")"
				}
				return ""
			}},
		deadlineSetting(helpdesk.SettingDefaultDue, "The deadline of each approval stage when a request gives no --due, "+
			"as a duration such as 48h; off (the default) for none."),
		deadlineSetting(helpdesk.SettingRemindAfter, "Remind undecided approvers this long after their stage opened, "+
			"as a duration such as 24h; off (the default) for never."),
		deadlineSetting(helpdesk.SettingRemindEvery, "Then remind again this often; off (the default) for as often as approvals.remind-after."),
		{helpdesk.SettingRemindMax, "At most this many automatic reminders per stage; 0 for none (the default is 3).",
			map[string]any{"oneOf": []any{map[string]any{"type": "integer", "minimum": 0}, map[string]any{"type": "string", "pattern": `^[0-9]+$`}}},
			helpdeskCheck(helpdesk.SettingRemindMax, "must be a whole number of 0 or more")},
		{helpdesk.SettingDigest, "Approvers with two or more pending requests get one mail a day listing them all, in place of " +
			"their automatic reminders: off (the default), daily (periods start at midnight) or daily@HH:MM, server time.",
			map[string]any{"type": "string", "pattern": `^(off|daily|daily@([01][0-9]|2[0-3]):[0-5][0-9])?$`},
			helpdeskCheck(helpdesk.SettingDigest, "must be off, daily or daily@HH:MM")},
	}
})

// deadlineSetting is a setting holding a duration between 1m and 8784h, or off.
func deadlineSetting(key, desc string) setting {
	return setting{key, desc,
		map[string]any{"type": "string", "pattern": `^(off|` + strings.Trim(durationPattern, "^$") + `)?$`},
		helpdeskCheck(key, "must be a duration between 1m and 8784h such as 24h, or off")}
}

// helpdeskCheck checks a value the way `deskctl settings set` does.
func helpdeskCheck(key, want string) func(string) string {
	return func(v string) string {
		st, _ := helpdesk.LookupSetting(key)
		if err := st.Check(v); err != nil {
			return want
		}
		return ""
	}
}

// durationPattern accepts what time.ParseDuration does, less signs other than
// "+" and the bare "0": a link lifetime must be positive.
const durationPattern = `^\+?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`

// zeroDurationPattern matches the durations that are zero, such as 0s or 0h0.0m.
const zeroDurationPattern = `^\+?([0.]+(ns|us|µs|μs|ms|s|m|h))+$`

// SettingKeys lists the settings keys a policy may set.
func SettingKeys() []string {
	out := make([]string, len(settings()))
	for i, s := range settings() {
		out[i] = s.key
	}
	return out
}

func findSetting(key string) (setting, bool) {
	for _, s := range settings() {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

func categoryNames() []any {
	var out []any
	for _, c := range helpdesk.ActionCategories {
		out = append(out, string(c))
	}
	return out
}

func stateNames() []any {
	var out []any
	for _, s := range helpdesk.States {
		out = append(out, string(s))
	}
	return out
}

// toStateNames are the states an action may lead to: never back to a request.
func toStateNames() []any {
	out := []any{""}
	for _, s := range helpdesk.States {
		if s != helpdesk.StateRequest {
			out = append(out, string(s))
		}
	}
	return out
}

// namePattern mirrors helpdesk.ValidateName for editors; a test keeps them in step.
const namePattern = `^[a-z0-9][a-z0-9._-]{0,63}$`

// maxDescription bounds group, resource and action descriptions, the limit
// the catalog puts on action descriptions.
const maxDescription = 500

// maxUserName bounds a user's display name, as helpdesk.User.Validate does.
const maxUserName = 200
