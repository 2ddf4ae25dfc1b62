package mail

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/mail/mailtest"
)

func sampleOutcome(approved bool) OutcomeMail {
	return OutcomeMail{
		To:             "alex@example.com",
		TechnicianName: "Alex Tech",
		Ticket:         42,
		TicketSubject:  "VPN access for Dave",
		Approved:       approved,
		ApproverName:   "Carol Jones",
		Comment:        "Fine for three months.\nRenew in June.",
		DecidedAt:      time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC),
	}
}

func TestComposeSubjectsAndAddressing(t *testing.T) {
	tests := []struct {
		name    string
		msg     Message
		subject string
		to      string
		toName  string
	}{
		{"request", ApprovalRequest(sampleApproval()), "Approval needed: #42 VPN access for Dave", "carol@example.com", "Carol Jones"},
		{"reminder", ApprovalReminder(sampleApproval()), "Reminder: approval needed: #42 VPN access for Dave", "carol@example.com", "Carol Jones"},
		{"cancelled", ApprovalCancelled(sampleApproval()), "Approval withdrawn: #42 VPN access for Dave", "carol@example.com", "Carol Jones"},
		{"approved", ApprovalOutcome(sampleOutcome(true)), "Approved by Carol Jones: #42 VPN access for Dave", "alex@example.com", "Alex Tech"},
		{"rejected", ApprovalOutcome(sampleOutcome(false)), "Rejected by Carol Jones: #42 VPN access for Dave", "alex@example.com", "Alex Tech"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.msg
			if m.Subject != tt.subject || m.To != tt.to || m.ToName != tt.toName {
				t.Errorf("got subject %q to %q name %q, want %q %q %q", m.Subject, m.To, m.ToName, tt.subject, tt.to, tt.toName)
			}
			if m.Thread != "ticket-42" {
				t.Errorf("Thread = %q, want ticket-42", m.Thread)
			}
			if m.Text == "" || m.HTML == "" {
				t.Fatal("a part is empty")
			}
			for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
				if !strings.Contains(body, "#42") || !strings.Contains(body, "VPN access for Dave") {
					t.Errorf("%s part lacks the ticket number and subject", part)
				}
			}
		})
	}
}

func TestApprovalRequestContent(t *testing.T) {
	d := sampleApproval()
	d.ApproveURL = "https://desk.example.com/approval?token=abc&decision=approve"
	d.RejectURL = "https://desk.example.com/approval?token=abc&decision=reject"
	for _, m := range []Message{ApprovalRequest(d), ApprovalReminder(d)} {
		t.Run(m.Subject, func(t *testing.T) {
			for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
				links := mailtest.Links(body)
				if !reflect.DeepEqual(links, []string{d.ApproveURL, d.RejectURL}) {
					t.Errorf("%s part links = %q, want exactly the approve and reject links", part, links)
				}
				for _, want := range []string{"Carol Jones", "Dave Miller", "Alex Tech", "Needed for the on-call rota.", "Mon 9 Mar 2026 14:00 UTC", "Approve", "Reject"} {
					if !strings.Contains(body, want) {
						t.Errorf("%s part lacks %q", part, want)
					}
				}
			}
			if !strings.Contains(m.HTML, "See the manager&#39;s mail.") {
				t.Error("HTML part lacks the note's second line, escaped")
			}
		})
	}
	if r := ApprovalReminder(d); !strings.Contains(r.Text, "earlier mails no longer work") || !strings.Contains(r.HTML, "earlier mails no longer work") {
		t.Error("reminder does not say the earlier links stopped working")
	}
	if r := ApprovalRequest(d); strings.Contains(r.Text, "earlier mails") {
		t.Error("first request talks about earlier mails")
	}
}

