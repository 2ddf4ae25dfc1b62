package app

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// AuditEntry is an audit record as printed.
type AuditEntry struct {
	Seq     uint64          `json:"seq"`
	Time    time.Time       `json:"time"`
	Actor   string          `json:"actor"`
	Command string          `json:"command"`
	Subject string          `json:"subject"`
	Before  json.RawMessage `json:"before"`
	After   json.RawMessage `json:"after"`
	// Prev is the hash of the record before (empty for the first), so an
	// exported log can be checked link by link.
	Prev string `json:"prev"`
	Hash string `json:"hash"`
	// How the change arrived: file, socket or token; the OS user (file,
	// socket), the token's name, and who really acted when impersonating.
	Via       string `json:"via"`
	OSUser    string `json:"os_user"`
	Token     string `json:"token"`
	RealActor string `json:"real_actor"`
}

// AuditQuery filters `audit log`.
type AuditQuery struct {
	Since   time.Time
	Actor   string
	Subject string
	Limit   int
	// Oldest, After and Through read the chain a page at a time, oldest
	// first: the oldest Limit records numbered above After and up to
	// Through (store.AuditFilter).
	Oldest  bool   `json:",omitempty"`
	After   uint64 `json:",omitempty"`
	Through uint64 `json:",omitempty"`
}

// AuditLog returns matching records, oldest first. Reading the audit log is
// an administrative act.
func (s *Service) AuditLog(q AuditQuery) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.read(func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		f := store.AuditFilter{Actor: q.Actor, Subject: q.Subject, Limit: q.Limit, Oldest: q.Oldest, After: q.After, Through: q.Through}
		if !q.Since.IsZero() {
			f.Since = func(r helpdesk.AuditRecord) bool { return !r.Time.Before(q.Since) }
		}
		recs, err := c.Tx.Audit(f)
		for _, r := range recs {
			out = append(out, AuditEntry{r.Seq, r.Time, r.Actor, r.Command, r.Subject, r.Before, r.After, r.Prev, r.Hash,
				r.Via, r.OSUser, r.Token, r.RealActor})
		}
		return err
	})
	return out, err
}

// AuditVerification is the result of `audit verify`.
type AuditVerification struct {
	Records int                    `json:"records"`
	OK      bool                   `json:"ok"`
	Problem *helpdesk.ChainProblem `json:"problem"`
	// Head names the newest record as SEQ:HASH: kept outside the database
	// (a CI log, a ticket), it lets a later verify prove that nothing up to
	// it was removed or rewritten since.
	Head string `json:"head"`
}

// ParseAnchor reads an anchor given to `audit verify --anchor`: the head
// that an earlier verify printed, SEQ:HASH.
func ParseAnchor(s string) (uint64, string, error) {
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil || n == 0 || len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return 0, "", errs.Usagef("anchor %q is not SEQ:HASH", s).
			WithHint("give the head an earlier `deskctl audit verify` printed, e.g. 57:%s", strings.Repeat("0", 64))
	}
	return n, hash, nil
}

// VerifyAudit checks the hash chain of the whole audit log, and that each
// anchor (SEQ:HASH from an earlier verify) is still the record it was.
func (s *Service) VerifyAudit(anchors ...string) (AuditVerification, error) {
	type anchor struct {
		seq  uint64
		hash string
	}
	var as []anchor
	for _, a := range anchors {
		seq, hash, err := ParseAnchor(a)
		if err != nil {
			return AuditVerification{}, err
		}
		as = append(as, anchor{seq, hash})
	}
	var out AuditVerification
	if err := s.requireServedAdmin(); err != nil {
		return out, err
	}
	err := s.readAnon(func(tx *store.Tx) error {
		n, p, err := tx.VerifyAudit()
		out = AuditVerification{Records: n, OK: p == nil, Problem: p}
		if err != nil || p != nil {
			return err
		}
		if last, ok, err := tx.LastAudit(); err != nil {
			return err
		} else if ok {
			out.Head = headOf(last)
		}
		for _, a := range as {
			r, ok, err := tx.AuditRecordAt(a.seq)
			switch {
			case err != nil:
				return err
			case !ok:
				out.OK, out.Problem = false, &helpdesk.ChainProblem{Seq: a.seq,
					Reason: "the anchored record is gone: the log was cut back to " + strconv.Itoa(n) + " records"}
				return nil
			case r.Hash != a.hash:
				out.OK, out.Problem = false, &helpdesk.ChainProblem{Seq: a.seq,
					Reason: "the record no longer has the anchored hash: the log was rewritten up to it"}
				return nil
			}
		}
		return nil
	})
	return out, err
}
