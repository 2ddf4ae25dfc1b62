package app

import (
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// TicketView is a ticket as printed (list rows and the top of `ticket show`).
type TicketView struct {
	Number      int       `json:"number"`
	Subject     string    `json:"subject"`
	Description string    `json:"description"`
	Requester   string    `json:"requester"`
	Resource    string    `json:"resource"`
	State       string    `json:"state"`
	Priority    string    `json:"priority"`
	Category    string    `json:"category"`
	Due         string    `json:"due"`
	Assignee    string    `json:"assignee"`
	Links       []int     `json:"links"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

func ticketView(t helpdesk.Ticket) TicketView {
	links := t.Links
	if links == nil {
		links = []int{}
	}
	return TicketView{t.Number, t.Subject, t.Description, t.Requester, t.Resource, string(t.State), string(t.Priority),
		t.Category, t.Due, t.Assignee, links, t.Created, t.Updated}
}

// EntryView is a log entry as printed.
type EntryView struct {
	Seq        int       `json:"seq"`
	Time       time.Time `json:"time"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	Text       string    `json:"text"`
	From       string    `json:"from,omitempty"`
	To         string    `json:"to,omitempty"`
	Visibility string    `json:"visibility"`
	System     bool      `json:"system"`
}

func entryView(e helpdesk.Entry) EntryView {
	return EntryView{e.Seq, e.Time, e.Actor, e.Action, e.Text, string(e.From), string(e.To), string(e.Visibility), e.System}
}

// CreateTicketInput is `ticket create`.
type CreateTicketInput struct {
	Subject, Description, Requester, Resource, Priority, Category, Due string
}

// CreateTicket opens a request, or with a resource (dispatchers only) a
// ticket authorized straight into it.
func (s *Service) CreateTicket(in CreateTicketInput) (TicketView, error) {
	var out TicketView
	_, err := s.write("ticket create", func(c *Ctx) error {
		t := helpdesk.Ticket{Subject: in.Subject, Description: in.Description, Requester: c.Actor.Login,
			State: helpdesk.StateRequest, Priority: helpdesk.PriorityNormal, Category: in.Category, Due: in.Due,
			Created: c.Now, Updated: c.Now}
		if in.Priority != "" {
			p, err := helpdesk.ParsePriority(in.Priority)
			if err != nil {
				return err
			}
			t.Priority = p
		}
		if err := helpdesk.CleanTicketFields(&t); err != nil {
			return err
		}
		if in.Requester != "" && in.Requester != c.Actor.Login {
			if err := requirePermission(c, helpdesk.PermDispatcher, "open tickets on behalf of another user"); err != nil {
				return err
			}
			u, err := mustUser(c.Tx, in.Requester)
			if err != nil {
				return err
			}
			if !u.Active {
				return errs.Conflictf("user %s is disabled", u.Login)
			}
			t.Requester = u.Login
		}
		if in.Resource != "" {
			if err := requirePermission(c, helpdesk.PermDispatcher, "create tickets authorized into a resource"); err != nil {
				return err
			}
			if _, err := mustResource(c.Tx, in.Resource); err != nil {
				return err
			}
		}
		n, err := c.Tx.NextTicketNumber()
		if err != nil {
			return err
		}
		t.Number = n
		t.Log = []helpdesk.Entry{{Seq: 1, Time: c.Now, Actor: c.Actor.Login, Action: "create", Text: t.Subject,
			To: helpdesk.StateRequest, Visibility: helpdesk.VisibleEveryone}}
		if in.Resource != "" {
			t.Resource = in.Resource
			t.State = helpdesk.StateNew
			t.Log = append(t.Log, helpdesk.Entry{Seq: 2, Time: c.Now, Actor: c.Actor.Login, Action: helpdesk.ActAuthorize,
				Text: "→ resource " + in.Resource, From: helpdesk.StateRequest, To: helpdesk.StateNew, Visibility: helpdesk.VisibleEveryone})
		}
		if err := c.Tx.PutTicket(t); err != nil {
			return err
		}
		out = ticketView(t)
		return c.Audit(ticketSubject(n), nil, out)
	})
	return out, err
}

func ticketSubject(n int) string { return "ticket:" + itoa(n) }

// requirePermission checks a ticket-independent permission with a clear hint.
func requirePermission(c *Ctx, perm, what string) error {
	ok, err := c.Engine.Holds(c.Actor.Login, perm)
	if err != nil || ok {
		return err
	}
	return errs.Forbiddenf("%s lacks the %s permission needed to %s", c.Actor.Login, perm, what).
		WithHint("an administrator can run: deskctl access grant %s --to user:%s", perm, c.Actor.Login)
}

// visibleTicket loads a ticket the actor has a role on; others get "not found".
func visibleTicket(c *Ctx, n int) (helpdesk.Ticket, access.RoleInfo, error) {
	t, ok, err := c.Tx.Ticket(n)
	if err != nil {
		return t, access.RoleInfo{}, err
	}
	notFound := errs.NotFoundf("no ticket #%d", n).WithHint("list the tickets you can see with: deskctl ticket list")
	if !ok {
		return t, access.RoleInfo{}, notFound
	}
	role, err := c.Engine.Role(c.Actor.Login, &t)
	if err != nil {
		return t, role, err
	}
	if role.Role == access.RoleNone {
		return t, role, notFound
	}
	return t, role, nil
}

// TicketQuery is `ticket list`.
type TicketQuery struct {
	State, Resource, Requester, Assignee string
	Limit                                int
	Before                               int
}

// ListTickets returns the newest tickets matching q that the actor has a role on.
func (s *Service) ListTickets(q TicketQuery) ([]TicketView, error) {
	if q.State != "" {
		if _, err := helpdesk.ParseState(q.State); err != nil {
			return nil, err
		}
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	var out []TicketView
	err := s.read(func(c *Ctx) error {
		var err error
		out, err = listTickets(c, q)
		return err
	})
	return out, err
}

// listTickets decides from index keys which tickets the actor may see and
// reads only those it returns, so a page costs about the same however many
// tickets the actor cannot see.
func listTickets(c *Ctx, q TicketQuery) ([]TicketView, error) {
	out := []TicketView{}
	return out, eachVisibleTicket(c, q.store(), collect(c, q.Limit, &out))
}

// eachVisibleTicket walks, newest first, the tickets matching q among
// those the index says the actor may see, and hands them to fn (which
// still checks the role) until fn returns false.
func eachVisibleTicket(c *Ctx, q store.TicketQuery, fn func(helpdesk.Ticket) (bool, error)) error {
	v, err := c.Engine.Visibility(c.Actor.Login, c.Tx.Children)
	if err != nil || v.None {
		return err
	}
	if v.AllAuthorized {
		// Nearly every ticket is visible: walk the query's own index.
		return c.Tx.EachTicket(q, fn)
	}
	scope := store.TicketScope{Resources: v.Resources, Requester: c.Actor.Login}
	if v.Requests {
		scope.Resources = append(scope.Resources, "-")
	}
	return c.Tx.EachTicketIn(scope, q, fn)
}

func (q TicketQuery) store() store.TicketQuery {
	return store.TicketQuery{State: q.State, Resource: q.Resource, Requester: q.Requester, Assignee: q.Assignee, Before: q.Before}
}

// collect is the visitor of a ticket walk that keeps the tickets the actor
// has a role on, until it holds limit.
func collect(c *Ctx, limit int, out *[]TicketView) func(helpdesk.Ticket) (bool, error) {
	return func(t helpdesk.Ticket) (bool, error) {
		role, err := c.Engine.Role(c.Actor.Login, &t)
		if err != nil {
			return false, err
		}
		if role.Role != access.RoleNone {
			*out = append(*out, ticketView(t))
		}
		return len(*out) < limit, nil
	}
}

// TicketDetail is `ticket show`: the ticket, the actor's role and what they can do now.
type TicketDetail struct {
	TicketView
	Role       access.RoleInfo `json:"role"`
	Available  []string        `json:"available_actions"`
	Approval   *ApprovalBadge  `json:"approval,omitempty"`
	LogEntries int             `json:"log_entries"`
}

// ApprovalBadge is the Approval row of the details panel.
type ApprovalBadge struct {
	State    string `json:"state"`
	Approver string `json:"approver"`
	Text     string `json:"text"`
}

func (s *Service) ShowTicket(n int) (TicketDetail, error) {
	var out TicketDetail
	err := s.read(func(c *Ctx) error {
		t, role, err := visibleTicket(c, n)
		if err != nil {
			return err
		}
		checks, err := c.Engine.Actions(c.Actor.Login, &t)
		if err != nil {
			return err
		}
		out = TicketDetail{TicketView: ticketView(t), Role: role, Available: []string{}}
		for _, ch := range checks {
			if ch.Available {
				out.Available = append(out.Available, ch.Action)
			}
		}
		for _, e := range t.Log {
			if canSee(role, e) {
				out.LogEntries++
			}
		}
		if a, ok, err := c.Tx.Approval(n); err != nil {
			return err
		} else if ok {
			out.Approval = approvalBadge(c.Tx, a)
		}
		return nil
	})
	return out, err
}

func canSee(role access.RoleInfo, e helpdesk.Entry) bool {
	return !e.Visibility.TechniciansOnly() || role.Role == access.RoleResourceMember || role.Role == access.RoleDispatcher
}

// TicketLog returns the entries the actor may see.
func (s *Service) TicketLog(n int) ([]EntryView, error) {
	out := []EntryView{}
	err := s.read(func(c *Ctx) error {
		t, role, err := visibleTicket(c, n)
		if err != nil {
			return err
		}
		for _, e := range t.Log {
			if canSee(role, e) {
				out = append(out, entryView(e))
			}
		}
		return nil
	})
	return out, err
}

// ActionRequest is one `ticket do` (or a thin verb over it).
type ActionRequest struct {
	Ticket int
	Action string
	Input  helpdesk.ActionInput
}

// ActionResult is what a ticket action did.
type ActionResult struct {
	Ticket  TicketView  `json:"ticket"`
	Entries []EntryView `json:"entries"`
	Deleted bool        `json:"deleted,omitempty"`
}

// DoAction runs one or more actions on one ticket in one transaction; every
// action must be available to the actor, checked in order against the ticket
// as the previous actions left it.
func (s *Service) DoAction(reqs ...ActionRequest) (ActionResult, error) {
	var out ActionResult
	if len(reqs) == 0 {
		return out, errs.Usagef("no action given")
	}
	cmd := "ticket " + reqs[0].Action
	d, err := s.write(cmd, func(c *Ctx) error {
		t, _, err := visibleTicket(c, reqs[0].Ticket)
		if err != nil {
			return err
		}
		before := ticketView(t)
		var names []string
		for _, r := range reqs {
			if _, err := c.Engine.RequireAvailable(c.Actor.Login, &t, r.Action); err != nil {
				return err
			}
			right, _, err := c.Tx.Right(r.Action)
			if err != nil {
				return err
			}
			if r.Action == helpdesk.ActDelete {
				return deleteTicket(c, t)
			}
			if err := checkActionTargets(c, &t, r); err != nil {
				return err
			}
			e, err := helpdesk.Apply(&t, right, c.Actor.Login, r.Input, c.Now)
			if err != nil {
				return err
			}
			out.Entries = append(out.Entries, entryView(e))
			names = append(names, r.Action)
			if r.Action == helpdesk.ActLink {
				if err := linkBack(c, t.Number, r.Input.Link); err != nil {
					return err
				}
			}
		}
		if err := c.Tx.PutTicket(t); err != nil {
			return err
		}
		out.Ticket = ticketView(t)
		c.command = "ticket " + strings.Join(names, "+")
		return c.Audit(ticketSubject(t.Number), before, out.Ticket)
	})
	_ = d
	if err == nil && out.Ticket.Number == 0 {
		out.Deleted = true
	}
	return out, err
}

// checkActionTargets verifies what an action points at, using the directory.
func checkActionTargets(c *Ctx, t *helpdesk.Ticket, r ActionRequest) error {
	switch r.Action {
	case helpdesk.ActAuthorize, helpdesk.ActForward:
		if r.Input.Resource != "" {
			if _, err := mustResource(c.Tx, r.Input.Resource); err != nil {
				return err
			}
		}
	case helpdesk.ActAssign:
		if r.Input.Assignee == "" {
			return nil
		}
		u, err := mustUser(c.Tx, r.Input.Assignee)
		if err != nil {
			return err
		}
		probe := *t
		role, err := c.Engine.Role(u.Login, &probe)
		if err != nil {
			return err
		}
		if role.Role != access.RoleResourceMember || role.ReadOnly {
			staff, err := c.Engine.StaffResource(t.Resource)
			if err != nil {
				return err
			}
			return errs.Conflictf("%s cannot work #%d: %s", u.Login, t.Number, strings.TrimSpace(role.Reason+" (assignees must be members of the ticket's resource with write access)")).
				WithHint("make them a member first: deskctl resource add-member %s %s --access write", staff, u.Login)
		}
	case helpdesk.ActLink:
		if r.Input.Link > 0 {
			// Linking writes into the other ticket too, so the action must
			// be available there as well.
			other, _, err := visibleTicket(c, r.Input.Link)
			if err != nil {
				return err
			}
			if _, err := c.Engine.RequireAvailable(c.Actor.Login, &other, helpdesk.ActLink); err != nil {
				return err
			}
		}
	}
	return nil
}

func linkBack(c *Ctx, from, to int) error {
	other, ok, err := c.Tx.Ticket(to)
	if err != nil || !ok {
		return err
	}
	for _, l := range other.Links {
		if l == from {
			return nil
		}
	}
	other.Links = append(other.Links, from)
	other.Log = append(other.Log, helpdesk.Entry{Seq: len(other.Log) + 1, Time: c.Now, Actor: c.Actor.Login,
		Action: helpdesk.ActLink, Text: "linked to #" + itoa(from), Visibility: helpdesk.VisibleEveryone})
	other.Updated = c.Now
	return c.Tx.PutTicket(other)
}

// deleteTicket removes a ticket with its approval record and unsent mail about it.
func deleteTicket(c *Ctx, t helpdesk.Ticket) error {
	if err := c.Tx.DeleteTicket(t.Number); err != nil {
		return err
	}
	if err := c.Tx.DeleteApproval(t.Number); err != nil {
		return err
	}
	if _, err := c.Tx.DropTicketMail(t.Number); err != nil {
		return err
	}
	for _, l := range t.Links {
		other, ok, err := c.Tx.Ticket(l)
		if err != nil {
			return err
		}
		if ok {
			var keep []int
			for _, x := range other.Links {
				if x != t.Number {
					keep = append(keep, x)
				}
			}
			other.Links = keep
			if err := c.Tx.PutTicket(other); err != nil {
				return err
			}
		}
	}
	c.command = "ticket delete"
	return c.Audit(ticketSubject(t.Number), ticketView(t), nil)
}
