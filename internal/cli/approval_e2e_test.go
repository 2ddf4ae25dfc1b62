package cli

// End-to-end tests of approvals over the real stack: the CLI run in-process
// against a bbolt file, a real SMTP server with AUTH PLAIN receiving the
// mails, and `deskctl serve`'s handler answering real HTTP on loopback. Links
// are always taken from the mails the server received, never built by hand.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/mail/mailtest"
	"github.com/deskctl/deskctl/internal/web"
)

const (
	smtpUser = "deskctl-relay"
	smtpPass = "relay-secret"
	// mailWait only keeps a broken test from hanging; delivery is synchronous
	// with the command, so mail is normally there before WaitFor is called.
	mailWait = time.Minute
)

// transcript holds every stdout and stderr deskctl produced in the running
// test, so the stack can check no link token ever reached them. Tests in
// this file do not run in parallel.
var transcript struct {
	mu sync.Mutex
	b  strings.Builder
}

// desk runs deskctl in-process through run, as cmd/deskctl does.
func desk(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return deskAt(t, 0, args...)
}

// deskAt is desk with deskctl's clock moved by skew (0: the real clock).
func deskAt(t *testing.T, skew time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	if skew == 0 {
		code = run(args, streams)
	} else {
		code = runWithClock(args, streams, func() time.Time { return time.Now().Add(skew) })
	}
	transcript.mu.Lock()
	transcript.b.WriteString(out.String())
	transcript.b.WriteString(errOut.String())
	transcript.mu.Unlock()
	return out.String(), errOut.String(), code
}

// runWithClock is run with the factory's clock replaced.
func runWithClock(args []string, streams *IOStreams, now func() time.Time) int {
	f := NewFactory(streams)
	f.Now = now
	root := NewRootCmd(f)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return ExitOK
	}
	err = classifyCobraError(err)
	var silent *silentError
	if !errors.As(err, &silent) {
		printError(streams.ErrOut, cmd, err)
	}
	return ExitCode(err)
}

