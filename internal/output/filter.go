package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/template"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/itchyny/gojq"
)

// ContractVersion is the version of the JSON output contract, docs/json.md.
// It changes only when a field is renamed, removed or changes its type.
const ContractVersion = 1

// Filter turns a result's JSON document into text: a jq expression
// (--jq) or a Go template (--template). Both see the document exactly as
// -o json prints it (docs/json.md).
type Filter struct {
	jq   *gojq.Code
	tmpl *template.Template
}

// ParseJQ compiles a jq expression, so that a mistake is reported before
// the command does any work.
func ParseJQ(expr string) (*Filter, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, errs.Usagef("--jq: %v", err).WithHint("the expression is jq syntax, e.g. --jq '.[].login'")
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, errs.Usagef("--jq: %v", err).WithHint("the expression is jq syntax, e.g. --jq '.[].login'")
	}
	return &Filter{jq: code}, nil
}

// TemplateFuncs are the functions a --template may call besides those of
// text/template: json writes a value as one line of JSON, join joins a list
// of strings.
var TemplateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", err
		}
		return strings.TrimSuffix(string(escapeLeftRaw(buf.Bytes())), "\n"), nil
	},
	"join": func(sep string, list []any) string {
		parts := make([]string, len(list))
		for i, x := range list {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, sep)
	},
}

// ParseTemplate parses a Go text/template. A key the document does not
// have is an error when the template runs, not an empty string.
func ParseTemplate(text string) (*Filter, error) {
	t, err := template.New("--template").Funcs(TemplateFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, errs.Usagef("%v", err).WithHint("the template is Go text/template syntax, e.g. --template '{{range .}}{{.login}}{{\"\\n\"}}{{end}}'")
	}
	return &Filter{tmpl: t}, nil
}

// Write runs the filter on data's JSON document and writes the result to w.
// jq results that are strings are written as they are, one per line (like
// jq -r); other results as indented JSON. Characters that could reorder or
// control the terminal are made visible (helpdesk.EscapeText) in both.
func (f *Filter) Write(w io.Writer, data any) error {
	doc, err := Document(data)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if f.tmpl != nil {
		if err := f.tmpl.Execute(&buf, doc); err != nil {
			return errs.Usagef("%v", err).WithHint("see docs/json.md for the fields of each command")
		}
		_, err := io.WriteString(w, helpdesk.EscapeText(buf.String()))
		return err
	}
	iter := f.jq.Run(doc)
	for {
		v, ok := iter.Next()
		if !ok {
			break
		}
		if err, ok := v.(error); ok {
			if h, ok := err.(*gojq.HaltError); ok && h.Value() == nil {
				break
			}
			return errs.Usagef("--jq: %v", err).WithHint("see docs/json.md for the fields of each command")
		}
		if s, ok := v.(string); ok {
			buf.WriteString(helpdesk.EscapeText(s))
			buf.WriteByte('\n')
			continue
		}
		if err := WriteJSON(&buf, v); err != nil {
			return err
		}
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// Document is data as generic JSON: maps, slices, strings, booleans, nil,
// and numbers as int when whole (so templates print 42, not 4.2e+01) or
// float64.
func Document(data any) (any, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return numbers(doc), nil
}

func numbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	case json.Number:
		if n, err := x.Int64(); err == nil && n >= math.MinInt && n <= math.MaxInt {
			return int(n)
		}
		f, _ := x.Float64()
		return f
	}
	return v
}
