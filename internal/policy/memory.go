package policy

import (
	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// ToMemory loads what p describes into an in-memory Source for the
// permission engine, so `policy test` can ask the same questions of a file
// that `access` asks of a database. Give it a policy Validate accepts; it
// does not check references itself.
func ToMemory(p *Policy) *access.Memory {
	return StateToMemory(p.State())
}

// StateToMemory loads plain directory data into an in-memory Source. The
// built-in catalog and the everyone group are there from the start; an
// everyone entry in s replaces the latter's description.
func StateToMemory(s State) *access.Memory {
	m := access.NewMemory()
	m.Reserve(len(s.Users), len(s.Groups), len(s.Resources))
	for _, u := range s.Users {
		m.PutUser(u)
	}
	for _, g := range s.Groups {
		if old, ok, _ := m.Group(g.Name); ok && g.Description == "" {
			g.Description = old.Description // a file may list everyone only for its rights
		}
		m.PutGroup(g)
	}
	for _, r := range s.Resources {
		m.PutResource(r)
	}
	for _, a := range s.Actions {
		a.Kind = helpdesk.KindAction
		m.PutRight(a)
	}
	for subj, rights := range s.Grants {
		m.Grant(subj, rights...)
	}
	for k, v := range s.Settings {
		m.PutSetting(k, v)
	}
	return m
}
