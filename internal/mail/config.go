// Package mail composes deskctl's notification mails and hands them to an
// SMTP server. It knows nothing about the database: the store keeps the
// durable outbox and calls Send for each queued Message, using Classify and
// Backoff to decide what happens after a failed attempt.
package mail

import (
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

// TLS modes for Config.TLS.
const (
	TLSStartTLS = "starttls" // plain connect, then a mandatory STARTTLS upgrade
	TLSImplicit = "tls"      // TLS from the first byte ("SMTPS")
	TLSNone     = "none"     // no encryption at all
)

// DefaultTimeout bounds connecting and each step of the SMTP conversation
// when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultSendWait is how long a command waits, after its change is
// committed, for the SMTP server to take the mail it queued (smtp.send-wait).
// Past it the mail stays in the outbox for `mail flush` or `deskctl serve`.
const DefaultSendWait = 5 * time.Second

// Config is the SMTP account deskctl sends from. The config package fills it
// from smtp.* settings; the zero value means "not configured".
type Config struct {
	Host     string
	Port     int // 0 picks the usual port for TLS: 587, 465 or 25
	Username string
	Password string
	TLS      string // TLSStartTLS, TLSImplicit or TLSNone; empty means TLSStartTLS
	From     string // "Helpdesk <helpdesk@example.com>" or a bare address
	Timeout  time.Duration
	// Problem is why the settings could not be read completely (an
	// unreadable smtp.password-file). Only sending reports it: commands that
	// send nothing are not held up by a broken mail setup.
	Problem error
}

// Configured reports whether enough is set to try sending at all. Without it,
// mails stay in the outbox.
func (c Config) Configured() bool {
	return strings.TrimSpace(c.Host) != "" && strings.TrimSpace(c.From) != ""
}

// Validate checks the settings before any connection is made, naming the
// setting to fix.
func (c Config) Validate() error {
	if c.Problem != nil {
		return c.Problem
	}
	host := strings.TrimSpace(c.Host)
	if host == "" {
		return errs.Usagef("smtp.host is not set").
			WithHint("set smtp.host to your mail server (config file or DESKCTL_SMTP_HOST)")
	}
	if strings.ContainsAny(host, " \t/@") || (strings.Contains(host, ":") && net.ParseIP(host) == nil) {
		return errs.Usagef("smtp.host %q is not a host name", c.Host).
			WithHint("give only the server name, e.g. smtp.example.com, and put the port in smtp.port")
	}
	if c.Port < 0 || c.Port > 65535 {
		return errs.Usagef("smtp.port %d is out of range", c.Port).
			WithHint("use 587 for starttls, 465 for tls or 25 for none, or leave it unset")
	}
	switch c.TLS {
	case "", TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return errs.Usagef("smtp.tls %q is not a TLS mode", c.TLS).
			WithHint("use starttls (port 587), tls (port 465) or none")
	}
	if strings.TrimSpace(c.From) == "" {
		return errs.Usagef("smtp.from is not set").
			WithHint("set smtp.from to the sender address, e.g. \"Helpdesk <helpdesk@example.com>\"")
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return errs.Usagef("smtp.from %q is not a mail address", c.From).
			WithHint("use a form such as helpdesk@example.com or \"Helpdesk <helpdesk@example.com>\"")
	}
	if c.Timeout < 0 {
		return errs.Usagef("smtp.timeout %s is negative", c.Timeout).
			WithHint("use a duration such as 30s, or leave it unset for %s", DefaultTimeout)
	}
	if c.Password != "" && c.Username == "" {
		return errs.Usagef("smtp.password is set but smtp.username is not").
			WithHint("set smtp.username for the account, or remove the password for an open relay")
	}
	// PLAIN auth sends the password as it is; over an unencrypted link that
	// is only acceptable when the server is on this machine.
	if c.Username != "" && c.TLS == TLSNone && !isLoopback(host) {
		return errs.Usagef("refusing to send the SMTP password unencrypted to %s", host).
			WithHint("set smtp.tls to starttls or tls, or drop smtp.username if the server relays without login")
	}
	return nil
}

// normalized fills the defaults Validate accepts as unset.
func (c Config) normalized() Config {
	c.Host = strings.TrimSpace(c.Host)
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Port == 0 {
		switch c.TLS {
		case TLSImplicit:
			c.Port = 465
		case TLSNone:
			c.Port = 25
		default:
			c.Port = 587
		}
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
