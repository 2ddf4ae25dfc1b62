package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	bolt "go.etcd.io/bbolt"
)

// Problem is one inconsistency found by Check.
type Problem struct {
	Area   string `json:"area"`
	Detail string `json:"detail"`
}

// Check verifies bbolt's own page structure and deskctl's invariants:
// references resolve, every index matches the records it indexes, and the
// audit chain is intact. It needs only a read transaction.
func (tx *Tx) Check() []Problem {
	var ps []Problem
	add := func(area, format string, a ...any) {
		if len(ps) < 1000 {
			ps = append(ps, Problem{area, fmt.Sprintf(format, a...)})
		}
	}
	for err := range tx.btx.Check() {
		add("bbolt", "%v", err)
	}
	for _, b := range allBuckets {
		if tx.btx.Bucket(b) == nil {
			add("schema", "bucket %s is missing", b)
		}
	}
	if len(ps) > 0 {
		return ps
	}
	users := map[string]bool{}
	us, err := tx.AllUsers()
	if err != nil {
		add("users", "%v", err)
	}
	for _, u := range us {
		users[u.Login] = true
	}
	groups := map[string]helpdesk.Group{}
	wantMemberOf := map[string]bool{}
	_ = tx.bucket(bucketGroups).ForEach(func(k, v []byte) error {
		var g helpdesk.Group
		if err := json.Unmarshal(v, &g); err != nil {
			add("groups", "group %s cannot be decoded: %v", k, err)
			return nil
		}
		groups[g.Name] = g
		return nil
	})
	if _, ok := groups[helpdesk.Everyone]; !ok {
		add("groups", "the built-in group everyone is missing")
	}
	for _, g := range groups {
		for _, m := range g.Members {
			wantMemberOf[string(pair(m.String(), g.Name))] = true
			switch m.Kind {
			case helpdesk.KindUser:
				if !users[m.Name] {
					add("groups", "group %s lists unknown user %s", g.Name, m.Name)
				}
			case helpdesk.KindGroup:
				if _, ok := groups[m.Name]; !ok {
					add("groups", "group %s lists unknown group %s", g.Name, m.Name)
				}
			default:
				add("groups", "group %s has member %s of kind %s", g.Name, m, m.Kind)
			}
		}
	}
	compareIndex(tx.bucket(bucketMemberOf), wantMemberOf, "member_of index", add)

	resources := map[string]helpdesk.Resource{}
	wantUserRes, wantChildren := map[string]bool{}, map[string]bool{}
	_ = tx.bucket(bucketResources).ForEach(func(k, v []byte) error {
		var r helpdesk.Resource
		if err := json.Unmarshal(v, &r); err != nil {
			add("resources", "resource %s cannot be decoded: %v", k, err)
			return nil
		}
		resources[r.Name] = r
		return nil
	})
	for _, r := range resources {
		if r.Parent != "" {
			wantChildren[string(pair(r.Parent, r.Name))] = true
			if _, ok := resources[r.Parent]; !ok {
				add("resources", "resource %s has unknown parent %s", r.Name, r.Parent)
			}
		}
		for _, m := range r.Members {
			wantUserRes[string(pair(m.Login, r.Name))] = true
			if !users[m.Login] {
				add("resources", "resource %s lists unknown user %s", r.Name, m.Login)
			}
		}
	}
	compareIndex(tx.bucket(bucketUserRes), wantUserRes, "user_res index", add)
	compareIndex(tx.bucket(bucketChildren), wantChildren, "res_child index", add)

	wantHolders := map[string]bool{}
	grants, err := tx.AllGrants()
	if err != nil {
		add("grants", "%v", err)
	}
	for s, rights := range grants {
		exists := (s.Kind == helpdesk.KindUser && users[s.Name])
		if s.Kind == helpdesk.KindGroup {
			_, exists = groups[s.Name]
		}
		if s.Kind == helpdesk.KindResource {
			_, exists = resources[s.Name]
		}
		if !exists {
			add("grants", "rights granted to unknown %s", s)
		}
		for _, r := range rights {
			wantHolders[string(pair(r, s.String()))] = true
			if _, ok, _ := tx.Right(r); !ok {
				add("grants", "%s holds unknown right %s", s, r)
			}
		}
	}
	compareIndex(tx.bucket(bucketHolders), wantHolders, "holders index", add)

	wantTicketIdx := map[string]bool{}
	_ = tx.bucket(bucketTickets).ForEach(func(k, v []byte) error {
		var t helpdesk.Ticket
		if err := json.Unmarshal(v, &t); err != nil {
			add("tickets", "ticket %d cannot be decoded: %v", fromBE64(k), err)
			return nil
		}
		if uint64(t.Number) != fromBE64(k) {
			add("tickets", "ticket stored under %d says it is #%d", fromBE64(k), t.Number)
		}
		if !users[t.Requester] {
			add("tickets", "#%d has unknown requester %s", t.Number, t.Requester)
		}
		if _, ok := resources[t.Resource]; t.Resource != "" && !ok {
			add("tickets", "#%d is in unknown resource %s", t.Number, t.Resource)
		}
		for _, key := range ticketIndexKeys(t) {
			wantTicketIdx[string(key)] = true
		}
		return nil
	})
	compareIndex(tx.bucket(bucketTicketIndex), wantTicketIdx, "ticket index", add)

	_ = tx.bucket(bucketTokens).ForEach(func(k, v []byte) error {
		n := v
		if len(v) == 12 && bytes.HasPrefix(v, []byte("old:")) {
			n = v[4:]
		}
		if len(n) != 8 || tx.bucket(bucketApprovals).Get(n) == nil {
			add("approvals", "a link hash points at no approval record")
		}
		return nil
	})
	_ = tx.bucket(bucketApprovals).ForEach(func(k, v []byte) error {
		if tx.bucket(bucketTickets).Get(k) == nil {
			add("approvals", "approval for deleted ticket #%d", fromBE64(k))
		}
		var a helpdesk.Approval
		if err := json.Unmarshal(v, &a); err != nil {
			add("approvals", "approval record #%d is damaged: %v", fromBE64(k), err)
			return nil
		}
		// The current link must resolve to its record, or it cannot decide.
		if a.TokenHash != "" && !bytes.Equal(tx.bucket(bucketTokens).Get([]byte(a.TokenHash)), k) {
			add("approvals", "the current link of #%d is missing from the link index", a.Ticket)
		}
		return nil
	})
	wantOSLogins := map[string]bool{}
	for _, u := range us {
		if u.OSLogin != "" {
			wantOSLogins[u.OSLogin] = true
			if got := tx.bucket(bucketOSLogins).Get([]byte(u.OSLogin)); got != nil && string(got) != u.Login {
				add("index", "os-login %s of user %s is not indexed to it", u.OSLogin, u.Login)
			}
		}
	}
	compareIndex(tx.bucket(bucketOSLogins), wantOSLogins, "os-login index", add)
	_ = tx.bucket(bucketAPITokens).ForEach(func(k, v []byte) error {
		var t helpdesk.APIToken
		switch err := json.Unmarshal(v, &t); {
		case err != nil:
			add("tokens", "an API token record cannot be decoded: %v", err)
		case t.Hash != string(k):
			add("tokens", "API token %d is filed under another hash", t.ID)
		case !users[t.User]:
			add("tokens", "API token %d belongs to unknown user %s", t.ID, t.User)
		}
		return nil
	})
	if _, p, err := tx.VerifyAudit(); err != nil {
		add("audit", "%v", err)
	} else if p != nil {
		add("audit", "chain broken at record %d: %s", p.Seq, p.Reason)
	}
	return ps
}

