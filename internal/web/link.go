package web

import (
	"net/url"
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
)

// LinkURL is the approval link mailed to the approver:
// <public>/approval/<token>?decision=approve (or reject). Opening it only
// shows the confirmation page with that button preselected.
func LinkURL(public *url.URL, token string, approve bool) string {
	u := public.JoinPath("approval", token)
	decision := "reject"
	if approve {
		decision = "approve"
	}
	u.RawQuery = url.Values{"decision": {decision}}.Encode()
	u.Fragment = ""
	return u.String()
}

// ParsePublicURL reads the `public-url` setting and checks it with CheckPublicURL.
// A trailing slash is dropped so links never contain "//".
func ParsePublicURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, errs.Usagef("public-url %q is not a URL", s).
			WithHint("set public-url to where approvers reach deskctl serve, e.g. https://helpdesk.example.com")
	}
	if err := CheckPublicURL(u); err != nil {
		return nil, err
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// CheckPublicURL reports whether u can serve as the origin of approval links:
// an absolute http or https URL with a host and nothing after the path.
func CheckPublicURL(u *url.URL) error {
	hint := "set public-url to where approvers reach deskctl serve, e.g. https://helpdesk.example.com"
	if u == nil {
		return errs.Usagef("public-url is not set").WithHint("%s", hint)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return errs.Usagef("public-url %q must start with https:// or http://", u.Redacted()).WithHint("%s", hint)
	case u.Host == "" || u.Hostname() == "":
		return errs.Usagef("public-url %q has no host name", u.Redacted()).WithHint("%s", hint)
	case u.User != nil:
		return errs.Usagef("public-url %q must not contain a user name or password", u.Redacted()).WithHint("%s", hint)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return errs.Usagef("public-url %q must not have a query or fragment", u.Redacted()).WithHint("%s", hint)
	}
	return nil
}
