package client

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deskctl/deskctl/internal/errs"
)

func TestNewChecksTheServerAddress(t *testing.T) {
	const tok = "dsk_x"
	for _, tc := range []struct {
		server, token string
		ok            bool
		msg           string
	}{
		{"https://help.example.com", tok, true, ""},
		{"https://help.example.com/desk/", tok, true, ""},
		{"unix:///run/deskctl/deskctl.sock", "", true, ""},
		{"http://127.0.0.1:8080", tok, true, ""},
		{"http://[::1]:8080", tok, true, ""},
		{"http://localhost:8080", tok, true, ""},
		{"http://help.example.com", "", true, ""},
		{"http://help.example.com", tok, false, "refusing to send a token over plain http to help.example.com"},
		{"http://10.0.0.5:8080", tok, false, "refusing to send a token over plain http to 10.0.0.5"},
		{"help.example.com", tok, false, "has no https://, http:// or unix:// scheme"},
		{"unix://relative.sock", "", false, "needs an absolute socket path"},
		{"https://", tok, false, "names no host"},
	} {
		_, err := New(Options{Server: tc.server, Token: tc.token})
		switch {
		case tc.ok && err != nil:
			t.Errorf("New(%q): %v", tc.server, err)
		case !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.msg) || errs.KindOf(err) != errs.Usage):
			t.Errorf("New(%q) = %v, want a usage error saying %q", tc.server, err, tc.msg)
		}
	}
}

// Completion without credentials does not knock: every knock would count
// as a failed authentication.
func TestCompleteWithoutTokenAsksNothing(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Write([]byte(`{"results":[["tier1"]]}`))
	}))
	defer srv.Close()
	c, err := New(Options{Server: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Complete("groups", ""); got != nil || calls.Load() != 0 {
		t.Errorf("Complete without a token = %v after %d request(s)", got, calls.Load())
	}
	c, _ = New(Options{Server: srv.URL, Token: "dsk_x"})
	if got := c.Complete("groups", ""); len(got) != 1 || got[0] != "tier1" {
		t.Errorf("Complete with a token = %v", got)
	}
}

// A server that is not deskctl, or not there, is a clear error.
func TestCallErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c, _ := New(Options{Server: srv.URL, Token: "dsk_x"})
	if _, err := c.ListUsers(); err == nil || !strings.Contains(err.Error(), "not a deskctl API response") {
		t.Errorf("plain 404: %v", err)
	}
	srv.Close()
	if _, err := c.ListUsers(); errs.KindOf(err) != errs.Unusable || !strings.Contains(err.Error(), "cannot reach the deskctl server at "+srv.URL) {
		t.Errorf("server gone: %v (%v)", err, errs.KindOf(err))
	}
}
