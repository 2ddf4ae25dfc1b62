package app

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/deskctl/deskctl/internal/errs"
)

// FuzzParseImport feeds arbitrary bytes to the import parser in both
// formats. It must never panic; every refusal is a usage error (malformed
// input is the user's to fix, never an internal error); a JSON line that is
// not UTF-8 is refused rather than silently repaired; and the records it
// yields carry exactly the fields it read, which the test checks by writing
// them back out in the same format and parsing them again.
func FuzzParseImport(f *testing.F) {
	for _, seed := range []struct {
		data string
		csv  bool
	}{
		{`{"id":"a1","subject":"VPN drops","requester":"bob","resource":"network","state":"new","priority":"high","created":"2025-01-02T03:04:05Z"}` + "\n", false},
		{"{\"id\":\"a1\"}\n\n   \n{\"id\":\"a2\",\"description\":\"two\\nlines\",\"due\":\"2026-12-31\"}\n", false},
		{`{"id":"a1"} {"id":"a2"}`, false},
		{`{"id":"a1","colour":"red"}`, false},
		{`{"id":1}`, false},
		{`{"id":"a1","created":"yesterday"}`, false},
		{`[{"id":"a1"}]`, false},
		{`{"id":"a1","subject":"\u0000"}`, false},
		{"\xef\xbb\xbf{\"id\":\"a1\"}", false},
		{"id,subject,description,requester,resource,state,priority,category,due,assignee,created\n" +
			"a1,VPN drops,\"multi\nline\",bob,network,new,high,net,2026-12-31,carol,2025-01-02T03:04:05+01:00\n", true},
		{"\ufeffid,subject,requester\na1,\"quoted, comma\",bob\r\na2,x,bob\r\n", true},
		{"id,subject\na1\n", true},
		{"id,colour\na1,red\n", true},
		{"id,created\na1,not-a-time\n", true},
		{"", true},
		{"", false},
	} {
		f.Add([]byte(seed.data), seed.csv)
	}
	f.Fuzz(func(t *testing.T, data []byte, asCSV bool) {
		format := "jsonl"
		if asCSV {
			format = "csv"
		}
		var recs []ImportRecord
		lastLine := 0
		lines := bytes.Split(data, []byte("\n"))
		err := ParseImport(bytes.NewReader(data), format, func(line int, rec ImportRecord) error {
			if line < 1 || line < lastLine || line > len(lines) {
				t.Fatalf("record reported at line %d (previous %d, input has %d lines)", line, lastLine, len(lines))
			}
			if format == "jsonl" && !utf8.Valid(lines[line-1]) {
				t.Fatalf("line %d is not UTF-8, yet it was read as %+v", line, rec)
			}
			lastLine = line
			recs = append(recs, rec)
			return nil
		})
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Usage {
				t.Fatalf("ParseImport(%s) = %v (%T, kind %v), want a usage error", format, err, err, errs.KindOf(err))
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("the error is not one line: %q", err.Error())
			}
			return
		}

		again := writeImport(t, format, recs)
		var got []ImportRecord
		if err := ParseImport(bytes.NewReader(again), format, func(_ int, rec ImportRecord) error {
			got = append(got, rec)
			return nil
		}); err != nil {
			t.Fatalf("re-reading the records written back failed: %v\n%s", err, again)
		}
		if len(got) != len(recs) {
			t.Fatalf("wrote %d records back, read %d:\n%s", len(recs), len(got), again)
		}
		for i := range recs {
			if !sameRecord(recs[i], got[i]) {
				t.Fatalf("record %d changed on the way back:\n%+v\n%+v\n%s", i, recs[i], got[i], again)
			}
		}
	})
}

// writeImport writes records in format, as another system's export would.
func writeImport(t *testing.T, format string, recs []ImportRecord) []byte {
	t.Helper()
	var buf bytes.Buffer
	if format == "jsonl" {
		for _, r := range recs {
			line, err := json.Marshal(r)
			if err != nil {
				t.Skipf("record cannot be written as JSON (%v)", err) // e.g. a year past 9999
			}
			buf.Write(line)
			buf.WriteByte('\n')
		}
		return buf.Bytes()
	}
	w := csv.NewWriter(&buf)
	w.Write(importColumns)
	for _, r := range recs {
		created := ""
		if !r.Created.IsZero() {
			created = r.Created.Format(time.RFC3339Nano)
		}
		w.Write([]string{r.ID, r.Subject, r.Description, r.Requester, r.Resource, r.State, r.Priority, r.Category, r.Due, r.Assignee, created})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sameRecord(a, b ImportRecord) bool {
	ca, cb := a.Created, b.Created
	a.Created, b.Created = time.Time{}, time.Time{}
	return a == b && ca.Equal(cb)
}
