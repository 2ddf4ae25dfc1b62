package app

import (
	"slices"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// GrantResult is what `access grant|revoke` changed.
type GrantResult struct {
	Subject string   `json:"subject"`
	Changed []string `json:"changed"`   // rights actually added or removed
	Already []string `json:"unchanged"` // rights that were already in the requested state
	Rights  []string `json:"rights"`    // the subject's direct grants afterwards
}

// mustSubject resolves "user:bob", "group:tier1" or "resource:network" to an existing subject.
func mustSubject(tx *store.Tx, text string) (helpdesk.Subject, error) {
	s, err := helpdesk.ParseSubject(text, "")
	if err != nil {
		return s, err
	}
	switch s.Kind {
	case helpdesk.KindUser:
		_, err = mustUser(tx, s.Name)
	case helpdesk.KindGroup:
		_, err = mustGroup(tx, s.Name)
	case helpdesk.KindResource:
		_, err = mustResource(tx, s.Name)
	}
	return s, err
}

func mustRight(tx *store.Tx, name string) (helpdesk.Right, error) {
	r, ok, err := tx.Right(name)
	if err != nil || ok {
		return r, err
	}
	rs, _ := tx.Rights()
	names := make([]string, len(rs))
	for i, x := range rs {
		names[i] = x.Name
	}
	return r, helpdesk.NotFound("right", name, names)
}

// Grant gives rights to a user, group or resource.
func (s *Service) Grant(subject string, rights []string) (GrantResult, error) {
	return s.changeGrants("access grant", subject, rights, true)
}

// Revoke takes rights away from a user, group or resource.
func (s *Service) Revoke(subject string, rights []string) (GrantResult, error) {
	return s.changeGrants("access revoke", subject, rights, false)
}

func (s *Service) changeGrants(cmd, subject string, rights []string, grant bool) (GrantResult, error) {
	var out GrantResult
	if len(rights) == 0 {
		return out, errs.Usagef("name at least one right").WithHint("list them with: deskctl action list")
	}
	_, err := s.write(cmd, func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		subj, err := mustSubject(c.Tx, subject)
		if err != nil {
			return err
		}
		before, _ := c.Tx.Grants(subj)
		out = GrantResult{Subject: subj.String(), Changed: []string{}, Already: []string{}}
		for _, name := range rights {
			r, err := mustRight(c.Tx, name)
			if err != nil {
				return err
			}
			if grant && subj.Kind == helpdesk.KindResource && r.NotForResources {
				return errs.Usagef("%s cannot be granted to a resource", r.Name).
					WithHint("grant it to a user or group instead, e.g. deskctl access grant %s --to group:NAME", r.Name)
			}
			has := c.Tx.HasGrant(subj, r.Name)
			if has == grant {
				out.Already = append(out.Already, r.Name)
				continue
			}
			if grant {
				err = c.Tx.Grant(subj, r.Name)
			} else {
				err = c.Tx.Revoke(subj, r.Name)
			}
			if err != nil {
				return err
			}
			out.Changed = append(out.Changed, r.Name)
		}
		after, _ := c.Tx.Grants(subj)
		if slices.Contains(after, helpdesk.PermEditAllTickets) && !slices.Contains(after, helpdesk.PermReadAllTickets) {
			return errs.Usagef("edit-all-tickets requires read-all-tickets on %s", subj).
				WithHint("grant both together: deskctl access grant read-all-tickets edit-all-tickets --to %s", subj)
		}
		if !grant && len(out.Already) > 0 && len(out.Changed) == 0 {
			return errs.NotFoundf("%s holds none of %s directly", subj, join(out.Already)).
				WithHint("see where a right comes from with: deskctl access explain USER --right %s", out.Already[0])
		}
		if !grant {
			if err := requireActiveAdmin(c); err != nil {
				return err
			}
		}
		out.Rights = nonNil(after)
		if len(out.Changed) == 0 {
			return errNothingToWrite
		}
		return c.Audit(subj.String(), map[string]any{"rights": nonNil(before)}, map[string]any{"rights": out.Rights})
	})
	return out, err
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// explainTarget checks that the actor may look at login's rights: their own,
// or anyone's for administrators.
func explainTarget(c *Ctx, login string) error {
	if login == c.Actor.Login {
		return nil
	}
	if err := c.RequireAdmin(); err != nil {
		return errs.Forbiddenf("only administrators may inspect other users' rights").
			WithHint("explain yourself with: deskctl access explain %s", c.Actor.Login)
	}
	return nil
}

// loadTicket reads the ticket a permission question is about (none for 0).
// Administrators may ask about any ticket; anyone else only about tickets
// they have a role on, so that asking cannot reveal a ticket they may not
// see: it is "not found" exactly as `ticket show` says.
func loadTicket(c *Ctx, n int) (*helpdesk.Ticket, error) {
	switch {
	case n == 0:
		return nil, nil
	case n < 0:
		return nil, errs.Usagef("ticket numbers start at 1, not %d", n)
	}
	if admin, err := c.Engine.Holds(c.Actor.Login, helpdesk.PermAdmin); err != nil || !admin {
		if err != nil {
			return nil, err
		}
		t, _, err := visibleTicket(c, n)
		return &t, err
	}
	t, ok, err := c.Tx.Ticket(n)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.NotFoundf("no ticket #%d", n)
	}
	return &t, nil
}

