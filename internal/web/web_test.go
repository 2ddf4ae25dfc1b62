package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// fakeApprovals keeps approvals in memory and records every call.
type fakeApprovals struct {
	mu      sync.Mutex
	pending map[string]View
	gone    map[string]helpdesk.LinkProblem
	err     error // returned by every call when set
	views   []string
	decides []decideCall
}

type decideCall struct {
	token   string
	approve bool
	comment string
}

func newFake() *fakeApprovals {
	return &fakeApprovals{pending: map[string]View{}, gone: map[string]helpdesk.LinkProblem{}}
}

func (f *fakeApprovals) add(t *testing.T, v View) string {
	t.Helper()
	token, _, err := helpdesk.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending[token] = v
	return token
}

// set changes the fake under its lock; handlers read it from server goroutines.
func (f *fakeApprovals) set(change func(*fakeApprovals)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeApprovals) lookup(token string) (View, error) {
	if f.err != nil {
		return View{}, f.err
	}
	if p, ok := f.gone[token]; ok {
		return View{}, &helpdesk.LinkError{Problem: p, Ticket: 1}
	}
	v, ok := f.pending[token]
	if !ok {
		return View{}, &helpdesk.LinkError{Problem: helpdesk.LinkUnknown}
	}
	return v, nil
}

func (f *fakeApprovals) View(_ context.Context, token string) (View, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.views = append(f.views, token)
	return f.lookup(token)
}

func (f *fakeApprovals) Decide(_ context.Context, token string, approve bool, comment string) (Outcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.decides = append(f.decides, decideCall{token, approve, comment})
	v, err := f.lookup(token)
	if err != nil {
		return Outcome{}, err
	}
	delete(f.pending, token)
	f.gone[token] = helpdesk.LinkUsed
	return Outcome{Ticket: v.Ticket, Subject: v.Subject, Approved: approve, Approver: v.Approver, Comment: comment}, nil
}

func (f *fakeApprovals) calls() (views int, decides []decideCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.views), append([]decideCall(nil), f.decides...)
}

// syncBuffer collects log output written from server goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fakeClock moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type testServer struct {
	*httptest.Server
	fake   *fakeApprovals
	logs   *syncBuffer
	clock  *fakeClock
	public *url.URL
}

var sampleView = View{
	Ticket:      42,
	Subject:     "New laptop for Dana",
	Requester:   "Dana Smith",
	RequestedBy: "Tom Baker",
	Approver:    "Carol Jones",
	Note:        "Budget line 7.\nUrgent before Monday.",
	Expires:     time.Date(2026, 3, 9, 14, 0, 0, 0, time.UTC),
}

// start runs the handler behind a real HTTP server whose address is the public URL.
func start(t *testing.T, tweak func(*Options)) *testServer {
	t.Helper()
	return startWrapped(t, tweak, nil)
}

// startWrapped is start with middleware around the handler, to observe requests.
func startWrapped(t *testing.T, tweak func(*Options), wrap func(http.Handler) http.Handler) *testServer {
	t.Helper()
	ts := &testServer{
		fake:  newFake(),
		logs:  &syncBuffer{},
		clock: &fakeClock{t: time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)},
	}
	ts.Server = httptest.NewUnstartedServer(nil)
	ts.public = &url.URL{Scheme: "http", Host: ts.Listener.Addr().String()}
	opts := Options{
		Approvals: ts.fake,
		PublicURL: ts.public,
		Secret:    []byte("test secret"),
		Logger:    slog.New(slog.NewTextHandler(ts.logs, nil)),
		Clock:     ts.clock.Now,
		RateLimit: RateLimit{PerMinute: -1},
	}
	if tweak != nil {
		tweak(&opts)
	}
	ts.Config.Handler = New(opts)
	if wrap != nil {
		ts.Config.Handler = wrap(ts.Config.Handler)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

type response struct {
	status int
	header http.Header
	body   string
}

func (ts *testServer) do(t *testing.T, method, path string, form url.Values, header map[string]string) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formKey opens the confirmation page like a browser and returns its CSRF field.
func (ts *testServer) formKey(t *testing.T, token string) string {
	t.Helper()
	r := ts.do(t, "GET", "/approval/"+token, nil, nil)
	m := csrfField.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		t.Fatalf("GET page: status %d, no csrf field in:\n%s", r.status, r.body)
	}
	return m[1]
}

