package app

import (
	"errors"
	"strconv"
	"time"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// Principal is who `deskctl serve` authenticated for one request: the OS
// login the kernel reported for a Unix socket peer, or the bearer token
// presented over HTTP(S). A Service without one is the CLI opening the
// file itself, where the acting user is whoever --as names.
type Principal struct {
	Via string // helpdesk.ViaSocket or helpdesk.ViaToken
	// OSLogin is the socket peer's login (from its uid).
	OSLogin string
	// Token is the secret presented; it is only ever hashed.
	Token string
}

// Served returns a copy of s that runs use cases for p. as, when set and
// not p's own user, asks to act as another user (impersonation), which
// only an administrator may do.
func (s *Service) Served(p Principal, as string) *Service {
	c := *s
	c.Principal = &p
	c.Actor = as
	c.touch = ""
	return &c
}

// identity is how the acting user of one use case was established; the
// audit record carries it.
type identity struct {
	via, osUser, token, realActor string
	tokenHash                     string
	expires                       time.Time
}

// TokenTouchEvery bounds how often a token's last-used time is written, so
// a read-only request does not cost a write transaction every time.
const TokenTouchEvery = time.Minute

// authError marks a failed authentication. It reads as forbidden (exit 4)
// and is told apart from other denials by IsNotAuthenticated, so the server
// can rate-limit and audit it.
type authError struct{ e *errs.Error }

func (a *authError) Error() string { return a.e.Error() }
func (a *authError) Unwrap() error { return a.e }

func notAuthenticated(hint, format string, args ...any) error {
	return &authError{errs.Forbiddenf("not authenticated: "+format, args...).WithHint("%s", hint)}
}

// IsNotAuthenticated reports whether err is a failed authentication.
func IsNotAuthenticated(err error) bool {
	var a *authError
	return errors.As(err, &a)
}

const tokenHint = "create a token with `deskctl token create` (on the server, or by an administrator), then run `deskctl login --server URL` or set DESKCTL_TOKEN"

// authenticate finds the user the transport vouches for.
func (s *Service) authenticate(tx *store.Tx, now time.Time) (helpdesk.User, identity, error) {
	p := s.Principal
	id := identity{via: p.Via}
	switch p.Via {
	case helpdesk.ViaSocket:
		id.osUser = p.OSLogin
		u, ok, err := tx.UserByOSLogin(p.OSLogin)
		if err != nil {
			return u, id, err
		}
		if !ok {
			return u, id, notAuthenticated("an administrator can bind it: deskctl user update LOGIN --os-login "+p.OSLogin+
				" (or deskctl user add "+p.OSLogin+"); otherwise log in with a token", "OS user %s has no deskctl user on this server", p.OSLogin)
		}
		return u, id, activeUser(u)
	case helpdesk.ViaToken:
		if p.Token == "" {
			return helpdesk.User{}, id, notAuthenticated("run `deskctl login --server URL`, or set DESKCTL_TOKEN", "no token was sent")
		}
		if !helpdesk.ValidAPITokenShape(p.Token) {
			return helpdesk.User{}, id, notAuthenticated(tokenHint, "the token is malformed")
		}
		t, ok, err := tx.APIToken(helpdesk.HashToken(p.Token))
		if err != nil {
			return helpdesk.User{}, id, err
		}
		if !ok {
			return helpdesk.User{}, id, notAuthenticated(tokenHint, "the token is not valid on this server (revoked, or made for another server)")
		}
		if t.Expired(now) {
			return helpdesk.User{}, id, notAuthenticated(tokenHint, "token %s of %s expired at %s", t.Name, t.User, t.Expires.Format(time.RFC3339))
		}
		id.token, id.expires = t.Name, t.Expires
		if now.Sub(t.LastUsed) >= TokenTouchEvery {
			id.tokenHash = t.Hash
		}
		u, ok, err := tx.User(t.User)
		if err != nil || !ok {
			return u, id, errors.Join(err, notAuthenticated(tokenHint, "the token's user %s no longer exists", t.User))
		}
		return u, id, activeUser(u)
	}
	return helpdesk.User{}, id, errs.Internalf("unknown channel %q", p.Via)
}

func activeUser(u helpdesk.User) error {
	if !u.Active {
		return errs.Forbiddenf("user %s is disabled and cannot act", u.Login).
			WithHint("an administrator can run: deskctl user enable %s", u.Login)
	}
	return nil
}

// servedActor authenticates the principal, then applies an --as request:
// an administrator may act as another active user, and the record keeps
// who really acted.
func (s *Service) servedActor(tx *store.Tx, now time.Time) (helpdesk.User, identity, error) {
	p, id, err := s.authenticate(tx, now)
	if err != nil || s.Actor == "" || s.Actor == p.Login {
		return p, id, err
	}
	if err := access.New(tx).RequireAdmin(p.Login); err != nil {
		return p, id, errs.Forbiddenf("%s may not act as %s: only an administrator can use --as against a server", p.Login, s.Actor).
			WithHint("drop --as to act as yourself (%s)", p.Login)
	}
	u, err := namedActor(tx, s.Actor)
	id.realActor = p.Login
	return u, id, err
}

// touchToken records that a token was used, at most once a minute.
func (s *Service) touchToken(tx *store.Tx, hash string, now time.Time) error {
	t, ok, err := tx.APIToken(hash)
	if err != nil || !ok {
		return err
	}
	t.LastUsed = now
	return tx.PutAPIToken(t)
}

// touchAfterRead writes a token's last-used time after a read-only use
// case, in its own short transaction. A busy database only loses the
// timestamp, never the answer.
func (s *Service) touchAfterRead() {
	hash := s.touch
	if hash == "" {
		return
	}
	s.touch = ""
	db, err := s.open(false)
	if err != nil {
		return
	}
	defer db.Close()
	_ = db.Update(func(tx *store.Tx) error { return s.touchToken(tx, hash, s.now()) })
}

// RecordAuthFailure appends an `auth-failed` audit record for a request the
// server could not authenticate. It stands on its own (no use case ran),
// names the client and the reason, and never the token.
func (s *Service) RecordAuthFailure(via, osLogin, client, reason string) error {
	db, err := s.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *store.Tx) error {
		after, _ := auditJSON(map[string]string{"reason": reason})
		_, err := tx.AppendAudit(helpdesk.AuditRecord{Time: s.now(), Command: "auth-failed", Subject: "client:" + client,
			After: after, Via: via, OSUser: osLogin})
		return err
	})
}

