package cli

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/deskctl/deskctl/internal/app"
)

// TestMailOutageBurst: the SMTP server is down while a burst of approvers
// decide at once through the pages. Every decision is recorded, every
// outcome mail waits in the outbox, and once the server is back one flush
// delivers each exactly once.
func TestMailOutageBurst(t *testing.T) {
	const n = 12
	s := newApprovalStack(t)
	forms := make([]form, n)
	for i := range n {
		subject := "Burst ticket " + strconv.Itoa(i+1)
		num := s.newTicket(subject)
		approve, reject := s.request(num, subject, "")
		link := approve
		if i%2 == 1 {
			link = reject
		}
		forms[i] = s.openForm(link)
	}

	s.smtp.Stop()
	var wg sync.WaitGroup
	pages := make([]page, n)
	for i := range n {
		wg.Go(func() {
			decision := "approve"
			if i%2 == 1 {
				decision = "reject"
			}
			pages[i] = s.post(forms[i], s.public, decision, "burst "+strconv.Itoa(i+1))
		})
	}
	wg.Wait()
	for i, p := range pages {
		if p.status != http.StatusOK {
			t.Fatalf("decision %d while SMTP is down: HTTP %d %q", i+1, p.status, p.heading())
		}
	}
	for i := range n {
		v := s.approval(i + 1)
		want := "approved"
		if i%2 == 1 {
			want = "rejected"
		}
		if v.State != want || v.Comment != "burst "+strconv.Itoa(i+1) {
			t.Errorf("#%d: %s %q, want %s", i+1, v.State, v.Comment, want)
		}
		if d := s.decisions(i + 1); d != 1 {
			t.Errorf("#%d has %d decision records, want 1", i+1, d)
		}
	}
	var queued []app.MailView
	for _, m := range s.mailQueue() {
		if m.State == "queued" && m.Kind == "approval-outcome" {
			queued = append(queued, m)
		}
	}
	if len(queued) != n {
		t.Fatalf("%d outcome mails queued, want %d", len(queued), n)
	}

	// A flush while still down delivers nothing and loses nothing.
	if _, _, code := desk(t, "mail", "flush", "--force"); code != ExitNegative {
		t.Errorf("flush while down exited %d, want %d", code, ExitNegative)
	}

	s.smtp.Restart()
	out := mustDesk(t, "mail", "flush", "--force")
	if !strings.HasPrefix(out, strconv.Itoa(n)+" sent, 0 failed") {
		t.Fatalf("flush after the outage: %q", out)
	}
	var subjects []string
	for range n {
		m := s.nextMail()
		if m.To[0] != "bob@example.com" {
			t.Errorf("outcome mail to %v", m.To)
		}
		subjects = append(subjects, m.Subject)
	}
	sort.Strings(subjects)
	for i := 1; i < len(subjects); i++ {
		if subjects[i] == subjects[i-1] {
			t.Errorf("outcome mail sent twice: %q", subjects[i])
		}
	}
	if out := mustDesk(t, "mail", "flush", "--force"); !strings.HasPrefix(out, "0 sent, 0 failed") {
		t.Errorf("second flush: %q", out)
	}
	s.noNewMail()
}