func (ts *testServer) origin() map[string]string {
	return map[string]string{"Origin": "http://" + ts.public.Host}
}

func TestGetAndHeadNeverDecide(t *testing.T) {
	tests := []struct {
		name, method, query string
		wantFocus           string // button carrying autofocus, "" for none
	}{
		{"approve link", "GET", "?decision=approve", "approve"},
		{"reject link", "GET", "?decision=reject", "reject"},
		{"no decision", "GET", "", ""},
		{"odd decision", "GET", "?decision=%3Cb%3E", ""},
		{"head approve", "HEAD", "?decision=approve", ""},
		{"head reject", "HEAD", "?decision=reject", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := start(t, nil)
			token := ts.fake.add(t, sampleView)
			r := ts.do(t, tt.method, "/approval/"+token+tt.query, nil, nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d, want 200:\n%s", r.status, r.body)
			}
			views, decides := ts.fake.calls()
			if len(decides) != 0 {
				t.Fatalf("%s decided: %+v", tt.method, decides)
			}
			if views != 1 {
				t.Errorf("View called %d times, want 1", views)
			}
			if tt.method == "HEAD" {
				if r.body != "" {
					t.Errorf("HEAD returned a body of %d bytes", len(r.body))
				}
				return
			}
			for _, want := range []string{
				`<html lang="en">`, `name="viewport"`,
				"Ticket #42 needs your decision", "Tom Baker asks you, Carol Jones, to approve or reject this ticket.", "New laptop for Dana", "Dana Smith", "Tom Baker", "Carol Jones",
				"Budget line 7.\nUrgent before Monday.", "Mon 9 Mar 2026, 14:00 UTC (7 days left)",
				`<form method="post" action="/approval/` + token + `">`,
				`<label for="comment">`, `<textarea id="comment" name="comment"`, `maxlength="4000"`,
				`name="decision" value="approve"`, `name="decision" value="reject"`, `type="hidden" name="csrf"`,
			} {
				if !strings.Contains(r.body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if strings.Contains(r.body, "<script") {
				t.Error("page contains a script element; it must work without JavaScript")
			}
			focused := regexp.MustCompile(`value="(approve|reject)"[^>]*autofocus`).FindAllStringSubmatch(r.body, -1)
			switch {
			case tt.wantFocus == "" && len(focused) != 0:
				t.Errorf("a button is focused without a decision in the link: %v", focused)
			case tt.wantFocus != "" && (len(focused) != 1 || focused[0][1] != tt.wantFocus):
				t.Errorf("focused buttons %v, want only %s", focused, tt.wantFocus)
			}
		})
	}
}

func TestPostDecidesOnce(t *testing.T) {
	tests := []struct {
		name, decision, comment string
		wantApprove             bool
		wantComment, wantHead   string
	}{
		{"approve without comment", "approve", "", true, "", "You approved ticket #42"},
		{"reject with comment", "reject", "  Too expensive.\r\nAsk again in May.  ", false, "Too expensive.\nAsk again in May.", "You rejected ticket #42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := start(t, nil)
			token := ts.fake.add(t, sampleView)
			form := url.Values{"csrf": {ts.formKey(t, token)}, "decision": {tt.decision}, "comment": {tt.comment}}

			r := ts.do(t, "POST", "/approval/"+token, form, ts.origin())
			if r.status != http.StatusOK || !strings.Contains(r.body, tt.wantHead) {
				t.Fatalf("first POST: status %d, want 200 with %q:\n%s", r.status, tt.wantHead, r.body)
			}
			if tt.wantComment != "" && !strings.Contains(r.body, tt.wantComment) {
				t.Errorf("result page does not repeat the comment %q", tt.wantComment)
			}
			_, decides := ts.fake.calls()
			want := decideCall{token, tt.wantApprove, tt.wantComment}
			if len(decides) != 1 || decides[0] != want {
				t.Fatalf("Decide calls %+v, want exactly %+v", decides, want)
			}

			again := ts.do(t, "POST", "/approval/"+token, form, ts.origin())
			if again.status != http.StatusGone {
				t.Fatalf("second POST: status %d, want 410:\n%s", again.status, again.body)
			}
			if !strings.Contains(again.body, "This approval link was already used; the decision is recorded.") {
				t.Errorf("second POST does not explain the link was used:\n%s", again.body)
			}
			if page := ts.do(t, "GET", "/approval/"+token, nil, nil); page.status != http.StatusGone {
				t.Errorf("GET after the decision: status %d, want 410", page.status)
			}
		})
	}
}

