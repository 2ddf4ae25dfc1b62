package policy

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the loader. Nothing may panic; every
// finding must point into the file; and whatever parses cleanly must survive
// Marshal and a second Parse unchanged. Crashers live in testdata/fuzz.
func FuzzParse(f *testing.F) {
	seeds := []string{
		examplePolicy,
		withAdmin("groups:", "  - {name: a, members: [group:b]}", "  - {name: b, members: [group:a]}"),
		`{"users": [{"login": "a", "name": "A", "email": "a@example.com", "rights": ["admin"]}], "settings": {"approvals.enabled": true}}`,
		"users:\n  - login: a\n    login: b\n",
		"x: &x {name: g, rights: [close]}\ngroups: [*x, {<<: *x, name: h}]\n",
		"resources:\n  - {name: r, parent: r, members: [{user: a, access: rw}]}\n",
		"actions:\n  - {name: close, category: edit, from-states: [request], to-state: request}\n",
		"version: 2\n---\n- a\n---\n: :\n",
		"settings: {approvals.link-ttl: 1h, approvals.enabled: [x]}\n",
		"\"\\x00\": \t\n",
		"groups:\n  - name: g\n    members: [\"a:b\", \"user:\", \"group:\", \":\"]\n",
		"users: [{login: \"x\\ny\", name: \"\\u2028\", email: \"\"}]\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, fs := Parse("f.yaml", data)
		fs = append(fs, Validate(p)...)
		// YAML also breaks lines at a lone CR and at NEL, LS and PS.
		nLines := 2
		for _, r := range string(data) {
			if strings.ContainsRune("\n\r\u0085\u2028\u2029", r) {
				nLines++
			}
		}
		for _, x := range fs {
			if x.File != "f.yaml" || x.Line < 0 || x.Line > nLines || x.Col < 0 || x.Message == "" {
				t.Fatalf("finding outside the file: %+v", x)
			}
		}
		_, parseFindings := Parse("f.yaml", data)
		if len(parseFindings) > 0 {
			return
		}
		for _, format := range []string{"yaml", "json"} {
			out, err := Marshal(p, format)
			if err != nil {
				t.Fatalf("marshal %s: %v", format, err)
			}
			q, fs := Parse("again", out)
			if len(fs) > 0 {
				t.Fatalf("re-reading the %s export: %q\n%s", format, strs(fs), out)
			}
			if a, b := p.State(), q.State(); !reflect.DeepEqual(a, b) {
				t.Fatalf("%s round trip changed the state:\n%+v\n%+v\n%s", format, a, b, out)
			}
		}
	})
}
