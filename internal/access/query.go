package access

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Holder is a user who holds a right (or, for a ticket, for whom the action
// is available now), with the paths through which it is held.
type Holder struct {
	Login string `json:"login"`
	Name  string `json:"name"`
	// Role is the user's role on the ticket, when a ticket was given.
	Role  Role   `json:"role"`
	Paths []Path `json:"paths"`
}

// WhoCan lists, sorted by login, the users holding right; with a ticket, the
// users for whom the action is available on it now. It starts from the
// subjects the right is granted to and expands them downward, so only users
// who can hold the right are examined.
func (e *Engine) WhoCan(right string, t *helpdesk.Ticket) ([]Holder, error) {
	r, idx, err := e.right(right)
	if err != nil {
		return nil, err
	}
	if t != nil && r.Kind != helpdesk.KindAction {
		return nil, notAction(r)
	}
	holders, err := e.src.Holders(r.Name)
	if err != nil {
		return nil, err
	}
	users, seen := map[string]bool{}, map[string]bool{}
	for _, h := range holders {
		if err := e.expand(h, users, seen); err != nil {
			return nil, err
		}
	}
	if t != nil {
		// Only users who can have a role on t need their availability
		// worked out: the requester, the members who work t's resource and
		// the holders of the permission that gives a role (read-all-tickets
		// on an authorized ticket, dispatcher on a request).
		cand := map[string]bool{t.Requester: true}
		perm := helpdesk.PermDispatcher
		if t.Resource != "" {
			perm = helpdesk.PermReadAllTickets
			res, err := e.resolve(t.Resource)
			if err != nil {
				return nil, err
			}
			for _, m := range res.Members {
				cand[m.Login] = true
			}
		}
		ph, err := e.src.Holders(perm)
		if err != nil {
			return nil, err
		}
		pseen := map[string]bool{}
		for _, h := range ph {
			if err := e.expand(h, cand, pseen); err != nil {
				return nil, err
			}
		}
		for u := range users {
			if !cand[u] {
				delete(users, u)
			}
		}
	}
	logins, err := e.activeLogins(users)
	if err != nil {
		return nil, err
	}
	out := []Holder{}
	for _, l := range logins {
		n, err := e.user(l)
		if err != nil {
			return nil, err
		}
		h := Holder{Login: l, Name: n.u.Name}
		if t == nil {
			if h.Paths, err = e.paths(n, idx); err != nil {
				return nil, err
			}
			if len(h.Paths) > 0 {
				out = append(out, h)
			}
			continue
		}
		role, err := e.role(n, t)
		if err != nil {
			return nil, err
		}
		c, err := e.available(n, t, role, r, idx)
		if err != nil {
			return nil, err
		}
		if c.Available {
			h.Role, h.Paths = role.Role, c.Paths
			out = append(out, h)
		}
	}
	return out, nil
}

// Matrix is users × rights: Cells[i][j] says whether Users[i] holds Rights[j].
// In JSON and YAML each row names its user and its rights (see MarshalJSON).
type Matrix struct {
	Users  []string
	Rights []string
	Cells  [][]bool
}

// matrixRow is one user's row of a Matrix as JSON: the user and, per right
// in column order, whether they hold it.
type matrixRow struct {
	User   string          `json:"user"`
	Rights json.RawMessage `json:"rights"`
}

type matrixJSON struct {
	Users  []string    `json:"users"`
	Rights []string    `json:"rights"`
	Rows   []matrixRow `json:"rows"`
}

// MarshalJSON writes {"users": [...], "rights": [...], "rows": [{"user":
// "bob", "rights": {"close": true, "admin": false, ...}}, ...]}: named
// fields instead of bare booleans, the rights of a row in column order.
func (m Matrix) MarshalJSON() ([]byte, error) {
	out := matrixJSON{Users: m.Users, Rights: m.Rights, Rows: make([]matrixRow, len(m.Users))}
	if out.Users == nil {
		out.Users = []string{}
	}
	if out.Rights == nil {
		out.Rights = []string{}
	}
	for i, u := range m.Users {
		var b bytes.Buffer
		b.WriteByte('{')
		for j, r := range m.Rights {
			if j > 0 {
				b.WriteByte(',')
			}
			name, err := json.Marshal(r)
			if err != nil {
				return nil, err
			}
			b.Write(name)
			b.WriteByte(':')
			b.WriteString(strconv.FormatBool(i < len(m.Cells) && j < len(m.Cells[i]) && m.Cells[i][j]))
		}
		b.WriteByte('}')
		out.Rows[i] = matrixRow{User: u, Rights: b.Bytes()}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (m *Matrix) UnmarshalJSON(data []byte) error {
	var in matrixJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*m = Matrix{Users: in.Users, Rights: in.Rights, Cells: make([][]bool, len(in.Rows))}
	for i, row := range in.Rows {
		var held map[string]bool
		if err := json.Unmarshal(row.Rights, &held); err != nil {
			return err
		}
		m.Cells[i] = make([]bool, len(in.Rights))
		for j, r := range in.Rights {
			m.Cells[i][j] = held[r]
		}
	}
	return nil
}

// Matrix computes which of users hold which of rights. An empty users list
// means every user (sorted); an empty rights list the whole catalog (in
// catalog order). Group closures are shared across users, so each group is
// walked once however many users are in it.
func (e *Engine) Matrix(users, rights []string) (Matrix, error) {
	if err := e.loadCatalog(); err != nil {
		return Matrix{}, err
	}
	m := Matrix{Users: users, Rights: rights}
	if len(users) == 0 {
		all, err := e.allLogins()
		if err != nil {
			return Matrix{}, err
		}
		m.Users = all
	}
	if len(rights) == 0 {
		m.Rights = make([]string, len(e.catalog))
		for i, r := range e.catalog {
			m.Rights[i] = r.Name
		}
	}
	idx := make([]int, len(m.Rights))
	for j, name := range m.Rights {
		_, i, err := e.right(name)
		if err != nil {
			return Matrix{}, err
		}
		idx[j] = i
	}
	m.Cells = make([][]bool, len(m.Users))
	for i, l := range m.Users {
		n, err := e.user(l)
		if err != nil {
			return Matrix{}, err
		}
		set, err := e.userRights(n)
		if err != nil {
			return Matrix{}, err
		}
		row := make([]bool, len(idx))
		for j, k := range idx {
			row[j] = set.has(k)
		}
		m.Cells[i] = row
	}
	return m, nil
}

// RightPaths is a right with the paths through which a user holds it.
type RightPaths struct {
	Right string `json:"right"`
	Paths []Path `json:"paths"`
}

// DiffResult lists the rights one user holds and the other lacks.
type DiffResult struct {
	A     string       `json:"a"`
	B     string       `json:"b"`
	OnlyA []RightPaths `json:"only_a"`
	OnlyB []RightPaths `json:"only_b"`
}

// Diff compares the rights of users a and b, in catalog order, each side with
// the paths through which its user holds the right.
func (e *Engine) Diff(a, b string) (DiffResult, error) {
	if err := e.loadCatalog(); err != nil {
		return DiffResult{}, err
	}
	na, err := e.user(a)
	if err != nil {
		return DiffResult{}, err
	}
	nb, err := e.user(b)
	if err != nil {
		return DiffResult{}, err
	}
	sa, err := e.userRights(na)
	if err != nil {
		return DiffResult{}, err
	}
	sb, err := e.userRights(nb)
	if err != nil {
		return DiffResult{}, err
	}
	d := DiffResult{A: a, B: b, OnlyA: []RightPaths{}, OnlyB: []RightPaths{}}
	side := func(n *userNode, i int) (RightPaths, error) {
		ps, err := e.paths(n, i)
		return RightPaths{Right: e.catalog[i].Name, Paths: ps}, err
	}
	for i := range e.catalog {
		var rp RightPaths
		switch {
		case sa.has(i) && !sb.has(i):
			if rp, err = side(na, i); err != nil {
				return DiffResult{}, err
			}
			d.OnlyA = append(d.OnlyA, rp)
		case sb.has(i) && !sa.has(i):
			if rp, err = side(nb, i); err != nil {
				return DiffResult{}, err
			}
			d.OnlyB = append(d.OnlyB, rp)
		}
	}
	return d, nil
}