func TestForgedPostsAreRefused(t *testing.T) {
	ts := start(t, nil)
	token := ts.fake.add(t, sampleView)
	other := ts.fake.add(t, sampleView)
	good := ts.formKey(t, token)
	otherKey := ts.formKey(t, other)
	self := "http://" + ts.public.Host

	tests := []struct {
		name   string
		form   url.Values
		header map[string]string
		path   string // defaults to the token's page
	}{
		{"foreign Origin", url.Values{"csrf": {good}, "decision": {"approve"}}, map[string]string{"Origin": "https://evil.example"}, ""},
		{"same host other port", url.Values{"csrf": {good}, "decision": {"approve"}}, map[string]string{"Origin": "http://127.0.0.1:1"}, ""},
		{"https instead of http", url.Values{"csrf": {good}, "decision": {"approve"}}, map[string]string{"Origin": "https://" + ts.public.Host}, ""},
		{"no Origin and no Referer", url.Values{"csrf": {good}, "decision": {"approve"}}, nil, ""},
		{"Origin null alone", url.Values{"csrf": {good}, "decision": {"approve"}}, map[string]string{"Origin": "null"}, ""},
		{"cross-site fetch metadata", url.Values{"csrf": {good}, "decision": {"approve"}}, map[string]string{"Origin": "null", "Sec-Fetch-Site": "cross-site"}, ""},
		{"same-site is not same-origin", url.Values{"csrf": {good}, "decision": {"approve"}}, map[string]string{"Sec-Fetch-Site": "same-site"}, ""},
		{"foreign Referer", url.Values{"csrf": {good}, "decision": {"approve"}}, map[string]string{"Referer": "https://evil.example/approval/" + token}, ""},
		{"Host header does not count", url.Values{"csrf": {good}, "decision": {"approve"}}, map[string]string{"Origin": "https://evil.example", "X-Forwarded-Host": "evil.example"}, ""},
		{"bad CSRF", url.Values{"csrf": {"AAAA" + good[4:]}, "decision": {"approve"}}, map[string]string{"Origin": self}, ""},
		{"no CSRF", url.Values{"decision": {"approve"}}, map[string]string{"Origin": self}, ""},
		{"CSRF of another link", url.Values{"csrf": {otherKey}, "decision": {"approve"}}, map[string]string{"Origin": self}, ""},
		{"CSRF only in the query", url.Values{"decision": {"approve"}}, map[string]string{"Origin": self}, "/approval/" + token + "?csrf=" + good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			viewsBefore, _ := ts.fake.calls()
			path := tt.path
			if path == "" {
				path = "/approval/" + token
			}
			r := ts.do(t, "POST", path, tt.form, tt.header)
			if r.status != http.StatusForbidden {
				t.Errorf("status %d, want 403:\n%s", r.status, r.body)
			}
			if !strings.Contains(r.body, "Nothing was recorded") {
				t.Errorf("refusal page does not say nothing was recorded:\n%s", r.body)
			}
			views, decides := ts.fake.calls()
			if len(decides) != 0 || views != viewsBefore {
				t.Errorf("a forged POST reached the use cases: %d views, decides %+v", views-viewsBefore, decides)
			}
		})
	}

	// The same link still works from the real page afterwards.
	r := ts.do(t, "POST", "/approval/"+token, url.Values{"csrf": {good}, "decision": {"reject"}}, map[string]string{"Referer": self + "/approval/" + token})
	if r.status != http.StatusOK {
		t.Fatalf("POST with a same-origin Referer: status %d:\n%s", r.status, r.body)
	}
}