// ExplainInput is `access explain`.
type ExplainInput struct {
	Who    string // LOGIN, user:LOGIN, group:G or resource:R
	Ticket int
	Right  string
	All    bool
}

// ExplainResult holds either a user's or a group/resource's explanation.
type ExplainResult struct {
	User    *access.Explanation        `json:"user"`
	Subject *access.SubjectExplanation `json:"subject"`
}

func (s *Service) Explain(in ExplainInput) (ExplainResult, error) {
	var out ExplainResult
	err := s.read(func(c *Ctx) error {
		subj, err := helpdesk.ParseSubject(in.Who, helpdesk.KindUser)
		if err != nil {
			return err
		}
		if subj.Kind != helpdesk.KindUser {
			if err := c.RequireAdmin(); err != nil {
				return err
			}
			if in.Ticket != 0 || in.Right != "" {
				return errs.Usagef("--ticket and --right apply to users").WithHint("explain a member instead: deskctl access explain LOGIN --ticket N")
			}
			x, err := c.Engine.ExplainSubject(subj)
			out.Subject = &x
			return err
		}
		if err := explainTarget(c, subj.Name); err != nil {
			return err
		}
		t, err := loadTicket(c, in.Ticket)
		if err != nil {
			return err
		}
		x, err := c.Engine.Explain(subj.Name, access.ExplainOptions{Ticket: t, Right: in.Right, All: in.All})
		out.User = &x
		return err
	})
	return out, err
}

// Can answers `access can USER RIGHT [--ticket N]`.
func (s *Service) Can(login, right string, ticket int) (access.Check, error) {
	var out access.Check
	err := s.read(func(c *Ctx) error {
		if err := explainTarget(c, login); err != nil {
			return err
		}
		t, err := loadTicket(c, ticket)
		if err != nil {
			return err
		}
		out, err = c.Engine.Can(login, right, t)
		return err
	})
	return out, err
}

// WhoCan answers `access who-can RIGHT [--ticket N]` (administrators).
func (s *Service) WhoCan(right string, ticket int) ([]access.Holder, error) {
	var out []access.Holder
	err := s.read(func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		t, err := loadTicket(c, ticket)
		if err != nil {
			return err
		}
		out, err = c.Engine.WhoCan(right, t)
		if out == nil {
			out = []access.Holder{}
		}
		return err
	})
	return out, err
}

// Matrix answers `access matrix` (administrators).
func (s *Service) Matrix(users, rights []string) (access.Matrix, error) {
	var out access.Matrix
	err := s.read(func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		var err error
		out, err = c.Engine.Matrix(users, rights)
		return err
	})
	return out, err
}

// Diff answers `access diff A B` (administrators).
func (s *Service) Diff(a, b string) (access.DiffResult, error) {
	var out access.DiffResult
	err := s.read(func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		var err error
		out, err = c.Engine.Diff(a, b)
		return err
	})
	return out, err
}

// --- the catalog ---

// ListRights returns the whole catalog.
func (s *Service) ListRights() ([]helpdesk.Right, error) {
	var out []helpdesk.Right
	err := s.readAnon(func(tx *store.Tx) error {
		var err error
		out, err = tx.Rights()
		return err
	})
	return out, err
}

// ShowRight returns one right with its direct holders.
func (s *Service) ShowRight(name string) (helpdesk.Right, []string, error) {
	var r helpdesk.Right
	holders := []string{}
	err := s.readAnon(func(tx *store.Tx) error {
		var err error
		if r, err = mustRight(tx, name); err != nil {
			return err
		}
		hs, err := tx.Holders(r.Name)
		for _, h := range hs {
			holders = append(holders, h.String())
		}
		return err
	})
	return r, holders, err
}

// PutAction adds (create=true) or updates a custom action.
func (s *Service) PutAction(r helpdesk.Right, create bool) (helpdesk.Right, error) {
	cmd := "action update"
	if create {
		cmd = "action add"
	}
	_, err := s.write(cmd, func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		r.Kind, r.Builtin = helpdesk.KindAction, false
		if err := helpdesk.ValidateCustomAction(r); err != nil {
			return err
		}
		old, exists, err := c.Tx.Right(r.Name)
		if err != nil {
			return err
		}
		switch {
		case create && exists:
			return errs.Conflictf("action %s already exists", r.Name).WithHint("change it with: deskctl action update %s …", r.Name)
		case !create && !exists:
			return helpdesk.NotFound("action", r.Name, nil)
		case !create && old.Builtin:
			return errs.Conflictf("%s is built in and cannot be changed", r.Name)
		}
		if err := c.Tx.PutAction(r); err != nil {
			return err
		}
		var before any
		if exists {
			before = old
		}
		return c.Audit("action:"+r.Name, before, r)
	})
	return r, err
}

// RemoveAction deletes a custom action and its grants.
func (s *Service) RemoveAction(name string) error {
	_, err := s.write("action remove", func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		r, err := mustRight(c.Tx, name)
		if err != nil {
			return err
		}
		if r.Builtin {
			return errs.Conflictf("%s is built in and cannot be removed", name).WithHint("revoke it instead: deskctl access revoke %s --from SUBJECT", name)
		}
		hs, _ := c.Tx.Holders(name)
		if err := c.Tx.DeleteAction(name); err != nil {
			return err
		}
		var holders []string
		for _, h := range hs {
			holders = append(holders, h.String())
		}
		return c.Audit("action:"+name, map[string]any{"action": r, "granted_to": holders}, nil)
	})
	return err
}
