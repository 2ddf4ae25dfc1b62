package policy

import (
	"bytes"
	"encoding/json"
	"maps"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// memberPattern is a group member: a login, user:LOGIN or group:NAME.
const memberPattern = `^((user|group):)?[a-z0-9][a-z0-9._-]{0,63}$`

// JSONSchema returns a JSON Schema (draft 2020-12) of the policy format for
// editors: completion of keys, built-in rights, states and categories, and
// checks of shapes and names. Meaning (references, cycles, grantability)
// is Validate's job. The output is stable: keys are sorted.
func JSONSchema() []byte {
	var builtins []any
	for _, r := range helpdesk.Builtins() {
		builtins = append(builtins, r.Name)
	}
	settingProps := map[string]any{}
	for _, s := range settings() {
		prop := maps.Clone(s.schema)
		prop["description"] = s.desc
		settingProps[s.key] = prop
	}
	nameSchema := map[string]any{"type": "string", "pattern": namePattern,
		"description": "Lower-case letters, digits, '.', '_' and '-', starting with a letter or digit; at most 64."}
	schema := object(topFields())
	schema["patternProperties"] = map[string]any{"^" + extensionPrefix: map[string]any{
		"description": "Ignored by deskctl; a place for anchors that entries merge with <<."}}
	schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	schema["title"] = "deskctl policy"
	schema["description"] = "Users, groups, resources, custom ticket actions, grants and settings of a deskctl helpdesk. See docs/policy.md."
	schema["$defs"] = map[string]any{
		"login":       nameSchema,
		"name":        nameSchema,
		"description": map[string]any{"type": "string", "maxLength": maxDescription},
		"right": map[string]any{
			"description": "A built-in right or the name of a custom action defined under actions.",
			"anyOf":       []any{map[string]any{"enum": builtins}, map[string]any{"$ref": "#/$defs/name"}},
		},
		"rights": listOf(ref("right")),
		"member": map[string]any{"type": "string", "pattern": memberPattern,
			"description": "A user (bob or user:bob) or a group (group:tier1)."},
		"state":             map[string]any{"enum": stateNames()},
		"user":              object(userFields()),
		"group":             object(groupFields()),
		"resource":          object(resourceFields()),
		"resource-member":   object(resourceMemberFields()),
		"action":            object(actionFields()),
		"approval-template": object(templateFields()),
		"approval-stage":    object(stageFields()),
		"settings": map[string]any{
			"type":                 []any{"object", "null"},
			"properties":           settingProps,
			"additionalProperties": false,
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(schema); err != nil {
		panic(err) // the schema is built from constant tables; failing here is a programming error
	}
	return buf.Bytes()
}

func object(fields []field) map[string]any {
	props := map[string]any{}
	var required []any
	for _, f := range fields {
		prop := maps.Clone(f.schema)
		prop["description"] = f.desc
		props[f.key] = prop
		if f.required {
			required = append(required, f.key)
		}
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}
