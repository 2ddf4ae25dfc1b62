package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/deskctl/deskctl/internal/errs"
)

// Sender delivers one message. A nil error means the SMTP server accepted
// it; on failure, Classify tells whether to retry.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// NewSMTP returns a Sender that opens one SMTP connection per message with
// the given settings. Settings are checked on each Send, so a Sender can be
// built before the configuration is known to be complete.
func NewSMTP(cfg Config) Sender {
	return &smtpSender{cfg: cfg}
}

type smtpSender struct {
	cfg Config
	// rootCAs replaces the system roots when set; tests use it to trust
	// their own server certificate.
	rootCAs *x509.CertPool
}

func (s *smtpSender) Send(ctx context.Context, m Message) error {
	if !s.cfg.Configured() {
		return fail(m, &DeliveryError{Failure: Misconfigured, Err: fmt.Errorf("SMTP is not configured")},
			errs.Usage, "set smtp.host and smtp.from to send mail")
	}
	if err := s.cfg.Validate(); err != nil {
		return fail(m, &DeliveryError{Failure: Misconfigured, Err: err}, errs.Usage, errs.HintOf(err))
	}
	cfg := s.cfg.normalized()

	msg, err := buildMsg(cfg, m)
	if err != nil {
		return fail(m, &DeliveryError{Failure: Permanent, Err: err}, errs.Usage,
			"the message cannot be sent as it is; check the recipient address")
	}

	// Cancelling ctx closes the connection, which interrupts a stalled
	// conversation at any step (the greeting, STARTTLS and the login
	// included) instead of waiting for smtp.timeout; a message the server
	// already accepted stays delivered.
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var c net.Conn
		var err error
		if cfg.TLS == TLSImplicit {
			c, err = (&tls.Dialer{NetDialer: d, Config: tlsConfig(cfg, s.rootCAs)}).DialContext(dctx, network, addr)
		} else {
			c, err = d.DialContext(dctx, network, addr)
		}
		if err == nil {
			stop = context.AfterFunc(ctx, func() { _ = c.Close() })
		}
		return c, err
	}
	client, err := gomail.NewClient(cfg.Host, append(clientOptions(cfg, s.rootCAs), gomail.WithDialContextFunc(dial))...)
	if err != nil {
		return fail(m, &DeliveryError{Failure: Misconfigured, Err: err}, errs.Usage,
			"check the smtp.* settings")
	}

	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		de := classifyConnect(err)
		return fail(m, de, kindFor(de), connectHint(cfg, de))
	}

	sendErr := client.SendWithSMTPClient(conn, msg)
	// The reply to the end of DATA is the server's acceptance. Anything that
	// fails after it (RSET, QUIT) must not count as a failure, or the outbox
	// would send the same mail twice.
	if msg.IsDelivered() {
		_ = client.CloseWithSMTPClient(conn)
		return nil
	}
	_ = client.CloseWithSMTPClient(conn)
	if sendErr == nil {
		sendErr = fmt.Errorf("the server did not confirm the message")
	}
	if ctx.Err() != nil {
		sendErr = fmt.Errorf("%w (%w)", ctx.Err(), sendErr)
	}
	de := classifySend(sendErr)
	return fail(m, de, kindFor(de), sendHint(de))
}

func tlsConfig(cfg Config, roots *x509.CertPool) *tls.Config {
	return &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12, RootCAs: roots}
}

func clientOptions(cfg Config, roots *x509.CertPool) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tlsConfig(cfg, roots)),
	}
	switch cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if cfg.Username != "" {
		// go-mail's PLAIN refuses to run without TLS except towards a few
		// spellings of localhost. Validate already limits unencrypted logins
		// to loopback servers, so say so explicitly for any loopback address.
		auth := gomail.SMTPAuthPlain
		if cfg.TLS == TLSNone && isLoopback(cfg.Host) {
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	return opts
}

func buildMsg(cfg Config, m Message) (*gomail.Msg, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Address != strings.TrimSpace(m.To) {
		return nil, fmt.Errorf("recipient %q is not a mail address", m.To)
	}
	if name := oneLine(m.ToName); name != "" {
		to.Name = name
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("sender %q is not a mail address", cfg.From)
	}

	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	msg.ToMailAddress(to)
	msg.Subject(oneLine(m.Subject))
	msg.SetDate()

	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	id := strings.Trim(oneLine(m.MessageID), "<>")
	if id == "" {
		id = randomID() + "@" + domain
	}
	msg.SetMessageIDWithValue(id)
	if t := oneLine(m.Thread); t != "" {
		msg.SetGenHeaderPreformatted(gomail.HeaderReferences, "<"+t+"@"+domain+">")
	}
	// Keep out-of-office and other auto-replies from answering a robot.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetUserAgent("deskctl")

	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

func fail(m Message, de *DeliveryError, kind errs.Kind, hint string) error {
	return &errs.Error{Kind: kind, Msg: "mail to " + m.To + " not sent", Hint: hint, Err: de}
}

func kindFor(de *DeliveryError) errs.Kind {
	if de.Failure == Misconfigured {
		return errs.Usage
	}
	return errs.Internal
}

func connectHint(cfg Config, de *DeliveryError) string {
	addr := cfg.Host + ":" + strconv.Itoa(cfg.Port)
	switch {
	case de.Failure == Temporary && de.Code == 0:
		return "could not reach the SMTP server at " + addr + "; check smtp.host and smtp.port, or try again later"
	case de.Failure == Temporary:
		return "the SMTP server at " + addr + " asked to try again later"
	case isAuthCode(de.Code):
		return "the SMTP server refused the login; check smtp.username and smtp.password"
	case de.Code != 0:
		return "the SMTP server at " + addr + " refused the connection; check smtp.host, smtp.port and smtp.tls"
	default:
		return "could not set up a secure connection to " + addr + "; check smtp.tls (starttls, tls or none) matches smtp.port"
	}
}

func isAuthCode(code int) bool {
	switch code {
	case 530, 534, 535, 538:
		return true
	}
	return false
}

func sendHint(de *DeliveryError) string {
	switch de.Failure {
	case Permanent:
		return fmt.Sprintf("the SMTP server rejected this message (reply %d); retrying will not help, check the recipient address", de.Code)
	case Misconfigured:
		if de.Code == 530 {
			return "the SMTP server wants a login; set smtp.username and smtp.password"
		}
		return "check smtp.from"
	}
	if de.Code != 0 {
		return fmt.Sprintf("the SMTP server deferred this message (reply %d); try again later", de.Code)
	}
	return "the connection to the SMTP server broke off; try again later"
}
