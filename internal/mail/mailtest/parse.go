package mailtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
)

// Received is one message the server accepted.
type Received struct {
	From     string   // envelope sender (MAIL FROM)
	To       []string // envelope recipients (RCPT TO)
	AuthUser string   // the AUTH PLAIN user, empty without login
	Raw      []byte   // the message exactly as sent after DATA

	// Parsed from Raw. ParseErr says why parsing stopped, if it did; the
	// fields then hold whatever was read before.
	Header   mail.Header
	Subject  string // with RFC 2047 encoded words decoded
	Text     string // the text/plain part, transfer encoding undone, "\n" line ends
	HTML     string // the text/html part, likewise
	ParseErr error
}

// Parse reads a raw message into its header, subject and text and HTML
// parts, as the server does with every message it accepts.
func Parse(raw []byte) Received { return parse(raw) }

func parse(raw []byte) Received {
	r := Received{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		r.ParseErr = err
		return r
	}
	r.Header = msg.Header
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		r.ParseErr = fmt.Errorf("subject: %w", err)
		subject = msg.Header.Get("Subject")
	}
	r.Subject = subject
	if err := r.readPart(textproto.MIMEHeader(msg.Header), msg.Body); err != nil && r.ParseErr == nil {
		r.ParseErr = err
	}
	return r
}

// readPart walks a body, descending into multipart containers, and keeps the
// first text/plain and text/html leaves.
func (r *Received) readPart(h textproto.MIMEHeader, body io.Reader) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ct, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			if err := r.readPart(p.Header, p); err != nil {
				return err
			}
		}
	}
	// multipart.Reader undoes quoted-printable itself and then drops the
	// header, so whatever encoding is still named here is still to be undone.
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("%s body: %w", mediaType, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch {
	case mediaType == "text/plain" && r.Text == "":
		r.Text = text
	case mediaType == "text/html" && r.HTML == "":
		r.HTML = text
	}
	return nil
}

var linkPattern = regexp.MustCompile(`https?://[^\s"'<>]+`)

// Links returns the http and https URLs in a text or HTML body, in order of
// first appearance and without repeats. HTML entities inside a URL (as in an
// href attribute) are decoded, and trailing sentence punctuation is dropped.
func Links(text string) []string {
	var links []string
	seen := map[string]bool{}
	for _, m := range linkPattern.FindAllString(text, -1) {
		link := html.UnescapeString(strings.TrimRight(m, ".,;:!?)]}"))
		if !seen[link] {
			seen[link] = true
			links = append(links, link)
		}
	}
	return links
}
