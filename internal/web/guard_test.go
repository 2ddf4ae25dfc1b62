package web

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := ParsePublicURL(s)
	if err != nil {
		t.Fatalf("ParsePublicURL(%q): %v", s, err)
	}
	return u
}

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		public string
		header map[string]string
		want   bool
	}{
		{"https://desk.example.com", map[string]string{"Origin": "https://desk.example.com"}, true},
		{"https://desk.example.com:443", map[string]string{"Origin": "https://desk.example.com"}, true},
		{"https://Desk.Example.com/helpdesk", map[string]string{"Origin": "https://desk.example.com"}, true},
		{"http://desk.example.com", map[string]string{"Origin": "http://desk.example.com:80"}, true},
		{"https://desk.example.com:8443", map[string]string{"Origin": "https://desk.example.com:8443"}, true},
		{"https://[2001:db8::1]", map[string]string{"Origin": "https://[2001:db8::1]:443"}, true},
		{"https://desk.example.com", map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"}, true},
		{"https://desk.example.com", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"https://desk.example.com", map[string]string{"Referer": "https://desk.example.com/approval/x"}, true},

		{"https://desk.example.com", map[string]string{"Origin": "http://desk.example.com"}, false},
		{"https://desk.example.com", map[string]string{"Origin": "https://desk.example.com:8443"}, false},
		{"https://desk.example.com", map[string]string{"Origin": "https://desk.example.com.evil.example"}, false},
		{"https://desk.example.com", map[string]string{"Origin": "desk.example.com"}, false},
		{"https://desk.example.com", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"}, false},
		{"https://desk.example.com", map[string]string{"Origin": "https://evil.example", "Referer": "https://desk.example.com/"}, false},
		{"https://desk.example.com", map[string]string{"Origin": "null"}, false},
		{"https://desk.example.com", map[string]string{"Origin": "null", "Sec-Fetch-Site": "none"}, false},
		{"https://desk.example.com", map[string]string{"Referer": "https://evil.example/https://desk.example.com"}, false},
		{"https://desk.example.com", map[string]string{"Referer": "/approval/x"}, false},
		{"https://desk.example.com", nil, false},
	}
	for _, tt := range tests {
		h := New(Options{Approvals: newFake(), PublicURL: mustURL(t, tt.public)}).(*handler)
		r := httptest.NewRequest("POST", "http://desk.example.com/approval/x", nil)
		for k, v := range tt.header {
			r.Header.Set(k, v)
		}
		if got, why := h.sameOrigin(r); got != tt.want {
			t.Errorf("public %s, headers %v: same origin %v (%s), want %v", tt.public, tt.header, got, why, tt.want)
		}
	}
}

func TestCSRFIsBoundToTokenAndSecret(t *testing.T) {
	pub := mustURL(t, "https://desk.example.com")
	a := New(Options{Approvals: newFake(), PublicURL: pub, Secret: []byte("one")}).(*handler)
	b := New(Options{Approvals: newFake(), PublicURL: pub, Secret: []byte("two")}).(*handler)
	random1 := New(Options{Approvals: newFake(), PublicURL: pub}).(*handler)
	random2 := New(Options{Approvals: newFake(), PublicURL: pub}).(*handler)

	key := a.csrfFor("token-1")
	if !a.csrfValid("token-1", key) {
		t.Fatal("a handler refuses its own form key")
	}
	for name, ok := range map[string]bool{
		"other token":         a.csrfValid("token-2", key),
		"other secret":        b.csrfValid("token-1", key),
		"empty key":           a.csrfValid("token-1", ""),
		"truncated key":       a.csrfValid("token-1", key[:len(key)-1]),
		"random secrets":      random2.csrfValid("token-1", random1.csrfFor("token-1")),
		"key is not a prefix": a.csrfValid("token-1", key+"A"),
	} {
		if ok {
			t.Errorf("%s: form key accepted", name)
		}
	}
}

func TestCleanComment(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{"", "", ""},
		{"   \r\n  ", "", ""},
		{"Fine by me.", "Fine by me.", ""},
		{"  line one\r\nline two\rline three\n", "line one\nline two\nline three", ""},
		{"Grüße, 佐藤 👍", "Grüße, 佐藤 👍", ""},
		{strings.Repeat("ä", MaxCommentLen), strings.Repeat("ä", MaxCommentLen), ""},
		{strings.Repeat("ä", MaxCommentLen+1), "", "limit is 4000"},
		{"tab\there", "tab\there", ""},
		{"Approved\u202e DETCEJER", "", "character 9 is U+202E"},
		{"isolate \u2066x\u2069", "", "text-direction characters"},
		{"nul\x00", "", "control characters"},
		{"escape \x1b[31m red", "", "control characters"},
		{"c1 \u0085 next line", "", "control characters"},
		{"bad \xff byte", "", "not valid text"},
	}
	for _, tt := range tests {
		got, err := cleanComment(tt.in)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("cleanComment(%.40q) error %v, want one containing %q", tt.in, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("cleanComment(%.40q) = %.40q, %v; want %.40q", tt.in, got, err, tt.want)
		}
	}
}

