package app

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
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
	if err := helpdesk.CleanTicketFields(&t); err != nil {
		return t, err
	}
	if !users[t.Requester] {
		return t, errs.NotFoundf("no such user %s (requester)", errs.Quote(t.Requester))
	}
	if t.Assignee != "" && !users[t.Assignee] {
		return t, errs.NotFoundf("no such user %s (assignee)", errs.Quote(t.Assignee))
	}
	if t.Resource != "" && !resources[t.Resource] {
		return t, errs.NotFoundf("no such resource %s", errs.Quote(t.Resource))
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
	First    int `json:"first"`
	Last     int `json:"last"`
}

// ImportBatch is how many tickets one write transaction carries unless the
// caller says otherwise. Larger batches import faster and hold more memory
// (docs/benchmarks.md measures both).
const ImportBatch = 2500

// ImportTickets loads tickets from a file (admin). The whole file is checked
// first; any invalid record aborts before anything is written. Tickets are
// then written in batches of batchSize, each batch one transaction with its
// audit record, so an interrupted import keeps whole batches only, and
// re-running it skips what was imported.
func (s *Service) ImportTickets(file File, format string, batchSize int, progress func(status string)) (ImportResult, error) {
	if batchSize <= 0 {
		batchSize = ImportBatch
	}
	say := func(status string) {
		if progress != nil {
			progress(status)
		}
	}
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
	open := file.open
	// Pass 1: check everything, write nothing.
	f, err := open()
	if err != nil {
		return res, err
	}
	// Repeated ids are found by a 64-bit hash of each id rather than the
	// ids themselves, which keeps a million-line file's check in tens of
	// megabytes. Two lines with the same hash are compared for real below.
	ids := newIDIndex()
	err = ParseImport(f, format, func(line int, rec ImportRecord) error {
		if _, err := rec.toTicket(users, resources, now); err != nil {
			return errs.Wrap(errs.KindOf(err), err, "line %d", line).WithHint("%s", errs.HintOf(err))
		}
		ids.add(line, rec.ID)
		res.Records++
		if res.Records%1024 == 0 {
			say(fmt.Sprintf("checking %d lines", line))
		}
		return nil
	})
	f.Close()
	if err == nil {
		say(fmt.Sprintf("checking %d records for repeated ids", res.Records))
		err = ids.repeats(open, format)
	}
	ids = nil
	if err != nil {
		return res, err
	}
	// Pass 2: write in batches.
	if f, err = open(); err != nil {
		return res, err
	}
	batches := (res.Records + batchSize - 1) / batchSize
	defer f.Close()
	var batch []ImportRecord
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		say(fmt.Sprintf("writing batch %d/%d", res.Batches+1, batches))
		_, err := s.write("ticket import", func(c *Ctx) error {
			first, last, n := 0, 0, 0
			var tickets []helpdesk.Ticket
			ids := make([]string, len(batch))
			for i, rec := range batch {
				ids[i] = rec.ID
			}
			c.Tx.PreloadImported(ids)
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
				tickets = append(tickets, t)
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
			if err := c.Tx.PutTickets(tickets); err != nil {
				return err
			}
			if res.First == 0 {
				res.First = first
			}
			res.Last = last
			res.Imported += n
			return c.Audit("import:"+file.Name, nil, map[string]any{"first": first, "last": last, "count": n})
		})
		batch = batch[:0]
		res.Batches++
		return err
	}
	err = ParseImport(f, format, func(_ int, rec ImportRecord) error {
		batch = append(batch, rec)
		if len(batch) >= batchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return res, err
}

// idHash is FNV-1a; a variable so a test can make every id clash.
var idHash = func(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// idIndex finds repeated ids in an import file by a hash of each id.
type idIndex struct {
	seen    map[uint64]int   // hash → first line
	clashes map[uint64][]int // lines whose ids hash alike, in file order
}

func newIDIndex() *idIndex {
	return &idIndex{seen: map[uint64]int{}, clashes: map[uint64][]int{}}
}

func (x *idIndex) add(line int, id string) {
	h := idHash(id)
	first, dup := x.seen[h]
	if !dup {
		x.seen[h] = line
		return
	}
	if x.clashes[h] == nil {
		x.clashes[h] = []int{first}
	}
	x.clashes[h] = append(x.clashes[h], line)
}

// repeats reads the ids of the lines whose ids hashed alike and reports the
// earliest line that really repeats an earlier one's id.
func (x *idIndex) repeats(open func() (io.ReadCloser, error), format string) error {
	if len(x.clashes) == 0 {
		return nil
	}
	clashes := x.clashes
	want := map[int]string{}
	for _, lines := range clashes {
		for _, l := range lines {
			want[l] = ""
		}
	}
	f, err := open()
	if err != nil {
		return err
	}
	defer f.Close()
	err = ParseImport(f, format, func(line int, rec ImportRecord) error {
		if _, ok := want[line]; ok {
			want[line] = rec.ID
		}
		return nil
	})
	if err != nil {
		return err
	}
	var found error
	at := 0
	for _, lines := range clashes {
		first := map[string]int{}
		for _, l := range lines {
			if prev, ok := first[want[l]]; ok {
				if found == nil || l < at {
					found, at = errs.Usagef("line %d: id %q repeats line %d", l, want[l], prev), l
				}
				break
			}
			first[want[l]] = l
		}
	}
	return found
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
	return "", errs.Usagef("cannot tell the format of %s", errs.Input(path)).WithHint("name it .jsonl or .csv, or pass --format jsonl|csv")
}
