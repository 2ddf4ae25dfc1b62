package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// kvMigrator is a write transaction that can also create buckets.
type kvMigrator interface {
	kvTx
	createBucket(name []byte) (kvBucket, error)
}

func (t boltTx) createBucket(name []byte) (kvBucket, error) {
	b, err := t.btx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return boltBucket{b}, nil
}

// migrations[v] upgrades a database from schema v to v+1. Each step runs in
// the same write transaction as the version bump, so a migration either
// completes or leaves the file as it was.
var migrations = []func(kvMigrator) error{
	// 0 → 1: an empty bbolt file gets the directory, rights, ticket and audit buckets.
	func(tx kvMigrator) error {
		for _, name := range [][]byte{bucketMeta, bucketUsers, bucketGroups, bucketMemberOf, bucketResources,
			bucketUserRes, bucketActions, bucketGrants, bucketHolders, bucketTickets, bucketTicketIndex,
			bucketApprovals, bucketTokens, bucketOutbox, bucketSettings, bucketAudit} {
			if _, err := tx.createBucket(name); err != nil {
				return err
			}
		}
		return nil
	},
	// 1 → 2: sub-resources get a parent → child index so that removing a
	// parent and walking a resource tree need not scan every resource.
	func(tx kvMigrator) error {
		children, err := tx.createBucket(bucketChildren)
		if err != nil {
			return err
		}
		return tx.bucket(bucketResources).ForEach(func(k, v []byte) error {
			var r struct {
				Parent string `json:"parent"`
			}
			if err := unmarshal(v, &r); err != nil {
				return err
			}
			if r.Parent == "" {
				return nil
			}
			return children.Put(pair(r.Parent, string(k)), nil)
		})
	},
	// 2 → 3: ticket import remembers each source record's id.
	func(tx kvMigrator) error {
		_, err := tx.createBucket(bucketTicketExt)
		return err
	},
	// 3 → 4: the ticket index gets a key per user who acted on a ticket.
	func(tx kvMigrator) error {
		idx := tx.bucket(bucketTicketIndex)
		return tx.bucket(bucketTickets).ForEach(func(k, v []byte) error {
			var t helpdesk.Ticket
			if err := unmarshal(v, &t); err != nil {
				return err
			}
			for _, a := range logActors(t) {
				key := append(append(pair(idxActor, a), 0), k...)
				if err := idx.Put(key, nil); err != nil {
					return err
				}
			}
			return nil
		})
	},
	// 4 → 5: API tokens for `deskctl serve`, and the index of users bound to
	// an OS login other than their own name (none exist yet).
	func(tx kvMigrator) error {
		for _, name := range [][]byte{bucketAPITokens, bucketOSLogins} {
			if _, err := tx.createBucket(name); err != nil {
				return err
			}
		}
		return nil
	},
	// 5 → 6: approvers' delegations (none exist yet).
	func(tx kvMigrator) error {
		_, err := tx.createBucket(bucketDelegations)
		return err
	},
	// 6 → 7: when each approver last got a digest (none yet).
	func(tx kvMigrator) error {
		_, err := tx.createBucket(bucketDigests)
		return err
	},
	// 7 → 8: the custom actions as one compact record, and each subject's
	// groups as one record, built from member_of (whose keys arrive sorted,
	// so each subject's groups come in order).
	func(tx kvMigrator) error {
		catalog, err := tx.createBucket(bucketCatalog)
		if err != nil {
			return err
		}
		var custom []helpdesk.Right
		err = tx.bucket(bucketActions).ForEach(func(_, v []byte) error {
			var r helpdesk.Right
			if err := unmarshal(v, &r); err != nil {
				return err
			}
			custom = append(custom, r)
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortFunc(custom, func(a, b helpdesk.Right) int { return strings.Compare(a.Name, b.Name) })
		if err := putCatalog(catalog, custom); err != nil {
			return err
		}
		parents, err := tx.createBucket(bucketParents)
		if err != nil {
			return err
		}
		var subject string
		var groups []string
		flush := func() error {
			if subject == "" {
				return nil
			}
			return putParents(parents, subject, groups)
		}
		err = tx.bucket(bucketMemberOf).ForEach(func(k, _ []byte) error {
			s, g, ok := strings.Cut(string(k), "\x00")
			if !ok {
				return fmt.Errorf("member_of key %q has no group", k)
			}
			if s != subject {
				if err := flush(); err != nil {
					return err
				}
				subject, groups = s, groups[:0]
			}
			groups = append(groups, g)
			return nil
		})
		if err != nil {
			return err
		}
		return flush()
	},
	// 8 → 9: each assignee key of the ticket index gets its ticket's
	// resource as value. Tickets arrive in number order, so each
	// assignee's tickets are gathered in order and the keys rewritten in
	// key order, touching each index page once. A record that does not
	// decode is left as it is, for db check to name, rather than keeping
	// the whole database from opening.
	func(tx kvMigrator) error {
		type entry struct {
			number   uint64
			resource string
		}
		byAssignee := map[string][]entry{}
		names := map[string]string{} // one copy of each resource name
		err := tx.bucket(bucketTickets).ForEach(func(_, v []byte) error {
			var t struct {
				Number   uint64 `json:"number"`
				Assignee string `json:"assignee"`
				Resource string `json:"resource"`
			}
			if json.Unmarshal(v, &t) != nil {
				return nil
			}
			r := noneIfEmpty(t.Resource)
			if name, ok := names[r]; ok {
				r = name
			} else {
				names[r] = r
			}
			a := noneIfEmpty(t.Assignee)
			// The number the record gives is the one its index keys carry.
			byAssignee[a] = append(byAssignee[a], entry{t.Number, r})
			return nil
		})
		if err != nil {
			return err
		}
		idx := tx.bucket(bucketTicketIndex)
		for _, a := range slices.Sorted(maps.Keys(byAssignee)) {
			prefix := append(pair(idxAssignee, a), 0)
			for _, e := range byAssignee[a] {
				key := binary.BigEndian.AppendUint64(slices.Clip(prefix), e.number)
				if err := idx.Put(key, []byte(e.resource)); err != nil {
					return err
				}
			}
		}
		return nil
	},
}

func migrate(tx kvMigrator, from uint64) error {
	if int(from) > len(migrations) {
		return fmt.Errorf("no migration path from schema %d", from)
	}
	for v := from; v < SchemaVersion; v++ {
		if err := migrations[v](tx); err != nil {
			return fmt.Errorf("step %d → %d: %w", v, v+1, err)
		}
	}
	meta, err := tx.createBucket(bucketMeta)
	if err != nil {
		return err
	}
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], SchemaVersion)
	return meta.Put(schemaKey, buf[:])
}