// Authenticate checks only who the principal is. The server calls it before
// it reads a large request body, so a client without a valid token cannot
// make it read and decode an upload. Without a principal it does nothing.
func (s *Service) Authenticate() error {
	if s.Principal == nil {
		return nil
	}
	return s.readAnon(func(*store.Tx) error { return nil })
}

// requireServedAdmin makes the commands that need no acting user on the
// file (db check, db stats, audit verify, mail test) administrative when
// they arrive through the server, where the file is not the caller's.
func (s *Service) requireServedAdmin() error {
	if s.Principal == nil {
		return nil
	}
	return s.read(func(c *Ctx) error { return c.RequireAdmin() })
}

// --- tokens ---

// TokenInput is `token create`.
type TokenInput struct {
	User, Name string
	// Lifetime is how long the token is valid; 0 means it never expires.
	Lifetime time.Duration
}

// TokenView is a token as listed: never its secret or hash.
type TokenView struct {
	ID       uint64    `json:"id"`
	Name     string    `json:"name"`
	User     string    `json:"user"`
	Created  time.Time `json:"created"`
	Expires  OptTime   `json:"expires"`
	LastUsed OptTime   `json:"last_used"`
}

func tokenView(t helpdesk.APIToken) TokenView {
	return TokenView{t.ID, t.Name, t.User, t.Created, OptTime{t.Expires}, OptTime{t.LastUsed}}
}

// NewToken is a created token with its secret, shown this once.
type NewToken struct {
	TokenView
	Token string `json:"token"`
}

