// Package schemacheck validates decoded JSON values against a JSON Schema,
// for tests: the policy format's own schema (draft 2020-12) and vendored
// standard schemas such as SARIF 2.1.0 (draft-04). It knows the keywords
// those schemas use and refuses a schema with any other, so a test can never
// pass because a constraint was silently skipped.
package schemacheck

import (
	"fmt"
	"math"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
)

// annotations are keywords that constrain nothing.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "id": true, "title": true, "description": true, "default": true,
	"examples": true, "$comment": true, "$defs": true, "definitions": true, "deprecated": true,
}

// assertions are the keywords Errors checks.
var assertions = map[string]bool{
	"$ref": true, "anyOf": true, "not": true, "const": true, "enum": true, "type": true,
	"pattern": true, "minLength": true, "maxLength": true, "format": true,
	"minItems": true, "uniqueItems": true, "items": true, "minimum": true,
	"properties": true, "patternProperties": true, "required": true, "additionalProperties": true,
}

// Errors checks v, as encoding/json or a YAML decoder produces it, against
// schema and returns one line per violation ("$.a.b: message"); none when v
// is valid.
func Errors(schema map[string]any, v any) []string {
	c := checker{root: schema}
	c.check("$", schema, v)
	return c.errs
}

type checker struct {
	root map[string]any
	errs []string
}

func (c *checker) fail(path, format string, a ...any) {
	c.errs = append(c.errs, path+": "+fmt.Sprintf(format, a...))
}

func (c *checker) matches(s map[string]any, v any) bool {
	sub := checker{root: c.root}
	sub.check("", s, v)
	return len(sub.errs) == 0
}

// resolve follows a local reference such as "#/$defs/name" or
// "#/definitions/name".
func (c *checker) resolve(ref string) (map[string]any, bool) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, false
	}
	var node any = c.root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := node.(map[string]any)
		if !ok {
			return nil, false
		}
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		node = m[part]
	}
	m, ok := node.(map[string]any)
	return m, ok
}

func normalize(v any) any {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case uint64:
		return float64(n)
	}
	return v
}

func (c *checker) check(path string, s map[string]any, v any) {
	for k := range s {
		if !annotations[k] && !assertions[k] {
			c.fail(path, "the schema uses the keyword %q, which this checker does not know", k)
		}
	}
	if ref, ok := s["$ref"].(string); ok {
		def, found := c.resolve(ref)
		if !found {
			c.fail(path, "unresolved reference %s", ref)
			return
		}
		c.check(path, def, v)
	}
	if alts, ok := s["anyOf"].([]any); ok {
		if !slices.ContainsFunc(alts, func(x any) bool { return c.matches(x.(map[string]any), v) }) {
			c.fail(path, "matches no alternative")
		}
	}
	if not, ok := s["not"].(map[string]any); ok && c.matches(not, v) {
		c.fail(path, "matches what is excluded")
	}
	if want, ok := s["const"]; ok && !reflect.DeepEqual(normalize(want), normalize(v)) {
		c.fail(path, "want %v", want)
	}
	if enum, ok := s["enum"].([]any); ok {
		if !slices.ContainsFunc(enum, func(x any) bool { return reflect.DeepEqual(normalize(x), normalize(v)) }) {
			c.fail(path, "%v is not one of %v", v, enum)
		}
	}
	if typ, ok := s["type"]; ok {
		var types []string
		switch x := typ.(type) {
		case string:
			types = []string{x}
		case []any:
			for _, y := range x {
				types = append(types, y.(string))
			}
		}
		if !slices.Contains(types, Type(v)) && !(slices.Contains(types, "number") && Type(v) == "integer") {
			c.fail(path, "is %s, want %v", Type(v), types)
			return
		}
	}
	switch x := v.(type) {
	case string:
		c.checkString(path, s, x)
	case float64, int, int64, uint64:
		if n, ok := s["minimum"].(float64); ok && normalize(x).(float64) < n {
			c.fail(path, "%v is less than %v", x, n)
		}
	case []any:
		if n, ok := s["minItems"].(float64); ok && float64(len(x)) < n {
			c.fail(path, "too few items")
		}
		if s["uniqueItems"] == true {
			for i := range x {
				for j := range i {
					if reflect.DeepEqual(x[i], x[j]) {
						c.fail(path, "items %d and %d are equal", j, i)
					}
				}
			}
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, item := range x {
				c.check(fmt.Sprintf("%s[%d]", path, i), items, item)
			}
		}
	case map[string]any:
		c.checkObject(path, s, x)
	}
}

func (c *checker) checkString(path string, s map[string]any, x string) {
	if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(x) {
		c.fail(path, "%q does not match %s", x, p)
	}
	if n, ok := s["minLength"].(float64); ok && float64(len([]rune(x))) < n {
		c.fail(path, "too short")
	}
	if n, ok := s["maxLength"].(float64); ok && float64(len([]rune(x))) > n {
		c.fail(path, "too long")
	}
	switch s["format"] {
	case "uri":
		if u, err := url.Parse(x); err != nil || !u.IsAbs() {
			c.fail(path, "%q is not an absolute URI", x)
		}
	case "uri-reference":
		if _, err := url.Parse(x); err != nil || strings.ContainsAny(x, " \\") {
			c.fail(path, "%q is not a URI reference", x)
		}
	case "date-time":
		if _, err := time.Parse(time.RFC3339, x); err != nil {
			c.fail(path, "%q is not an RFC 3339 time", x)
		}
	}
}

func (c *checker) checkObject(path string, s map[string]any, x map[string]any) {
	props, _ := s["properties"].(map[string]any)
	patterns, _ := s["patternProperties"].(map[string]any)
	required, _ := s["required"].([]any)
	for _, r := range required {
		if _, ok := x[r.(string)]; !ok {
			c.fail(path, "missing %s", r)
		}
	}
	for k, val := range x {
		if ps, ok := props[k]; ok {
			c.check(path+"."+k, ps.(map[string]any), val)
			continue
		}
		matched := false
		for p, ps := range patterns {
			if regexp.MustCompile(p).MatchString(k) {
				matched = true
				c.check(path+"."+k, ps.(map[string]any), val)
			}
		}
		if matched {
			continue
		}
		switch extra := s["additionalProperties"].(type) {
		case bool:
			if !extra {
				c.fail(path, "unknown key %s", k)
			}
		case map[string]any:
			c.check(path+"."+k, extra, val)
		}
	}
}

// Type names v's JSON type as a schema's "type" keyword does; a number
// without a fraction is an integer.
func Type(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case int, int64, uint64:
		return "integer"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