func TestMalformedTokensNeverReachTheUseCases(t *testing.T) {
	ts := start(t, nil)
	good, _, _ := helpdesk.NewToken()
	paths := []string{
		"/approval/",
		"/approval/short",
		"/approval/" + good[:len(good)-1] + "*",
		"/approval/" + good + "A",
		"/approval/" + good + "/extra",
		"/approval/" + url.PathEscape(good[:42]+"/"),
		"/approval/%00" + good[1:],
	}
	for _, p := range paths {
		for _, method := range []string{"GET", "HEAD", "POST"} {
			var form url.Values
			if method == "POST" {
				form = url.Values{"decision": {"approve"}}
			}
			r := ts.do(t, method, p, form, ts.origin())
			if r.status != http.StatusNotFound {
				t.Errorf("%s %s: status %d, want 404", method, p, r.status)
			}
		}
	}
	if views, decides := ts.fake.calls(); views != 0 || len(decides) != 0 {
		t.Errorf("malformed tokens reached the use cases: %d views, %d decides", views, len(decides))
	}
}

func TestLinkProblemsAndFailures(t *testing.T) {
	tests := []struct {
		name       string
		problem    helpdesk.LinkProblem // used when err is nil
		err        error
		wantStatus int
		wantText   string
	}{
		{"unknown", helpdesk.LinkUnknown, nil, http.StatusNotFound, "This approval link is not valid."},
		{"used", helpdesk.LinkUsed, nil, http.StatusGone, "already used"},
		{"expired", helpdesk.LinkExpired, nil, http.StatusGone, "This approval link has expired; ask the technician to send a reminder."},
		{"cancelled", helpdesk.LinkCancelled, nil, http.StatusGone, "This approval request was cancelled."},
		{"superseded", helpdesk.LinkSuperseded, nil, http.StatusGone, "replaced by a newer one"},
		{"busy", "", errs.Wrap(errs.Busy, errors.New("timeout"), "database is locked"), http.StatusServiceUnavailable, "The helpdesk is busy right now."},
		{"internal", "", errors.New("disk on fire"), http.StatusInternalServerError, "Something went wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := start(t, nil)
			token, _, _ := helpdesk.NewToken()
			if tt.err != nil {
				ts.fake.set(func(f *fakeApprovals) { f.err = tt.err })
			} else if tt.problem != helpdesk.LinkUnknown {
				ts.fake.set(func(f *fakeApprovals) { f.gone[token] = tt.problem })
			}
			for _, method := range []string{"GET", "POST"} {
				var form url.Values
				if method == "POST" {
					form = url.Values{"csrf": {ts.formKeyFor(token)}, "decision": {"approve"}}
				}
				r := ts.do(t, method, "/approval/"+token, form, ts.origin())
				if r.status != tt.wantStatus || !strings.Contains(r.body, tt.wantText) {
					t.Errorf("%s: status %d, want %d with %q:\n%s", method, r.status, tt.wantStatus, tt.wantText, r.body)
				}
				if tt.wantStatus == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "" {
					t.Errorf("%s: 503 without Retry-After", method)
				}
			}
		})
	}
}

