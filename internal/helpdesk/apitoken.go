package helpdesk

import (
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

// APIToken is a named, expiring bearer token a user presents to
// `deskctl serve`. Only the SHA-256 of the secret is kept (Hash); the secret
// itself is shown once, when the token is created.
type APIToken struct {
	ID      uint64    `json:"id"`
	Name    string    `json:"name"`
	User    string    `json:"user"`
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
	// Expires is zero for a token that never expires.
	Expires  time.Time `json:"expires,omitzero"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// Expired reports whether t can no longer be used at now.
func (t APIToken) Expired(now time.Time) bool { return !t.Expires.IsZero() && !now.Before(t.Expires) }

// APITokenPrefix marks deskctl API tokens, so a leaked one is recognisable
// (secret scanners) and never mistaken for an approval link token.
const APITokenPrefix = "dsk_"

// NewAPIToken returns a fresh API token (the prefix and 256 random bits,
// base64url) and its storage hash.
func NewAPIToken() (secret, hash string, err error) {
	b := make([]byte, TokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = APITokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashToken(secret), nil
}

// ValidAPITokenShape reports whether s looks like a token NewAPIToken made.
func ValidAPITokenShape(s string) bool {
	rest, ok := strings.CutPrefix(s, APITokenPrefix)
	return ok && ValidTokenShape(rest)
}

// ValidateTokenName checks the name a user gives a token.
func ValidateTokenName(name string) error { return ValidateName("token", name) }

// ParseExpiry reads --expires: a number of days (90d), hours (12h) or
// "never". It returns 0 for never.
func ParseExpiry(s string) (time.Duration, error) {
	bad := errs.Usagef("--expires %q is not a lifetime", s).WithHint("write e.g. 90d, 12h or never")
	if s == "never" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d <= 0 || d > 3650 {
			return 0, bad
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute {
		return 0, bad
	}
	return d, nil
}

// ValidateOSLogin checks the operating-system login a user is bound to.
// OS logins allow more than deskctl logins (upper case, '@' for directory
// accounts), but never spaces, colons or slashes.
func ValidateOSLogin(s string) error {
	if s == "" || len(s) > 256 {
		return errs.Usagef("invalid OS login %q: empty or too long", s).WithHint("give the login name `id -un` prints for that person")
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@$\\", r)
		if !ok {
			return errs.Usagef("invalid OS login %q: character %s not allowed", s, quoteRune(r)).
				WithHint("give the login name `id -un` prints for that person")
		}
	}
	return nil
}

// The channels a use case can arrive by, as the audit log records them.
const (
	ViaFile   = "file"   // the database file opened directly by the CLI
	ViaSocket = "socket" // `deskctl serve`'s Unix socket, identity from the kernel
	ViaToken  = "token"  // `deskctl serve` over HTTP(S) with a bearer token
)
