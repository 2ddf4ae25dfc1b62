package mail

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/mail/mailtest"
)

const (
	testUser = "deskctl"
	testPass = "correct horse"
	waitLong = 10 * time.Second // bounds a hang; not a latency check
)

func plainConfig(srv *mailtest.Server) Config {
	return Config{
		Host:     srv.Host(),
		Port:     srv.Port(),
		Username: testUser,
		Password: testPass,
		TLS:      TLSNone,
		From:     "Helpdesk <helpdesk@example.com>",
		Timeout:  waitLong,
	}
}

func sampleApproval() ApprovalMail {
	return ApprovalMail{
		To:             "carol@example.com",
		ApproverName:   "Carol Jones",
		Ticket:         42,
		TicketSubject:  "VPN access for Dave",
		RequesterName:  "Dave Miller",
		TechnicianName: "Alex Tech",
		Note:           "Needed for the on-call rota.\nSee the manager's mail.",
		Expires:        time.Date(2026, 3, 9, 14, 0, 0, 0, time.UTC),
		ApproveURL:     "https://desk.example.com/approval/tok123?decision=approve",
		RejectURL:      "https://desk.example.com/approval/tok123?decision=reject",
	}
}

func TestSendDeliversBothPartsWithAuthPlain(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithAuth(testUser, testPass))
	m := ApprovalRequest(sampleApproval())
	m.MessageID = "outbox-7@example.com"

	if err := NewSMTP(plainConfig(srv)).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("server holds %d messages, want 1", len(got))
	}
	r := got[0]
	if r.ParseErr != nil {
		t.Fatalf("received message does not parse: %v\n%s", r.ParseErr, r.Raw)
	}
	checks := []struct{ what, got, want string }{
		{"envelope sender", r.From, "helpdesk@example.com"},
		{"envelope recipients", strings.Join(r.To, ","), "carol@example.com"},
		{"AUTH user", r.AuthUser, testUser},
		{"Subject", r.Subject, "Approval needed: #42 VPN access for Dave"},
		{"Message-ID", r.Header.Get("Message-ID"), "<outbox-7@example.com>"},
		{"References", r.Header.Get("References"), "<ticket-42@example.com>"},
		{"Auto-Submitted", r.Header.Get("Auto-Submitted"), "auto-generated"},
		{"text part", r.Text, m.Text},
		{"HTML part", r.HTML, m.HTML},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	to, err := r.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Carol Jones" || to[0].Address != "carol@example.com" {
		t.Errorf("To header = %v (%v), want Carol Jones <carol@example.com>", to, err)
	}
	from, err := r.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Helpdesk" {
		t.Errorf("From header = %v (%v), want Helpdesk <helpdesk@example.com>", from, err)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type = %q, want multipart/alternative", ct)
	}
	if r.Header.Get("Date") == "" {
		t.Error("no Date header")
	}
}

func TestSendEncodesNonASCIIAndLongLines(t *testing.T) {
	srv := mailtest.Start(t)
	cfg := plainConfig(srv)
	cfg.Username, cfg.Password = "", ""
	long := strings.Repeat("Zugang für Jürgen — ", 20)
	m := Message{To: "jurgen@example.com", ToName: "Jürgen Groß", Subject: "Zugang für Jürgen", Text: long, HTML: "<p>" + long + "</p>"}

	if err := NewSMTP(cfg).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := srv.Messages()[0]
	if r.Subject != m.Subject || r.Text != m.Text || r.HTML != m.HTML {
		t.Errorf("round trip changed the message:\nsubject %q\ntext %q\nhtml %q", r.Subject, r.Text, r.HTML)
	}
	for _, line := range strings.Split(string(r.Raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("raw line of %d bytes exceeds the SMTP limit", len(line))
		}
	}
	if r.AuthUser != "" {
		t.Errorf("logged in as %q without a username configured", r.AuthUser)
	}
	if !strings.HasSuffix(r.Header.Get("Message-ID"), "@example.com>") {
		t.Errorf("generated Message-ID %q is not under the sender's domain", r.Header.Get("Message-ID"))
	}
}

