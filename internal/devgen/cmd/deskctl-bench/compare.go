package main

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/devgen"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/store"
)

// comparison is what -compare found asking two databases the same
// questions.
type comparison struct {
	A, B          string
	AuditHead     [2]string
	PolicyExport  bool // byte-identical
	CanQuestions  int
	CanDiffering  int
	ListQuestions int
	ListDiffering int
}

// compareStores asks the databases at a and b (files or URLs) for their
// audit heads and policy exports, n sampled `access can` questions (users,
// rights and tickets drawn with a fixed seed) and `ticket list` for the
// same users, and counts the answers that differ.
func compareStores(a, b string, n int) (comparison, error) {
	c := comparison{A: store.RedactURL(a), B: store.RedactURL(b)}
	svc := func(db string) *app.Service {
		return &app.Service{DBPath: db, Actor: devgen.AdminLogin, LockTimeout: time.Minute, Now: time.Now}
	}
	sa, sb := svc(a), svc(b)
	for i, s := range []*app.Service{sa, sb} {
		v, err := s.VerifyAudit()
		if err != nil {
			return c, err
		}
		c.AuditHead[i] = v.Head
	}
	ea, err := sa.ExportPolicy("yaml")
	if err != nil {
		return c, err
	}
	eb, err := sb.ExportPolicy("yaml")
	if err != nil {
		return c, err
	}
	c.PolicyExport = string(ea) == string(eb)

	db, err := store.Open(store.Options{Path: a, ReadOnly: true})
	if err != nil {
		return c, err
	}
	var users []string
	var tickets int
	err = db.View(func(tx *store.Tx) error {
		var err error
		users, err = tx.Users()
		tickets = tx.TicketCount()
		return err
	})
	db.Close()
	if err != nil {
		return c, err
	}
	rights := []string{helpdesk.ActClose, helpdesk.ActComment, helpdesk.ActAssign, helpdesk.ActAuthorize, helpdesk.ActReply, helpdesk.ActNote}
	rng := rand.New(rand.NewSource(42))
	for range n {
		login, right, ticket := users[rng.Intn(len(users))], rights[rng.Intn(len(rights))], 1+rng.Intn(tickets)
		if rng.Intn(4) == 0 {
			ticket = 0
		}
		ca, erra := sa.Can(login, right, ticket)
		cb, errb := sb.Can(login, right, ticket)
		c.CanQuestions++
		if !same(ca, cb) || fmt.Sprint(erra) != fmt.Sprint(errb) {
			c.CanDiffering++
		}
		if c.ListQuestions < n/10 {
			la, erra := (&app.Service{DBPath: a, Actor: login, Now: time.Now}).ListTickets(app.TicketQuery{Limit: 50})
			lb, errb := (&app.Service{DBPath: b, Actor: login, Now: time.Now}).ListTickets(app.TicketQuery{Limit: 50})
			c.ListQuestions++
			if !same(la, lb) || fmt.Sprint(erra) != fmt.Sprint(errb) {
				c.ListDiffering++
			}
		}
	}
	return c, nil
}

// same compares two answers as their JSON, which is what users see.
func same(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return reflect.DeepEqual(ja, jb)
}

// roundTrip is -compare: the file against the -postgres copy, then the
// copy taken back into a new file against the file.
func roundTrip(c config, env []string, db string) error {
	if _, err := copyToPostgres(c, env, db); err != nil {
		return err
	}
	back := db + ".back"
	_ = os.Remove(back)
	logf("copying the PostgreSQL database back to %s", back)
	s, err := once(c.deskctl, env, "db", "copy", "--from", c.postgres, "--to", back)
	if err != nil {
		return err
	}
	fmt.Printf("db copy PostgreSQL → file: %s wall, %s peak RSS\n", dur(s.wall), mb(s.rssKB))
	for _, pair := range [][2]string{{db, c.postgres}, {db, back}} {
		logf("asking %s and %s the same questions", store.RedactURL(pair[0]), store.RedactURL(pair[1]))
		r, err := compareStores(pair[0], pair[1], 1000)
		if err != nil {
			return err
		}
		fmt.Printf("%s vs %s: audit heads %s / %s; policy export identical: %v; access can: %d of %d answers differ; ticket list: %d of %d differ\n",
			r.A, r.B, r.AuditHead[0], r.AuditHead[1], r.PolicyExport, r.CanDiffering, r.CanQuestions, r.ListDiffering, r.ListQuestions)
		if r.AuditHead[0] != r.AuditHead[1] || !r.PolicyExport || r.CanDiffering > 0 || r.ListDiffering > 0 {
			return fmt.Errorf("the databases answer differently")
		}
	}
	return nil
}
