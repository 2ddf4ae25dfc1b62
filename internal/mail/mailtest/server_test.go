package mailtest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const waitLong = 10 * time.Second // bounds a hang; not a latency check

// A message as a typical mail program writes it: encoded-word subject,
// quoted-printable text with a soft line break, base64 HTML.
const multipartRaw = "From: Helpdesk <helpdesk@example.com>\r\n" +
	"To: carol@example.com\r\n" +
	"Subject: =?UTF-8?q?Zugang_f=C3=BCr_J=C3=BCrgen?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Gr=C3=BC=C3=9Fe, see https://desk.example.com/approval?token=3Dabc&decision=3D=\r\n" +
	"approve.\r\n" +
	"Second line\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+R3LDvMOfZTwvcD4=\r\n" +
	"--b1--\r\n"

func send(t *testing.T, s *Server, user, pass, raw string) error {
	t.Helper()
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		return err
	}
	defer c.Close()
	if user != "" {
		if err := c.Auth(sasl.NewPlainClient("", user, pass)); err != nil {
			return err
		}
	}
	if err := c.SendMail("helpdesk@example.com", []string{"carol@example.com"}, strings.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}

func replyCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestServerParsesMultipartMessages(t *testing.T) {
	s := Start(t, WithAuth("u", "p"))
	if err := send(t, s, "u", "p", multipartRaw); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := s.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	r := got[0]
	if r.ParseErr != nil {
		t.Fatalf("ParseErr = %v", r.ParseErr)
	}
	want := Received{
		From:     "helpdesk@example.com",
		To:       []string{"carol@example.com"},
		AuthUser: "u",
		Subject:  "Zugang für Jürgen",
		Text:     "Grüße, see https://desk.example.com/approval?token=abc&decision=approve.\nSecond line",
		HTML:     "<p>Grüße</p>",
	}
	if r.From != want.From || !reflect.DeepEqual(r.To, want.To) || r.AuthUser != want.AuthUser ||
		r.Subject != want.Subject || r.Text != want.Text || r.HTML != want.HTML {
		t.Errorf("received\n%+v\nwant\n%+v", r, want)
	}
	if r.Header.Get("To") != "carol@example.com" {
		t.Errorf("To header = %q", r.Header.Get("To"))
	}
	if !strings.Contains(string(r.Raw), "boundary=\"b1\"") {
		t.Error("Raw does not hold the message as sent")
	}
}

func TestServerParsesSinglePartQuotedPrintable(t *testing.T) {
	s := Start(t)
	raw := "Subject: plain\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nna=C3=AFve=\r\n text\r\n"
	if err := send(t, s, "", "", raw); err != nil {
		t.Fatalf("send: %v", err)
	}
	r := s.Messages()[0]
	if r.Text != "naïve text\n" || r.HTML != "" || r.Subject != "plain" || r.AuthUser != "" {
		t.Errorf("got text %q html %q subject %q user %q", r.Text, r.HTML, r.Subject, r.AuthUser)
	}
}

func TestServerAuth(t *testing.T) {
	tests := []struct {
		name       string
		opts       []Option
		user, pass string
		wantCode   int // 0: accepted
	}{
		{"right credentials", []Option{WithAuth("u", "p")}, "u", "p", 0},
		{"wrong password", []Option{WithAuth("u", "p")}, "u", "nope", 535},
		{"wrong user", []Option{WithAuth("u", "p")}, "x", "p", 535},
		{"no login when one is required", []Option{WithAuth("u", "p")}, "", "", 530},
		{"any login when none is required", nil, "anyone", "anything", 0},
		{"no login when none is required", nil, "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, tt.opts...)
			err := send(t, s, tt.user, tt.pass, multipartRaw)
			if got := replyCode(err); got != tt.wantCode {
				t.Fatalf("reply code %d (%v), want %d", got, err, tt.wantCode)
			}
			wantMsgs := 0
			if tt.wantCode == 0 {
				wantMsgs = 1
			}
			if got := len(s.Messages()); got != wantMsgs {
				t.Errorf("%d messages kept, want %d", got, wantMsgs)
			}
		})
	}
}

