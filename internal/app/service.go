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

	mailer    chan []uint64 // set by StartMailer
	noMigrate bool          // never migrate an older schema (completion)
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
	// queued counts mails added to the outbox in this transaction.
	queued []uint64
}

// Audit appends the audit record for this use case's change.
func (c *Ctx) Audit(subject string, before, after any) error {
	rec := helpdesk.AuditRecord{Time: c.Now, Actor: c.Actor.Login, Command: c.command, Subject: subject}
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
	defer db.Close()
	return db.View(func(tx *store.Tx) error {
		c, err := s.ctx(tx, "")
		if err != nil {
			return err
		}
		return fn(c)
	})
}

// readAnon runs fn in a read-only transaction for reads that need no
// identity (the directory, the catalog). An actor named explicitly with
// --as or DESKCTL_USER must still exist and be active.
func (s *Service) readAnon(fn func(tx *store.Tx) error) error {
	db, err := s.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *store.Tx) error {
		if s.Actor != "" {
			if _, err := s.resolveActor(tx); err != nil {
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
	u, err := s.resolveActor(tx)
	if err != nil {
		return nil, err
	}
	return &Ctx{Tx: tx, Actor: u, Engine: access.New(tx), Now: s.now(), command: command}, nil
}

func (s *Service) resolveActor(tx *store.Tx) (helpdesk.User, error) {
	login := s.Actor
	if login == "" {
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
	u, ok, err := tx.User(login)
	if err != nil {
		return u, err
	}
	if !ok {
		all, _ := tx.Users()
		return u, helpdesk.NotFound("user", login, all)
	}
	if !u.Active {
		return u, errs.Forbiddenf("user %s is disabled and cannot act", login).
			WithHint("an administrator can run: deskctl user enable %s", login)
	}
	return u, nil
}
