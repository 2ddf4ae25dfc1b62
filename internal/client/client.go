// Package client runs deskctl's use cases on a `deskctl serve` elsewhere:
// it implements app.UseCases by calling the server's API over HTTPS, plain
// HTTP (loopback, or with no token), or a Unix socket. Results decode into
// the same types the local service returns, so the CLI prints the same
// bytes; errors come back with the same kind, message and hint.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/api"
	"github.com/deskctl/deskctl/internal/errs"
)

// socketBase is the URL requests over a Unix socket are made to (the
// dialer ignores the host).
const socketBase = "http://deskctl"

// Client is the remote implementation of app.UseCases.
type Client struct {
	server string // as configured, for messages
	base   string // URL the API paths are appended to
	http   *http.Client
	token  string
	as     string
}

// Options configures a client.
type Options struct {
	// Server is https://HOST[:PORT][/PATH], http://… or unix:///PATH.
	Server string
	// Token is the bearer token for HTTP(S); a socket needs none.
	Token string
	// As asks the server to act as another user (administrators only).
	As string
	// Timeout bounds each call; 0 means none.
	Timeout time.Duration
	// TLS overrides the TLS settings (nil: the system's roots, which
	// SSL_CERT_FILE can replace).
	TLS *tls.Config
}

// New checks the server address and returns a client for it. It refuses
// to send a token over plain http to any host but this one.
func New(o Options) (*Client, error) {
	c := &Client{server: o.Server, token: o.Token, as: o.As}
	bad := func(why string) error {
		return errs.Usagef("server %q %s", o.Server, why).
			WithHint("use https://HOST[:PORT], http://127.0.0.1:PORT or unix:///run/deskctl/deskctl.sock")
	}
	u, err := url.Parse(o.Server)
	if err != nil {
		return nil, bad("is not a URL")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if o.TLS != nil {
		tr.TLSClientConfig = o.TLS
	}
	switch u.Scheme {
	case "unix":
		path := u.Path
		if path == "" || u.Host != "" {
			return nil, bad("needs an absolute socket path, e.g. unix:///run/deskctl/deskctl.sock")
		}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}
		tr.Proxy = nil
		c.base = socketBase
		c.token = "" // the socket's peer credentials identify the caller
	case "https", "http":
		if u.Host == "" {
			return nil, bad("names no host")
		}
		if u.Scheme == "http" && c.token != "" && !loopback(u.Hostname()) {
			return nil, errs.Usagef("refusing to send a token over plain http to %s", u.Hostname()).
				WithHint("use https or a unix socket (behind a TLS proxy, give its https:// address)")
		}
		c.base = strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/")
	default:
		return nil, bad("has no https://, http:// or unix:// scheme")
	}
	c.http = &http.Client{Transport: tr, Timeout: o.Timeout}
	return c, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server is the address the client calls.
func (c *Client) Server() string { return c.server }

// call runs one use case on the server: args are its parameters, outs
// receive its results (but the error) in order.
func (c *Client) call(method string, args []any, outs ...any) error {
	req := api.Request{Args: make([]json.RawMessage, len(args))}
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return errs.Wrap(errs.Internal, err, "cannot encode the request")
		}
		req.Args[i] = b
	}
	body, _ := json.Marshal(req)
	hr, err := http.NewRequest(http.MethodPost, c.base+api.Prefix+method, bytes.NewReader(body))
	if err != nil {
		return errs.Wrap(errs.Usage, err, "server %s", c.server)
	}
	hr.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.as != "" {
		hr.Header.Set(api.AsHeader, c.as)
	}
	res, err := c.http.Do(hr)
	if err != nil {
		return errs.Wrap(errs.Unusable, unwrapURL(err), "cannot reach the deskctl server at %s", c.server).
			WithHint("check --server (or DESKCTL_SERVER) and that `deskctl serve` runs there")
	}
	defer res.Body.Close()
	var resp api.Response
	if err := json.NewDecoder(res.Body).Decode(&resp); err != nil {
		return errs.Internalf("the server at %s answered %s, not a deskctl API response", c.server, res.Status).
			WithHint("check that --server names a deskctl serve (with the path of its public-url, if any)")
	}
	for i, out := range outs {
		if i < len(resp.Results) {
			if err := json.Unmarshal(resp.Results[i], out); err != nil {
				return errs.Wrap(errs.Internal, err, "cannot decode the server's answer to %s", method)
			}
		}
	}
	if e := resp.Error; e != nil {
		return &errs.Error{Kind: errs.ParseKind(e.Kind), Msg: e.Message, Hint: e.Hint}
	}
	if len(resp.Results) < len(outs) {
		return errs.Internalf("the server's answer to %s has %d result(s), not %d", method, len(resp.Results), len(outs))
	}
	return nil
}

// unwrapURL drops net/http's "Post \"URL\":" prefix, which would show the
// request path rather than the server the user named.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func call0(c *Client, method string, args ...any) error { return c.call(method, args) }

func call1[A any](c *Client, method string, args ...any) (A, error) {
	var a A
	err := c.call(method, args, &a)
	return a, err
}

func call2[A, B any](c *Client, method string, args ...any) (A, B, error) {
	var a A
	var b B
	err := c.call(method, args, &a, &b)
	return a, b, err
}
