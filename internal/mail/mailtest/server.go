// Package mailtest runs a real SMTP server on the loopback interface for
// tests: it speaks SMTP through github.com/emersion/go-smtp, checks AUTH
// PLAIN credentials, keeps every accepted message parsed into its text and
// HTML parts, and can be told to go down or refuse a message.
package mailtest

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Option changes how Start sets up the server.
type Option func(*options)

type options struct {
	username, password string
	startTLS           bool
	implicitTLS        bool
}

// WithAuth makes the server require AUTH PLAIN with exactly these
// credentials before it accepts a message. Without it, AUTH PLAIN is still
// offered and any credentials pass.
func WithAuth(username, password string) Option {
	return func(o *options) { o.username, o.password = username, password }
}

// WithSTARTTLS offers STARTTLS with a certificate made for this server; trust
// it through RootCAs.
func WithSTARTTLS() Option { return func(o *options) { o.startTLS = true } }

// WithImplicitTLS speaks TLS from the first byte, like port 465; trust the
// certificate through RootCAs.
func WithImplicitTLS() Option { return func(o *options) { o.implicitTLS = true } }

// Server is a running test SMTP server.
type Server struct {
	t    testing.TB
	opts options
	addr string
	tls  *tls.Config
	pool *x509.CertPool

	mu        sync.Mutex
	srv       *smtp.Server // nil while stopped
	ln        net.Listener
	messages  []Received
	arrived   chan struct{} // closed and replaced whenever a message arrives
	rejects   []int
	dropAfter int
	hold      *Hold
}

// Start listens on 127.0.0.1 on a free port and serves until the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, arrived: make(chan struct{})}
	for _, o := range opts {
		o(&s.opts)
	}
	if s.opts.startTLS || s.opts.implicitTLS {
		conf, pool, err := selfSigned()
		if err != nil {
			t.Fatalf("mailtest: certificate: %v", err)
		}
		s.tls, s.pool = conf, pool
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return s.addr }

// Host is the server's IP address, 127.0.0.1.
func (s *Server) Host() string {
	h, _, _ := net.SplitHostPort(s.addr)
	return h
}

// Port is the server's TCP port; it stays the same across Stop and Restart.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// RootCAs trusts the server's certificate; nil unless a TLS option was given.
func (s *Server) RootCAs() *x509.CertPool { return s.pool }

// Messages returns every message accepted so far, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.messages...)
}

// WaitFor blocks until at least n messages have arrived and returns all of
// them. timeout only bounds a test that would otherwise hang: choose it
// generously, it is not a latency assertion. Reaching it fails the test.
func (s *Server) WaitFor(n int, timeout time.Duration) []Received {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, arrived := len(s.messages), s.arrived
		if got >= n {
			msgs := append([]Received(nil), s.messages...)
			s.mu.Unlock()
			return msgs
		}
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-deadline.C:
			s.t.Fatalf("mailtest: waited %s for %d message(s), %d arrived", timeout, n, got)
			return nil
		}
	}
}

// RejectNext makes the server refuse the next recipient it is given with
// the SMTP reply code, e.g. 550 (permanent) or 451 (try later). Calls queue
// up: each one refuses one more recipient.
func (s *Server) RejectNext(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects = append(s.rejects, code)
}

// DropAfterNextAccept cuts the connection right after the next message has
// been accepted, before the client can send RSET or QUIT, as a server or
// network failing at the worst moment would.
func (s *Server) DropAfterNextAccept() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropAfter++
}

// Hold keeps the server from answering the next message's DATA until
// Release, as a slow server would: Arrived is closed once that message has
// been read, so a test knows a client is waiting on the server.
type Hold struct {
	Arrived chan struct{}
	release chan struct{}
}

// Release lets the held message be accepted.
func (h *Hold) Release() { close(h.release) }

// HoldNext holds the next message (see Hold).
func (s *Server) HoldNext() *Hold {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = &Hold{Arrived: make(chan struct{}), release: make(chan struct{})}
	return s.hold
}

// Stop closes the listener and every open connection, so new connections
// are refused until Restart. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	// Close the listener directly as well: the server only learns about it
	// once its Serve goroutine runs, which may not have happened yet.
	_ = ln.Close()
	_ = srv.Close()
}

// Restart listens again on the same address after Stop.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	running := s.srv != nil
	s.mu.Unlock()
	if running {
		return
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("mailtest: listen again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{server: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 50
	// Logins over plain TCP are fine here: the server only listens on loopback.
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if s.opts.startTLS {
		srv.TLSConfig = s.tls
	}
	if s.opts.implicitTLS {
		ln = tls.NewListener(ln, s.tls)
	}
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

func (s *Server) takeReject() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rejects) == 0 {
		return 0
	}
	code := s.rejects[0]
	s.rejects = s.rejects[1:]
	return code
}

func (s *Server) accept(r Received) (drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, r)
	close(s.arrived)
	s.arrived = make(chan struct{})
	if s.dropAfter > 0 {
		s.dropAfter--
		return true
	}
	return false
}

// session is one SMTP connection's state.
type session struct {
	server   *Server
	conn     *smtp.Conn
	authUser string
	from     string
	to       []string
	drop     bool
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		o := ss.server.opts
		if o.username != "" && (username != o.username || password != o.password) {
			return smtp.ErrAuthFailed
		}
		if identity != "" && identity != username {
			return smtp.ErrAuthFailed
		}
		ss.authUser = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.server.opts.username != "" && ss.authUser == "" {
		return errAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if code := ss.server.takeReject(); code != 0 {
		return &smtp.SMTPError{
			Code:         code,
			EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0},
			Message:      "mailtest refuses this recipient as the test asked",
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.server.mu.Lock()
	h := ss.server.hold
	ss.server.hold = nil
	ss.server.mu.Unlock()
	if h != nil {
		close(h.Arrived)
		<-h.release
	}
	rec := parse(raw)
	rec.From, rec.To, rec.AuthUser = ss.from, append([]string(nil), ss.to...), ss.authUser
	ss.drop = ss.server.accept(rec)
	return nil
}

// Reset runs after every DATA reply as well as on RSET, which makes it the
// place to cut a connection right after "250 accepted" went out.
func (ss *session) Reset() {
	ss.from, ss.to = "", nil
	if ss.drop {
		ss.drop = false
		_ = ss.conn.Conn().Close()
	}
}

func (ss *session) Logout() error { return nil }

var _ smtp.AuthSession = (*session)(nil)
