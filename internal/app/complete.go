package app

import (
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
	if kind != CompleteTickets {
		// Names are offered to anyone who can read the file; an unknown
		// --as or DESKCTL_USER must not empty every completion.
		quick.Actor = ""
	}
	var out []string
	add := func(v, desc string) {
		if strings.HasPrefix(v, prefix) {
			if desc != "" {
				v += "\t" + desc
			}
			out = append(out, v)
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
		case CompleteTickets:
			actor, err := quick.resolveActor(tx)
			if err != nil {
				return nil
			}
			eng := access.New(tx)
			n := 0
			return tx.EachTicket(store.TicketQuery{}, func(t helpdesk.Ticket) (bool, error) {
				if role, err := eng.Role(actor.Login, &t); err == nil && role.Role != access.RoleNone {
					add(itoa(t.Number), t.Subject)
					n++
				}
				return n < 100, nil
			})
		}
		return nil
	})
	return out
}
