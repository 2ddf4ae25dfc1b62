// Package web serves the approval confirmation pages behind `deskctl serve`.
//
// An approval link is a bearer secret mailed to the approver. Opening it (GET or
// HEAD, which mail scanners do on their own) only shows a confirmation page; the
// decision is a POST from that page's form, guarded by an Origin check and a
// CSRF field bound to the link token. Every lookup goes through the Approvals
// use cases, which open the database per call, so the server never holds the lock.
package web

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Approvals is what the pages need from the approval use cases. Each call opens the
// database, does one transaction and closes it (the server never holds the lock).
type Approvals interface {
	// View returns what the confirmation page shows for a link token, or an error:
	// *helpdesk.LinkError for unusable links (unknown/used/expired/cancelled/superseded),
	// an error with errs.Busy kind when the database is locked, anything else is internal.
	View(ctx context.Context, token string) (View, error)
	// Decide records the decision inside one write transaction (single use enforced there);
	// same errors as View.
	Decide(ctx context.Context, token string, approve bool, comment string) (Outcome, error)
}

// View is what the confirmation page shows about a pending approval.
type View struct {
	Ticket      int
	Subject     string
	Requester   string // who the ticket is for
	RequestedBy string // the technician asking for approval
	Approver    string
	Note        string
	Expires     time.Time
}

// Outcome is what the result page shows after a decision was recorded.
type Outcome struct {
	Ticket   int
	Subject  string
	Approved bool
	Approver string
	Comment  string
}

// RateLimit bounds approval-link requests per client address with a token
// bucket. Every request under /approval/ costs one token; a request that looks
// like guessing (unknown or malformed link, forged form) costs one more.
type RateLimit struct {
	// PerMinute is the sustained rate. Zero means DefaultRateLimit's; negative turns limiting off.
	PerMinute int
	// Burst is how many requests a client may make at once. Zero means DefaultRateLimit's.
	Burst int
}

// DefaultRateLimit leaves room for an approver, their mail scanner and a few
// retries, while making link guessing slow.
var DefaultRateLimit = RateLimit{PerMinute: 30, Burst: 20}

// Options configures the handler New returns.
type Options struct {
	Approvals Approvals
	// PublicURL is where approvers reach the server (the `public-url` setting).
	// Links and the Origin check use it, never the request's Host header; its
	// path, if any, prefixes every route.
	PublicURL *url.URL
	// Secret keys the CSRF field. Empty means a random per-process secret, so
	// forms opened before a restart are refused afterwards.
	Secret []byte
	// Logger receives one line per request with link tokens redacted. Nil discards.
	Logger *slog.Logger
	// Clock is the time source for rate limiting and "expires in" wording. Nil means time.Now.
	Clock     func() time.Time
	RateLimit RateLimit
	// TrustProxy makes the rate limiter key clients by the last X-Forwarded-For
	// address. Set it only when a reverse proxy that appends that header is the
	// only way to reach the server.
	TrustProxy bool
	// API, when set, serves every path under /api/ (the use cases for the
	// remote CLI) beside the pages.
	API http.Handler
}

// MaxCommentLen is the longest decision comment accepted, in characters.
const MaxCommentLen = 4000

// maxFormBytes leaves room for MaxCommentLen four-byte characters, percent-encoded.
const maxFormBytes = 64 << 10

type handler struct {
	approvals  Approvals
	public     *url.URL
	origin     string // PublicURL's origin, normalised
	prefix     string // PublicURL's path without the trailing slash
	secret     []byte
	log        *slog.Logger
	now        func() time.Time
	limit      *limiter // nil when off
	trustProxy bool
	api        http.Handler
}