func TestComposeEscapesHTML(t *testing.T) {
	d := sampleApproval()
	d.TicketSubject = `<script>alert("x")</script> & more`
	d.Note = `<img src=x onerror=alert(1)>`
	d.TechnicianName = `Eve <b>`
	o := sampleOutcome(false)
	o.TicketSubject = d.TicketSubject
	o.Comment = `</blockquote><script>bad()</script>`

	for _, m := range []Message{ApprovalRequest(d), ApprovalReminder(d), ApprovalCancelled(d), ApprovalOutcome(o)} {
		t.Run(m.Subject, func(t *testing.T) {
			for _, bad := range []string{"<script", "<img", "<b>", "</blockquote><script"} {
				if strings.Contains(m.HTML, bad) {
					t.Errorf("HTML part contains unescaped %q", bad)
				}
			}
			if !strings.Contains(m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more") {
				t.Error("HTML part lacks the escaped ticket subject")
			}
			// The text part is not HTML: it shows exactly what was typed.
			if !strings.Contains(m.Text, `<script>alert("x")</script> & more`) {
				t.Error("text part altered the ticket subject")
			}
			if !strings.Contains(m.Subject, `<script>alert("x")</script> & more`) {
				t.Errorf("subject %q altered the ticket subject", m.Subject)
			}
		})
	}
}

func TestComposeRefusesUnsafeLinksInHTML(t *testing.T) {
	d := sampleApproval()
	d.RejectURL = "javascript:alert(1)"
	m := ApprovalRequest(d)
	if strings.Contains(m.HTML, "javascript:") {
		t.Error("HTML part carries a javascript: link")
	}
	if links := mailtest.Links(m.HTML); !reflect.DeepEqual(links, []string{d.ApproveURL}) {
		t.Errorf("HTML links = %q, want only the approve link", links)
	}
}

func TestComposeKeepsHeadersOnOneLine(t *testing.T) {
	d := sampleApproval()
	d.TicketSubject = "VPN\r\nBcc: everyone@example.com"
	d.ApproverName = "Carol\nJones"
	m := ApprovalRequest(d)
	if strings.ContainsAny(m.Subject, "\r\n") || strings.ContainsAny(m.ToName, "\r\n") {
		t.Fatalf("subject %q or name %q spans lines", m.Subject, m.ToName)
	}
	if m.Subject != "Approval needed: #42 VPN Bcc: everyone@example.com" || m.ToName != "Carol Jones" {
		t.Errorf("got subject %q name %q", m.Subject, m.ToName)
	}
}

func TestApprovalOutcomeContent(t *testing.T) {
	tests := []struct {
		approved bool
		word     string
		other    string
	}{
		{true, "approved", "rejected"},
		{false, "rejected", "approved"},
	}
	for _, tt := range tests {
		m := ApprovalOutcome(sampleOutcome(tt.approved))
		for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
			for _, want := range []string{"Alex Tech", "Carol Jones", tt.word, "Fine for three months.", "Renew in June.", "Mon 2 Mar 2026 09:30 UTC"} {
				if !strings.Contains(body, want) {
					t.Errorf("%s outcome, %s part lacks %q", tt.word, part, want)
				}
			}
			if strings.Contains(strings.ToLower(body), tt.other) {
				t.Errorf("%s outcome, %s part mentions %q", tt.word, part, tt.other)
			}
			if links := mailtest.Links(body); len(links) != 0 {
				t.Errorf("%s outcome, %s part has links %q", tt.word, part, links)
			}
		}
	}

	o := sampleOutcome(true)
	o.Comment = ""
	if m := ApprovalOutcome(o); !strings.Contains(m.Text, "No comment was given.") || !strings.Contains(m.HTML, "No comment was given.") {
		t.Error("an empty comment is not stated as such")
	}
}

func TestApprovalCancelledHasNoLinks(t *testing.T) {
	m := ApprovalCancelled(sampleApproval())
	for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
		if links := mailtest.Links(body); len(links) != 0 {
			t.Errorf("%s part repeats links %q", part, links)
		}
		if !strings.Contains(body, "withdrawn") || !strings.Contains(body, "no longer work") {
			t.Errorf("%s part does not say the request was withdrawn and the links are dead", part)
		}
	}
}

