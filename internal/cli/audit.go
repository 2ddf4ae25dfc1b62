package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

func newCmdAudit(f *Factory) *cobra.Command {
	return noun("audit", "Read and verify the audit log", `Every change deskctl makes is recorded in the same transaction as an audit record:
sequence, time, actor, command, subject and the value before and after. Each record
carries the hash of the previous one, so editing, reordering or deleting records is
detected by `+"`deskctl audit verify`.",
		newCmdAuditLog(f), newCmdAuditVerify(f))
}

type auditLogOptions struct {
	Since, Actor, Subject string
	Limit                 int
}

// parseSince accepts a duration back from now (48h) or a date/time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errs.Usagef("--since %q is neither a duration nor a date", s).WithHint("write e.g. --since 24h or --since 2026-01-31")
}

func auditTab() output.Tab {
	return output.Tab{Columns: output.Cols("SEQ", "TIME", "ACTOR", "COMMAND", "SUBJECT", "VIA+", "CHANGE+"), Empty: "no audit records match"}
}

func auditRow(r app.AuditEntry) []string {
	change := ""
	if len(r.Before) > 0 {
		change += "before=" + string(r.Before) + " "
	}
	if len(r.After) > 0 {
		change += "after=" + string(r.After)
	}
	actor := r.Actor
	if r.RealActor != "" {
		actor = r.RealActor + " as " + r.Actor
	}
	return []string{strconv.FormatUint(r.Seq, 10), ts(r.Time), actor, r.Command, r.Subject, via(r), change}
}

// auditPage is how many records `audit log` without --limit reads in one
// transaction; between two pages other commands may write.
var auditPage = 5000

// printWholeAudit lists every record matching q, oldest first, a page at a
// time up to the newest record when it began (records appended meanwhile
// are not listed); -o json and -o csv are written as the pages come.
func (f *Factory) printWholeAudit(svc app.UseCases, q app.AuditQuery) error {
	p, err := f.Printer()
	if err != nil {
		return err
	}
	newest, err := svc.AuditLog(app.AuditQuery{Limit: 1})
	if err != nil {
		return err
	}
	l, err := p.List(auditTab())
	if err != nil {
		return err
	}
	if len(newest) == 0 {
		return l.Close()
	}
	q.Oldest, q.Through, q.Limit = true, newest[0].Seq, auditPage
	for {
		page, err := svc.AuditLog(q)
		if err != nil {
			l.Flush()
			return err
		}
		for _, r := range page {
			if r.Seq <= q.After || r.Seq > q.Through {
				// A server that does not know pages answers with the
				// newest records again.
				l.Flush()
				return errs.Conflictf("audit record %d is outside the page asked for (%d to %d)", r.Seq, q.After+1, q.Through).
					WithHint("the server may be older than this client: give --limit N")
			}
			if err := l.Add(r, auditRow(r)); err != nil {
				return err
			}
		}
		if len(page) < q.Limit {
			return l.Close()
		}
		q.After, q.Since = page[len(page)-1].Seq, time.Time{}
	}
}

func newCmdAuditLog(f *Factory) *cobra.Command {
	var o auditLogOptions
	cmd := &cobra.Command{
		Use:   "log [--since 24h|DATE] [--actor LOGIN] [--subject KIND:NAME] [--limit N]",
		Short: "Show who changed what, when (admin)",
		Long: `Show audit records, oldest first. --limit keeps the newest N; without it every
matching record is read, 5 000 at a time so that other commands can write in between
(records appended meanwhile are not listed), and -o json and -o csv are written as they
come, in memory that does not grow with the chain. The subject filter
matches exactly (e.g. group:support, user:bob, ticket:42, setting:approvals.enabled).
Each record says how the change arrived (VIA, in -o wide): file and the OS user that
ran the command on the database file, socket and the OS user the server's kernel
reported, or token and the token's name. When an administrator acted as another user
through the server, ACTOR reads "alice as bob". An auth-failed record is a request the
server could not authenticate (it names the client, never the token).
JSON fields: seq, time, actor, command, subject, before, after, prev, hash, via,
os_user, token, real_actor (docs/json.md).` + exitStatus(),
		Example: "  deskctl audit log --since 24h\n  deskctl audit log --actor alice --subject group:support -o json",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			since, err := parseSince(o.Since, f.Now())
			if err != nil {
				return err
			}
			if o.Limit < 0 {
				return errs.Usagef("--limit must be 0 or more")
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			q := app.AuditQuery{Since: since, Actor: o.Actor, Subject: o.Subject, Limit: o.Limit}
			if o.Limit == 0 {
				return f.printWholeAudit(svc, q)
			}
			recs, err := svc.AuditLog(q)
			if err != nil {
				return err
			}
			if recs == nil {
				recs = []app.AuditEntry{}
			}
			t := auditTab()
			for _, r := range recs {
				t.Rows = append(t.Rows, auditRow(r))
			}
			return f.print(recs, t)
		},
	}
	cmd.Flags().StringVar(&o.Since, "since", "", "only records since a duration ago (24h) or a date (2026-01-31)")
	cmd.Flags().StringVar(&o.Actor, "actor", "", "only records by this login")
	cmd.Flags().StringVar(&o.Subject, "subject", "", "only records about this subject, e.g. group:support")
	cmd.Flags().IntVar(&o.Limit, "limit", 0, "only the newest N records (0 = all)")
	_ = cmd.RegisterFlagCompletionFunc("actor", completeValue(f, app.CompleteUsers))
	_ = cmd.RegisterFlagCompletionFunc("subject", completeValue(f, app.CompleteSubjects))
	return cmd
}

