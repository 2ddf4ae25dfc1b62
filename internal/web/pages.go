package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

//go:embed templates/*.html templates/style.css
var files embed.FS

// The style sheet, its policy and the templates are built on first use, so
// commands other than `deskctl serve` do not pay for them at start-up.
var (
	styleSheet = sync.OnceValue(func() string { return mustRead("templates/style.css") })
	// contentPolicy allows nothing but the one inline style sheet, pinned by hash.
	contentPolicy = sync.OnceValue(func() string {
		return "default-src 'none'; style-src '" + styleHash(styleSheet()) + "'; img-src 'none'; " +
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	})
	pages = sync.OnceValue(func() map[string]*template.Template {
		return map[string]*template.Template{
			"confirm": parsePage("confirm.html"),
			"result":  parsePage("result.html"),
			"problem": parsePage("problem.html"),
		}
	})
)

func mustRead(name string) string {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func styleHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

func parsePage(name string) *template.Template {
	return template.Must(template.ParseFS(files, "templates/layout.html", "templates/"+name))
}

func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentPolicy())
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// layout is what every page template receives.
type layout struct {
	Title string
	CSS   template.CSS
	Page  any
}

type confirmPage struct {
	Ticket       int
	Subject      string
	Requester    string
	RequestedBy  string
	Approver     string
	Note         string
	Expires      string // empty when the link has no expiry
	Action       string // form target path
	CSRF         string
	Preselect    string // "approve", "reject" or ""
	Comment      string
	CommentError string
	MaxComment   int
}

type resultPage struct {
	Outcome
}

// problem is an error page's wording.
type problem struct {
	Heading string
	Message string
	Next    string
}

var (
	problemNoPage      = problem{"Page not found", "There is no page at this address.", "Approval links come by email; open the link from the most recent one."}
	problemUnknownLink = problem{"Link not valid", "This approval link is not valid.", "Open the link from the most recent approval email, and check that it was not cut off."}
	problemForged      = problem{"Request refused", "This decision did not come from the approval page, or the page was opened before the helpdesk server restarted. Nothing was recorded.", "Open the link from the email again and decide from that page."}
	problemBusy        = problem{"Helpdesk busy", "The helpdesk is busy right now. Nothing was recorded.", "Try again in a moment."}
	problemUnavailable = problem{"Helpdesk unavailable", "The helpdesk cannot read its records right now. Nothing was recorded.", "Try again later; if it keeps happening, tell the helpdesk team."}
	problemInternal    = problem{"Something went wrong", "The helpdesk could not complete this request.", "Try again later; if it keeps happening, tell the helpdesk team."}
	problemRateLimited = problem{"Too many requests", "Too many requests came from your network. Nothing was recorded.", "Wait a minute, then try again."}
	problemMethod      = problem{"Not allowed", "This page cannot be used that way.", "Open the link from the approval email."}
	problemTooLarge    = problem{"Comment too long", "The form was too large to accept. Nothing was recorded.", "Go back, shorten the comment and submit again."}
	problemBadForm     = problem{"Form not readable", "The form could not be read. Nothing was recorded.", "Open the link from the email again and submit from that page."}
	problemNoDecision  = problem{"No decision chosen", "The form did not say whether to approve or reject. Nothing was recorded.", "Go back and press Approve or Reject."}
)

func goneProblem(le *helpdesk.LinkError) problem {
	heading := map[helpdesk.LinkProblem]string{
		helpdesk.LinkUsed:       "Already decided",
		helpdesk.LinkExpired:    "Link expired",
		helpdesk.LinkCancelled:  "Request cancelled",
		helpdesk.LinkSuperseded: "Link replaced",
		helpdesk.LinkTimedOut:   "Request timed out",
		helpdesk.LinkClosed:     "Ticket closed",
		helpdesk.LinkTurnedOff:  "Approvals turned off",
		helpdesk.LinkInactive:   "Account disabled",
		// The other approvers settled the request (or this stage) first.
		helpdesk.LinkDecidedByRule: "Already decided by the rule",
	}[le.Problem]
	if heading == "" {
		heading = "Link no longer valid"
	}
	return problem{Heading: heading, Message: sentence(le.Error())}
}

// sentence capitalises a domain error message for display.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func (h *handler) confirm(w http.ResponseWriter, r *http.Request, status int, token string, v View, preselect, comment, commentErr string) {
	if preselect != "approve" && preselect != "reject" {
		preselect = ""
	}
	p := confirmPage{
		Ticket:       v.Ticket,
		Subject:      helpdesk.EscapeText(v.Subject),
		Requester:    helpdesk.EscapeText(v.Requester),
		RequestedBy:  helpdesk.EscapeText(v.RequestedBy),
		Approver:     helpdesk.EscapeText(v.Approver),
		Note:         helpdesk.EscapeText(v.Note),
		Action:       h.prefix + "/approval/" + token,
		CSRF:         h.csrfFor(token),
		Preselect:    preselect,
		Comment:      comment,
		CommentError: commentErr,
		MaxComment:   MaxCommentLen,
	}
	if !v.Expires.IsZero() {
		p.Expires = v.Expires.UTC().Format("Mon 2 Jan 2006, 15:04 MST") + " (" + until(h.now(), v.Expires) + ")"
	}
	h.render(w, r, status, "confirm", layout{Title: "Approval for ticket #" + itoa(v.Ticket), Page: p})
}

func (h *handler) result(w http.ResponseWriter, r *http.Request, out Outcome) {
	verb := "Rejected"
	if out.Approved {
		verb = "Approved"
	}
	// Text stored before deskctl refused control and bidirectional
	// characters is shown, not obeyed, as in the command's tables.
	out.Subject, out.Approver, out.Comment = helpdesk.EscapeText(out.Subject), helpdesk.EscapeText(out.Approver), helpdesk.EscapeText(out.Comment)
	h.render(w, r, http.StatusOK, "result", layout{Title: verb + " ticket #" + itoa(out.Ticket), Page: resultPage{out}})
}

func (h *handler) problem(w http.ResponseWriter, r *http.Request, status int, p problem) {
	h.render(w, r, status, "problem", layout{Title: p.Heading, Page: p})
}

// render executes into a buffer first, so a template failure becomes a clean
// 500 instead of half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data layout) {
	data.CSS = template.CSS(styleSheet())
	var buf bytes.Buffer
	if err := pages()[name].ExecuteTemplate(&buf, "layout.html", data); err != nil {
		h.log.Error("rendering a page failed", "page", name, "error", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("internal error\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes()) // the client went away; nothing to tell it
	}
}

// until words the time left on a link for people, not machines.
func until(now, t time.Time) string {
	d := t.Sub(now)
	switch {
	case d <= 0:
		return "expired"
	case d < time.Hour:
		return plural(int((d+time.Minute-1)/time.Minute), "minute") + " left"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " left"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " left"
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return itoa(n) + " " + unit + "s"
}