// CreateToken makes an API token for the acting user, or (administrators)
// for anyone.
func (s *Service) CreateToken(in TokenInput) (NewToken, error) {
	var out NewToken
	_, err := s.write("token create", func(c *Ctx) error {
		owner := in.User
		if owner == "" {
			owner = c.Actor.Login
		}
		if owner != c.Actor.Login {
			if err := c.RequireAdmin(); err != nil {
				return err
			}
		}
		u, err := mustUser(c.Tx, owner)
		if err != nil {
			return err
		}
		if err := activeUser(u); err != nil {
			return err
		}
		mine, err := c.Tx.APITokens(owner)
		if err != nil {
			return err
		}
		id, err := c.Tx.NewAPITokenID()
		if err != nil {
			return err
		}
		name := in.Name
		if name == "" {
			name = "token-" + strconv.FormatUint(id, 10)
		}
		if err := helpdesk.ValidateTokenName(name); err != nil {
			return err
		}
		for _, t := range mine {
			if t.Name == name {
				return errs.Conflictf("%s already has a token named %s", owner, name).
					WithHint("choose another --name, or revoke it first: deskctl token revoke %d", t.ID)
			}
		}
		secret, hash, err := helpdesk.NewAPIToken()
		if err != nil {
			return err
		}
		t := helpdesk.APIToken{ID: id, Name: name, User: owner, Hash: hash, Created: c.Now}
		if in.Lifetime > 0 {
			t.Expires = c.Now.Add(in.Lifetime)
		}
		if err := c.Tx.PutAPIToken(t); err != nil {
			return err
		}
		out = NewToken{tokenView(t), secret}
		return c.Audit("token:"+strconv.FormatUint(id, 10), nil, out.TokenView)
	})
	return out, err
}

// ListTokens lists the acting user's tokens; an administrator sees all.
func (s *Service) ListTokens() ([]TokenView, error) {
	out := []TokenView{}
	err := s.read(func(c *Ctx) error {
		ts, err := c.visibleTokens()
		for _, t := range ts {
			out = append(out, tokenView(t))
		}
		return err
	})
	return out, err
}

func (c *Ctx) visibleTokens() ([]helpdesk.APIToken, error) {
	if c.Engine.RequireAdmin(c.Actor.Login) == nil {
		return c.Tx.APITokens("")
	}
	return c.Tx.APITokens(c.Actor.Login)
}

// RevokeToken deletes a token by id or name: users their own, an
// administrator anyone's. It can never authenticate again.
func (s *Service) RevokeToken(ref string) (TokenView, error) {
	var out TokenView
	_, err := s.write("token revoke", func(c *Ctx) error {
		ts, err := c.visibleTokens()
		if err != nil {
			return err
		}
		var match []helpdesk.APIToken
		for _, t := range ts {
			if strconv.FormatUint(t.ID, 10) == ref || t.Name == ref {
				match = append(match, t)
			}
		}
		match = preferOwn(match, c.Actor.Login)
		switch {
		case len(match) == 0:
			return errs.NotFoundf("no token %s", ref).WithHint("list the tokens with: deskctl token list")
		case len(match) > 1:
			return errs.Conflictf("%d tokens are named %s", len(match), ref).WithHint("give its ID instead (deskctl token list)")
		}
		if err := c.Tx.DeleteAPIToken(match[0].Hash); err != nil {
			return err
		}
		out = tokenView(match[0])
		return c.Audit("token:"+strconv.FormatUint(out.ID, 10), out, nil)
	})
	return out, err
}

// preferOwn keeps the actor's own token when an administrator's name
// matches theirs and other users' tokens alike.
func preferOwn(ts []helpdesk.APIToken, login string) []helpdesk.APIToken {
	for _, t := range ts {
		if t.User == login {
			return []helpdesk.APIToken{t}
		}
	}
	return ts
}

// AuthStatus is who the acting user is and how that was established.
type AuthStatus struct {
	User  string `json:"user"`
	Name  string `json:"name"`
	Admin bool   `json:"admin"`
	Via   string `json:"via"`
	// OSUser is the OS login (file and socket).
	OSUser string `json:"os_user"`
	Token  string `json:"token"`
	// Expires is the token's expiry (zero: never, or no token).
	Expires OptTime `json:"expires"`
	// RealUser is the authenticated user when acting as User.
	RealUser string `json:"real_user"`
}

// WhoAmI reports the acting user and the channel that vouched for them.
func (s *Service) WhoAmI() (AuthStatus, error) {
	var out AuthStatus
	err := s.read(func(c *Ctx) error {
		out = AuthStatus{User: c.Actor.Login, Name: c.Actor.Name, Admin: c.RequireAdmin() == nil, Via: c.id.via,
			OSUser: c.id.osUser, Token: c.id.token, Expires: OptTime{c.id.expires}, RealUser: c.id.realActor}
		return nil
	})
	return out, err
}