// formKeyFor computes the CSRF field for links the fake cannot show.
func (ts *testServer) formKeyFor(token string) string {
	return ts.Config.Handler.(*handler).csrfFor(token)
}

func TestInvalidCommentKeepsTheFormFilled(t *testing.T) {
	tests := []struct {
		name, comment, wantError string
	}{
		{"control character", "fine\x07bell", "control characters"},
		{"too long", strings.Repeat("é", MaxCommentLen+1), "the limit is 4000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := start(t, nil)
			token := ts.fake.add(t, sampleView)
			form := url.Values{"csrf": {ts.formKey(t, token)}, "decision": {"reject"}, "comment": {tt.comment}}
			r := ts.do(t, "POST", "/approval/"+token, form, ts.origin())
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, tt.wantError) {
				t.Fatalf("status %d, want 400 with %q:\n%.2000s", r.status, tt.wantError, r.body)
			}
			if !strings.Contains(r.body, `aria-invalid="true"`) || !strings.Contains(r.body, `role="alert"`) {
				t.Error("the comment box is not marked invalid")
			}
			if !strings.Contains(r.body, "fine") && tt.name == "control character" {
				t.Error("the typed comment was not kept")
			}
			if _, decides := ts.fake.calls(); len(decides) != 0 {
				t.Errorf("an invalid comment was decided: %+v", decides)
			}
		})
	}
}

func TestBadDecisionValue(t *testing.T) {
	ts := start(t, nil)
	token := ts.fake.add(t, sampleView)
	for _, d := range []string{"", "yes", "APPROVE"} {
		form := url.Values{"csrf": {ts.formKey(t, token)}, "decision": {d}}
		if r := ts.do(t, "POST", "/approval/"+token+"?decision=approve", form, ts.origin()); r.status != http.StatusBadRequest {
			t.Errorf("decision %q: status %d, want 400", d, r.status)
		}
	}
	if _, decides := ts.fake.calls(); len(decides) != 0 {
		t.Errorf("decided without a valid decision: %+v", decides)
	}
}

func TestOversizedFormIsRefused(t *testing.T) {
	ts := start(t, nil)
	token := ts.fake.add(t, sampleView)
	form := url.Values{"csrf": {ts.formKey(t, token)}, "decision": {"approve"}, "comment": {strings.Repeat("x", maxFormBytes)}}
	if r := ts.do(t, "POST", "/approval/"+token, form, ts.origin()); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", r.status)
	}
	if _, decides := ts.fake.calls(); len(decides) != 0 {
		t.Errorf("an oversized form was decided: %+v", decides)
	}
}

