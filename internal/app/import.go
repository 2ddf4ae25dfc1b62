package app

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// ImportRecord is one ticket in an import file (JSON Lines or CSV with these
// column names). id is the source system's key: re-running an import skips
// ids already imported.
type ImportRecord struct {
	ID          string    `json:"id"`
	Subject     string    `json:"subject"`
	Description string    `json:"description"`
	Requester   string    `json:"requester"`
	Resource    string    `json:"resource"`
	State       string    `json:"state"`
	Priority    string    `json:"priority"`
	Category    string    `json:"category"`
	Due         string    `json:"due"`
	Assignee    string    `json:"assignee"`
	Created     time.Time `json:"created"`
}

var importColumns = []string{"id", "subject", "description", "requester", "resource", "state", "priority", "category", "due", "assignee", "created"}

// MaxImportLine bounds one JSON line or CSV record.
const MaxImportLine = 1 << 20

// ParseImport reads records from r in format "jsonl" or "csv", calling fn
// with each record's line number. It stops at the first malformed record.
func ParseImport(r io.Reader, format string, fn func(line int, rec ImportRecord) error) error {
	switch format {
	case "jsonl":
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), MaxImportLine)
		line := 0
		for sc.Scan() {
			line++
			raw := bytes.TrimSpace(sc.Bytes())
			if len(raw) == 0 {
				continue
			}
			if !utf8.Valid(raw) {
				return errs.Usagef("line %d is not valid UTF-8", line).WithHint("re-encode the file as UTF-8")
			}
			var rec ImportRecord
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&rec); err != nil {
				return errs.Usagef("line %d: %v", line, err).WithHint("each line must be one JSON object with the fields %s", strings.Join(importColumns, ", "))
			}
			if dec.More() {
				return errs.Usagef("line %d: more than one JSON value", line)
			}
			if err := fn(line, rec); err != nil {
				return err
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return errs.Usagef("line %d is longer than %d bytes", line+1, MaxImportLine)
			}
			return errs.Wrap(errs.Usage, err, "reading the import")
		}
		return nil
	case "csv":
		cr := csv.NewReader(r)
		cr.ReuseRecord = true
		header, err := cr.Read()
		if err != nil {
			return errs.Usagef("the CSV has no header row").WithHint("the first row names the columns: %s", strings.Join(importColumns, ","))
		}
		col := map[string]int{}
		for i, h := range header {
			h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
			known := false
			for _, c := range importColumns {
				known = known || c == h
			}
			if !known {
				return errs.Usagef("unknown CSV column %q", h).WithHint("known columns: %s", strings.Join(importColumns, ","))
			}
			col[h] = i
		}
		for {
			row, err := cr.Read()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return errs.Usagef("CSV: %v", err).WithHint("quote fields that contain commas, quotes or line breaks")
			}
			line, _ := cr.FieldPos(0)
			for _, field := range row {
				if !utf8.ValidString(field) {
					return errs.Usagef("line %d is not valid UTF-8", line).WithHint("re-encode the file as UTF-8")
				}
			}
			get := func(name string) string {
				if i, ok := col[name]; ok && i < len(row) {
					return row[i]
				}
				return ""
			}
			rec := ImportRecord{ID: get("id"), Subject: get("subject"), Description: get("description"), Requester: get("requester"),
				Resource: get("resource"), State: get("state"), Priority: get("priority"), Category: get("category"), Due: get("due"), Assignee: get("assignee")}
			if c := get("created"); c != "" {
				t, err := time.Parse(time.RFC3339, c)
				if err != nil {
					return errs.Usagef("line %d: created %q is not RFC 3339", line, c)
				}
				rec.Created = t
			}
			if err := fn(line, rec); err != nil {
				return err
			}
		}
	}
	return errs.Usagef("unknown import format %q", format).WithHint("use jsonl or csv")
}

// toTicket validates a record against the directory and builds the ticket.
func (rec ImportRecord) toTicket(users, resources map[string]bool, now time.Time) (helpdesk.Ticket, error) {
	if rec.ID == "" {
		return helpdesk.Ticket{}, errs.Usagef("missing id").WithHint("every record needs the source system's id, so re-running the import skips it")
	}
	if err := helpdesk.ValidateLine("id", rec.ID, 200); err != nil {
		return helpdesk.Ticket{}, err
	}
	t := helpdesk.Ticket{Subject: rec.Subject, Description: rec.Description, Requester: rec.Requester, Resource: rec.Resource,
		State: helpdesk.StateRequest, Priority: helpdesk.PriorityNormal, Category: rec.Category, Due: rec.Due, Assignee: rec.Assignee,
		Created: rec.Created, Updated: rec.Created}
	if t.Created.IsZero() {
		t.Created, t.Updated = now, now
	}
	if rec.State != "" {
		st, err := helpdesk.ParseState(rec.State)
		if err != nil {
			return t, err
		}
		t.State = st
	} else if rec.Resource != "" {
		t.State = helpdesk.StateNew
	}
	if rec.Priority != "" {
		p, err := helpdesk.ParsePriority(rec.Priority)
		if err != nil {
			return t, err
		}
		t.Priority = p
	}
	if err := helpdesk.ValidateTicketFields(t); err != nil {
		return t, err
	}
	if !users[t.Requester] {
		return t, errs.NotFoundf("no such user '%s' (requester)", t.Requester)
	}
	if t.Assignee != "" && !users[t.Assignee] {
		return t, errs.NotFoundf("no such user '%s' (assignee)", t.Assignee)
	}
	if t.Resource != "" && !resources[t.Resource] {
		return t, errs.NotFoundf("no such resource '%s'", t.Resource)
	}
	if t.Resource == "" && t.State != helpdesk.StateRequest && t.State != helpdesk.StateClosed {
		return t, errs.Usagef("state %s needs a resource", t.State)
	}
	if t.Resource != "" && t.State == helpdesk.StateRequest {
		return t, errs.Usagef("a ticket in resource %s cannot be a request", t.Resource)
	}
	return t, nil
}

