package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
)

// ApprovalMail is what the approver's mails (request, reminder, withdrawal)
// show. The caller resolves logins to names and builds the links from
// public-url; composition adds nothing that is not here.
type ApprovalMail struct {
	To             string // approver's address
	ApproverName   string
	Ticket         int
	TicketSubject  string
	RequesterName  string // the person the ticket is for
	TechnicianName string // who asks for the approval
	Note           string
	Expires        time.Time // when the links stop working; zero leaves it out
	ApproveURL     string
	RejectURL      string
	// ForGroup names the group the approver is asked for
	// ("group:finance"); empty when they are asked themselves.
	ForGroup string
	// Why says, in a withdrawn mail, why the request was withdrawn, e.g.
	// "Ticket #12 was closed by Bob Tech."; empty leaves it out.
	Why string
	// OnBehalfOfName is, in a mail to a delegate, the away approver they
	// decide for; empty for a mail to the approver asked for.
	OnBehalfOfName string
	// DelegateName is, in the notice to an away approver, who got the
	// request in their place.
	DelegateName string
}

// OutcomeMail tells the requesting technician how the approver decided.
type OutcomeMail struct {
	To             string // requesting technician's address
	TechnicianName string
	Ticket         int
	TicketSubject  string
	Approved       bool
	ApproverName   string
	Comment        string
	DecidedAt      time.Time // zero leaves it out
}

//go:embed templates
var templateFS embed.FS

// Each mail is a text template and an HTML template of the same name; the
// HTML ones share layout.html. They are parsed on first use, so commands
// that send no mail do not pay for them at start-up.
var (
	textFuncs = texttemplate.FuncMap{"indent": indent}
	htmlFuncs = htmltemplate.FuncMap{"row": func(label, value string) tableRow { return tableRow{label, value} }}

	approvalText  = sync.OnceValue(func() *texttemplate.Template { return parseText("approval.txt") })
	outcomeText   = sync.OnceValue(func() *texttemplate.Template { return parseText("outcome.txt") })
	cancelledText = sync.OnceValue(func() *texttemplate.Template { return parseText("cancelled.txt") })
	delegatedText = sync.OnceValue(func() *texttemplate.Template { return parseText("delegated.txt") })
	testText      = sync.OnceValue(func() *texttemplate.Template { return parseText("test.txt") })

	approvalHTML  = sync.OnceValue(func() *htmltemplate.Template { return parseHTML("approval.html") })
	outcomeHTML   = sync.OnceValue(func() *htmltemplate.Template { return parseHTML("outcome.html") })
	cancelledHTML = sync.OnceValue(func() *htmltemplate.Template { return parseHTML("cancelled.html") })
	delegatedHTML = sync.OnceValue(func() *htmltemplate.Template { return parseHTML("delegated.html") })
	testHTML      = sync.OnceValue(func() *htmltemplate.Template { return parseHTML("test.html") })
)

type tableRow struct{ Label, Value string }

func parseText(name string) *texttemplate.Template {
	return texttemplate.Must(texttemplate.New(name).Funcs(textFuncs).ParseFS(templateFS, "templates/"+name))
}

func parseHTML(name string) *htmltemplate.Template {
	return htmltemplate.Must(htmltemplate.New("layout").Funcs(htmlFuncs).
		ParseFS(templateFS, "templates/layout.html", "templates/"+name))
}

// approvalView is ApprovalMail as the templates read it: names with
// fallbacks, the expiry as words.
type approvalView struct {
	Title               string
	Approver            string
	Ticket              int
	TicketSubject       string
	Requester           string
	Technician          string
	TechnicianOrSomeone string
	Note                string
	Expires             string
	ApproveURL          string
	RejectURL           string
	Reminder            bool
	Why                 string
	OnBehalfOf          string
	Delegate            string
	ForGroup            string
}

type outcomeView struct {
	Title         string
	Technician    string
	Approver      string
	Ticket        int
	TicketSubject string
	Approved      bool
	Decision      string
	Comment       string
	DecidedAt     string
}

// ApprovalRequest is the mail asking the approver to decide, with the
// Approve and Reject links.
func ApprovalRequest(d ApprovalMail) Message {
	return approvalMessage(d, false)
}

// ApprovalReminder re-sends the request with fresh links.
func ApprovalReminder(d ApprovalMail) Message {
	return approvalMessage(d, true)
}

func approvalMessage(d ApprovalMail, reminder bool) Message {
	subject := "Approval needed: " + ticketLabel(d.Ticket, d.TicketSubject)
	if reminder {
		subject = "Reminder: approval needed: " + ticketLabel(d.Ticket, d.TicketSubject)
	}
	v := d.item().view()
	v.Title, v.Approver, v.Reminder = subject, nameOr(d.ApproverName, d.To), reminder
	return Message{
		To:      d.To,
		ToName:  oneLine(d.ApproverName),
		Subject: subject,
		Text:    renderText(approvalText(), v),
		HTML:    renderHTML(approvalHTML(), v),
		Thread:  TicketThread(d.Ticket),
	}
}

