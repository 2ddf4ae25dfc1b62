package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

const redacted = "REDACTED"

// originOf is scheme://host[:port] with default ports dropped, as browsers send it.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		return scheme + "://" + net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host
}

// sameOrigin reports whether a POST comes from a page served under PublicURL.
// Our pages carry Referrer-Policy: same-origin, so a browser names our origin
// on its own form's POST and sends nothing (no token in a Referer) anywhere
// else. Under stricter user settings some browsers send "Origin: null";
// Fetch Metadata (Sec-Fetch-Site, which page scripts cannot set) or a
// same-origin Referer then settles it.
func (h *handler) sameOrigin(r *http.Request) (ok bool, why string) {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return false, "malformed Origin header"
		}
		if originOf(u) != h.origin {
			return false, "Origin " + originOf(u) + " is not " + h.origin
		}
		return true, ""
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		if site != "same-origin" {
			return false, "Sec-Fetch-Site is " + site
		}
		return true, ""
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return false, "malformed Referer header"
		}
		if originOf(u) != h.origin {
			return false, "Referer origin " + originOf(u) + " is not " + h.origin
		}
		return true, ""
	}
	if r.Header.Get("Origin") == "null" {
		return false, "Origin is null and nothing else names the origin"
	}
	return false, "no Origin, Sec-Fetch-Site or Referer header"
}

// csrfFor binds the form key to one link token, so a key seen on one page is
// useless for any other link.
func (h *handler) csrfFor(token string) string {
	m := hmac.New(sha256.New, h.secret)
	m.Write([]byte("deskctl approval form\x00"))
	m.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h *handler) csrfValid(token, got string) bool {
	return got != "" && hmac.Equal([]byte(got), []byte(h.csrfFor(token)))
}

// cleanComment applies deskctl's rule for free text (helpdesk.CleanText:
// browsers submit CRLF, which becomes "\n"), trims the ends and words a
// refusal for the page.
func cleanComment(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("The comment is not valid text. Please type it again.")
	}
	s, err := helpdesk.CleanText("comment", s, helpdesk.MultiLine, math.MaxInt)
	if err != nil {
		return "", errors.New("The comment cannot contain control characters or text-direction characters: " +
			strings.TrimPrefix(err.Error(), "comment: ") + ". Only letters, punctuation, tabs and line breaks are allowed.")
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > MaxCommentLen {
		return "", errors.New("The comment is " + itoa(n) + " characters long; the limit is " + itoa(MaxCommentLen) + ".")
	}
	return s, nil
}

// clientKey names the client for rate limiting and the request log. IPv6
// clients are grouped by /64, since one host usually owns a whole /64.
func (h *handler) clientKey(r *http.Request) string { return ClientKey(r, h.trustProxy) }

// ClientKey is the key rate limits count a client by: its address (its /64
// for IPv6), or with trustProxy the address the nearest proxy added to
// X-Forwarded-For.
func ClientKey(r *http.Request, trustProxy bool) string {
	addr := remoteAddr(r.RemoteAddr)
	if trustProxy {
		if fwd := lastForwarded(r.Header.Values("X-Forwarded-For")); fwd.IsValid() {
			addr = fwd
		}
	}
	if !addr.IsValid() {
		return r.RemoteAddr
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr()
	}
	a, _ := netip.ParseAddr(s)
	return a
}

// lastForwarded is the address the nearest proxy appended; earlier entries
// come from the client and can be forged.
func lastForwarded(values []string) netip.Addr {
	if len(values) == 0 {
		return netip.Addr{}
	}
	last := values[len(values)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	a, _ := netip.ParseAddr(strings.TrimSpace(last))
	return a
}

// redactPath keeps a path readable in logs without the link token: the token
// segment, and any other segment long enough to be a secret, is replaced.
func (h *handler) redactPath(p string) string {
	if rest, ok := h.stripPrefix(p); ok && strings.HasPrefix(rest, "/approval/") {
		return h.prefix + "/approval/" + redacted
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if looksLikeSecret(s) {
			segs[i] = redacted
		}
	}
	out := strings.Join(segs, "/")
	if len(out) > 200 {
		out = out[:200] + "…"
	}
	return out
}

func looksLikeSecret(s string) bool {
	if len(s) < 16 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '%' || c == '=' || c == '+') {
			return false
		}
	}
	return true
}