// New returns the handler for the approval pages. It panics when Approvals is
// nil or PublicURL fails CheckPublicURL: both are wiring mistakes the caller
// must catch earlier (use ParsePublicURL when reading the setting).
func New(opts Options) http.Handler {
	if opts.Approvals == nil {
		panic("web.New: Options.Approvals is nil")
	}
	if err := CheckPublicURL(opts.PublicURL); err != nil {
		panic("web.New: " + err.Error())
	}
	h := &handler{
		approvals:  opts.Approvals,
		public:     opts.PublicURL,
		origin:     originOf(opts.PublicURL),
		prefix:     routePrefix(opts.PublicURL),
		secret:     opts.Secret,
		log:        opts.Logger,
		now:        opts.Clock,
		trustProxy: opts.TrustProxy,
		api:        opts.API,
	}
	if len(h.secret) == 0 {
		h.secret = make([]byte, 32)
		rand.Read(h.secret) // never fails (crypto/rand panics instead)
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	rl := opts.RateLimit
	if rl.PerMinute == 0 {
		rl.PerMinute = DefaultRateLimit.PerMinute
	}
	if rl.Burst <= 0 {
		rl.Burst = DefaultRateLimit.Burst
	}
	if rl.PerMinute > 0 {
		h.limit = newLimiter(rl)
	}
	return h
}

// hstsMaxAge is one year, the usual value for HSTS; subdomains and the
// browsers' preload list are left for the site's owner to opt into.
const hstsMaxAge = "max-age=31536000"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	// Approvers reach the pages at public-url; when that is https (a TLS
	// proxy in front), browsers are told to never use plain http for it.
	if h.public.Scheme == "https" {
		w.Header().Set("Strict-Transport-Security", hstsMaxAge)
	}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	start := h.now()
	defer func() {
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", h.redactPath(r.URL.Path)),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", h.now().Sub(start)),
			slog.String("client", h.clientKey(r)),
		)
	}()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("panic while serving a request", "path", h.redactPath(r.URL.Path), "panic", v)
			if !rec.wrote {
				h.problem(rec, r, http.StatusInternalServerError, problemInternal)
			}
		}
	}()
	h.route(rec, r)
}

func (h *handler) route(w http.ResponseWriter, r *http.Request) {
	path, ok := h.stripPrefix(r.URL.Path)
	if !ok {
		h.problem(w, r, http.StatusNotFound, problemNoPage)
		return
	}
	switch {
	case h.api != nil && strings.HasPrefix(path, "/api/"):
		// The API authenticates and limits on its own; it sees the route
		// without public-url's path.
		r2 := r.Clone(r.Context())
		r2.URL.Path = path
		h.api.ServeHTTP(w, r2)
	case path == "/healthz":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.methodNotAllowed(w, r, "GET, HEAD")
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", "3")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte("ok\n"))
		}
	case strings.HasPrefix(path, "/approval/"):
		if !h.allow(w, r) {
			return
		}
		token := strings.TrimPrefix(path, "/approval/")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.showPage(w, r, token)
		case http.MethodPost:
			h.decide(w, r, token)
		default:
			h.methodNotAllowed(w, r, "GET, HEAD, POST")
		}
	default:
		h.problem(w, r, http.StatusNotFound, problemNoPage)
	}
}

// routePrefix is PublicURL's path as "/a/b", or "" for the root.
func routePrefix(u *url.URL) string {
	if p := strings.Trim(u.Path, "/"); p != "" {
		return "/" + p
	}
	return ""
}

// stripPrefix removes PublicURL's path so links built by LinkURL reach the routes.
func (h *handler) stripPrefix(p string) (string, bool) {
	if h.prefix == "" {
		return p, true
	}
	rest, ok := strings.CutPrefix(p, h.prefix)
	if !ok || !strings.HasPrefix(rest, "/") {
		return "", false
	}
	return rest, true
}

// showPage renders the confirmation page. It never decides anything: mail
// scanners fetch (and even script) every link they see.
func (h *handler) showPage(w http.ResponseWriter, r *http.Request, token string) {
	if !helpdesk.ValidTokenShape(token) {
		h.refuseGuess(w, r, http.StatusNotFound, problemUnknownLink)
		return
	}
	v, err := h.approvals.View(r.Context(), token)
	if err != nil {
		h.linkFailure(w, r, token, err)
		return
	}
	h.confirm(w, r, http.StatusOK, token, v, r.URL.Query().Get("decision"), "", "")
}

