package app

import (
	"slices"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// Candidate kinds for shell completion.
const (
	CompleteUsers     = "users"
	CompleteGroups    = "groups"
	CompleteResources = "resources"
	CompleteRights    = "rights"
	CompleteActions   = "actions"
	CompleteSubjects  = "subjects"
	CompleteMembers   = "members" // group members: logins and group:NAME
	CompleteTickets   = "tickets"
)

// Complete returns completion candidates ("value\tdescription"). It opens
// the database read-only with a short lock timeout and returns nothing on
// any problem: completion must never fail noisily or block a shell.
func (s *Service) Complete(kind, prefix string) []string {
	quick := *s
	quick.LockTimeout = 300 * time.Millisecond
	quick.noMigrate = true // completion never writes
	if kind == CompleteTickets {
		return quick.completeTickets(prefix)
	}
	// Names are offered to anyone who can read the file; an unknown
	// --as or DESKCTL_USER must not empty every completion.
	quick.Actor = ""
	var out []string
	add := func(v, desc string) {
		if strings.HasPrefix(v, prefix) {
			out = append(out, candidate(v, desc))
		}
	}
	_ = quick.readAnon(func(tx *store.Tx) error {
		switch kind {
		case CompleteUsers:
			us, _ := tx.AllUsers()
			for _, u := range us {
				add(u.Login, u.Name)
			}
		case CompleteGroups:
			gs, _ := tx.Groups()
			for _, g := range gs {
				add(g, "")
			}
		case CompleteResources:
			rs, _ := tx.Resources()
			for _, r := range rs {
				add(r, "")
			}
		case CompleteRights, CompleteActions:
			rs, _ := tx.Rights()
			for _, r := range rs {
				if kind == CompleteActions && r.Kind != helpdesk.KindAction {
					continue
				}
				add(r.Name, string(r.Category)+": "+r.Description)
			}
		case CompleteMembers:
			us, _ := tx.AllUsers()
			for _, u := range us {
				add(u.Login, u.Name)
			}
			gs, _ := tx.Groups()
			for _, g := range gs {
				if g != helpdesk.Everyone {
					add("group:"+g, "")
				}
			}
		case CompleteSubjects:
			us, _ := tx.AllUsers()
			for _, u := range us {
				add("user:"+u.Login, u.Name)
			}
			gs, _ := tx.Groups()
			for _, g := range gs {
				add("group:"+g, "")
			}
			rs, _ := tx.Resources()
			for _, r := range rs {
				add("resource:"+r, "")
			}
		}
		return nil
	})
	return out
}

// candidate is one line of completion output: the value and, after a tab,
// what it is.
func candidate(v, desc string) string {
	if desc == "" {
		return v
	}
	return v + "\t" + desc
}

// maxTicketCandidates bounds the ticket numbers completion offers.
const maxTicketCandidates = 50

// completeTickets offers the newest tickets the actor has a role on whose
// numbers start with prefix, at most maxTicketCandidates. It walks the same
// index ranges as `ticket list`, so it reads only the tickets it offers
// (and one more per range of numbers), however many the actor cannot see.
func (s *Service) completeTickets(prefix string) []string {
	var out []string
	_ = s.read(func(c *Ctx) error {
		for _, r := range numbersStartingWith(prefix, c.Tx.HighestTicketNumber()) {
			err := eachVisibleTicket(c, store.TicketQuery{Before: r.hi + 1}, func(t helpdesk.Ticket) (bool, error) {
				if t.Number < r.lo {
					return false, nil
				}
				role, err := c.Engine.Role(c.Actor.Login, &t)
				if err != nil {
					return false, err
				}
				if role.Role != access.RoleNone {
					out = append(out, candidate(itoa(t.Number), t.Subject))
				}
				return len(out) < maxTicketCandidates, nil
			})
			if err != nil || len(out) >= maxTicketCandidates {
				return err
			}
		}
		return nil
	})
	return out
}

// numberRange is the ticket numbers lo..hi.
type numberRange struct{ lo, hi int }

// numbersStartingWith lists the ranges of ticket numbers up to highest
// that are written with prefix, highest first: for "12" and highest
// 500 000 that is 120 000–129 999, 12 000–12 999, 1 200–1 299, 120–129, 12.
// An empty prefix is every number; a prefix no number starts with (not
// digits, or a leading zero) gives none.
func numbersStartingWith(prefix string, highest int) []numberRange {
	if prefix == "" {
		return []numberRange{{1, highest}}
	}
	p := 0
	for i, r := range prefix {
		if r < '0' || r > '9' || i == 0 && r == '0' || p > highest {
			return nil
		}
		p = p*10 + int(r-'0')
	}
	var out []numberRange
	for lo, width := p, 1; lo <= highest; lo, width = lo*10, width*10 {
		out = append(out, numberRange{lo, min(lo+width-1, highest)})
	}
	slices.Reverse(out)
	return out
}