// item is the request an approver's mail is about, as a digest lists it.
func (d ApprovalMail) item() DigestItem {
	return DigestItem{Ticket: d.Ticket, TicketSubject: d.TicketSubject, RequesterName: d.RequesterName,
		TechnicianName: d.TechnicianName, Note: d.Note, ForGroup: d.ForGroup, OnBehalfOfName: d.OnBehalfOfName,
		Expires: d.Expires, ApproveURL: d.ApproveURL, RejectURL: d.RejectURL}
}

// view is one request as the templates show it; the request mail, the
// reminder, the delegation notice and each item of a digest share it.
func (it DigestItem) view() approvalView {
	return approvalView{
		Ticket:              it.Ticket,
		TicketSubject:       oneLine(it.TicketSubject),
		Requester:           oneLine(it.RequesterName),
		Technician:          oneLine(it.TechnicianName),
		TechnicianOrSomeone: nameOr(it.TechnicianName, "A technician"),
		Note:                strings.TrimSpace(it.Note),
		Expires:             when(it.Expires),
		ApproveURL:          it.ApproveURL,
		RejectURL:           it.RejectURL,
		OnBehalfOf:          oneLine(it.OnBehalfOfName),
		ForGroup:            oneLine(it.ForGroup),
	}
}

// ApprovalOutcome tells the requesting technician the decision and the
// approver's comment.
func ApprovalOutcome(d OutcomeMail) Message {
	decision := "Rejected"
	if d.Approved {
		decision = "Approved"
	}
	approver := nameOr(d.ApproverName, "The approver")
	subject := decision + " by " + approver + ": " + ticketLabel(d.Ticket, d.TicketSubject)
	v := outcomeView{
		Title:         subject,
		Technician:    nameOr(d.TechnicianName, d.To),
		Approver:      approver,
		Ticket:        d.Ticket,
		TicketSubject: oneLine(d.TicketSubject),
		Approved:      d.Approved,
		Decision:      decision + " by " + approver,
		Comment:       strings.TrimSpace(d.Comment),
		DecidedAt:     when(d.DecidedAt),
	}
	return Message{
		To:      d.To,
		ToName:  oneLine(d.TechnicianName),
		Subject: subject,
		Text:    renderText(outcomeText(), v),
		HTML:    renderHTML(outcomeHTML(), v),
		Thread:  TicketThread(d.Ticket),
	}
}

// ApprovalCancelled tells the approver the request was withdrawn and the
// links no longer work. The links themselves are not repeated.
func ApprovalCancelled(d ApprovalMail) Message {
	subject := "Approval withdrawn: " + ticketLabel(d.Ticket, d.TicketSubject)
	v := approvalView{
		Title:         subject,
		Approver:      nameOr(d.ApproverName, d.To),
		Ticket:        d.Ticket,
		TicketSubject: oneLine(d.TicketSubject),
		Technician:    oneLine(d.TechnicianName),
		Why:           oneLine(d.Why),
	}
	return Message{
		To:      d.To,
		ToName:  oneLine(d.ApproverName),
		Subject: subject,
		Text:    renderText(cancelledText(), v),
		HTML:    renderHTML(cancelledHTML(), v),
		Thread:  TicketThread(d.Ticket),
	}
}

// ApprovalDelegated tells an away approver that a request meant for them
// went to their delegate. It carries no links: the delegate decides.
func ApprovalDelegated(d ApprovalMail) Message {
	subject := "Sent to your delegate: approval of " + ticketLabel(d.Ticket, d.TicketSubject)
	v := DigestItem{Ticket: d.Ticket, TicketSubject: d.TicketSubject, RequesterName: d.RequesterName,
		TechnicianName: d.TechnicianName, Note: d.Note}.view()
	v.Title, v.Approver = subject, nameOr(d.ApproverName, d.To)
	v.Delegate = nameOr(d.DelegateName, "your delegate")
	return Message{
		To:      d.To,
		ToName:  oneLine(d.ApproverName),
		Subject: subject,
		Text:    renderText(delegatedText(), v),
		HTML:    renderHTML(delegatedHTML(), v),
		Thread:  TicketThread(d.Ticket),
	}
}

// TestMessage is the mail `deskctl mail test` sends.
func TestMessage(to string) Message {
	v := struct{ Title string }{"deskctl test message"}
	return Message{
		To:      to,
		Subject: v.Title,
		Text:    renderText(testText(), v),
		HTML:    renderHTML(testHTML(), v),
	}
}

func ticketLabel(number int, subject string) string {
	return strings.TrimSpace(fmt.Sprintf("#%d %s", number, oneLine(subject)))
}

func nameOr(name, fallback string) string {
	if n := oneLine(name); n != "" {
		return n
	}
	return oneLine(fallback)
}

// when spells a time for people in whatever zone the caller chose.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("Mon 2 Jan 2006 15:04 MST")
}

// indent sets multi-line text off from the labels around it.
func indent(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			lines[i] = ""
			continue
		}
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n")
}

// The templates are fixed and their data is plain strings, so executing
// them cannot fail at run time; the tests render every one of them.
func renderText(t *texttemplate.Template, data any) string {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		panic("mail: text template " + t.Name() + ": " + err.Error())
	}
	return b.String()
}

func renderHTML(t *htmltemplate.Template, data any) string {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		panic("mail: html template: " + err.Error())
	}
	return b.String()
}