func TestRoutes(t *testing.T) {
	ts := start(t, nil)
	token := ts.fake.add(t, sampleView)
	tests := []struct {
		method, path string
		wantStatus   int
		wantAllow    string
	}{
		{"GET", "/healthz", http.StatusOK, ""},
		{"HEAD", "/healthz", http.StatusOK, ""},
		{"POST", "/healthz", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"PUT", "/approval/" + token, http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"DELETE", "/approval/" + token, http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"GET", "/", http.StatusNotFound, ""},
		{"GET", "/approval", http.StatusNotFound, ""},
		{"GET", "/approvals/" + token, http.StatusNotFound, ""},
		{"GET", "/healthz/", http.StatusNotFound, ""},
		{"GET", "/static/style.css", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		r := ts.do(t, tt.method, tt.path, nil, nil)
		if r.status != tt.wantStatus || r.header.Get("Allow") != tt.wantAllow {
			t.Errorf("%s %s: status %d Allow %q, want %d %q", tt.method, tt.path, r.status, r.header.Get("Allow"), tt.wantStatus, tt.wantAllow)
		}
	}
	if r := ts.do(t, "GET", "/healthz", nil, nil); r.body != "ok\n" {
		t.Errorf("healthz body %q", r.body)
	}
	if _, decides := ts.fake.calls(); len(decides) != 0 {
		t.Errorf("routing decided something: %+v", decides)
	}
}

func TestPublicURLPathPrefixesRoutes(t *testing.T) {
	ts := start(t, func(o *Options) { o.PublicURL = o.PublicURL.JoinPath("helpdesk") })
	token := ts.fake.add(t, sampleView)
	link := LinkURL(ts.public.JoinPath("helpdesk"), token, true)
	if !strings.HasPrefix(link, ts.URL+"/helpdesk/approval/") {
		t.Fatalf("LinkURL gave %s", link)
	}
	page := ts.do(t, "GET", strings.TrimPrefix(link, ts.URL), nil, nil)
	if page.status != http.StatusOK || !strings.Contains(page.body, `action="/helpdesk/approval/`+token+`"`) {
		t.Fatalf("prefixed link: status %d:\n%s", page.status, page.body)
	}
	for _, p := range []string{"/approval/" + token, "/helpdeskx/approval/" + token, "/healthz"} {
		if r := ts.do(t, "GET", p, nil, nil); r.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404 outside the prefix", p, r.status)
		}
	}
	if r := ts.do(t, "GET", "/helpdesk/healthz", nil, nil); r.status != http.StatusOK {
		t.Errorf("prefixed healthz: status %d", r.status)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	var limited *testServer
	ts := start(t, nil)
	token := ts.fake.add(t, sampleView)
	unknown, _, _ := helpdesk.NewToken()
	used := ts.fake.add(t, sampleView)
	ts.fake.set(func(f *fakeApprovals) { f.gone[used] = helpdesk.LinkUsed })
	limited = start(t, func(o *Options) { o.RateLimit = RateLimit{PerMinute: 1, Burst: 1} })
	limited.do(t, "GET", "/approval/"+unknown, nil, nil)

	cases := []struct {
		name string
		run  func() response
		want int
	}{
		{"page", func() response { return ts.do(t, "GET", "/approval/"+token, nil, nil) }, 200},
		{"head", func() response { return ts.do(t, "HEAD", "/approval/"+token, nil, nil) }, 200},
		{"unknown link", func() response { return ts.do(t, "GET", "/approval/"+unknown, nil, nil) }, 404},
		{"used link", func() response { return ts.do(t, "GET", "/approval/"+used, nil, nil) }, 410},
		{"forged post", func() response {
			return ts.do(t, "POST", "/approval/"+token, url.Values{"decision": {"approve"}}, nil)
		}, 403},
		{"no route", func() response { return ts.do(t, "GET", "/nothing", nil, nil) }, 404},
		{"method", func() response { return ts.do(t, "PATCH", "/approval/"+token, nil, nil) }, 405},
		{"healthz", func() response { return ts.do(t, "GET", "/healthz", nil, nil) }, 200},
		{"rate limited", func() response { return limited.do(t, "GET", "/approval/"+unknown, nil, nil) }, 429},
	}
	want := map[string]string{
		"Referrer-Policy":        "same-origin",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
	}
	for _, c := range cases {
		r := c.run()
		if r.status != c.want {
			t.Errorf("%s: status %d, want %d", c.name, r.status, c.want)
		}
		for k, v := range want {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", c.name, k, got, v)
			}
		}
		csp := r.header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: CSP %q lacks %q", c.name, csp, d)
			}
		}
		if strings.Contains(csp, "http") || strings.Contains(csp, "unsafe") || strings.Contains(csp, "*") {
			t.Errorf("%s: CSP %q allows more than the page itself", c.name, csp)
		}
	}
}

// The inline style sheet must be exactly what the CSP hash pins, or browsers drop it.
func TestStyleMatchesContentPolicy(t *testing.T) {
	ts := start(t, nil)
	token := ts.fake.add(t, sampleView)
	r := ts.do(t, "GET", "/approval/"+token, nil, nil)
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no style element")
	}
	want := "style-src '" + styleHash(m[1]) + "'"
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, want) {
		t.Errorf("CSP %q does not allow the page's style (%s)", csp, want)
	}
	if strings.Contains(r.body, "style=") {
		t.Error("inline style attributes are blocked by the CSP; use the style sheet")
	}
}

