package cli

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/mail/mailtest"
)

// A mail server that takes the connection and never answers does not hold
// up approval request past smtp.send-wait: the request is made, the mail
// stays queued and due, and a later mail flush delivers it exactly once,
// with links that work.
func TestApprovalRequestLeavesMailQueuedWhenTheServerIsSilent(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("Printer")
	host, port := mailtest.Silent(t)
	t.Setenv("DESKCTL_SMTP_HOST", host)
	t.Setenv("DESKCTL_SMTP_PORT", strconv.Itoa(port))
	t.Setenv("DESKCTL_SMTP_SEND_WAIT", "200ms")

	_, errOut, code := desk(t, "--as", "bob", "approval", "request", strconv.Itoa(n), "--approver", "carol")
	if code != ExitOK {
		t.Fatalf("approval request: exit %d\n%s", code, errOut)
	}
	want := "mail to carol@example.com queued: the SMTP server did not answer within 200ms (smtp.send-wait); will retry (deskctl mail flush, or a running deskctl serve)"
	if !strings.Contains(errOut, want) {
		t.Fatalf("approval request said:\n%s\nwant a line %q", errOut, want)
	}
	if v := s.approval(n); v.State != "pending" {
		t.Errorf("approval after the request: %+v", v)
	}
	q := s.mailQueue()
	if len(q) != 1 || q[0].State != "queued" || q[0].To != "carol@example.com" || !strings.Contains(q[0].LastError, "smtp.send-wait") ||
		q[0].NextAttempt.After(time.Now()) {
		t.Fatalf("outbox after the request: %+v, want the approver mail queued and due now", q)
	}

	t.Setenv("DESKCTL_SMTP_HOST", s.smtp.Host())
	t.Setenv("DESKCTL_SMTP_PORT", strconv.Itoa(s.smtp.Port()))
	if out := mustDesk(t, "mail", "flush"); !strings.HasPrefix(out, "1 sent, 0 failed") {
		t.Fatalf("flush: %q", out)
	}
	approve, _ := s.approverLinks(s.nextMail(), "carol@example.com", "Approval needed: #"+strconv.Itoa(n)+" Printer")
	if out := mustDesk(t, "mail", "flush", "--force"); !strings.HasPrefix(out, "0 sent, 0 failed") {
		t.Errorf("second flush: %q", out)
	}
	s.noNewMail()
	if p := s.decideByPage(approve, "approve", ""); p.heading() != "You approved ticket #"+strconv.Itoa(n) {
		t.Errorf("the delivered link: %d %q", p.status, p.heading())
	}
}
