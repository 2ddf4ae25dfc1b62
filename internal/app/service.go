// Package app holds deskctl's use cases. Each exported method of Service is
// one use case: it opens the database, runs exactly one transaction (a write
// transaction for changes, read-only otherwise), applies the domain rules and
// the permission engine, records the audit entry and any outgoing mail in the
// same transaction, closes the database and returns a plain result value.
package app

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// Service runs use cases against one database file.
type Service struct {
	DBPath      string
	LockTimeout time.Duration
	// Actor is the acting user's login from --as, DESKCTL_USER or the config; "" falls back to OSUser.
	Actor string
	// OSUser returns the operating-system login name; used when it is a registered user.
	OSUser func() string
	Now    func() time.Time
	// Mail carries the delivery settings; nil means mail stays queued.
	Mail *MailSettings

	// Principal is who the server authenticated; nil when the CLI opens
	// the file itself (see Served).
	Principal *Principal

	mailer    chan []uint64 // set by StartMailer
	noMigrate bool          // never migrate an older schema (completion)
	touch     string        // hash of a token whose last-used time is due
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Ctx is what a use case sees inside its transaction.
type Ctx struct {
	Tx      *store.Tx
	Actor   helpdesk.User
	Engine  *access.Engine
	Now     time.Time
	command string
	id      identity
	// queued counts mails added to the outbox in this transaction.
	queued []uint64
}

// Audit appends the audit record for this use case's change.
func (c *Ctx) Audit(subject string, before, after any) error {
	rec := helpdesk.AuditRecord{Time: c.Now, Actor: c.Actor.Login, Command: c.command, Subject: subject,
		Via: c.id.via, OSUser: c.id.osUser, Token: c.id.token, RealActor: c.id.realActor}
	var err error
	if rec.Before, err = auditJSON(before); err != nil {
		return err
	}
	if rec.After, err = auditJSON(after); err != nil {
		return err
	}
	_, err = c.Tx.AppendAudit(rec)
	return err
}

func auditJSON(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// RequireAdmin is the one check administrative use cases make.
func (c *Ctx) RequireAdmin() error { return c.Engine.RequireAdmin(c.Actor.Login) }

func (s *Service) open(readOnly bool) (*store.DB, error) {
	return store.Open(store.Options{Path: s.DBPath, ReadOnly: readOnly, LockTimeout: s.LockTimeout, NoMigrate: s.noMigrate})
}

// read runs fn in a read-only transaction as the acting user.
func (s *Service) read(fn func(c *Ctx) error) error {
	db, err := s.open(true)
	if err != nil {
		return err
	}
	err = db.View(func(tx *store.Tx) error {
		c, err := s.ctx(tx, "")
		if err != nil {
			return err
		}
		if c.id.tokenHash != "" {
			// Only a request's own copy (Served) gets here: the shared
			// service of the pages has no token and is never written.
			s.touch = c.id.tokenHash
		}
		return fn(c)
	})
	db.Close()
	s.touchAfterRead()
	return err
}

// readAnon runs fn in a read-only transaction for reads that need no
// identity (the directory, the catalog). An actor named explicitly with
// --as or DESKCTL_USER must still exist and be active, and a request to
// the server must still authenticate.
func (s *Service) readAnon(fn func(tx *store.Tx) error) error {
	if s.Principal != nil {
		return s.read(func(c *Ctx) error { return fn(c.Tx) })
	}
	db, err := s.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *store.Tx) error {
		if s.Actor != "" {
			if _, err := namedActor(tx, s.Actor); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// BeforeCommit, when set, runs inside each use case's write transaction
// after the change is made and before it commits, with the command's name.
// Only tests set it, to stop a deskctl process at that point and kill it
// there; nothing in the program sets it.
var BeforeCommit func(command string)

// errNothingToWrite lets a use case that found nothing to change roll its
// transaction back, so the file is not rewritten for a no-op.
var errNothingToWrite = errors.New("nothing to write")

// write runs fn in one write transaction as the acting user. After commit,
// mail queued by fn is handed to delivery (a failure there never undoes the change).
func (s *Service) write(command string, fn func(c *Ctx) error) (Delivery, error) {
	db, err := s.open(false)
	if err != nil {
		return Delivery{}, err
	}
	var queued []uint64
	err = db.Update(func(tx *store.Tx) error {
		c, err := s.ctx(tx, command)
		if err != nil {
			return err
		}
		if c.id.tokenHash != "" {
			if err := s.touchToken(tx, c.id.tokenHash, c.Now); err != nil {
				return err
			}
		}
		if err := fn(c); err != nil {
			return err
		}
		if BeforeCommit != nil {
			BeforeCommit(command)
		}
		queued = c.queued
		return nil
	})
	db.Close()
	if errors.Is(err, errNothingToWrite) {
		return Delivery{}, nil
	}
	if err != nil || len(queued) == 0 {
		return Delivery{}, err
	}
	return s.deliver(queued), nil
}

func (s *Service) ctx(tx *store.Tx, command string) (*Ctx, error) {
	now := s.now()
	var u helpdesk.User
	var id identity
	var err error
	if s.Principal != nil {
		u, id, err = s.servedActor(tx, now)
	} else {
		id.via = helpdesk.ViaFile
		if s.OSUser != nil {
			id.osUser = s.OSUser()
		}
		u, err = s.resolveActor(tx)
	}
	if err != nil {
		return nil, err
	}
	return &Ctx{Tx: tx, Actor: u, Engine: access.New(tx), Now: now, command: command, id: id}, nil
}

// resolveActor finds the acting user of a local run: the one --as names,
// else the OS login when it is a registered user.
func (s *Service) resolveActor(tx *store.Tx) (helpdesk.User, error) {
	if s.Actor != "" {
		return namedActor(tx, s.Actor)
	}
	if s.OSUser != nil {
		if name := s.OSUser(); name != "" {
			if u, ok, err := tx.User(name); err != nil {
				return u, err
			} else if ok && u.Active {
				return u, nil
			}
		}
	}
	return helpdesk.User{}, errs.Usagef("no acting user").
		WithHint("pass --as LOGIN, set DESKCTL_USER, or set `user:` in the config file")
}

// namedActor is the user a login names, which must exist and be active.
func namedActor(tx *store.Tx, login string) (helpdesk.User, error) {
	u, ok, err := tx.User(login)
	if err != nil {
		return u, err
	}
	if !ok {
		all, _ := tx.Users()
		return u, helpdesk.NotFound("user", login, all)
	}
	if err := activeUser(u); err != nil {
		return u, err
	}
	return u, nil
}
