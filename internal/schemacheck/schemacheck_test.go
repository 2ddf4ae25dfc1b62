package schemacheck

import (
	"encoding/json"
	"testing"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestErrors(t *testing.T) {
	schema := decode(t, `{
		"definitions": {"pos": {"type": "integer", "minimum": 1}},
		"type": "object",
		"required": ["n"],
		"properties": {
			"n": {"$ref": "#/definitions/pos"},
			"tags": {"type": "array", "uniqueItems": true, "minItems": 1, "items": {"type": "string"}},
			"home": {"type": "string", "format": "uri"},
			"kind": {"enum": ["a", "b"]}
		},
		"additionalProperties": {"type": "boolean"}
	}`)
	tests := map[string]bool{
		`{"n": 1}`: true,
		`{"n": 1, "tags": ["x", "y"], "extra": true}`: true,
		`{"n": 1, "home": "https://example.com/x"}`:   true,
		`{}`:                                 false,
		`{"n": 0}`:                           false,
		`{"n": 1.5}`:                         false,
		`{"n": 1, "tags": []}`:               false,
		`{"n": 1, "tags": ["x", "x"]}`:       false,
		`{"n": 1, "tags": [3]}`:              false,
		`{"n": 1, "home": "relative/path"}`:  false,
		`{"n": 1, "kind": "c"}`:              false,
		`{"n": 1, "extra": "not a boolean"}`: false,
	}
	for doc, valid := range tests {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		if errs := Errors(schema, v); (len(errs) == 0) != valid {
			t.Errorf("%s: errors %q, want valid=%v", doc, errs, valid)
		}
	}
}

func TestErrorsRefusesUnknownKeywords(t *testing.T) {
	schema := decode(t, `{"type": "object", "properties": {"a": {"type": "string", "multipleOf": 2}}}`)
	if errs := Errors(schema, map[string]any{"a": "x"}); len(errs) != 1 {
		t.Errorf("errors %q, want one about multipleOf", errs)
	}
	if errs := Errors(decode(t, `{"$ref": "#/definitions/missing"}`), 1.0); len(errs) != 1 {
		t.Errorf("errors %q, want one about the unresolved reference", errs)
	}
}
