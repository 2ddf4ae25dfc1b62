package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/textproto"

	gomail "github.com/wneessen/go-mail"
)

// Failure says what a failed delivery attempt means for the outbox.
type Failure int

const (
	// Temporary failures are worth retrying as they are: the server was
	// unreachable, timed out, or answered 4xx.
	Temporary Failure = iota
	// Permanent failures will never succeed for this message: the server
	// rejected the sender, a recipient or the content with a 5xx reply, or the
	// address cannot be used. The outbox should stop retrying it.
	Permanent
	// Misconfigured failures come from deskctl's own SMTP settings: missing or
	// invalid settings, a refused login, TLS that cannot be established. The
	// message itself is fine; retrying helps once the settings are fixed.
	Misconfigured
)

func (f Failure) String() string {
	switch f {
	case Permanent:
		return "permanent"
	case Misconfigured:
		return "misconfigured"
	default:
		return "temporary"
	}
}

// DeliveryError is the cause inside every error Send returns.
type DeliveryError struct {
	Failure Failure
	Code    int // SMTP reply code, 0 when the server gave none
	Err     error
}

func (e *DeliveryError) Error() string { return e.Err.Error() }
func (e *DeliveryError) Unwrap() error { return e.Err }

// Classify reports what a Send error means. Errors that did not come from
// Send count as Temporary, so nothing is given up on by mistake.
func Classify(err error) Failure {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Failure
	}
	return Temporary
}

// IsPermanent reports whether retrying the message is pointless.
func IsPermanent(err error) bool { return err != nil && Classify(err) == Permanent }

// ReplyCode returns the SMTP reply code behind a Send error, or 0.
func ReplyCode(err error) int {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Code
	}
	return 0
}

// classifyConnect judges an error from connecting, greeting, STARTTLS or
// AUTH: nothing about the message has been said yet, so a 5xx here is a
// settings problem, not a rejection of the message.
func classifyConnect(err error) *DeliveryError {
	de := &DeliveryError{Failure: Misconfigured, Err: err}
	var tpErr *textproto.Error
	if errors.As(err, &tpErr) {
		de.Code = tpErr.Code
		if tpErr.Code/100 == 4 {
			de.Failure = Temporary
		}
		return de
	}
	if isTLSProblem(err) {
		return de
	}
	if isNetworkProblem(err) {
		de.Failure = Temporary
	}
	return de
}

// classifySend judges an error from the mail transaction itself.
func classifySend(err error) *DeliveryError {
	de := &DeliveryError{Failure: Temporary, Err: err}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return de
	}
	de.Code = se.ErrorCode()
	switch {
	case se.Reason == gomail.ErrGetSender:
		de.Failure = Misconfigured
	case se.Reason == gomail.ErrGetRcpts:
		de.Failure = Permanent
	case de.Code == 530:
		// "authentication required": the server wants a login we did not give.
		de.Failure = Misconfigured
	case de.Code/100 == 5:
		de.Failure = Permanent
	}
	return de
}

func isTLSProblem(err error) bool {
	var (
		recErr    tls.RecordHeaderError
		verifyErr *tls.CertificateVerificationError
		alertErr  tls.AlertError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return errors.As(err, &recErr) || errors.As(err, &verifyErr) || errors.As(err, &alertErr) ||
		errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalid)
}

func isNetworkProblem(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, net.ErrClosed)
}