// mustDesk runs deskctl and fails the test unless it exits 0.
func mustDesk(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := desk(t, args...)
	if code != ExitOK {
		t.Fatalf("deskctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// deskFails runs deskctl expecting exit code want and stderr containing every fragment.
func deskFails(t *testing.T, want int, args []string, fragments ...string) string {
	t.Helper()
	return deskFailsAt(t, 0, want, args, fragments...)
}

// deskFailsAt is deskFails with deskctl's clock moved by skew.
func deskFailsAt(t *testing.T, skew time.Duration, want int, args []string, fragments ...string) string {
	t.Helper()
	out, errOut, code := deskAt(t, skew, args...)
	if code != want {
		t.Fatalf("deskctl %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
	}
	for _, f := range fragments {
		if !strings.Contains(errOut, f) {
			t.Errorf("deskctl %s: stderr lacks %q:\n%s", strings.Join(args, " "), f, errOut)
		}
	}
	return errOut
}

// deskJSON runs a command with -o json and decodes its stdout into v.
func deskJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := mustDesk(t, append([]string{"-o", "json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("deskctl %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// lockedBuffer collects the serve log written from the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// approvalStack is one helpdesk with approvals enabled, its SMTP server and
// its confirmation pages.
//
//	alice  administrator, dispatcher, may authorize
//	bob    technician: group support (request-approval, start, close, note), member of network
//	carol  the approver, no rights
//	dave   a requester (End User)
type approvalStack struct {
	t      *testing.T
	smtp   *mailtest.Server
	public string // where the pages are served: http://127.0.0.1:PORT
	// skew moves the served service's clock, to let links expire.
	skew     atomic.Int64
	serveLog *lockedBuffer
	client   *http.Client
	seen     int // mails already taken by nextMail
}

func newApprovalStack(t *testing.T) *approvalStack {
	t.Helper()
	return newApprovalStackMail(t, false)
}

// newApprovalStackMail is newApprovalStack; with background, the served
// Service delivers mail in the background as deskctl serve does.
func newApprovalStackMail(t *testing.T, background bool) *approvalStack {
	t.Helper()
	transcript.mu.Lock()
	transcript.b.Reset()
	transcript.mu.Unlock()

	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("DESKCTL_CONFIG", "")
	t.Setenv("DESKCTL_DB", filepath.Join(dir, "desk.db"))
	t.Setenv("DESKCTL_USER", "alice")
	t.Setenv("DESKCTL_APPROVAL_TOKEN", "")
	t.Setenv("NO_COLOR", "1")

	s := &approvalStack{t: t, serveLog: &lockedBuffer{}}
	s.smtp = mailtest.Start(t, mailtest.WithAuth(smtpUser, smtpPass))
	t.Setenv("DESKCTL_SMTP_HOST", s.smtp.Host())
	t.Setenv("DESKCTL_SMTP_PORT", strconv.Itoa(s.smtp.Port()))
	t.Setenv("DESKCTL_SMTP_USERNAME", smtpUser)
	t.Setenv("DESKCTL_SMTP_PASSWORD", smtpPass)
	t.Setenv("DESKCTL_SMTP_TLS", "none")
	t.Setenv("DESKCTL_SMTP_FROM", "helpdesk@example.com")
	t.Setenv("DESKCTL_SMTP_TIMEOUT", "10s")

	// The address must be known before anything builds a link.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.public = "http://" + ln.Addr().String()
	t.Setenv("DESKCTL_PUBLIC_URL", s.public)

	mustDesk(t, "init", "--admin", "alice", "--email", "alice@example.com", "--name", "Alice Admin")
	mustDesk(t, "user", "add", "bob", "--email", "bob@example.com", "--name", "Bob Tech")
	mustDesk(t, "user", "add", "carol", "--email", "carol@example.com", "--name", "Carol Jones")
	mustDesk(t, "user", "add", "dave", "--email", "dave@example.com", "--name", "Dave Requester")
	mustDesk(t, "group", "add", "support")
	mustDesk(t, "group", "add-member", "support", "bob")
	mustDesk(t, "access", "grant", "request-approval", "start", "close", "note", "--to", "group:support")
	mustDesk(t, "resource", "add", "network")
	mustDesk(t, "resource", "add-member", "network", "bob", "--access", "write")
	mustDesk(t, "access", "grant", "dispatcher", "authorize", "--to", "user:alice")
	mustDesk(t, "settings", "set", "approvals.enabled", "true")

	// The server runs the same Service the CLI builds, from the same environment.
	svc, err := NewFactory(&IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}).LocalService()
	if err != nil {
		t.Fatal(err)
	}
	svc.Now = func() time.Time { return time.Now().Add(time.Duration(s.skew.Load())) }
	public, err := web.ParsePublicURL(s.public)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(s.serveLog, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	waitMail := func() {}
	if background {
		waitMail = svc.StartMailer(ctx, time.Hour)
	}
	h := web.New(web.Options{Approvals: svc.Pages(), PublicURL: public, RateLimit: web.RateLimit{PerMinute: -1}, Logger: logger})
	served := make(chan error, 1)
	go func() { served <- web.ServeListener(ctx, ln, h, logger) }()

	transport := &http.Transport{}
	s.client = &http.Client{
		Transport: transport,
		Timeout:   mailWait,
		// The pages never redirect; a redirect would be a finding, not something to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(func() {
		transport.CloseIdleConnections()
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve stopped with %v", err)
		}
		waitMail()
	})
	t.Cleanup(func() {
		s.checkNoTokenLeaked()
		if out, errOut, code := desk(t, "audit", "verify"); code != ExitOK {
			t.Errorf("audit verify: exit %d\n%s%s", code, out, errOut)
		}
	})
	return s
}

// newTicket has dave open a ticket and alice authorize it into network, so bob works it.
func (s *approvalStack) newTicket(subject string) int {
	s.t.Helper()
	var created struct {
		Number int `json:"number"`
	}
	deskJSON(s.t, &created, "--as", "dave", "ticket", "create", "--subject", subject, "--description", "details for "+subject)
	mustDesk(s.t, "ticket", "authorize", strconv.Itoa(created.Number), "--resource", "network")
	return created.Number
}

// request has bob ask carol to approve ticket n and returns the links from her mail.
func (s *approvalStack) request(n int, subject, note string) (approve, reject string) {
	s.t.Helper()
	mustDesk(s.t, "--as", "bob", "approval", "request", strconv.Itoa(n), "--approver", "carol", "--note", note)
	m := s.nextMail()
	return s.approverLinks(m, "carol@example.com", "Approval needed: #"+strconv.Itoa(n)+" "+subject)
}

// nextMail returns the next message the SMTP server accepted.
func (s *approvalStack) nextMail() mailtest.Received {
	s.t.Helper()
	msgs := s.smtp.WaitFor(s.seen+1, mailWait)
	m := msgs[s.seen]
	s.seen++
	if m.ParseErr != nil {
		s.t.Fatalf("mail %q does not parse: %v", m.Subject, m.ParseErr)
	}
	if m.AuthUser != smtpUser {
		s.t.Errorf("mail %q was sent as AUTH user %q, want %q", m.Subject, m.AuthUser, smtpUser)
	}
	return m
}

// noNewMail checks the server accepted nothing beyond what nextMail returned.
// Delivery finishes before a command returns, so this is not a race.
func (s *approvalStack) noNewMail() {
	s.t.Helper()
	if msgs := s.smtp.Messages(); len(msgs) != s.seen {
		var subjects []string
		for _, m := range msgs[s.seen:] {
			subjects = append(subjects, m.Subject)
		}
		s.t.Fatalf("unexpected mail: %q", subjects)
	}
}

// approverLinks checks an approver mail and returns its Approve and Reject links.
func (s *approvalStack) approverLinks(m mailtest.Received, to, subject string) (approve, reject string) {
	s.t.Helper()
	if len(m.To) != 1 || m.To[0] != to {
		s.t.Errorf("mail %q went to %q, want %s", m.Subject, m.To, to)
	}
	if m.Subject != subject {
		s.t.Errorf("mail subject %q, want %q", m.Subject, subject)
	}
	if m.Text == "" || m.HTML == "" {
		s.t.Fatalf("mail %q lacks a text or HTML part (text %d bytes, HTML %d bytes)", m.Subject, len(m.Text), len(m.HTML))
	}
	textLinks, htmlLinks := s.approvalLinks(m.Text), s.approvalLinks(m.HTML)
	if len(textLinks) != 2 || strings.Join(textLinks, " ") != strings.Join(htmlLinks, " ") {
		s.t.Fatalf("approval links: text %q, HTML %q; want the same two in both", textLinks, htmlLinks)
	}
	approve, reject = textLinks[0], textLinks[1]
	if !strings.HasSuffix(approve, "?decision=approve") || !strings.HasSuffix(reject, "?decision=reject") {
		s.t.Fatalf("links %q, %q: want the Approve link, then the Reject link", approve, reject)
	}
	if tokenOf(approve) != tokenOf(reject) {
		s.t.Errorf("Approve and Reject links carry different tokens")
	}
	return approve, reject
}

// approvalLinks are the links in a body that point at the confirmation pages.
func (s *approvalStack) approvalLinks(body string) []string {
	var out []string
	for _, l := range mailtest.Links(body) {
		if strings.HasPrefix(l, s.public+"/approval/") {
			out = append(out, l)
		}
	}
	return out
}

func tokenOf(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	return path.Base(u.Path)
}

// withToken is link with its token replaced.
func withToken(link, token string) string {
	return strings.Replace(link, tokenOf(link), token, 1)
}

// randomToken is well formed but was never issued.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tamper changes one character in the middle of the token.
func tamper(token string) string {
	b := []byte(token)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// page is one HTTP answer.
type page struct {
	status int
	header http.Header
	body   string
}

var h1Pattern = regexp.MustCompile(`<h1>([^<]*)</h1>`)

// heading is the page's h1, which names what happened.
func (p page) heading() string {
	if m := h1Pattern.FindStringSubmatch(p.body); m != nil {
		return m[1]
	}
	return ""
}

func (s *approvalStack) do(req *http.Request) page {
	s.t.Helper()
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return page{resp.StatusCode, resp.Header, string(body)}
}

func (s *approvalStack) fetch(method, link string) page {
	s.t.Helper()
	req, err := http.NewRequest(method, link, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do(req)
}

// form is the decision form of a confirmation page.
type form struct {
	action string // absolute URL
	csrf   string
}

var (
	actionPattern = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	csrfPattern   = regexp.MustCompile(`<input type="hidden" name="csrf" value="([^"]+)">`)
)

// openForm GETs a link, expects the confirmation page and reads its form.
func (s *approvalStack) openForm(link string) form {
	s.t.Helper()
	p := s.fetch(http.MethodGet, link)
	if p.status != http.StatusOK {
		s.t.Fatalf("GET the link: %d %q, want 200", p.status, p.heading())
	}
	a, c := actionPattern.FindStringSubmatch(p.body), csrfPattern.FindStringSubmatch(p.body)
	if a == nil || c == nil {
		s.t.Fatalf("no decision form on the page:\n%s", p.body)
	}
	action, err := url.Parse(s.public)
	if err != nil {
		s.t.Fatal(err)
	}
	action, err = action.Parse(a[1])
	if err != nil {
		s.t.Fatal(err)
	}
	return form{action: action.String(), csrf: c[1]}
}

// post submits a decision; origin "" sends no Origin header.
func (s *approvalStack) post(f form, origin, decision, comment string) page {
	s.t.Helper()
	body := url.Values{"csrf": {f.csrf}, "decision": {decision}, "comment": {comment}}.Encode()
	req, err := http.NewRequest(http.MethodPost, f.action, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return s.do(req)
}

// decideByPage opens a link and submits its form as a browser on the page would.
func (s *approvalStack) decideByPage(link, decision, comment string) page {
	s.t.Helper()
	return s.post(s.openForm(link), s.public, decision, comment)
}

// mustApprove approves through the page behind link and fails the test
// unless the decision is recorded; what names the link in the message.
func (s *approvalStack) mustApprove(link, what string) {
	s.t.Helper()
	if p := s.decideByPage(link, "approve", ""); p.status != http.StatusOK || !strings.HasPrefix(p.heading(), "You approved ticket #") {
		s.t.Errorf("approving with %s: %d %q", what, p.status, p.heading())
	}
}

// approval is `approval show N -o json` as alice.
func (s *approvalStack) approval(n int) app.ApprovalView {
	s.t.Helper()
	var v app.ApprovalView
	deskJSON(s.t, &v, "approval", "show", strconv.Itoa(n))
	return v
}

// decisions counts the audit records of decisions on ticket n's approval.
func (s *approvalStack) decisions(n int) int {
	s.t.Helper()
	var recs []struct {
		Command string `json:"command"`
	}
	deskJSON(s.t, &recs, "audit", "log", "--subject", "approval:"+strconv.Itoa(n))
	count := 0
	for _, r := range recs {
		if strings.HasPrefix(r.Command, "approval decide") {
			count++
		}
	}
	return count
}

// mailQueue is `mail queue -o json` as alice.
func (s *approvalStack) mailQueue() []app.MailView {
	s.t.Helper()
	var ms []app.MailView
	deskJSON(s.t, &ms, "mail", "queue")
	return ms
}

// checkNoTokenLeaked looks for every token mailed so far in deskctl's output
// and in the serve log.
func (s *approvalStack) checkNoTokenLeaked() int {
	s.t.Helper()
	transcript.mu.Lock()
	out := transcript.b.String()
	transcript.mu.Unlock()
	log := s.serveLog.String()
	// The file itself, free pages included: links are made as their mail
	// is sent and only their hashes are stored.
	db, err := os.ReadFile(os.Getenv("DESKCTL_DB"))
	if err != nil {
		s.t.Fatal(err)
	}
	tokens := 0
	for _, m := range s.smtp.Messages() {
		for _, l := range append(s.approvalLinks(m.Text), s.approvalLinks(m.HTML)...) {
			tok := tokenOf(l)
			tokens++
			if bytes.Contains(db, []byte(tok)) {
				s.t.Errorf("a link token from mail %q is stored in the database file", m.Subject)
			}
			if strings.Contains(out, tok) {
				s.t.Errorf("a link token from mail %q appears in deskctl's output", m.Subject)
			}
			if strings.Contains(log, tok) {
				s.t.Errorf("a link token from mail %q appears in the serve log", m.Subject)
			}
		}
	}
	return tokens
}

func TestApprovalRequestMailsTheApprover(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("New access point")
	out := mustDesk(t, "--as", "bob", "approval", "request", strconv.Itoa(n), "--approver", "carol", "--note", "AP for floor 2, 240 EUR")
	if !strings.Contains(out, "Awaiting from Carol Jones") {
		t.Errorf("approval request printed:\n%s", out)
	}

	m := s.nextMail()
	approve, reject := s.approverLinks(m, "carol@example.com", "Approval needed: #1 New access point")
	for _, want := range []string{"#1 New access point", "AP for floor 2, 240 EUR", "Dave Requester", "Bob Tech", approve, reject} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.Text)
		}
	}
	for _, want := range []string{"#1 New access point", "AP for floor 2, 240 EUR"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, m.HTML)
		}
	}
	s.noNewMail()

	v := s.approval(n)
	if v.State != "pending" || v.Approver != "carol" || v.RequestedBy != "bob" || v.Note != "AP for floor 2, 240 EUR" || v.Round != 1 {
		t.Errorf("approval show: %+v", v)
	}
	if show := mustDesk(t, "--as", "bob", "ticket", "show", "1"); !regexp.MustCompile(`(?m)^Approval\s+Awaiting from Carol Jones$`).MatchString(show) {
		t.Errorf("ticket show as bob has no Approval row \"Awaiting from Carol Jones\":\n%s", show)
	}

	entry := "Approval requested from Carol Jones (carol): AP for floor 2, 240 EUR"
	if log := mustDesk(t, "--as", "bob", "ticket", "log", "1"); !strings.Contains(log, entry) {
		t.Errorf("ticket log as bob lacks the technician entry %q:\n%s", entry, log)
	}
	log := mustDesk(t, "--as", "dave", "ticket", "log", "1")
	if !strings.Contains(log, "New access point") {
		t.Errorf("ticket log as dave does not show the ticket's own entries:\n%s", log)
	}
	if strings.Contains(log, "approval") || strings.Contains(log, "Carol") {
		t.Errorf("ticket log as dave, the requester, shows the technician-only approval entry:\n%s", log)
	}
}

func TestApprovalLinkDecidesOnlyOnPost(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("New access point")
	approve, _ := s.request(n, "New access point", "AP for floor 2")

	get := s.fetch(http.MethodGet, approve)
	if get.status != http.StatusOK || get.heading() != "Ticket #1 needs your decision" {
		t.Fatalf("GET: %d %q", get.status, get.heading())
	}
	for _, want := range []string{"#1 New access point", "AP for floor 2", "Dave Requester", "Bob Tech", "You opened the Approve link"} {
		if !strings.Contains(get.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for header, want := range map[string]string{"Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
		if got := get.header.Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	if csp := get.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy: %q", csp)
	}
	head := s.fetch(http.MethodHead, approve)
	if head.status != http.StatusOK || head.body != "" {
		t.Errorf("HEAD: %d with %d body bytes, want 200 and none", head.status, len(head.body))
	}
	if v := s.approval(n); v.State != "pending" {
		t.Fatalf("opening the link decided: %+v", v)
	}

	f := s.openForm(approve)
	forged := []struct {
		name   string
		form   form
		origin string
	}{
		{"no Origin", f, ""},
		{"another origin", f, "http://mail-scanner.example"},
		{"same host, other port", f, "http://127.0.0.1:1"},
		{"bad CSRF", form{f.action, f.csrf[:len(f.csrf)-2] + "xx"}, s.public},
		{"no CSRF", form{f.action, ""}, s.public},
	}
	for _, c := range forged {
		p := s.post(c.form, c.origin, "approve", "forged")
		if p.status != http.StatusForbidden || p.heading() != "Request refused" {
			t.Errorf("POST with %s: %d %q, want 403 \"Request refused\"", c.name, p.status, p.heading())
		}
	}
	if v := s.approval(n); v.State != "pending" || s.decisions(n) != 0 {
		t.Fatalf("a forged POST decided: %+v", v)
	}
	s.noNewMail()

	p := s.post(f, s.public, "approve", "Within budget.")
	if p.status != http.StatusOK || p.heading() != "You approved ticket #1" || !strings.Contains(p.body, "Within budget.") {
		t.Fatalf("POST: %d %q\n%s", p.status, p.heading(), p.body)
	}
	// People are named as the confirmation page and the badge name them, not by login.
	if !strings.Contains(p.body, "The decision is recorded as made by Carol Jones.") {
		t.Errorf("the result page does not name the approver as Carol Jones: %q", regexp.MustCompile(`The decision is recorded[^.]*\.`).FindString(p.body))
	}
	v := s.approval(n)
	if v.State != "approved" || v.DecidedBy != "carol" || v.Comment != "Within budget." || v.DecidedAt.IsZero() || v.Badge != "Approved by Carol Jones" {
		t.Errorf("after the POST: %+v", v)
	}
	m := s.nextMail()
	if len(m.To) != 1 || m.To[0] != "bob@example.com" || m.Subject != "Approved by Carol Jones: #1 New access point" {
		t.Errorf("outcome mail to %q: %q", m.To, m.Subject)
	}
	if !strings.Contains(m.Text, "Within budget.") || !strings.Contains(m.HTML, "Within budget.") {
		t.Errorf("outcome mail lacks the comment:\n%s", m.Text)
	}

	replay := s.post(f, s.public, "reject", "changed my mind")
	if replay.status != http.StatusGone || replay.heading() != "Already decided" {
		t.Errorf("replayed POST: %d %q, want 410 \"Already decided\"", replay.status, replay.heading())
	}
	if v := s.approval(n); v.State != "approved" || v.Comment != "Within budget." {
		t.Errorf("the replay changed the decision: %+v", v)
	}
	if got := s.decisions(n); got != 1 {
		t.Errorf("%d decision records in the audit log, want 1", got)
	}
	if log := mustDesk(t, "--as", "bob", "ticket", "log", "1"); strings.Count(log, "Approved by Carol Jones (email link): Within budget.") != 1 || strings.Contains(log, "changed my mind") {
		t.Errorf("ticket log should have exactly one decision entry:\n%s", log)
	}
	s.noNewMail()
}

func TestApprovalLinkRefusals(t *testing.T) {
	s := newApprovalStack(t)
	const ttl = 2 * time.Minute
	var reminderLink string // the superseded case's replacement link
	cases := []struct {
		name string
		// linkTTL, when set, is approvals.link-ttl for this case's request.
		linkTTL string
		// spoil acts on the live link and returns the link to try.
		spoil   func(t *testing.T, n int, link string) string
		status  int
		heading string
		state   string // the approval afterwards
		says    string // in the error `approval decide --token` prints
		// then runs after the refusals were checked, with the case's clock still in place.
		then func(t *testing.T, n int, link string)
	}{
		{
			name: "unknown",
			spoil: func(*testing.T, int, string) string {
				return s.public + "/approval/" + randomToken() + "?decision=approve"
			},
			status: http.StatusNotFound, heading: "Link not valid", state: "pending", says: "not valid",
		},
		{
			name:   "tampered",
			spoil:  func(_ *testing.T, _ int, link string) string { return withToken(link, tamper(tokenOf(link))) },
			status: http.StatusNotFound, heading: "Link not valid", state: "pending", says: "not valid",
			then: func(t *testing.T, _ int, link string) {
				if p := s.fetch(http.MethodGet, link); p.status != http.StatusOK {
					t.Errorf("the untampered link stopped working: %d %q", p.status, p.heading())
				}
			},
		},
		{
			name:   "malformed",
			spoil:  func(_ *testing.T, _ int, link string) string { return withToken(link, tokenOf(link)[:20]+"!x") },
			status: http.StatusNotFound, heading: "Link not valid", state: "pending", says: "not valid",
		},
		{
			name: "used",
			spoil: func(t *testing.T, n int, link string) string {
				if p := s.decideByPage(link, "reject", "No."); p.status != http.StatusOK {
					t.Fatalf("deciding: %d %q", p.status, p.heading())
				}
				s.nextMail() // the outcome
				return link
			},
			status: http.StatusGone, heading: "Already decided", state: "rejected", says: "already used",
		},
		{
			name: "cancelled",
			spoil: func(t *testing.T, n int, link string) string {
				mustDesk(t, "approval", "cancel", strconv.Itoa(n))
				m := s.nextMail()
				want := "Approval withdrawn: #" + strconv.Itoa(n) + " Cancelled case"
				if len(m.To) != 1 || m.To[0] != "carol@example.com" || m.Subject != want || !strings.Contains(m.Text, "withdrawn") {
					t.Errorf("withdrawal mail to %q: %q\n%s", m.To, m.Subject, m.Text)
				}
				if links := s.approvalLinks(m.Text + m.HTML); len(links) != 0 {
					t.Errorf("the withdrawal mail repeats links: %q", links)
				}
				return link
			},
			status: http.StatusGone, heading: "Request cancelled", state: "cancelled", says: "was cancelled",
		},
		{
			name: "superseded",
			spoil: func(t *testing.T, n int, link string) string {
				mustDesk(t, "--as", "bob", "approval", "remind", strconv.Itoa(n))
				reminderLink, _ = s.approverLinks(s.nextMail(), "carol@example.com", "Reminder: approval needed: #"+strconv.Itoa(n)+" Superseded case")
				return link
			},
			status: http.StatusGone, heading: "Link replaced", state: "pending", says: "replaced by a newer one",
			then: func(t *testing.T, n int, _ string) {
				if p := s.decideByPage(reminderLink, "approve", "ok"); p.status != http.StatusOK || p.heading() != "You approved ticket #"+strconv.Itoa(n) {
					t.Fatalf("the reminder's link: %d %q", p.status, p.heading())
				}
				s.nextMail()
				if v := s.approval(n); v.State != "approved" || v.Reminders != 1 {
					t.Errorf("after the reminder's link: %+v", v)
				}
			},
		},
		{
			name:    "expired",
			linkTTL: "1m",
			spoil: func(t *testing.T, _ int, link string) string {
				s.skew.Store(int64(ttl))
				return link
			},
			status: http.StatusGone, heading: "Link expired", state: "pending", says: "has expired",
			then: func(t *testing.T, n int, link string) {
				// What the expired page tells the approver to ask for must help.
				if _, errOut, code := deskAt(t, ttl, "--as", "bob", "approval", "remind", strconv.Itoa(n)); code != ExitOK {
					t.Fatalf("remind after expiry: exit %d\n%s", code, errOut)
				}
				fresh, _ := s.approverLinks(s.nextMail(), "carol@example.com", "Reminder: approval needed: #"+strconv.Itoa(n)+" Expired case")
				if p := s.fetch(http.MethodGet, fresh); p.status != http.StatusOK {
					t.Errorf("the reminder's link after expiry: %d %q", p.status, p.heading())
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parent := s.t
			s.t = t
			defer func() { s.t = parent }()
			defer s.skew.Store(0)
			subject := strings.ToUpper(c.name[:1]) + c.name[1:] + " case"
			n := s.newTicket(subject)
			if c.linkTTL != "" {
				mustDesk(t, "settings", "set", "approvals.link-ttl", c.linkTTL)
			}
			approve, _ := s.request(n, subject, "")
			if c.linkTTL != "" {
				mustDesk(t, "settings", "set", "approvals.link-ttl", "168h")
			}
			live := s.openForm(approve)
			link := c.spoil(t, n, approve)
			decided := s.decisions(n)

			for _, method := range []string{http.MethodGet, http.MethodHead} {
				p := s.fetch(method, link)
				if p.status != c.status {
					t.Errorf("%s: %d, want %d", method, p.status, c.status)
				}
				if method == http.MethodGet && p.heading() != c.heading {
					t.Errorf("GET: heading %q, want %q", p.heading(), c.heading)
				}
			}
			if tokenOf(link) == tokenOf(approve) {
				// The form was fetched while the link worked; it must not work now.
				p := s.post(live, s.public, "approve", "late")
				if p.status != c.status || p.heading() != c.heading {
					t.Errorf("POST the earlier form: %d %q, want %d %q", p.status, p.heading(), c.status, c.heading)
				}
			}
			// The command line refuses the token the same way: 3 like 404, 5 like 410.
			exit := map[int]int{http.StatusNotFound: ExitNotFound, http.StatusGone: ExitConflict}[c.status]
			deskFailsAt(t, time.Duration(s.skew.Load()), exit, []string{"approval", "decide", "--token", tokenOf(link), "--approve"}, c.says)
			if v := s.approval(n); v.State != c.state {
				t.Errorf("approval is %s, want %s", v.State, c.state)
			}
			if got := s.decisions(n); got != decided {
				t.Errorf("the refused link recorded a decision (%d decision records, had %d)", got, decided)
			}
			s.noNewMail()
			if c.then != nil {
				c.then(t, n, approve)
			}
		})
	}
}

func TestApprovalDecideWithTokenOnCommandLine(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("Spare monitor")
	_, reject := s.request(n, "Spare monitor", "")
	token := tokenOf(reject)

	out := mustDesk(t, "approval", "decide", "--token", token, "--reject", "--comment", "Use the one in storage.")
	if !strings.Contains(out, "Rejected by Carol Jones") {
		t.Errorf("approval decide printed:\n%s", out)
	}
	v := s.approval(n)
	if v.State != "rejected" || v.DecidedBy != "carol" || v.Comment != "Use the one in storage." {
		t.Errorf("after approval decide: %+v", v)
	}
	m := s.nextMail()
	if len(m.To) != 1 || m.To[0] != "bob@example.com" || m.Subject != "Rejected by Carol Jones: #1 Spare monitor" || !strings.Contains(m.Text, "Use the one in storage.") {
		t.Errorf("outcome mail to %q: %q\n%s", m.To, m.Subject, m.Text)
	}

	deskFails(t, ExitConflict, []string{"approval", "decide", "--token", token, "--approve"}, "already used")
	t.Setenv("DESKCTL_APPROVAL_TOKEN", token)
	deskFails(t, ExitConflict, []string{"approval", "decide", "--approve"}, "already used")
	if v := s.approval(n); v.State != "rejected" || s.decisions(n) != 1 {
		t.Errorf("a used token decided again: %+v", v)
	}
	if p := s.fetch(http.MethodGet, reject); p.status != http.StatusGone || p.heading() != "Already decided" {
		t.Errorf("the link after a command-line decision: %d %q", p.status, p.heading())
	}
	s.noNewMail()
}

func TestApprovalApproverDecidesOnCommandLine(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("VPN access")
	approve, _ := s.request(n, "VPN access", "contractor")

	deskFails(t, ExitForbidden, []string{"--as", "bob", "approval", "approve", "1"}, "awaits carol", "--as carol")
	deskFails(t, ExitForbidden, []string{"--as", "alice", "approval", "reject", "1"}, "awaits carol")
	if v := s.approval(n); v.State != "pending" {
		t.Fatalf("someone other than the approver decided: %+v", v)
	}
	s.noNewMail()

	out := mustDesk(t, "--as", "carol", "approval", "approve", "1", "--comment", "For three months.")
	if !strings.Contains(out, "Approved by Carol Jones") {
		t.Errorf("approval approve printed:\n%s", out)
	}
	v := s.approval(n)
	if v.State != "approved" || v.DecidedBy != "carol" || v.Comment != "For three months." {
		t.Errorf("after approval approve: %+v", v)
	}
	if m := s.nextMail(); m.To[0] != "bob@example.com" || m.Subject != "Approved by Carol Jones: #1 VPN access" || !strings.Contains(m.Text, "For three months.") {
		t.Errorf("outcome mail to %q: %q", m.To, m.Subject)
	}
	if log := mustDesk(t, "--as", "bob", "ticket", "log", "1"); !strings.Contains(log, "Approved by Carol Jones (command line): For three months.") {
		t.Errorf("ticket log lacks the decision:\n%s", log)
	}
	deskFails(t, ExitConflict, []string{"--as", "carol", "approval", "reject", "1"}, "not pending")
	if p := s.fetch(http.MethodGet, approve); p.status != http.StatusGone {
		t.Errorf("the mailed link after a command-line decision: %d %q", p.status, p.heading())
	}
	if got := s.decisions(n); got != 1 {
		t.Errorf("%d decision records, want 1", got)
	}
	s.noNewMail()
}

func TestApprovalRequestAgain(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("Laptop")
	first, _ := s.request(n, "Laptop", "over budget")

	deskFails(t, ExitConflict, []string{"--as", "bob", "approval", "request", "1", "--approver", "alice"},
		"#1 already awaits approval from Carol Jones", "deskctl approval cancel 1")
	s.noNewMail()
	if v := s.approval(n); v.Approver != "carol" || v.Round != 1 {
		t.Errorf("the refused request changed the record: %+v", v)
	}

	mustDesk(t, "--as", "carol", "approval", "reject", "1", "--comment", "Ask Alice.")
	s.nextMail() // the outcome

	mustDesk(t, "--as", "bob", "approval", "request", "1", "--approver", "alice", "--note", "Carol says ask you")
	second, _ := s.approverLinks(s.nextMail(), "alice@example.com", "Approval needed: #1 Laptop")
	v := s.approval(n)
	if v.State != "pending" || v.Approver != "alice" || v.Round != 2 || v.Comment != "" || v.DecidedBy != "" || v.Note != "Carol says ask you" {
		t.Errorf("round 2: %+v", v)
	}
	if tokenOf(first) == tokenOf(second) {
		t.Fatal("the new request reused the old token")
	}
	old := s.fetch(http.MethodGet, first)
	if old.status != http.StatusGone || old.heading() != "Link replaced" {
		t.Errorf("the round-1 link: %d %q, want 410 \"Link replaced\"", old.status, old.heading())
	}
	if p := s.decideByPage(second, "approve", ""); p.status != http.StatusOK || p.heading() != "You approved ticket #1" {
		t.Fatalf("the round-2 link: %d %q", p.status, p.heading())
	}
	if m := s.nextMail(); m.To[0] != "bob@example.com" || m.Subject != "Approved by Alice Admin: #1 Laptop" || !strings.Contains(m.Text, "No comment was given.") {
		t.Errorf("round-2 outcome mail to %q: %q\n%s", m.To, m.Subject, m.Text)
	}
	if v := s.approval(n); v.State != "approved" || v.DecidedBy != "alice" {
		t.Errorf("after round 2: %+v", v)
	}
	s.noNewMail()
}

func TestApprovalPermissionFailures(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("Printer")
	num := strconv.Itoa(n)

	deskFails(t, ExitForbidden, []string{"--as", "dave", "approval", "request", num, "--approver", "carol"}, "request-approval")
	// carol has no role on the ticket, so to her it does not exist.
	deskFails(t, ExitNotFound, []string{"--as", "carol", "approval", "request", num, "--approver", "carol"}, "no ticket #"+num)
	s.noNewMail()
	deskFails(t, ExitNotFound, []string{"approval", "show", num}, "no approval request")

	mustDesk(t, "settings", "set", "approvals.enabled", "false")
	deskFails(t, ExitConflict, []string{"--as", "bob", "approval", "request", num, "--approver", "carol"},
		"approvals are turned off", "deskctl settings set approvals.enabled true")
	deskFails(t, ExitForbidden, []string{"--as", "bob", "settings", "set", "approvals.enabled", "true"})
	mustDesk(t, "settings", "set", "approvals.enabled", "true")
	s.noNewMail()

	s.request(n, "Printer", "")
	deskFails(t, ExitForbidden, []string{"--as", "bob", "approval", "cancel", num}, "admin")
	deskFails(t, ExitForbidden, []string{"--as", "carol", "approval", "cancel", num}, "admin")
	deskFails(t, ExitForbidden, []string{"--as", "dave", "approval", "remind", num})
	if v := s.approval(n); v.State != "pending" || v.Reminders != 0 {
		t.Errorf("a refused command changed the approval: %+v", v)
	}
	s.noNewMail()
	mustDesk(t, "approval", "cancel", num)
	s.nextMail() // the withdrawal
	deskFails(t, ExitConflict, []string{"approval", "cancel", num}, "not pending")
	s.noNewMail()
}

func TestApprovalMailQueuedWhileSMTPIsDown(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("Firewall rule")
	_, reject := s.request(n, "Firewall rule", "")
	f := s.openForm(reject)

	s.smtp.Stop()
	p := s.post(f, s.public, "reject", "Not without a change request.")
	if p.status != http.StatusOK || p.heading() != "You rejected ticket #1" {
		t.Fatalf("deciding while SMTP is down: %d %q", p.status, p.heading())
	}
	if v := s.approval(n); v.State != "rejected" || v.Comment != "Not without a change request." {
		t.Errorf("decision not recorded: %+v", v)
	}
	var queued []app.MailView
	for _, m := range s.mailQueue() {
		if m.State == "queued" {
			queued = append(queued, m)
		}
	}
	if len(queued) != 1 {
		t.Fatalf("queued mail: %+v, want the outcome only", queued)
	}
	q := queued[0]
	if q.Kind != "approval-outcome" || q.To != "bob@example.com" || q.Ticket != n || q.Attempts != 1 || q.LastError == "" || q.NextAttempt.IsZero() {
		t.Errorf("queued outcome: %+v", q)
	}

	s.smtp.Restart()
	if out := mustDesk(t, "mail", "flush", "--force"); !strings.HasPrefix(out, "1 sent, 0 failed") {
		t.Errorf("first flush: %q", out)
	}
	m := s.nextMail()
	if m.To[0] != "bob@example.com" || m.Subject != "Rejected by Carol Jones: #1 Firewall rule" || !strings.Contains(m.Text, "Not without a change request.") {
		t.Errorf("flushed outcome mail to %q: %q", m.To, m.Subject)
	}
	if out := mustDesk(t, "mail", "flush", "--force"); !strings.HasPrefix(out, "0 sent, 0 failed") {
		t.Errorf("second flush: %q", out)
	}
	s.noNewMail()
	for _, m := range s.mailQueue() {
		t.Errorf("mail still queued after delivery: %+v", m)
	}
	var all []app.MailView
	deskJSON(t, &all, "mail", "queue", "--all")
	if len(all) != 2 || all[1].State != "sent" || all[1].Attempts != 2 || all[1].LastError != "" {
		t.Errorf("outbox after delivery: %+v", all)
	}
}

func TestApprovalTicketDeleted(t *testing.T) {
	s := newApprovalStack(t)
	keep := s.newTicket("Stays")
	n := s.newTicket("Goes away")
	num := strconv.Itoa(n)
	_, keepReject := s.request(keep, "Stays", "")
	approve, _ := s.request(n, "Goes away", "")
	mustDesk(t, "access", "grant", "delete", "--to", "group:support")

	// A reminder queued while the server is down is mail about the ticket that was never sent.
	s.smtp.Stop()
	if _, errOut, code := desk(t, "--as", "bob", "approval", "remind", num); code != ExitOK || !strings.Contains(errOut, "queued") {
		t.Fatalf("remind while SMTP is down: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := desk(t, "--as", "bob", "approval", "remind", strconv.Itoa(keep)); code != ExitOK || !strings.Contains(errOut, "queued") {
		t.Fatalf("remind while SMTP is down: exit %d\n%s", code, errOut)
	}
	if got := len(s.mailQueue()); got != 2 {
		t.Fatalf("%d mails queued, want the two reminders", got)
	}

	mustDesk(t, "--as", "bob", "ticket", "delete", num, "--yes")
	deskFails(t, ExitNotFound, []string{"approval", "show", num})
	for _, v := range func() []app.ApprovalView {
		var vs []app.ApprovalView
		deskJSON(t, &vs, "approval", "list")
		return vs
	}() {
		if v.Ticket == n {
			t.Errorf("approval list still has the deleted ticket's record: %+v", v)
		}
	}
	// The reminder about the deleted ticket is dropped; the approver, who had
	// its first mail, is told the request went with the ticket.
	queue := s.mailQueue()
	if len(queue) != 2 || queue[0].Ticket != keep || queue[1].Ticket != n || queue[1].Subject != "Approval withdrawn: #"+num+" Goes away" {
		t.Errorf("queue after the delete: %+v, want the reminder about #%d and the withdrawal of #%d", queue, keep, n)
	}
	p := s.fetch(http.MethodGet, approve)
	if p.status != http.StatusNotFound && p.status != http.StatusGone {
		t.Errorf("the deleted ticket's link: %d %q, want 404 or 410", p.status, p.heading())
	}
	if p := s.fetch(http.MethodHead, approve); p.status != http.StatusNotFound && p.status != http.StatusGone {
		t.Errorf("HEAD the deleted ticket's link: %d", p.status)
	}

	s.smtp.Restart()
	if out := mustDesk(t, "mail", "flush", "--force"); !strings.HasPrefix(out, "2 sent, 0 failed") {
		t.Errorf("flush: %q", out)
	}
	m := s.nextMail()
	if m.Subject != "Reminder: approval needed: #"+strconv.Itoa(keep)+" Stays" {
		t.Errorf("flushed %q, want the reminder about the ticket that stays first", m.Subject)
	}
	m = s.nextMail()
	if len(m.To) != 1 || m.To[0] != "carol@example.com" || m.Subject != "Approval withdrawn: #"+num+" Goes away" ||
		!strings.Contains(m.Text, "Ticket #"+num+" was deleted by Bob Tech.") || len(s.approvalLinks(m.Text+m.HTML)) != 0 {
		t.Errorf("withdrawal mail to %q: %q\n%s", m.To, m.Subject, m.Text)
	}
	s.noNewMail()
	// The other ticket's approval is untouched: its old link was superseded by the reminder.
	if p := s.fetch(http.MethodGet, keepReject); p.status != http.StatusGone || p.heading() != "Link replaced" {
		t.Errorf("the kept ticket's first link: %d %q", p.status, p.heading())
	}
}

func TestApprovalTokensStayOutOfOutputAndLogs(t *testing.T) {
	s := newApprovalStack(t)
	a := s.newTicket("First")
	b := s.newTicket("Second")
	approveA, _ := s.request(a, "First", "")
	_, rejectB := s.request(b, "Second", "")

	s.fetch(http.MethodGet, approveA)
	s.fetch(http.MethodHead, approveA)
	s.decideByPage(approveA, "approve", "fine")
	s.nextMail()
	s.post(form{approveA, "forged"}, "http://elsewhere.example", "approve", "")
	s.fetch(http.MethodGet, approveA) // used
	mustDesk(t, "approval", "decide", "--token", tokenOf(rejectB), "--reject")
	s.nextMail()
	deskFails(t, ExitConflict, []string{"approval", "decide", "--token", tokenOf(rejectB), "--approve"})
	deskFails(t, ExitNotFound, []string{"approval", "decide", "--token", tamper(tokenOf(rejectB)), "--approve"})
	mustDesk(t, "-o", "json", "approval", "list")
	mustDesk(t, "-o", "yaml", "approval", "show", strconv.Itoa(a))
	mustDesk(t, "-o", "json", "audit", "log")
	mustDesk(t, "-o", "json", "mail", "queue", "--all")

	if got := s.checkNoTokenLeaked(); got != 8 {
		t.Errorf("checked %d links from mails, want 8 (two in each part of two approver mails)", got)
	}
	log := s.serveLog.String()
	if !strings.Contains(log, "path=/approval/REDACTED") || !strings.Contains(log, "status=403") || !strings.Contains(log, "status=410") {
		t.Errorf("the serve log does not record the requests it should:\n%s", log)
	}
}

// While SMTP is down the approver mail waits in the outbox without links;
// a reminder queued behind it replaces it, so only the reminder is sent,
// with the one link that works.
func TestApprovalMailWaitsWithoutLinks(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("Laptop")
	num := strconv.Itoa(n)
	// No SMTP server configured yet: nothing is attempted.
	t.Setenv("DESKCTL_SMTP_HOST", "")
	if _, errOut, code := desk(t, "--as", "bob", "approval", "request", num, "--approver", "carol"); code != ExitOK || !strings.Contains(errOut, "queued") {
		t.Fatalf("request without SMTP: exit %d\n%s", code, errOut)
	}
	if v := s.approval(n); v.State != "pending" || !v.LinkExpires.IsZero() {
		t.Errorf("before its mail is sent the request has no link: %+v", v)
	}
	if out := mustDesk(t, "approval", "show", num); !strings.Contains(out, "no link sent yet") {
		t.Errorf("approval show:\n%s", out)
	}
	if _, errOut, code := desk(t, "--as", "bob", "approval", "remind", num); code != ExitOK {
		t.Fatalf("remind without SMTP: exit %d\n%s", code, errOut)
	}
	t.Setenv("DESKCTL_SMTP_HOST", s.smtp.Host())
	if out := mustDesk(t, "mail", "flush", "--force"); !strings.HasPrefix(out, "1 sent, 0 failed") {
		t.Errorf("flush: %q", out)
	}
	m := s.nextMail()
	approve, _ := s.approverLinks(m, "carol@example.com", "Reminder: approval needed: #"+num+" Laptop")
	s.noNewMail()
	var all []app.MailView
	deskJSON(t, &all, "mail", "queue", "--all")
	if len(all) != 2 || all[0].Kind != "approval-request" || all[0].State != "dropped" || all[0].LastError != "a reminder replaced it" ||
		all[1].State != "sent" {
		t.Errorf("outbox: %+v", all)
	}
	if len(s.mailQueue()) != 0 {
		t.Errorf("mail queue lists dropped mail without --all: %+v", s.mailQueue())
	}
	if v := s.approval(n); v.LinkExpires.IsZero() {
		t.Errorf("the sent reminder's link has no expiry: %+v", v)
	}
	s.mustApprove(approve, "the reminder's link")
}

// A link stops deciding while approvals are turned off or the approver is
// disabled, and works again once that is undone. (Closing the ticket
// withdraws the request for good: TestApprovalClosingWithdrawsTheRequest.)
func TestApprovalLinkVoid(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("Printer")
	num := strconv.Itoa(n)
	approve, _ := s.request(n, "Printer", "")
	for _, tc := range []struct {
		heading    string
		void, undo []string
	}{
		{"Approvals turned off", []string{"settings", "set", "approvals.enabled", "false"}, []string{"settings", "set", "approvals.enabled", "true"}},
		{"Account disabled", []string{"user", "disable", "carol"}, []string{"user", "enable", "carol"}},
	} {
		f := s.openForm(approve) // the page was open before the change
		mustDesk(t, tc.void...)
		if p := s.fetch(http.MethodGet, approve); p.status != http.StatusGone || p.heading() != tc.heading {
			t.Errorf("%s: GET the link: %d %q", tc.heading, p.status, p.heading())
		}
		if p := s.post(f, s.public, "approve", ""); p.status != http.StatusGone || p.heading() != tc.heading {
			t.Errorf("%s: POST the decision: %d %q", tc.heading, p.status, p.heading())
		}
		if tc.heading != "Account disabled" {
			deskFails(t, ExitConflict, []string{"--as", "carol", "approval", "approve", num}, "cannot decide")
		}
		switch tc.heading {
		case "Approvals turned off": // request-approval is not available while approvals are off
			deskFails(t, ExitConflict, []string{"--as", "bob", "approval", "remind", num}, "approvals are turned off")
		default:
			deskFails(t, ExitConflict, []string{"--as", "bob", "approval", "remind", num}, "cannot remind")
		}
		if v := s.approval(n); v.State != "pending" {
			t.Fatalf("%s: the approval changed: %+v", tc.heading, v)
		}
		s.noNewMail()
		mustDesk(t, tc.undo...)
		if p := s.fetch(http.MethodGet, approve); p.status != http.StatusOK {
			t.Errorf("%s undone: GET the link: %d %q", tc.heading, p.status, p.heading())
		}
	}
	s.mustApprove(approve, "the link once all is back")
}

// Two flushes at once never send the same mail twice: a mail being sent by
// one is skipped by the other, --force or not.
func TestApprovalFlushesDoNotOverlap(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("Monitor")
	s.smtp.Stop()
	mustDesk(t, "--as", "bob", "approval", "request", strconv.Itoa(n), "--approver", "carol")
	s.smtp.Restart()
	h := s.smtp.HoldNext()
	first := make(chan string, 1)
	go func() {
		out, errOut, _ := desk(t, "mail", "flush", "--force")
		first <- out + errOut
	}()
	select {
	case <-h.Arrived:
	case <-time.After(mailWait):
		t.Fatal("the first flush never reached the server")
	}
	if out := mustDesk(t, "mail", "flush", "--force"); !strings.HasPrefix(out, "0 sent, 0 failed") {
		t.Errorf("second flush while the first is sending: %q", out)
	}
	h.Release()
	if out := <-first; !strings.HasPrefix(out, "1 sent, 0 failed") {
		t.Errorf("first flush: %q", out)
	}
	s.nextMail()
	s.noNewMail()
}

// With deskctl serve's background mailer, a decision on the page is answered
// while the outcome mail is still on its way: a slow mail server does not
// keep the approver waiting (or past the server's write timeout).
func TestApprovalPageDoesNotWaitForMail(t *testing.T) {
	s := newApprovalStackMail(t, true)
	n := s.newTicket("Desk")
	approve, _ := s.request(n, "Desk", "")
	h := s.smtp.HoldNext()
	if p := s.decideByPage(approve, "approve", "go ahead"); p.status != http.StatusOK || p.heading() != "You approved ticket #1" {
		t.Fatalf("decision while the mail server stalls: %d %q", p.status, p.heading())
	}
	select {
	case <-h.Arrived:
	case <-time.After(mailWait):
		t.Fatal("the outcome mail never reached the server")
	}
	h.Release()
	if m := s.nextMail(); m.Subject != "Approved by Carol Jones: #1 Desk" {
		t.Errorf("outcome mail %q", m.Subject)
	}
}

// mail test sends straight through the configured server and says what went
// wrong when it cannot; the outbox commands are for administrators.
func TestMailCommands(t *testing.T) {
	s := newApprovalStack(t)
	if _, errOut, code := desk(t, "mail", "test", "--to", "ops@example.com"); code != ExitOK || !strings.Contains(errOut, "accepted by the server for ops@example.com") {
		t.Fatalf("mail test: exit %d\n%s", code, errOut)
	}
	if m := s.nextMail(); m.To[0] != "ops@example.com" || m.ParseErr != nil {
		t.Errorf("test mail to %v (%v)", m.To, m.ParseErr)
	}
	deskFails(t, ExitUsage, []string{"mail", "test", "--to", "not an address"}, "invalid email")
	// It sends through the helpdesk's own account, so it is for administrators.
	deskFails(t, ExitForbidden, []string{"--as", "bob", "mail", "test", "--to", "anyone@example.org"}, "lacks the admin permission")
	deskFails(t, ExitNotFound, []string{"--as", "erin", "mail", "test", "--to", "anyone@example.org"}, "erin")
	// A refused login is the server refusing, as the help says: exit 1.
	t.Setenv("DESKCTL_SMTP_PASSWORD", "wrong")
	deskFails(t, ExitNegative, []string{"mail", "test", "--to", "ops@example.com"}, "test mail not delivered", "refused the login")
	t.Setenv("DESKCTL_SMTP_PASSWORD", smtpPass)

	s.smtp.Stop()
	deskFails(t, ExitNegative, []string{"mail", "test", "--to", "ops@example.com"}, "test mail not delivered")
	s.smtp.Restart()
	s.smtp.RejectNext(550)
	deskFails(t, ExitNegative, []string{"mail", "test", "--to", "ops@example.com"}, "test mail not delivered", "550")
	t.Setenv("DESKCTL_SMTP_HOST", "")
	deskFails(t, ExitUsage, []string{"mail", "test", "--to", "ops@example.com"}, "SMTP is not configured")
	s.noNewMail()

	deskFails(t, ExitForbidden, []string{"--as", "bob", "mail", "queue"}, "lacks the admin permission")
	deskFails(t, ExitForbidden, []string{"--as", "bob", "mail", "flush"}, "lacks the admin permission")
}

// A mail the server refuses for good is marked failed and never retried, so
// the command says so, with the server's reply and how to send it again,
// instead of promising a retry.
func TestApprovalMailRefusedForGood(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("Dish")
	num := strconv.Itoa(n)
	s.smtp.RejectNext(554)
	_, errOut, code := desk(t, "--as", "bob", "approval", "request", num, "--approver", "carol")
	if code != ExitOK {
		t.Fatalf("request: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"mail to carol@example.com failed permanently: ", "554", "mailtest refuses this recipient",
		"it will not be retried", "hint: fix the address", "deskctl approval remind " + num} {
		if !strings.Contains(errOut, want) {
			t.Errorf("request output lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "queued") || strings.Contains(errOut, "mail flush") {
		t.Errorf("request output promises a retry:\n%s", errOut)
	}
	if q := s.mailQueue(); len(q) != 1 || q[0].State != "failed" || !strings.Contains(q[0].LastError, "554") {
		t.Errorf("mail queue after a permanent refusal: %+v", q)
	}
	if out := mustDesk(t, "mail", "flush", "--force"); !strings.HasPrefix(out, "0 sent, 0 failed") {
		t.Errorf("flush retried the refused mail: %q", out)
	}
	// The hint works: a reminder sends a new link.
	mustDesk(t, "--as", "bob", "approval", "remind", num)
	if m := s.nextMail(); m.To[0] != "carol@example.com" {
		t.Errorf("reminder went to %v", m.To)
	}
}

// A reminder that cannot be sent does not take away the link the approver
// already has: the new link is put back as if it was never made.
func TestApprovalFailedReminderKeepsTheLink(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("Dock")
	num := strconv.Itoa(n)
	first, _ := s.request(n, "Dock", "")
	expires := s.approval(n).LinkExpires
	s.smtp.Stop()
	if _, errOut, code := desk(t, "--as", "bob", "approval", "remind", num); code != ExitOK || !strings.Contains(errOut, "queued") {
		t.Fatalf("remind while SMTP is down: exit %d\n%s", code, errOut)
	}
	if p := s.fetch(http.MethodGet, first); p.status != http.StatusOK {
		t.Errorf("the first link after a reminder that was not sent: %d %q", p.status, p.heading())
	}
	if v := s.approval(n); !v.LinkExpires.Equal(expires.Time) {
		t.Errorf("link expiry %v after the failed reminder, want the first link's %v", v.LinkExpires, expires)
	}
	s.smtp.Restart()
	if out := mustDesk(t, "mail", "flush", "--force"); !strings.HasPrefix(out, "1 sent, 0 failed") {
		t.Errorf("flush: %q", out)
	}
	second, _ := s.approverLinks(s.nextMail(), "carol@example.com", "Reminder: approval needed: #"+num+" Dock")
	if p := s.fetch(http.MethodGet, first); p.status != http.StatusGone || p.heading() != "Link replaced" {
		t.Errorf("the first link once the reminder went out: %d %q", p.status, p.heading())
	}
	s.mustApprove(second, "the reminder's link")
}

// An approver mail that cannot decide right now (its approver disabled)
// waits in the outbox instead of being dropped, and goes out once the
// approver is enabled again, with links to the public-url the technician
// had when asking.
func TestApprovalMailWaitsForItsApprover(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("Projector")
	num := strconv.Itoa(n)
	t.Setenv("DESKCTL_SMTP_HOST", "")
	mustDesk(t, "--as", "bob", "approval", "request", num, "--approver", "carol")
	mustDesk(t, "user", "disable", "carol")
	t.Setenv("DESKCTL_SMTP_HOST", s.smtp.Host())
	t.Setenv("DESKCTL_PUBLIC_URL", "") // the flushing process has none of its own
	if out := mustDesk(t, "mail", "flush", "--force"); !strings.HasPrefix(out, "0 sent, 0 failed") {
		t.Errorf("flush while the approver is disabled: %q", out)
	}
	s.noNewMail()
	q := s.mailQueue()
	if len(q) != 1 || q[0].State != "queued" || !strings.HasPrefix(q[0].LastError, "waiting: the approver's account is disabled") {
		t.Fatalf("outbox while the approver is disabled: %+v", q)
	}
	mustDesk(t, "user", "enable", "carol")
	if out := mustDesk(t, "mail", "flush", "--force"); !strings.HasPrefix(out, "1 sent, 0 failed") {
		t.Errorf("flush after enabling the approver: %q", out)
	}
	approve, _ := s.approverLinks(s.nextMail(), "carol@example.com", "Approval needed: #"+num+" Projector")
	if !strings.HasPrefix(approve, s.public+"/approval/") {
		t.Errorf("link %s does not use the public-url of the request (%s)", approve, s.public)
	}
	s.mustApprove(approve, "the link")
}

// Closing (or withdrawing) a ticket whose approval is pending withdraws the
// request in the same transaction: the record says cancelled, the
// technicians read why in the log, the approver is mailed, and the link
// answers that the request was cancelled, also after a reopen.
func TestApprovalClosingWithdrawsTheRequest(t *testing.T) {
	s := newApprovalStack(t)
	n := s.newTicket("Printer")
	num := strconv.Itoa(n)
	approve, _ := s.request(n, "Printer", "")

	mustDesk(t, "--as", "bob", "ticket", "close", num)
	if v := s.approval(n); v.State != "cancelled" || v.CancelledBy != "bob" || v.Badge != "Cancelled" {
		t.Errorf("approval after the close: %+v", v)
	}
	m := s.nextMail()
	if len(m.To) != 1 || m.To[0] != "carol@example.com" || m.Subject != "Approval withdrawn: #"+num+" Printer" ||
		!strings.Contains(m.Text, "Ticket #"+num+" was closed by Bob Tech.") || !strings.Contains(m.HTML, "was closed by Bob Tech.") {
		t.Errorf("withdrawal mail to %q: %q\n%s", m.To, m.Subject, m.Text)
	}
	if links := s.approvalLinks(m.Text + m.HTML); len(links) != 0 {
		t.Errorf("the withdrawal mail repeats links: %q", links)
	}
	s.noNewMail()
	const entry = "Approval request to Carol Jones cancelled: the ticket was closed"
	if out := mustDesk(t, "--as", "bob", "ticket", "log", num); !strings.Contains(out, entry) {
		t.Errorf("technicians' log lacks the cancel:\n%s", out)
	}
	if out := mustDesk(t, "--as", "dave", "ticket", "log", num); strings.Contains(out, "Approval") {
		t.Errorf("the requester sees the technician-only entry:\n%s", out)
	}
	var recs []struct {
		Command string `json:"command"`
	}
	deskJSON(t, &recs, "audit", "log", "--subject", "approval:"+num)
	if len(recs) == 0 || recs[len(recs)-1].Command != "ticket close" {
		t.Errorf("audit of the approval: %+v, want the close last", recs)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		if p := s.fetch(method, approve); p.status != http.StatusGone || (method == http.MethodGet && p.heading() != "Request cancelled") {
			t.Errorf("%s the link after the close: %d %q", method, p.status, p.heading())
		}
	}
	mustDesk(t, "--as", "bob", "ticket", "reopen", num)
	if v := s.approval(n); v.State != "cancelled" {
		t.Errorf("a reopen revived the request: %+v", v)
	}
	s.noNewMail()

	// The requester withdrawing the ticket does the same.
	w := s.newTicket("Scanner")
	s.request(w, "Scanner", "")
	mustDesk(t, "--as", "dave", "ticket", "withdraw", strconv.Itoa(w))
	if v := s.approval(w); v.State != "cancelled" || v.CancelledBy != "dave" {
		t.Errorf("approval after the withdraw: %+v", v)
	}
	if m := s.nextMail(); m.Subject != "Approval withdrawn: #"+strconv.Itoa(w)+" Scanner" ||
		!strings.Contains(m.Text, "Ticket #"+strconv.Itoa(w)+" was withdrawn by Dave Requester.") {
		t.Errorf("withdrawal mail: %q\n%s", m.Subject, m.Text)
	}
	if out := mustDesk(t, "--as", "bob", "ticket", "log", strconv.Itoa(w)); !strings.Contains(out, "Approval request to Carol Jones cancelled: the ticket was withdrawn") {
		t.Errorf("technicians' log lacks the cancel:\n%s", out)
	}
	s.noNewMail()

	// An approver whose request mail never left the outbox is not told:
	// the request mail is dropped instead of sent dead.
	q := s.newTicket("Toner")
	t.Setenv("DESKCTL_SMTP_HOST", "")
	mustDesk(t, "--as", "bob", "approval", "request", strconv.Itoa(q), "--approver", "carol")
	mustDesk(t, "--as", "bob", "ticket", "close", strconv.Itoa(q))
	t.Setenv("DESKCTL_SMTP_HOST", s.smtp.Host())
	if out := mustDesk(t, "mail", "flush", "--force"); !strings.HasPrefix(out, "0 sent, 0 failed") {
		t.Errorf("flush: %q", out)
	}
	s.noNewMail()
	var all []app.MailView
	deskJSON(t, &all, "mail", "queue", "--all")
	if last := all[len(all)-1]; last.Ticket != q || last.State != "dropped" || last.LastError != "the approval is cancelled already" {
		t.Errorf("the unsent request mail: %+v", last)
	}
}

// A delegate decides through the page of the link in their mail, over real
// HTTP, for the away approver, who is told by mail and sent no link.
func TestDelegateDecidesThroughThePage(t *testing.T) {
	s := newApprovalStack(t)
	mustDesk(t, "user", "add", "erin", "--email", "erin@example.com", "--name", "Erin Delegate")
	mustDesk(t, "--as", "carol", "approval", "delegate", "carol", "--to", "erin", "--open-ended")
	n := s.newTicket("Headset")
	num := strconv.Itoa(n)
	mustDesk(t, "--as", "bob", "approval", "request", num, "--approver", "carol")
	approve, _ := s.approverLinks(s.nextMail(), "erin@example.com", "Approval needed: #"+num+" Headset")
	notice := s.nextMail()
	if len(notice.To) != 1 || notice.To[0] != "carol@example.com" || notice.Subject != "Sent to your delegate: approval of #"+num+" Headset" {
		t.Fatalf("notice to %q: %q", notice.To, notice.Subject)
	}
	if links := s.approvalLinks(notice.Text + notice.HTML); len(links) != 0 {
		t.Errorf("the away approver was sent links: %q", links)
	}
	if p := s.fetch(http.MethodGet, approve); p.status != http.StatusOK || !strings.Contains(p.body, "Erin Delegate for Carol Jones") {
		t.Fatalf("page: %d, want it to name Erin Delegate for Carol Jones:\n%s", p.status, p.body)
	}
	s.mustApprove(approve, "erin's link")
	v := s.approval(n)
	if v.State != "approved" || v.Approver != "erin" || v.OnBehalfOf != "carol" || v.Badge != "Approved by Erin Delegate for Carol Jones" {
		t.Errorf("record after the page decision: %+v", v)
	}
	if m := s.nextMail(); m.To[0] != "bob@example.com" || m.Subject != "Approved by Erin Delegate for Carol Jones: #"+num+" Headset" {
		t.Errorf("outcome mail to %q: %q", m.To, m.Subject)
	}
	s.noNewMail()
}