func TestSendTextOnlyMessage(t *testing.T) {
	srv := mailtest.Start(t)
	cfg := plainConfig(srv)
	cfg.Username, cfg.Password = "", ""
	m := Message{To: "carol@example.com", Subject: "plain", Text: "Just text.\n"}

	if err := NewSMTP(cfg).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := srv.Messages()[0]
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want a single text/plain part", ct)
	}
	if r.Text != m.Text || r.HTML != "" {
		t.Errorf("text %q html %q", r.Text, r.HTML)
	}
}

func TestSendFailuresAreClassified(t *testing.T) {
	tests := []struct {
		name     string
		server   []mailtest.Option
		setup    func(*mailtest.Server)
		config   func(*Config)
		msg      func(*Message)
		failure  Failure
		kind     errs.Kind
		code     int
		hintWord string
	}{
		{
			name:     "wrong password",
			server:   []mailtest.Option{mailtest.WithAuth(testUser, testPass)},
			config:   func(c *Config) { c.Password = "wrong" },
			failure:  Misconfigured,
			kind:     errs.Usage,
			code:     535,
			hintWord: "smtp.password",
		},
		{
			name:     "server wants a login that is not configured",
			server:   []mailtest.Option{mailtest.WithAuth(testUser, testPass)},
			config:   func(c *Config) { c.Username, c.Password = "", "" },
			failure:  Misconfigured,
			kind:     errs.Usage,
			code:     530,
			hintWord: "smtp.username",
		},
		{
			name:     "server down",
			setup:    (*mailtest.Server).Stop,
			failure:  Temporary,
			kind:     errs.Internal,
			hintWord: "smtp.port",
		},
		{
			name:     "recipient refused for good",
			setup:    func(s *mailtest.Server) { s.RejectNext(550) },
			failure:  Permanent,
			kind:     errs.Internal,
			code:     550,
			hintWord: "recipient",
		},
		{
			name:     "recipient deferred",
			setup:    func(s *mailtest.Server) { s.RejectNext(451) },
			failure:  Temporary,
			kind:     errs.Internal,
			code:     451,
			hintWord: "later",
		},
		{
			name:     "starttls required but not offered",
			config:   func(c *Config) { c.TLS = TLSStartTLS; c.Username, c.Password = "", "" },
			failure:  Misconfigured,
			kind:     errs.Usage,
			hintWord: "smtp.tls",
		},
		{
			name:     "implicit tls against a plain server",
			config:   func(c *Config) { c.TLS = TLSImplicit; c.Username, c.Password = "", "" },
			failure:  Misconfigured,
			kind:     errs.Usage,
			hintWord: "smtp.tls",
		},
		{
			name:     "not configured",
			config:   func(c *Config) { *c = Config{} },
			failure:  Misconfigured,
			kind:     errs.Usage,
			hintWord: "smtp.host",
		},
		{
			name:     "invalid settings",
			config:   func(c *Config) { c.TLS = "ssl" },
			failure:  Misconfigured,
			kind:     errs.Usage,
			hintWord: "starttls",
		},
		{
			name:     "recipient is not an address",
			msg:      func(m *Message) { m.To = "carol at example" },
			failure:  Permanent,
			kind:     errs.Usage,
			hintWord: "recipient",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, append([]mailtest.Option{mailtest.WithAuth(testUser, testPass)}, tt.server...)...)
			if tt.setup != nil {
				tt.setup(srv)
			}
			cfg := plainConfig(srv)
			if tt.config != nil {
				tt.config(&cfg)
			}
			m := TestMessage("carol@example.com")
			if tt.msg != nil {
				tt.msg(&m)
			}

			err := NewSMTP(cfg).Send(context.Background(), m)
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := Classify(err); got != tt.failure {
				t.Errorf("Classify = %s, want %s (error: %v)", got, tt.failure, err)
			}
			if got := IsPermanent(err); got != (tt.failure == Permanent) {
				t.Errorf("IsPermanent = %v for a %s failure", got, tt.failure)
			}
			if got := errs.KindOf(err); got != tt.kind {
				t.Errorf("kind = %s, want %s", got, tt.kind)
			}
			if got := ReplyCode(err); got != tt.code {
				t.Errorf("ReplyCode = %d, want %d (error: %v)", got, tt.code, err)
			}
			if hint := errs.HintOf(err); !strings.Contains(hint, tt.hintWord) {
				t.Errorf("hint %q does not mention %q", hint, tt.hintWord)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server accepted %d messages despite the failure", n)
			}
		})
	}
}

