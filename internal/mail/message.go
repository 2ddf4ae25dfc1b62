package mail

import (
	"strconv"
	"strings"
)

// Message is one mail as the outbox stores it. The JSON names are part of
// the database format: add fields, never rename them.
type Message struct {
	To      string `json:"to"`                // bare recipient address
	ToName  string `json:"to_name,omitempty"` // display name shown next to To
	Subject string `json:"subject"`
	Text    string `json:"text"`           // plain-text body, always present
	HTML    string `json:"html,omitempty"` // alternative HTML body

	// MessageID (without angle brackets) lets the outbox give a mail the
	// same identity on every attempt. Empty means Send makes one up.
	MessageID string `json:"message_id,omitempty"`
	// Thread names the conversation this mail belongs to, e.g. "ticket-42".
	// Send turns it into a References header under the sender's domain, so
	// mail clients group every mail about one ticket together.
	Thread string `json:"thread,omitempty"`
}

// TicketThread is the Thread value shared by every mail about one ticket.
func TicketThread(ticket int) string {
	return "ticket-" + strconv.Itoa(ticket)
}

// oneLine keeps header values on one line: a subject or name that carries a
// line break must not be able to start a new header.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