func compareIndex(b *bolt.Bucket, want map[string]bool, name string, add func(string, string, ...any)) {
	seen := 0
	_ = b.ForEach(func(k, _ []byte) error {
		if !want[string(k)] {
			add("index", "%s has a stale entry %q", name, strings.ReplaceAll(string(k), "\x00", "/"))
		} else {
			seen++
		}
		return nil
	})
	if seen != len(want) {
		add("index", "%s misses %d entries", name, len(want)-seen)
	}
}

// Stats summarises the database.
type Stats struct {
	Path      string         `json:"path"`
	FileBytes int64          `json:"file_bytes"`
	Schema    uint64         `json:"schema"`
	Counts    map[string]int `json:"counts"`
	FreePages int            `json:"free_pages"`
	PageSize  int            `json:"page_size"`
}

// Stats counts records per bucket and reads file and free-page figures.
func (db *DB) Stats() (Stats, error) {
	s := Stats{Path: db.path, Counts: map[string]int{}}
	if st, err := os.Stat(db.path); err == nil {
		s.FileBytes = st.Size()
	}
	s.Schema, _ = db.schemaVersion()
	bs := db.bolt.Stats()
	s.FreePages = bs.FreePageN
	s.PageSize = db.bolt.Info().PageSize
	err := db.bolt.View(func(btx *bolt.Tx) error {
		for _, name := range allBuckets {
			if b := btx.Bucket(name); b != nil {
				s.Counts[string(name)] = b.Stats().KeyN
			}
		}
		return nil
	})
	return s, err
}