func newCmdAuditVerify(f *Factory) *cobra.Command {
	var anchors []string
	var headOnly bool
	cmd := &cobra.Command{
		Use:   "verify [--anchor SEQ:HASH]...",
		Short: "Check the audit hash chain",
		Long: `Walk the whole audit log and check every record's hash and its link to the one
before. Prints the number of records checked and the head (SEQ:HASH of the newest
record), or the first broken record.

The chain shows any edit, reordering or removal inside the log. Someone who can rewrite
the file could also cut its end and cover the cut; keep the head somewhere else (a CI
log, a ticket, a mail) and pass it later as --anchor: verify then also checks that the
anchored record is still there, unchanged. --head prints only that SEQ:HASH, ready to
keep in a file (deskctl audit verify --head > audit-head).
JSON fields: records, ok, problem (seq, reason), head.` +
			exitStatus("1  the chain is broken: a record was edited, reordered or deleted, or an anchor no longer holds",
				"2  an --anchor is not SEQ:HASH", "3  --head, and the audit log is still empty"),
		Example: "  deskctl audit verify --head > last-audit-head\n  deskctl audit verify --anchor \"$(cat last-audit-head)\"",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			v, err := svc.VerifyAudit(anchors...)
			if err != nil {
				return err
			}
			p, err := f.Printer()
			if err != nil {
				return err
			}
			switch {
			case headOnly && v.OK && v.Head == "":
				return errs.NotFoundf("the audit log is empty: there is no head to keep yet").
					WithHint("run it again after the first change")
			case headOnly && v.OK:
				if _, err := fmt.Fprintln(f.IO.Out, v.Head); err != nil {
					return err
				}
			case headOnly:
			case p.Format != output.Table:
				// Machine formats get the fields; the table is one sentence.
				problem := ""
				if v.Problem != nil {
					problem = fmt.Sprintf("%d: %s", v.Problem.Seq, v.Problem.Reason)
				}
				kv := output.KV("", [2]string{"records", itoa(v.Records)}, [2]string{"ok", strconv.FormatBool(v.OK)},
					[2]string{"head", v.Head}, [2]string{"problem", problem})
				if err := p.Print(v, kv); err != nil {
					return err
				}
			case v.OK:
				line := fmt.Sprintf("audit chain intact: %d records", v.Records)
				if v.Head != "" {
					line += "; head " + v.Head
				}
				if _, err := fmt.Fprintln(f.IO.Out, line); err != nil {
					return err
				}
			}
			if !v.OK {
				return errs.Negativef("audit chain broken at record %d: %s", v.Problem.Seq, v.Problem.Reason).
					WithHint("restore the database from a backup taken before that record")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&headOnly, "head", false, "print only the head (SEQ:HASH) when the chain is intact")
	cmd.Flags().StringArrayVar(&anchors, "anchor", nil, "a head printed by an earlier verify (SEQ:HASH) that must still hold; repeatable")
	return cmd
}

// via is the channel of an audit record as one word and its detail.
func via(r app.AuditEntry) string {
	switch {
	case r.Token != "":
		return r.Via + ":" + r.Token
	case r.OSUser != "":
		return r.Via + ":" + r.OSUser
	}
	return r.Via
}