func TestLinkURL(t *testing.T) {
	tok := "AbC-_0123456789abcdefghijklmnopqrstuvwxyzAB"
	tests := []struct {
		public  string
		approve bool
		want    string
	}{
		{"https://desk.example.com", true, "https://desk.example.com/approval/" + tok + "?decision=approve"},
		{"https://desk.example.com/", false, "https://desk.example.com/approval/" + tok + "?decision=reject"},
		{"https://desk.example.com:8443/helpdesk/", true, "https://desk.example.com:8443/helpdesk/approval/" + tok + "?decision=approve"},
		{"http://127.0.0.1:8080", false, "http://127.0.0.1:8080/approval/" + tok + "?decision=reject"},
	}
	for _, tt := range tests {
		if got := LinkURL(mustURL(t, tt.public), tok, tt.approve); got != tt.want {
			t.Errorf("LinkURL(%s, approve=%v) = %s, want %s", tt.public, tt.approve, got, tt.want)
		}
	}
	// A raw *url.URL with a trailing slash must not produce "//".
	raw, _ := url.Parse("https://desk.example.com/x/")
	if got := LinkURL(raw, tok, true); strings.Contains(strings.TrimPrefix(got, "https://"), "//") {
		t.Errorf("LinkURL with a trailing slash: %s", got)
	}
}

func TestParsePublicURL(t *testing.T) {
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"https://desk.example.com", "https://desk.example.com"},
		{" https://desk.example.com/ ", "https://desk.example.com"},
		{"https://desk.example.com/helpdesk/", "https://desk.example.com/helpdesk"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"desk.example.com", ""},
		{"ftp://desk.example.com", ""},
		{"https://", ""},
		{"https://:8080", ""},
		{"https://user:pw@desk.example.com", ""},
		{"https://desk.example.com/?x=1", ""},
		{"https://desk.example.com/#top", ""},
		{"https://desk.example.com/%zz", ""},
		{"", ""},
	}
	for _, tt := range tests {
		u, err := ParsePublicURL(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParsePublicURL(%q) = %s, want an error", tt.in, u)
			} else if errs.KindOf(err) != errs.Usage || errs.HintOf(err) == "" {
				t.Errorf("ParsePublicURL(%q): %v is not a usage error with a hint", tt.in, err)
			}
			continue
		}
		if err != nil || u.String() != tt.want {
			t.Errorf("ParsePublicURL(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
		}
	}
	if err := CheckPublicURL(nil); errs.KindOf(err) != errs.Usage {
		t.Errorf("CheckPublicURL(nil) = %v, want a usage error", err)
	}
}

func TestRedactPath(t *testing.T) {
	tok := "AbC-_0123456789abcdefghijklmnopqrstuvwxyzAB"
	plain := New(Options{Approvals: newFake(), PublicURL: mustURL(t, "https://d.example")}).(*handler)
	prefixed := New(Options{Approvals: newFake(), PublicURL: mustURL(t, "https://d.example/hd")}).(*handler)
	tests := []struct {
		h        *handler
		in, want string
	}{
		{plain, "/approval/" + tok, "/approval/REDACTED"},
		{plain, "/approval/" + tok + "/more", "/approval/REDACTED"},
		{plain, "/approval/x", "/approval/REDACTED"},
		{plain, "/approvals/" + tok, "/approvals/REDACTED"},
		{plain, "/" + tok[:16], "/REDACTED"},
		{plain, "/healthz", "/healthz"},
		{plain, "/favicon.ico", "/favicon.ico"},
		{prefixed, "/hd/approval/" + tok, "/hd/approval/REDACTED"},
		{prefixed, "/approval/" + tok, "/approval/REDACTED"},
	}
	for _, tt := range tests {
		if got := tt.h.redactPath(tt.in); got != tt.want {
			t.Errorf("redactPath(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestUntil(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Minute, "expired"},
		{0, "expired"},
		{30 * time.Second, "1 minute left"},
		{59 * time.Minute, "59 minutes left"},
		{time.Hour, "1 hour left"},
		{47 * time.Hour, "47 hours left"},
		{48 * time.Hour, "2 days left"},
		{7 * 24 * time.Hour, "7 days left"},
	}
	for _, tt := range tests {
		if got := until(now, now.Add(tt.d)); got != tt.want {
			t.Errorf("until(+%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestNewRefusesMissingWiring(t *testing.T) {
	tests := map[string]Options{
		"no approvals":  {PublicURL: &url.URL{Scheme: "https", Host: "d.example"}},
		"no public URL": {Approvals: newFake()},
		"relative URL":  {Approvals: newFake(), PublicURL: &url.URL{Path: "/x"}},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New accepted incomplete options")
				}
			}()
			New(opts)
		})
	}
}