// BucketNames lists every bucket, sorted (for stats output).
func BucketNames() []string {
	out := make([]string, len(allBuckets))
	for i, b := range allBuckets {
		out[i] = string(b)
	}
	sort.Strings(out)
	return out
}

// Backup writes a consistent copy of the database to path from one read
// transaction, so other commands keep working meanwhile. It writes to a
// temporary file beside path and renames it into place.
func (db *DB) Backup(path string) (int64, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, errs.Wrap(errs.Usage, err, "cannot create the backup directory %s", dir)
	}
	tmp, err := os.CreateTemp(dir, ".deskctl-backup-*")
	if err != nil {
		return 0, errs.Wrap(errs.Usage, err, "cannot write the backup in %s", dir)
	}
	defer os.Remove(tmp.Name())
	var n int64
	err = db.bolt.View(func(btx *bolt.Tx) error {
		n, err = btx.WriteTo(tmp)
		return err
	})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, errs.Wrap(errs.Internal, err, "backup to %s failed", path)
	}
	return n, nil
}

// Restore replaces the database at target with the backup at source. The
// backup is checked first (opens, current or older schema, consistent); the
// target's lock is held while the file is swapped.
func Restore(source, target string, timeout time.Duration, force bool) error {
	src, err := Open(Options{Path: source, ReadOnly: true, LockTimeout: timeout})
	if err != nil {
		return errs.Wrap(errs.Usage, err, "%s is not a usable backup", source)
	}
	var problems []Problem
	_ = src.View(func(tx *Tx) error { problems = tx.Check(); return nil })
	if len(problems) > 0 {
		src.Close()
		return errs.Usagef("backup %s is inconsistent: %s: %s", source, problems[0].Area, problems[0].Detail)
	}
	_, statErr := os.Stat(target)
	exists := statErr == nil
	if exists && !force {
		src.Close()
		return errs.Conflictf("a database exists at %s", target).WithHint("pass --force to replace it (take a backup of it first: deskctl db backup FILE)")
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		src.Close()
		return err
	}
	var lock *DB
	if exists {
		lock, err = openBolt(target, false, timeout)
		switch {
		case errs.Is(err, errs.Unusable):
			// A damaged database is what restore is for; no deskctl
			// process can be using it, so there is no lock to wait for.
		case err != nil:
			src.Close()
			return err
		default:
			defer lock.Close()
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".deskctl-restore-*")
	if err != nil {
		src.Close()
		return err
	}
	defer os.Remove(tmp.Name())
	err = src.bolt.View(func(btx *bolt.Tx) error {
		_, err := btx.WriteTo(tmp)
		return err
	})
	src.Close()
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), target)
	}
	return err
}

var _ io.Writer = (*os.File)(nil)