func TestServerRejectNext(t *testing.T) {
	s := Start(t)
	s.RejectNext(550)
	s.RejectNext(451)
	for _, want := range []int{550, 451, 0} {
		if got := replyCode(send(t, s, "", "", multipartRaw)); got != want {
			t.Errorf("reply code %d, want %d", got, want)
		}
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages kept, want only the one after the refusals", n)
	}
}

func TestServerStopAndRestart(t *testing.T) {
	s := Start(t)
	port := s.Port()
	s.Stop()
	if err := send(t, s, "", "", multipartRaw); err == nil {
		t.Fatal("a stopped server accepted a connection")
	}
	s.Stop() // stopping twice is harmless
	s.Restart()
	if s.Port() != port {
		t.Errorf("port changed from %d to %d", port, s.Port())
	}
	if err := send(t, s, "", "", multipartRaw); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestServerDropAfterNextAccept(t *testing.T) {
	s := Start(t)
	s.DropAfterNextAccept()
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail("helpdesk@example.com", []string{"carol@example.com"}, strings.NewReader(multipartRaw)); err != nil {
		t.Fatalf("the message itself should be accepted: %v", err)
	}
	if err := c.Noop(); err == nil {
		t.Error("the connection survived the accepted message")
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
	if err := send(t, s, "", "", multipartRaw); err != nil {
		t.Errorf("the next connection should work normally: %v", err)
	}
}

func TestServerTLS(t *testing.T) {
	t.Run("starttls", func(t *testing.T) {
		s := Start(t, WithSTARTTLS(), WithAuth("u", "p"))
		c, err := smtp.DialStartTLS(s.Addr(), &tls.Config{RootCAs: s.RootCAs(), ServerName: s.Host()})
		if err != nil {
			t.Fatalf("STARTTLS: %v", err)
		}
		defer c.Close()
		if _, ok := c.TLSConnectionState(); !ok {
			t.Fatal("connection is not encrypted")
		}
		if err := c.Auth(sasl.NewPlainClient("", "u", "p")); err != nil {
			t.Fatalf("auth: %v", err)
		}
	})
	t.Run("implicit", func(t *testing.T) {
		s := Start(t, WithImplicitTLS())
		c, err := smtp.DialTLS(s.Addr(), &tls.Config{RootCAs: s.RootCAs(), ServerName: "localhost"})
		if err != nil {
			t.Fatalf("TLS: %v", err)
		}
		defer c.Close()
		if err := c.SendMail("a@example.com", []string{"b@example.com"}, strings.NewReader(multipartRaw)); err != nil {
			t.Fatalf("send: %v", err)
		}
	})
	if Start(t).RootCAs() != nil {
		t.Error("a plain server hands out a certificate pool")
	}
}

type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = fmt.Sprintf(format, args...)
}

func TestWaitFor(t *testing.T) {
	s := Start(t)
	done := make(chan error, 1)
	go func() {
		c, err := smtp.Dial(s.Addr())
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		done <- c.SendMail("a@example.com", []string{"b@example.com"}, strings.NewReader(multipartRaw))
	}()
	if got := s.WaitFor(1, waitLong); len(got) != 1 {
		t.Fatalf("WaitFor returned %d messages", len(got))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	rec := &recordingTB{TB: t}
	quiet := Start(rec)
	if got := quiet.WaitFor(1, 20*time.Millisecond); got != nil {
		t.Errorf("WaitFor without mail returned %v", got)
	}
	if !strings.Contains(rec.failed, "0 arrived") {
		t.Errorf("WaitFor without mail failed the test with %q", rec.failed)
	}
}

func TestLinks(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"no links here", nil},
		{"Approve: https://d.example/a?t=1&d=approve\nReject: https://d.example/a?t=1&d=reject\n",
			[]string{"https://d.example/a?t=1&d=approve", "https://d.example/a?t=1&d=reject"}},
		{`<a href="https://d.example/a?t=1&amp;d=approve">https://d.example/a?t=1&amp;d=approve</a>`,
			[]string{"https://d.example/a?t=1&d=approve"}},
		{"see http://x.example/page. Or (https://y.example/p), fine", []string{"http://x.example/page", "https://y.example/p"}},
		{"ftp://x.example and mailto:a@example.com are not web links", nil},
	}
	for _, tt := range tests {
		if got := Links(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Links(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
