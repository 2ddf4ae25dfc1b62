package store

import (
	"sync"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/pgtest"
)

// Writers on separate connections (as on separate hosts) take turns:
// 16 × 50 tickets get unique, gap-free numbers and one unbroken audit chain.
func TestPostgresWritersTakeTurns(t *testing.T) {
	url := pgtest.NewEmptyDatabase(t)
	db, err := Create(url, time.Second, func(tx *Tx) error {
		return tx.PutGroup(helpdesk.Group{Name: helpdesk.Everyone})
	})
	if err != nil {
		t.Fatal(err)
	}
	addUsers(t, db, "ann")
	var wg sync.WaitGroup
	errc := make(chan error, 16*50)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := Open(Options{Path: url, LockTimeout: time.Minute})
			if err != nil {
				errc <- err
				return
			}
			for i := 0; i < 50; i++ {
				errc <- h.Update(func(tx *Tx) error {
					n, err := tx.NextTicketNumber()
					if err != nil {
						return err
					}
					if err := tx.PutTicket(helpdesk.Ticket{Number: n, Subject: "t", Requester: "ann", State: helpdesk.StateRequest, Priority: helpdesk.PriorityNormal}); err != nil {
						return err
					}
					_, err = tx.AppendAudit(helpdesk.AuditRecord{Actor: "ann", Command: "ticket create", Subject: TicketLabel(n)})
					return err
				})
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	mustView(t, db, func(tx *Tx) error {
		for n := 1; n <= 800; n++ {
			if _, ok, err := tx.Ticket(n); !ok || err != nil {
				t.Fatalf("ticket %d missing (%v)", n, err)
			}
		}
		if c := tx.TicketCount(); c != 800 {
			t.Errorf("%d tickets, want 800", c)
		}
		n, p, err := tx.VerifyAudit()
		if p != nil || n != 800 {
			t.Errorf("audit chain: %d records, problem %+v", n, p)
		}
		return err
	})
	assertNoProblems(t, db)
}