func TestUserTextIsEscaped(t *testing.T) {
	ts := start(t, nil)
	v := sampleView
	v.Subject = `<script>alert("subject")</script>`
	v.Requester = `<img src=x onerror=alert(1)>`
	v.Note = `"><script>alert('note')</script>`
	token := ts.fake.add(t, v)
	page := ts.do(t, "GET", "/approval/"+token, nil, nil)
	form := url.Values{"csrf": {ts.formKey(t, token)}, "decision": {"approve"}, "comment": {"</textarea><script>alert(2)</script>"}}
	result := ts.do(t, "POST", "/approval/"+token, form, ts.origin())
	for name, r := range map[string]response{"page": page, "result": result} {
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d", name, r.status)
		}
		if strings.Contains(r.body, "<script") || strings.Contains(r.body, "<img") {
			t.Errorf("%s: user text reached the page unescaped:\n%s", name, r.body)
		}
	}
	if !strings.Contains(page.body, "&lt;script&gt;alert(&#34;subject&#34;)&lt;/script&gt;") {
		t.Errorf("page does not show the escaped subject:\n%s", page.body)
	}
}

// Text stored before deskctl refused bidirectional overrides cannot reorder
// what the approver reads.
func TestStoredOverridesAreShownNotObeyed(t *testing.T) {
	ts := start(t, nil)
	v := sampleView
	v.Subject = "Refund invoice\u202efdp.exe"
	v.Note = "Approved\rREJECTED"
	token := ts.fake.add(t, v)
	page := ts.do(t, "GET", "/approval/"+token, nil, nil)
	form := url.Values{"csrf": {ts.formKey(t, token)}, "decision": {"approve"}}
	result := ts.do(t, "POST", "/approval/"+token, form, ts.origin())
	for name, r := range map[string]response{"page": page, "result": result} {
		if strings.ContainsAny(r.body, "\u202e\r") {
			t.Errorf("%s: a stored override or carriage return reached the page", name)
		}
		if !strings.Contains(r.body, "Refund invoice&lt;U&#43;202E&gt;fdp.exe") {
			t.Errorf("%s does not show the override:\n%s", name, r.body)
		}
	}
	if !strings.Contains(page.body, `Approved\rREJECTED`) {
		t.Errorf("page does not show the carriage return:\n%s", page.body)
	}
}