func (h *handler) decide(w http.ResponseWriter, r *http.Request, token string) {
	if !helpdesk.ValidTokenShape(token) {
		h.refuseGuess(w, r, http.StatusNotFound, problemUnknownLink)
		return
	}
	if ok, why := h.sameOrigin(r); !ok {
		h.log.Warn("refused a decision from another origin", "reason", why)
		h.refuseGuess(w, r, http.StatusForbidden, problemForged)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.problem(w, r, http.StatusRequestEntityTooLarge, problemTooLarge)
			return
		}
		h.problem(w, r, http.StatusBadRequest, problemBadForm)
		return
	}
	// Only the body counts: the link's own ?decision= must not stand in for the form.
	form := r.PostForm
	if !h.csrfValid(token, form.Get("csrf")) {
		h.log.Warn("refused a decision with a bad form key")
		h.refuseGuess(w, r, http.StatusForbidden, problemForged)
		return
	}
	var approve bool
	switch form.Get("decision") {
	case "approve":
		approve = true
	case "reject":
	default:
		h.problem(w, r, http.StatusBadRequest, problemNoDecision)
		return
	}
	comment, err := cleanComment(form.Get("comment"))
	if err != nil {
		// Show the form again with the text kept, so nothing typed is lost.
		v, verr := h.approvals.View(r.Context(), token)
		if verr != nil {
			h.linkFailure(w, r, token, verr)
			return
		}
		h.confirm(w, r, http.StatusBadRequest, token, v, form.Get("decision"), form.Get("comment"), err.Error())
		return
	}
	out, err := h.approvals.Decide(r.Context(), token, approve, comment)
	if err != nil {
		h.linkFailure(w, r, token, err)
		return
	}
	h.log.Info("approval decided", "ticket", out.Ticket, "approved", out.Approved)
	h.result(w, r, out)
}

// linkFailure turns an error from the approval use cases into an error page.
func (h *handler) linkFailure(w http.ResponseWriter, r *http.Request, token string, err error) {
	var le *helpdesk.LinkError
	switch {
	case errors.As(err, &le):
		if le.Problem == helpdesk.LinkUnknown {
			h.refuseGuess(w, r, http.StatusNotFound, problemUnknownLink)
			return
		}
		h.problem(w, r, http.StatusGone, goneProblem(le))
	case errs.Is(err, errs.Busy):
		w.Header().Set("Retry-After", "2")
		h.problem(w, r, http.StatusServiceUnavailable, problemBusy)
	case errs.Is(err, errs.Unusable):
		// A damaged or missing database: say so in the log, keep serving,
		// and answer the next request afresh once the file is restored.
		h.log.Error("the database cannot be used", "path", h.redactPath(r.URL.Path), "error", strings.ReplaceAll(err.Error(), token, redacted))
		h.problem(w, r, http.StatusServiceUnavailable, problemUnavailable)
	default:
		// The use cases should never put a token in an error, but the log must not depend on that.
		msg := strings.ReplaceAll(err.Error(), token, redacted)
		h.log.Error("approval lookup failed", "path", h.redactPath(r.URL.Path), "error", msg)
		h.problem(w, r, http.StatusInternalServerError, problemInternal)
	}
}

// refuseGuess answers a request that may be someone probing for links and
// charges the client's rate limit a second time.
func (h *handler) refuseGuess(w http.ResponseWriter, r *http.Request, status int, p problem) {
	if h.limit != nil {
		h.limit.charge(h.clientKey(r), h.now())
	}
	h.problem(w, r, status, p)
}

// allow applies the rate limit; it answers 429 itself when the client is over.
func (h *handler) allow(w http.ResponseWriter, r *http.Request) bool {
	if h.limit == nil {
		return true
	}
	ok, wait := h.limit.take(h.clientKey(r), h.now())
	if ok {
		return true
	}
	secs := int(wait.Seconds() + 0.999)
	w.Header().Set("Retry-After", itoa(max(secs, 1)))
	h.problem(w, r, http.StatusTooManyRequests, problemRateLimited)
	return false
}

func (h *handler) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	h.problem(w, r, http.StatusMethodNotAllowed, problemMethod)
}

// recorder remembers the status and size for the request log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (rec *recorder) WriteHeader(code int) {
	if !rec.wrote {
		rec.status = code
		rec.wrote = true
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	rec.wrote = true
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }
