package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/helpdesk"
	bolt "go.etcd.io/bbolt"
)

// newService makes a fresh database whose administrator alice has a token.
func newService(t *testing.T) (*app.Service, string) {
	t.Helper()
	svc := &app.Service{DBPath: filepath.Join(t.TempDir(), "desk.db"), LockTimeout: 5 * time.Second}
	if _, err := svc.Init(app.InitInput{Admin: "alice", Email: "alice@example.com"}); err != nil {
		t.Fatal(err)
	}
	svc.Actor = "alice"
	tok, err := svc.CreateToken(app.TokenInput{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	svc.Actor = ""
	return svc, tok.Token
}

// newServer serves newService's database.
func newServer(t *testing.T) (*httptest.Server, *app.Service, string) {
	t.Helper()
	svc, tok := newService(t)
	srv := httptest.NewServer(New(Options{Service: svc}))
	t.Cleanup(srv.Close)
	return srv, svc, tok
}

func call(t *testing.T, srv *httptest.Server, token, method, body string) (int, Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+Prefix+method, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r Response
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, r
}

// The API offers exactly the use cases: not the service's methods that act
// on the server's file (init, backup, restore) or run the server.
func TestOnlyUseCasesCanBeCalled(t *testing.T) {
	srv, _, tok := newServer(t)
	var want []string
	for i := 0; i < reflect.TypeFor[app.UseCases]().NumMethod(); i++ {
		want = append(want, reflect.TypeFor[app.UseCases]().Method(i).Name)
	}
	if got := Methods(); !slices.Equal(got, want) {
		t.Errorf("Methods() = %v, want %v", got, want)
	}
	for _, m := range []string{"Init", "BackupDB", "RestoreDB", "StartMailer", "Pages", "RecordAuthFailure", "Served", "nope"} {
		code, r := call(t, srv, tok, m, `{"args":[]}`)
		if code != http.StatusNotFound || r.Error == nil || r.Error.Kind != "not-found" {
			t.Errorf("%s: %d %+v, want 404 not-found", m, code, r.Error)
		}
	}
	code, r := call(t, srv, tok, "WhoAmI", `{"args":[]}`)
	if code != http.StatusOK || r.Error != nil || !strings.Contains(string(r.Results[0]), `"user":"alice"`) {
		t.Errorf("WhoAmI: %d %+v %s", code, r.Error, r.Results)
	}
}

// Errors travel with their kind, message and hint; bad calls are usage errors.
func TestErrorsKeepTheirKind(t *testing.T) {
	srv, _, tok := newServer(t)
	for _, tc := range []struct {
		method, body, kind, msg string
		code                    int
	}{
		{"ShowUser", `{"args":["nobody"]}`, "not-found", "no such user 'nobody'", http.StatusNotFound},
		{"AddGroup", `{"args":["Bad Name",""]}`, "usage", "invalid group name", http.StatusBadRequest},
		{"AddGroup", `{"args":["x"]}`, "usage", "takes 2 argument(s), not 1", http.StatusBadRequest},
		{"AddGroup", `{"args":[1,2]}`, "usage", "argument 1", http.StatusBadRequest},
		{"AddGroup", `not json`, "usage", "not valid JSON", http.StatusBadRequest},
		{"RevokeToken", `{"args":["missing"]}`, "not-found", "no token missing", http.StatusNotFound},
	} {
		code, r := call(t, srv, tok, tc.method, tc.body)
		if code != tc.code || r.Error == nil || r.Error.Kind != tc.kind || !strings.Contains(r.Error.Message, tc.msg) {
			t.Errorf("%s %s: %d %+v, want %d %s %q", tc.method, tc.body, code, r.Error, tc.code, tc.kind, tc.msg)
		}
	}
	_, r := call(t, srv, tok, "ShowUser", `{"args":["alicia"]}`)
	if r.Error.Hint != "did you mean 'alice'?" {
		t.Errorf("a not-found error's hint = %q", r.Error.Hint)
	}
	code, r := call(t, srv, "dsk_"+strings.Repeat("A", 43), "WhoAmI", `{"args":[]}`)
	if code != http.StatusUnauthorized || r.Error.Kind != "forbidden" || !strings.HasPrefix(r.Error.Message, "not authenticated") {
		t.Errorf("unknown token: %d %+v", code, r.Error)
	}
}

// A token's last-used time is written at most once a minute.
func TestLastUsedIsWrittenAtMostOncePerMinute(t *testing.T) {
	srv, svc, tok := newServer(t)
	lastUsed := func() time.Time {
		s := svc.Served(app.Principal{Via: helpdesk.ViaToken, Token: tok}, "")
		ts, err := s.ListTokens()
		if err != nil || len(ts) != 1 {
			t.Fatal(ts, err)
		}
		return ts[0].LastUsed.Time
	}
	call(t, srv, tok, "ListUsers", `{"args":[]}`)
	first := lastUsed()
	if first.IsZero() {
		t.Fatal("a used token has no last-used time")
	}
	call(t, srv, tok, "ListUsers", `{"args":[]}`)
	if again := lastUsed(); !again.Equal(first) {
		t.Errorf("last used moved from %v to %v within a minute", first, again)
	}
}

// A use case that waits longer than the server's write timeout (here for
// the database lock) still gets its answer out.
func TestSlowUseCaseOutlivesTheWriteTimeout(t *testing.T) {
	svc, tok := newService(t)
	srv := httptest.NewUnstartedServer(New(Options{Service: svc}))
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	defer srv.Close()
	held, err := bolt.Open(svc.DBPath, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(600 * time.Millisecond)
		held.Close()
	}()
	code, r := call(t, srv, tok, "AddGroup", `{"args":["tier1",""]}`)
	if code != http.StatusOK || r.Error != nil {
		t.Fatalf("slow call: %d %+v", code, r.Error)
	}
}

// spaces is a request body that opens a call's JSON and then sends nothing
// but white space, counting how much of it the server took.
type spaces struct {
	n, limit int
}

func (s *spaces) Read(p []byte) (int, error) {
	if s.n >= s.limit {
		return 0, io.EOF
	}
	if s.n == 0 {
		return s.emit(p, []byte(`{"args":[`))
	}
	k := min(len(p), s.limit-s.n)
	for i := range k {
		p[i] = ' '
	}
	s.n += k
	return k, nil
}

func (s *spaces) emit(p, b []byte) (int, error) {
	k := copy(p, b)
	s.n += k
	return k, nil
}

// A large upload waits until its token is known to be good, so a client
// without one cannot make the server read and decode it.
func TestLargeBodyWaitsForAValidToken(t *testing.T) {
	srv, _, tok := newServer(t)
	for _, bad := range []string{"", "dsk_" + strings.Repeat("A", 43), "not-a-token"} {
		body := &spaces{limit: 64 << 20}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+Prefix+"ListUsers", body)
		req.Header.Set("Authorization", "Bearer "+bad)
		res, err := srv.Client().Do(req)
		if err == nil {
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("token %q: status %d, want 401", bad, res.StatusCode)
			}
			res.Body.Close()
		}
		if body.n > 8<<20 {
			t.Errorf("token %q: the server read %d bytes of the body before refusing", bad, body.n)
		}
	}
	// With a good token the same kind of large body is read and the call runs.
	padded := `{"args":[` + strings.Repeat(" ", 1<<20) + `]}`
	code, r := call(t, srv, tok, "ListUsers", padded)
	if code != http.StatusOK || r.Error != nil {
		t.Errorf("good token, large body: %d %+v", code, r.Error)
	}
}