// A withdrawn mail says why when it is given, and only then.
func TestApprovalCancelledSaysWhy(t *testing.T) {
	d := sampleApproval()
	if m := ApprovalCancelled(d); strings.Contains(m.Text, "was closed") || strings.Contains(m.HTML, "was closed") {
		t.Error("a mail without a reason gives one")
	}
	d.Why = "Ticket #42 was closed by Bob Tech."
	m := ApprovalCancelled(d)
	if !strings.Contains(m.Text, "need to do anything.\n\nTicket #42 was closed by Bob Tech.\n") {
		t.Errorf("text part:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, ">Ticket #42 was closed by Bob Tech.</p>") {
		t.Errorf("html part:\n%s", m.HTML)
	}
}

func TestComposeFallbacksForMissingNames(t *testing.T) {
	d := sampleApproval()
	d.ApproverName, d.TechnicianName, d.RequesterName, d.Note, d.Expires = "", "", "", "", time.Time{}
	m := ApprovalRequest(d)
	if !strings.Contains(m.Text, "Hello carol@example.com,") || !strings.Contains(m.Text, "A technician asks") {
		t.Errorf("fallback names missing:\n%s", m.Text)
	}
	for _, absent := range []string{"Requester:", "Note:", "expire"} {
		if strings.Contains(m.Text, absent) {
			t.Errorf("text part shows %q although it is empty", absent)
		}
	}
	if m.ToName != "" {
		t.Errorf("ToName = %q, want empty", m.ToName)
	}
}

func TestTestMessage(t *testing.T) {
	m := TestMessage("ops@example.com")
	if m.To != "ops@example.com" || m.Subject != "deskctl test message" || m.Text == "" || m.HTML == "" {
		t.Fatalf("TestMessage = %+v", m)
	}
	if !strings.Contains(m.Text, "test message") || !strings.Contains(m.HTML, "test message") {
		t.Error("a part does not say it is a test")
	}
}

func TestHTMLHasNoExternalAssets(t *testing.T) {
	for _, m := range []Message{ApprovalRequest(sampleApproval()), ApprovalCancelled(sampleApproval()), ApprovalDelegated(sampleApproval()), ApprovalOutcome(sampleOutcome(true)), TestMessage("a@example.com")} {
		for _, bad := range []string{"src=", "<link", "<script", "url(", "@import"} {
			if strings.Contains(m.HTML, bad) {
				t.Errorf("%s: HTML part contains %q", m.Subject, bad)
			}
		}
	}
}

func TestMessageJSONIsStable(t *testing.T) {
	m := Message{To: "a@example.com", ToName: "A", Subject: "S", Text: "T", HTML: "H", MessageID: "id@example.com", Thread: "ticket-1"}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"to":"a@example.com","to_name":"A","subject":"S","text":"T","html":"H","message_id":"id@example.com","thread":"ticket-1"}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
	var back Message
	if err := json.Unmarshal(b, &back); err != nil || back != m {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	b, _ = json.Marshal(Message{To: "a@example.com", Subject: "S", Text: "T"})
	if string(b) != `{"to":"a@example.com","subject":"S","text":"T"}` {
		t.Errorf("optional fields not omitted: %s", b)
	}
}

// A delegate's request says whom they decide for; the away approver's
// notice names the delegate, escapes names and carries no links.
func TestDelegatedMails(t *testing.T) {
	d := sampleApproval()
	d.To, d.ApproverName, d.OnBehalfOfName = "dave@example.com", "Dave User", "Carol <Jones>"
	m := ApprovalRequest(d)
	if !strings.Contains(m.Text, "You decide for Carol <Jones>, who is away") {
		t.Errorf("delegate's request text:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, "You decide for <strong>Carol &lt;Jones&gt;</strong>") {
		t.Errorf("delegate's request html:\n%s", m.HTML)
	}
	if plain := ApprovalRequest(sampleApproval()); strings.Contains(plain.Text, "You decide for") {
		t.Error("a request to the approver themself mentions a delegation")
	}

	n := sampleApproval()
	n.DelegateName = "Dave <User>"
	m = ApprovalDelegated(n)
	if m.To != "carol@example.com" || m.Subject != "Sent to your delegate: approval of #42 VPN access for Dave" {
		t.Errorf("notice addressed %q, subject %q", m.To, m.Subject)
	}
	if !strings.Contains(m.Text, "went to your delegate, Dave <User>, who decides") || !strings.Contains(m.Text, "Sent to:       Dave <User>") {
		t.Errorf("notice text:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, "<strong>Dave &lt;User&gt;</strong>") {
		t.Errorf("notice html:\n%s", m.HTML)
	}
	for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
		if links := mailtest.Links(body); len(links) != 0 {
			t.Errorf("%s part of the notice carries links %q", part, links)
		}
	}
}
