package app

import (
	"encoding/json"
	"time"

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
	Before  json.RawMessage `json:"before,omitempty"`
	After   json.RawMessage `json:"after,omitempty"`
	// Prev is the hash of the record before (empty for the first), so an
	// exported log can be checked link by link.
	Prev string `json:"prev"`
	Hash string `json:"hash"`
}

// AuditQuery filters `audit log`.
type AuditQuery struct {
	Since   time.Time
	Actor   string
	Subject string
	Limit   int
}

// AuditLog returns matching records, oldest first. Reading the audit log is
// an administrative act.
func (s *Service) AuditLog(q AuditQuery) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.read(func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		f := store.AuditFilter{Actor: q.Actor, Subject: q.Subject, Limit: q.Limit}
		if !q.Since.IsZero() {
			f.Since = func(r helpdesk.AuditRecord) bool { return !r.Time.Before(q.Since) }
		}
		recs, err := c.Tx.Audit(f)
		for _, r := range recs {
			out = append(out, AuditEntry{r.Seq, r.Time, r.Actor, r.Command, r.Subject, r.Before, r.After, r.Prev, r.Hash})
		}
		return err
	})
	return out, err
}

// AuditVerification is the result of `audit verify`.
type AuditVerification struct {
	Records int                    `json:"records"`
	OK      bool                   `json:"ok"`
	Problem *helpdesk.ChainProblem `json:"problem,omitempty"`
}

// VerifyAudit checks the hash chain of the whole audit log.
func (s *Service) VerifyAudit() (AuditVerification, error) {
	var out AuditVerification
	err := s.readAnon(func(tx *store.Tx) error {
		n, p, err := tx.VerifyAudit()
		out = AuditVerification{Records: n, OK: p == nil, Problem: p}
		return err
	})
	return out, err
}
