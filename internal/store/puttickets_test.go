package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// PutTickets leaves the records and index entries that PutTicket, ticket by
// ticket, leaves: for new tickets whose keys interleave across every index
// field, and for a stored ticket it replaces, whose old entries go.
func TestPutTicketsWritesWhatPutTicketWrites(t *testing.T) {
	users := []string{"ann", "ben", "cat", "dan"}
	resources := []string{"", "network", "printers"}
	states := []helpdesk.State{helpdesk.StateNew, helpdesk.StateInProgress, helpdesk.StateClosed}
	batch := func(first int) []helpdesk.Ticket {
		var ts []helpdesk.Ticket
		for i := range 40 {
			tk := helpdesk.Ticket{Number: first + i, Subject: fmt.Sprintf("t%d", i), Requester: users[(i*7)%4],
				Assignee: users[(i*3)%4], Resource: resources[i%3], State: states[(i/3)%3], Priority: helpdesk.PriorityNormal,
				Log: []helpdesk.Entry{{Seq: 1, Actor: users[i%4], Action: "import", Visibility: helpdesk.VisibleTechnicians}}}
			if tk.Resource == "" {
				tk.State = helpdesk.StateRequest
			}
			ts = append(ts, tk)
		}
		return ts
	}
	// The second batch replaces ticket 3 with one in another state,
	// resource, assignee and log actor.
	second := append(batch(41), helpdesk.Ticket{Number: 3, Subject: "moved", Requester: "dan", Assignee: "ann",
		Resource: "printers", State: helpdesk.StateClosed, Priority: helpdesk.PriorityHigh,
		Log: []helpdesk.Entry{{Seq: 1, Actor: "cat", Action: "close", Visibility: helpdesk.VisibleEveryone}}})

	var dumps [2][]string
	for i, together := range []bool{false, true} {
		db := openTestStore(t)
		addUsers(t, db, users...)
		mustUpdate(t, db, func(tx *Tx) error {
			return errors.Join(tx.PutResource(helpdesk.Resource{Name: "network"}), tx.PutResource(helpdesk.Resource{Name: "printers"}))
		})
		for _, ts := range [][]helpdesk.Ticket{batch(1), second} {
			mustUpdate(t, db, func(tx *Tx) error {
				if together {
					return tx.PutTickets(ts)
				}
				for _, tk := range ts {
					if err := tx.PutTicket(tk); err != nil {
						return err
					}
				}
				return nil
			})
		}
		assertNoProblems(t, db)
		mustView(t, db, func(tx *Tx) error {
			for _, b := range [][]byte{bucketTickets, bucketTicketIndex} {
				_ = tx.bucket(b).ForEach(func(k, v []byte) error {
					dumps[i] = append(dumps[i], fmt.Sprintf("%s %q %q", b, k, v))
					return nil
				})
			}
			return nil
		})
	}
	if len(dumps[0]) < 80*6 {
		t.Fatalf("only %d keys written", len(dumps[0]))
	}
	equal(t, "tickets and index written together", dumps[1], dumps[0])
}
