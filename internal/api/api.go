// Package api serves deskctl's use cases over HTTP for the remote CLI,
// inside `deskctl serve`. It is a thin adapter: it authenticates the caller
// from the transport (the kernel's peer credentials on a Unix socket, or a
// bearer token), runs the one use case the path names on an app.Service for
// that caller, and returns the results as JSON, or the error with its kind,
// message and hint. Every rule stays in internal/app.
//
//	POST /api/v1/call/{Method}   {"args": [...]}  →  {"results": [...], "error": {...}}
//
// Only the methods of app.UseCases can be called.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/user"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/web"
)

// Prefix is where the use cases are served.
const Prefix = "/api/v1/call/"

// AsHeader carries an impersonation request (--as); the server grants it to
// administrators only.
const AsHeader = "Deskctl-As"

// MaxBody bounds a request: the largest file a use case may be sent (a
// ticket import) plus its encoding.
const MaxBody = 96 << 20

// PreAuthBody is the largest request body the server reads before it has
// checked the token; a larger one (a file sent for import or apply), or one
// of unknown length, waits until the token is known to be good.
const PreAuthBody = 64 << 10

// CallTimeout bounds how long one use case may take to answer.
const CallTimeout = 15 * time.Minute

// MaxFile is the largest file the remote CLI sends.
const MaxFile = 64 << 20

// AuthFailures is how many failed authentications a client may make at
// once, and per minute after that.
var AuthFailures = web.RateLimit{PerMinute: 10, Burst: 10}

// Request is the body of a call.
type Request struct {
	Args []json.RawMessage `json:"args"`
}

// Response is the answer to a call: the use case's results (all but the
// error), and its error when it failed.
type Response struct {
	Results []json.RawMessage `json:"results"`
	Error   *Error            `json:"error,omitempty"`
}

// Error is an error as sent: its kind (errs.Kind's name), message and hint.
type Error struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

// Options configures the handler.
type Options struct {
	// Service is the server's own service: database, mail and the mailer.
	// Each request runs on a copy made for its caller (app.Service.Served).
	Service *app.Service
	Logger  *slog.Logger
	// TrustProxy counts failed authentications by X-Forwarded-For.
	TrustProxy bool
	// LookupUID maps a socket peer's uid to its OS login; nil uses os/user.
	LookupUID func(uid uint32) (string, error)
	Now       func() time.Time
}

type handler struct {
	Options
	methods map[string]reflect.Method
	limit   *web.FailureLimiter
	// turn lets one request at a time open the file. Requests of one
	// process would otherwise poll for the file lock against each other,
	// unfairly, and some would give up after --lock-timeout while the
	// server is merely busy; in turn they wait in order.
	turn chan struct{}
}

// useCases is the interface the API dispatches: exactly its methods.
var useCases = reflect.TypeFor[app.UseCases]()

// Methods lists the names of the use cases the API serves.
func Methods() []string {
	out := make([]string, useCases.NumMethod())
	for i := range out {
		out[i] = useCases.Method(i).Name
	}
	return out
}

// New returns the API handler, to be mounted under /api/.
func New(opts Options) http.Handler {
	h := &handler{Options: opts, methods: map[string]reflect.Method{}, limit: web.NewFailureLimiter(AuthFailures),
		turn: make(chan struct{}, 1)}
	for i := 0; i < useCases.NumMethod(); i++ {
		m := useCases.Method(i)
		h.methods[m.Name] = m
	}
	if h.Logger == nil {
		h.Logger = slog.New(slog.DiscardHandler)
	}
	if h.LookupUID == nil {
		h.LookupUID = lookupUID
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	return h
}

func lookupUID(uid uint32) (string, error) {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

type peerKey struct{}

// peer is what the kernel says about a Unix socket client.
type peer struct {
	uid uint32
	err error
}

// ConnContext records the peer credentials of connections accepted on a
// Unix socket (SO_PEERCRED), for http.Server.ConnContext. Other
// connections pass through unchanged.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	p := peer{err: errors.New("no peer credentials")}
	if raw, err := uc.SyscallConn(); err == nil {
		cerr := raw.Control(func(fd uintptr) { p.uid, p.err = peerUID(fd) })
		if cerr != nil {
			p.err = cerr
		}
	}
	return context.WithValue(ctx, peerKey{}, p)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	m, known := h.methods[name]
	switch {
	case !ok || !known:
		h.reply(w, http.StatusNotFound, nil, errs.NotFoundf("no use case %q in this server's API", name).
			WithHint("the server may be an older deskctl: compare `deskctl version` on both sides"))
		return
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		h.reply(w, http.StatusMethodNotAllowed, nil, errs.Usagef("use POST"))
		return
	}
	// A use case (a large import, a policy apply) may run longer than the
	// pages' write timeout; the request body must still arrive within theirs.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(CallTimeout))
	principal, client, err := h.principal(r)
	now := h.Now()
	if err != nil {
		if h.take(r) {
			h.failed(principal, client, now, err)
			<-h.turn
		}
		h.reply(w, http.StatusUnauthorized, nil, err)
		return
	}
	if blocked, wait := h.limit.Blocked(client, now); blocked {
		h.reply(w, http.StatusTooManyRequests, nil, errs.Busyf("too many failed authentications from this client").
			WithHint("wait %s, then check your token with `deskctl auth status`", wait.Round(time.Second)+time.Second))
		return
	}
	if principal.Via == helpdesk.ViaToken && (r.ContentLength < 0 || r.ContentLength > PreAuthBody) {
		if !h.take(r) {
			return
		}
		err := h.Service.Served(principal, "").Authenticate()
		if app.IsNotAuthenticated(err) {
			h.failed(principal, client, now, err)
		}
		<-h.turn
		if err != nil {
			h.reply(w, status(err), nil, err)
			return
		}
	}
	var req Request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody)).Decode(&req); err != nil {
		h.reply(w, http.StatusBadRequest, nil, errs.Usagef("the request is not valid JSON: %v", err))
		return
	}
	in, err := decodeArgs(m.Type, req.Args)
	if err != nil {
		h.reply(w, http.StatusBadRequest, nil, err)
		return
	}
	if !h.take(r) {
		return // the caller gave up waiting
	}
	defer func() { <-h.turn }()
	svc := h.Service.Served(principal, r.Header.Get(AsHeader))
	fn := reflect.ValueOf(app.UseCases(svc)).MethodByName(name)
	var outs []reflect.Value
	if m.Type.IsVariadic() {
		outs = fn.CallSlice(in)
	} else {
		outs = fn.Call(in)
	}
	results, err := splitResults(outs)
	if err != nil && app.IsNotAuthenticated(err) {
		h.failed(principal, client, now, err)
	}
	h.reply(w, status(err), results, err)
}