// ImportResult is what `ticket import` did.
type ImportResult struct {
	Records  int `json:"records"`
	Imported int `json:"imported"`
	Skipped  int `json:"skipped"` // ids imported before
	Batches  int `json:"batches"`
	First    int `json:"first,omitempty"`
	Last     int `json:"last,omitempty"`
}

// ImportBatch is how many tickets one write transaction carries.
const ImportBatch = 10000

// ImportTickets loads tickets from a file (admin). The whole file is checked
// first; any invalid record aborts before anything is written. Tickets are
// then written in batches of ImportBatch, each batch one transaction with its
// audit record, so an interrupted import keeps whole batches only, and
// re-running it skips what was imported.
func (s *Service) ImportTickets(path, format string, progress func(done, total int)) (ImportResult, error) {
	var res ImportResult
	users, resources := map[string]bool{}, map[string]bool{}
	err := s.read(func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		us, err := c.Tx.Users()
		for _, u := range us {
			users[u] = true
		}
		rs, _ := c.Tx.Resources()
		for _, r := range rs {
			resources[r] = true
		}
		return err
	})
	if err != nil {
		return res, err
	}
	now := s.now()
	open := func() (*os.File, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, errs.Wrap(errs.Usage, err, "cannot read %s", path)
		}
		return f, nil
	}
	// Pass 1: check everything, write nothing.
	f, err := open()
	if err != nil {
		return res, err
	}
	seen := map[string]int{}
	err = ParseImport(f, format, func(line int, rec ImportRecord) error {
		if _, err := rec.toTicket(users, resources, now); err != nil {
			return errs.Wrap(errs.KindOf(err), err, "line %d", line)
		}
		if prev, dup := seen[rec.ID]; dup {
			return errs.Usagef("line %d: id %q repeats line %d", line, rec.ID, prev)
		}
		seen[rec.ID] = line
		res.Records++
		return nil
	})
	f.Close()
	seen = nil
	if err != nil {
		return res, err
	}
	// Pass 2: write in batches.
	if f, err = open(); err != nil {
		return res, err
	}
	defer f.Close()
	var batch []ImportRecord
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := s.write("ticket import", func(c *Ctx) error {
			first, last, n := 0, 0, 0
			for _, rec := range batch {
				if _, done := c.Tx.ImportedTicket(rec.ID); done {
					res.Skipped++
					continue
				}
				t, err := rec.toTicket(users, resources, now)
				if err != nil {
					return err
				}
				if t.Number, err = c.Tx.NextTicketNumber(); err != nil {
					return err
				}
				t.Log = []helpdesk.Entry{{Seq: 1, Time: t.Created, Actor: c.Actor.Login, Action: "import", Text: "imported from " + rec.ID,
					To: t.State, Visibility: helpdesk.VisibleTechnicians, System: true}}
				if err := c.Tx.PutTicket(t); err != nil {
					return err
				}
				if err := c.Tx.RecordImport(rec.ID, t.Number); err != nil {
					return err
				}
				if first == 0 {
					first = t.Number
				}
				last = t.Number
				n++
			}
			if n == 0 {
				return nil
			}
			if res.First == 0 {
				res.First = first
			}
			res.Last = last
			res.Imported += n
			return c.Audit("import:"+path, nil, map[string]any{"first": first, "last": last, "count": n})
		})
		batch = batch[:0]
		res.Batches++
		if progress != nil {
			progress(res.Imported+res.Skipped, res.Records)
		}
		return err
	}
	err = ParseImport(f, format, func(_ int, rec ImportRecord) error {
		batch = append(batch, rec)
		if len(batch) >= ImportBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return res, err
}

// ImportFormat picks the format from a file name.
func ImportFormat(path, flag string) (string, error) {
	if flag != "" {
		if flag != "jsonl" && flag != "csv" {
			return "", errs.Usagef("unknown --format %q", flag).WithHint("use jsonl or csv")
		}
		return flag, nil
	}
	switch {
	case strings.HasSuffix(path, ".csv"):
		return "csv", nil
	case strings.HasSuffix(path, ".jsonl"), strings.HasSuffix(path, ".ndjson"), strings.HasSuffix(path, ".json"):
		return "jsonl", nil
	}
	return "", errs.Usagef("cannot tell the format of %s", path).WithHint("name it .jsonl or .csv, or pass --format jsonl|csv")
}
