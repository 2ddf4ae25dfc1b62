package mail

import (
	"strconv"
	"sync"
	"time"

	htmltemplate "html/template"
	texttemplate "text/template"
)

// DigestMail is the approver digest: every request the approver has been
// waiting on, each with its own links.
type DigestMail struct {
	To           string // approver's address
	ApproverName string
	Items        []DigestItem
}

// DigestItem is one request in a digest, as ApprovalMail shows it.
type DigestItem struct {
	Ticket         int
	TicketSubject  string
	RequesterName  string
	TechnicianName string
	Note           string
	ForGroup       string
	OnBehalfOfName string
	Expires        time.Time
	ApproveURL     string
	RejectURL      string
}

var (
	digestText = sync.OnceValue(func() *texttemplate.Template { return parseText("digest.txt") })
	digestHTML = sync.OnceValue(func() *htmltemplate.Template { return parseHTML("digest.html") })
)

type digestView struct {
	Title    string
	Approver string
	Count    int
	Items    []approvalView
}

// DigestSubject is the subject of a digest of n requests.
func DigestSubject(n int) string {
	return "Approvals waiting for you: " + strconv.Itoa(n) + " requests"
}

// ApprovalDigest is the one mail of the day listing an approver's pending
// requests, each with fresh Approve and Reject links.
func ApprovalDigest(d DigestMail) Message {
	subject := DigestSubject(len(d.Items))
	v := digestView{Title: subject, Approver: nameOr(d.ApproverName, d.To), Count: len(d.Items)}
	for _, it := range d.Items {
		v.Items = append(v.Items, it.view())
	}
	return Message{
		To:      d.To,
		ToName:  oneLine(d.ApproverName),
		Subject: subject,
		Text:    renderText(digestText(), v),
		HTML:    renderHTML(digestHTML(), v),
	}
}
