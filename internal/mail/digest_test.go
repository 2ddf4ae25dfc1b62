package mail

import (
	"strings"
	"testing"
)

func TestApprovalDigestListsEveryRequestWithItsLinks(t *testing.T) {
	m := ApprovalDigest(DigestMail{To: "carol@example.com", ApproverName: "Carol Jones", Items: []DigestItem{
		{Ticket: 3, TicketSubject: "Laptop <pro>", TechnicianName: "Bob Tech", ApproveURL: "https://h.example/a/t3", RejectURL: "https://h.example/r/t3"},
		{Ticket: 5, TicketSubject: "Screen", OnBehalfOfName: "Dave Boss", ApproveURL: "https://h.example/a/t5", RejectURL: "https://h.example/r/t5"},
	}})
	if m.To != "carol@example.com" || m.Subject != "Approvals waiting for you: 2 requests" {
		t.Fatalf("to %q subject %q", m.To, m.Subject)
	}
	for _, want := range []string{"Hello Carol Jones", "#3 Laptop <pro>", "#5 Screen", "Approve: https://h.example/a/t3",
		"Reject:  https://h.example/r/t5", "Dave Boss (away; you are their delegate)"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Index(m.Text, "t3") > strings.Index(m.Text, "t5") {
		t.Error("the requests are not in the order given")
	}
	for _, want := range []string{`href="https://h.example/a/t3"`, `href="https://h.example/r/t5"`, "Laptop &lt;pro&gt;", "Reject #5"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("html lacks %q", want)
		}
	}
}