func TestSendAfterServerComesBack(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithAuth(testUser, testPass))
	sender := NewSMTP(plainConfig(srv))
	m := TestMessage("carol@example.com")

	srv.Stop()
	if err := sender.Send(context.Background(), m); Classify(err) != Temporary || err == nil {
		t.Fatalf("Send to a stopped server = %v (%s), want a temporary failure", err, Classify(err))
	}
	srv.Restart()
	if err := sender.Send(context.Background(), m); err != nil {
		t.Fatalf("Send after restart: %v", err)
	}
	if got := srv.WaitFor(1, waitLong); len(got) != 1 || got[0].Subject != m.Subject {
		t.Fatalf("after restart the server holds %d messages, want exactly the one sent", len(got))
	}
}

func TestSendCountsAcceptedMessageAsSentWhenConnectionDropsAfterwards(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithAuth(testUser, testPass))
	srv.DropAfterNextAccept()

	if err := NewSMTP(plainConfig(srv)).Send(context.Background(), TestMessage("carol@example.com")); err != nil {
		t.Fatalf("Send = %v; a message the server accepted must count as sent, or the outbox sends it twice", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("server holds %d messages, want 1", n)
	}
}

func TestSendOverTLS(t *testing.T) {
	tests := []struct {
		name   string
		option mailtest.Option
		mode   string
	}{
		{"starttls", mailtest.WithSTARTTLS(), TLSStartTLS},
		{"implicit tls", mailtest.WithImplicitTLS(), TLSImplicit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, mailtest.WithAuth(testUser, testPass), tt.option)
			cfg := plainConfig(srv)
			cfg.TLS = tt.mode

			trusting := &smtpSender{cfg: cfg, rootCAs: srv.RootCAs()}
			if err := trusting.Send(context.Background(), TestMessage("carol@example.com")); err != nil {
				t.Fatalf("Send with the server's certificate trusted: %v", err)
			}
			if got := srv.Messages(); len(got) != 1 || got[0].AuthUser != testUser {
				t.Fatalf("server holds %v, want one message sent after login", got)
			}

			// With the system roots the self-made certificate must be refused,
			// which is a settings problem, not a reason to give up on the mail.
			err := NewSMTP(cfg).Send(context.Background(), TestMessage("carol@example.com"))
			if err == nil || Classify(err) != Misconfigured {
				t.Fatalf("Send to an untrusted certificate = %v (%s), want a misconfigured failure", err, Classify(err))
			}
			if n := len(srv.Messages()); n != 1 {
				t.Errorf("untrusted server received a message; it holds %d", n)
			}
		})
	}
}

func TestSendHonoursCancelledContext(t *testing.T) {
	srv := mailtest.Start(t)
	cfg := plainConfig(srv)
	cfg.Username, cfg.Password = "", ""
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	err := NewSMTP(cfg).Send(ctx, TestMessage("carol@example.com"))
	if err == nil || Classify(err) != Temporary || !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with a cancelled context = %v (%s), want a temporary failure wrapping context.Canceled", err, Classify(err))
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages", n)
	}
}

func TestClassifyForeignErrors(t *testing.T) {
	if got := Classify(errors.New("disk full")); got != Temporary {
		t.Errorf("Classify(foreign error) = %s, want temporary", got)
	}
	if IsPermanent(nil) {
		t.Error("IsPermanent(nil) = true")
	}
	if ReplyCode(errors.New("x")) != 0 {
		t.Error("ReplyCode of a foreign error is not 0")
	}
}

// A server that never sends its greeting holds Send only until ctx ends,
// not for smtp.timeout, in every TLS mode.
func TestSendStopsWaitingForASilentServerWhenCtxEnds(t *testing.T) {
	for _, mode := range []string{TLSNone, TLSStartTLS, TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			host, port := mailtest.Silent(t)
			cfg := Config{Host: host, Port: port, TLS: mode, From: "helpdesk@example.com", Timeout: time.Hour}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- NewSMTP(cfg).Send(ctx, TestMessage("carol@example.com")) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(waitLong):
				t.Fatal("Send is still waiting for the silent server after its context ended")
			}
			if Classify(err) != Temporary || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Send = %v (%s), want a temporary failure wrapping context.DeadlineExceeded", err, Classify(err))
			}
		})
	}
}