// take waits for the request's turn at the file (see handler.turn); false
// means the caller went away first.
func (h *handler) take(r *http.Request) bool {
	select {
	case h.turn <- struct{}{}:
		return true
	case <-r.Context().Done():
		return false
	}
}

// failed counts a failed authentication against the client and audits it
// (the reason names no secret: messages never quote the token).
func (h *handler) failed(p app.Principal, client string, now time.Time, err error) {
	h.limit.Fail(client, now)
	if aerr := h.Service.RecordAuthFailure(p.Via, p.OSLogin, client, err.Error()); aerr != nil {
		h.Logger.Warn("cannot record a failed authentication", "error", aerr)
	}
}

// principal is who the transport vouches for, and the key failures count by.
func (h *handler) principal(r *http.Request) (app.Principal, string, error) {
	if p, ok := r.Context().Value(peerKey{}).(peer); ok {
		if p.err != nil {
			return app.Principal{Via: helpdesk.ViaSocket}, "socket", errs.Forbiddenf("not authenticated: the socket gave no peer credentials: %v", p.err)
		}
		client := "uid:" + strconv.FormatUint(uint64(p.uid), 10)
		login, err := h.LookupUID(p.uid)
		if err != nil {
			return app.Principal{Via: helpdesk.ViaSocket}, client, errs.Forbiddenf("not authenticated: uid %d has no OS login on the server", p.uid).
				WithHint("connect as a user the server host knows, or use a token over https")
		}
		return app.Principal{Via: helpdesk.ViaSocket, OSLogin: login}, client, nil
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return app.Principal{Via: helpdesk.ViaToken, Token: strings.TrimSpace(token)}, web.ClientKey(r, h.TrustProxy), nil
}

// decodeArgs decodes one JSON value per parameter of a use case. Callbacks
// (progress reports) cannot travel: they stay nil.
func decodeArgs(t reflect.Type, raw []json.RawMessage) ([]reflect.Value, error) {
	in := make([]reflect.Value, t.NumIn())
	if len(raw) != len(in) {
		return nil, errs.Usagef("the call takes %d argument(s), not %d", len(in), len(raw))
	}
	for i := range in {
		pt := t.In(i)
		if pt.Kind() == reflect.Func {
			in[i] = reflect.Zero(pt)
			continue
		}
		v := reflect.New(pt)
		if err := json.Unmarshal(raw[i], v.Interface()); err != nil {
			return nil, errs.Usagef("argument %d: %v", i+1, err)
		}
		in[i] = v.Elem()
	}
	return in, nil
}

var errorType = reflect.TypeFor[error]()

func splitResults(outs []reflect.Value) ([]json.RawMessage, error) {
	var err error
	if n := len(outs); n > 0 && outs[n-1].Type() == errorType {
		if !outs[n-1].IsNil() {
			err = outs[n-1].Interface().(error)
		}
		outs = outs[:n-1]
	}
	results := make([]json.RawMessage, len(outs))
	for i, o := range outs {
		b, merr := json.Marshal(o.Interface())
		if merr != nil {
			return nil, errs.Wrap(errs.Internal, merr, "cannot encode the result")
		}
		results[i] = b
	}
	return results, err
}

// status is the HTTP status for an error's kind.
func status(err error) int {
	if err == nil {
		return http.StatusOK
	}
	if app.IsNotAuthenticated(err) {
		return http.StatusUnauthorized
	}
	switch errs.KindOf(err) {
	case errs.Negative:
		return http.StatusUnprocessableEntity
	case errs.Usage:
		return http.StatusBadRequest
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.Conflict:
		return http.StatusConflict
	case errs.Busy, errs.Unusable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func (h *handler) reply(w http.ResponseWriter, code int, results []json.RawMessage, err error) {
	resp := Response{Results: results}
	if err != nil {
		resp.Error = &Error{Kind: errs.KindOf(err).String(), Message: err.Error(), Hint: errs.HintOf(err)}
		if code == http.StatusOK {
			code = status(err)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if code == http.StatusServiceUnavailable {
		// The database is busy or unreachable: worth retrying shortly.
		w.Header().Set("Retry-After", "2")
	}
	w.WriteHeader(code)
	if werr := json.NewEncoder(w).Encode(resp); werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
		h.Logger.Debug("cannot write the response", "error", werr)
	}
}
