package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/pgtest"
)

// The reporting views are what a DBA's tools read: each one answers plain
// SQL with the columns docs/postgres.md lists, from records written by the
// store itself.
func TestPostgresReportingViews(t *testing.T) {
	url := pgtest.NewDatabase(t)
	db, err := Create(url, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	mustUpdate(t, db, func(tx *Tx) error {
		for _, u := range []helpdesk.User{
			{Login: "ann", Name: "Ann Admin", Email: "ann@example.com", Active: true, Created: at},
			{Login: "bob", Name: "Bob Tech", Email: "bob@example.com", Active: false, OSLogin: "robert", Created: at},
		} {
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		if err := tx.PutGroup(helpdesk.Group{Name: helpdesk.Everyone, Created: at}); err != nil {
			return err
		}
		if err := tx.PutGroup(helpdesk.Group{Name: "staff", Description: "Staff", Created: at,
			Members: []helpdesk.Subject{helpdesk.UserSubject("bob"), {Kind: helpdesk.KindGroup, Name: helpdesk.Everyone}}}); err != nil {
			return err
		}
		if err := tx.PutResource(helpdesk.Resource{Name: "net", Description: "Network", Created: at}); err != nil {
			return err
		}
		if err := tx.PutResource(helpdesk.Resource{Name: "wifi", Parent: "net", Created: at,
			Members: []helpdesk.ResourceMember{{Login: "bob", Access: helpdesk.AccessWrite}}}); err != nil {
			return err
		}
		if err := tx.Grant(helpdesk.Subject{Kind: helpdesk.KindGroup, Name: "staff"}, "comment", "close"); err != nil {
			return err
		}
		if err := tx.PutTicket(helpdesk.Ticket{Number: 7, Subject: "VPN down", Requester: "ann", Resource: "wifi",
			State: helpdesk.StateNew, Priority: helpdesk.PriorityHigh, Assignee: "bob", Created: at, Updated: at,
			Log: []helpdesk.Entry{
				{Seq: 1, Time: at, Actor: "ann", Action: "create", Visibility: helpdesk.VisibleEveryone},
				{Seq: 2, Time: at, Actor: "bob", Action: "authorize", From: helpdesk.StateRequest, To: helpdesk.StateNew,
					Text: "approval requested", Visibility: helpdesk.VisibleTechnicians, System: true},
			}}); err != nil {
			return err
		}
		if err := tx.PutApproval(helpdesk.Approval{Ticket: 7, State: helpdesk.ApprovalPending, Approver: "ann",
			RequestedBy: "bob", RequestedAt: at, TokenHash: strings.Repeat("ab", 32), Expires: at.Add(72 * time.Hour), Round: 1}); err != nil {
			return err
		}
		if err := tx.PutDelegation(helpdesk.Delegation{User: "ann", Delegate: "bob", From: at, SetBy: "ann", SetAt: at}); err != nil {
			return err
		}
		if err := tx.PutLastDigest("ann", at); err != nil {
			return err
		}
		_, err := tx.AppendAudit(helpdesk.AuditRecord{Time: at, Actor: "ann", Command: "ticket create", Subject: "ticket:7"})
		return err
	})
	db.Close()

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows := func(query string) []string {
		t.Helper()
		rs, err := conn.Query(ctx, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rs.Close()
		var out []string
		for rs.Next() {
			vals, err := rs.Values()
			if err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			var cells []string
			for _, v := range vals {
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC().Format(time.RFC3339)
				}
				cells = append(cells, fmt.Sprint(v))
			}
			out = append(out, strings.Join(cells, "|"))
		}
		if err := rs.Err(); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return out
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"SELECT login, name, email, active, os_login, created FROM deskctl_users ORDER BY login",
			[]string{"ann|Ann Admin|ann@example.com|true|<nil>|2026-03-03T08:00:00Z", "bob|Bob Tech|bob@example.com|false|robert|2026-03-03T08:00:00Z"}},
		{"SELECT name, description FROM deskctl_groups ORDER BY name", []string{"everyone|", "staff|Staff"}},
		{"SELECT group_name, member_kind, member_name, position FROM deskctl_group_members ORDER BY group_name, position",
			[]string{"staff|user|bob|1", "staff|group|everyone|2"}},
		{"SELECT name, description, parent FROM deskctl_resources ORDER BY name", []string{"net|Network|<nil>", "wifi||net"}},
		{"SELECT resource, login, access FROM deskctl_resource_members", []string{"wifi|bob|write"}},
		{"SELECT subject_kind, subject_name, right_name FROM deskctl_grants ORDER BY right_name",
			[]string{"group|staff|close", "group|staff|comment"}},
		{"SELECT number, subject, requester, resource, state, priority, category, assignee, created FROM deskctl_tickets",
			[]string{"7|VPN down|ann|wifi|new|high|<nil>|bob|2026-03-03T08:00:00Z"}},
		{"SELECT ticket, seq, actor, action, text, from_state, to_state, visibility, system FROM deskctl_ticket_log ORDER BY seq",
			[]string{"7|1|ann|create|<nil>|<nil>|<nil>|everyone|false", "7|2|bob|authorize|approval requested|request|new|technicians|true"}},
		{"SELECT ticket, state, approver, requested_by, decided_by, expires, round FROM deskctl_approvals",
			[]string{"7|pending|ann|bob|<nil>|2026-03-06T08:00:00Z|1"}},
		{"SELECT login, delegate, valid_from, valid_until, set_by FROM deskctl_approval_delegations",
			[]string{"ann|bob|2026-03-03T08:00:00Z|<nil>|ann"}},
		{"SELECT login, last_sent FROM deskctl_approval_digests", []string{"ann|2026-03-03T08:00:00Z"}},
		{"SELECT seq, actor, command, subject, via, length(hash) FROM deskctl_audit_log", []string{"1|ann|ticket create|ticket:7|<nil>|64"}},
	} {
		equal(t, c.query, rows(c.query), c.want)
	}
}