func TestLogsNeverContainTheToken(t *testing.T) {
	ts := start(t, nil)
	token := ts.fake.add(t, sampleView)
	key := ts.formKey(t, token)
	secretComment := "salary details for Dana"
	ts.do(t, "HEAD", "/approval/"+token+"?decision=approve", nil, nil)
	ts.do(t, "POST", "/approval/"+token, url.Values{"csrf": {key}, "decision": {"approve"}}, map[string]string{"Origin": "https://evil.example"})
	ts.do(t, "POST", "/approval/"+token, url.Values{"csrf": {key}, "decision": {"reject"}, "comment": {secretComment}}, ts.origin())
	ts.do(t, "GET", "/approvals/"+token, nil, nil)
	ts.do(t, "GET", "/approval/"+token[:20], nil, nil)
	ts.fake.set(func(f *fakeApprovals) { f.err = errors.New("lookup of " + token + " failed") })
	ts.do(t, "GET", "/approval/"+token, nil, nil)

	logs := ts.logs.String()
	for _, secret := range []string{token, token[:20], key, secretComment} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{"path=/approval/REDACTED", "status=403", "status=500", "approval decided"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

func TestRateLimit(t *testing.T) {
	ts := start(t, func(o *Options) {
		o.RateLimit = RateLimit{PerMinute: 6, Burst: 3}
		o.TrustProxy = true
	})
	token := ts.fake.add(t, sampleView)
	unknown, _, _ := helpdesk.NewToken()
	get := func(path, client string) response {
		return ts.do(t, "GET", path, nil, map[string]string{"X-Forwarded-For": "203.0.113.9, " + client})
	}

	for i := range 3 {
		if r := get("/approval/"+token, "198.51.100.1"); r.status != http.StatusOK {
			t.Fatalf("request %d within the burst: status %d", i+1, r.status)
		}
	}
	r := get("/approval/"+token, "198.51.100.1")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "10" {
		t.Fatalf("over the limit: status %d Retry-After %q, want 429 and 10", r.status, r.header.Get("Retry-After"))
	}
	if get("/healthz", "198.51.100.1").status != http.StatusOK {
		t.Error("healthz is rate limited")
	}
	if get("/approval/"+token, "198.51.100.2").status != http.StatusOK {
		t.Error("another client was limited too")
	}
	ts.clock.Advance(10 * time.Second)
	if r := get("/approval/"+token, "198.51.100.1"); r.status != http.StatusOK {
		t.Errorf("after waiting: status %d, want 200", r.status)
	}

	// Failed lookups cost double: two unknown links use up a burst of three.
	for i, want := range []int{404, 404, 429} {
		if r := get("/approval/"+unknown, "198.51.100.3"); r.status != want {
			t.Errorf("guess %d: status %d, want %d", i+1, r.status, want)
		}
	}
	// IPv6 clients share a bucket per /64.
	for i, want := range []int{200, 200, 200, 429} {
		client := "2001:db8:1:2::" + itoa(i+1)
		if r := get("/approval/"+token, client); r.status != want {
			t.Errorf("IPv6 request %d from %s: status %d, want %d", i+1, client, r.status, want)
		}
	}
	views, _ := ts.fake.calls()
	if views != 10 {
		t.Errorf("View called %d times; limited requests must not reach the use cases (want 10)", views)
	}
}

type panickyApprovals struct{ fakeApprovals }

func (p *panickyApprovals) View(context.Context, string) (View, error) { panic("view exploded") }

func TestPanicBecomesAnErrorPage(t *testing.T) {
	ts := start(t, func(o *Options) { o.Approvals = &panickyApprovals{} })
	token, _, _ := helpdesk.NewToken()
	r := ts.do(t, "GET", "/approval/"+token, nil, nil)
	if r.status != http.StatusInternalServerError || !strings.Contains(r.body, "Something went wrong") {
		t.Fatalf("status %d, want the 500 page:\n%s", r.status, r.body)
	}
	if r.header.Get("Content-Security-Policy") == "" || r.header.Get("Cache-Control") != "no-store" {
		t.Error("the 500 page lacks the security headers")
	}
	if logs := ts.logs.String(); strings.Contains(logs, token) || !strings.Contains(logs, "view exploded") {
		t.Errorf("panic log is missing or leaks the token:\n%s", logs)
	}
}

// HSTS is sent on every response when public-url is https, and never over
// a plain-http public-url, where it would mean nothing.
func TestStrictTransportSecurityFollowsPublicURL(t *testing.T) {
	secure := start(t, func(o *Options) { o.PublicURL = &url.URL{Scheme: "https", Host: "help.example.com"} })
	plain := start(t, nil)
	token := secure.fake.add(t, sampleView)
	for _, path := range []string{"/healthz", "/approval/" + token, "/nothing"} {
		if got := secure.do(t, "GET", path, nil, nil).header.Values("Strict-Transport-Security"); len(got) != 1 || got[0] != "max-age=31536000" {
			t.Errorf("https public-url, GET %s: Strict-Transport-Security %q, want one max-age=31536000", path, got)
		}
		if got := plain.do(t, "GET", path, nil, nil).header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("http public-url, GET %s: Strict-Transport-Security %q, want none", path, got)
		}
	}
}
