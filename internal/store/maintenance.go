package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

// Problem is one inconsistency found by Check.
type Problem struct {
	Area   string `json:"area"`
	Detail string `json:"detail"`
}

// Check is everything `db check` looks at: the meta pages (one bbolt passed
// over means the last transaction is lost), the page tree read safely with
// everything bbolt's own check verifies (damagedPages), and, when the pages
// are sound, deskctl's invariants (Tx.Check). Damage bbolt still trips over
// is one more problem, not an error: the file could be read and was found
// damaged.
func (db *DB) Check() ([]Problem, error) {
	ps := []Problem{}
	if db.pg != nil {
		err := db.View(func(tx *Tx) error {
			ps = append(ps, tx.Check()...)
			return nil
		})
		return ps, err
	}
	pages, err := db.damagedPages()
	if err != nil {
		return ps, errs.Wrap(errs.Unusable, err, "cannot read %s", db.path)
	}
	for _, i := range db.header.invalidMeta() {
		ps = append(ps, Problem{"meta", db.header.metaProblem(i)})
	}
	for _, p := range pages {
		ps = append(ps, Problem{"pages", p})
	}
	if len(pages) > 0 {
		return ps, nil
	}
	err = db.View(func(tx *Tx) error {
		stop := tx.releaseMapped()
		defer stop()
		ps = append(ps, tx.Check()...)
		return nil
	})
	if isDamage(err) {
		return append(ps, Problem{"pages", err.Error()}), nil
	}
	return ps, err
}

// Check verifies deskctl's invariants: every bucket or table is there,
// references resolve, every index matches the records it indexes, and the
// audit chain is intact. It needs only a read transaction; on a file, the
// pages it reads were checked before (DB.Check).
func (tx *Tx) Check() []Problem {
	var ps []Problem
	add := func(area, format string, a ...any) {
		if len(ps) < 1000 {
			ps = append(ps, Problem{area, fmt.Sprintf(format, a...)})
		}
	}
	for _, b := range allBuckets {
		if tx.kv.bucket(b) == nil {
			add("schema", "bucket %s is missing", b)
		}
	}
	if p, ok := tx.kv.(*pgTx); ok && !p.store.sequences {
		add("schema", "table %s is missing", pgSequences)
	}
	if len(ps) > 0 {
		return ps
	}
	if from := tx.bucket(bucketMeta).Get(copyMarker); from != nil {
		add("schema", "this is an unfinished copy of %s (deskctl db copy did not complete)", from)
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
	compareIndex(tx.bucket(bucketMemberOf), sortedKeys(wantMemberOf), "member_of index", add)
	checkParents(tx.bucket(bucketParents), wantMemberOf, add)
	tx.checkCatalog(add)

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
	compareIndex(tx.bucket(bucketUserRes), sortedKeys(wantUserRes), "user_res index", add)
	compareIndex(tx.bucket(bucketChildren), sortedKeys(wantChildren), "res_child index", add)

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
	compareIndex(tx.bucket(bucketHolders), sortedKeys(wantHolders), "holders index", add)

	// One pass over the tickets: references, index keys and the values
	// checkValues reports on, which it is handed to keep the findings in
	// their order.
	wantTicketIdx := newTicketKeys()
	var ticketValues []Problem
	addValue := func(area, format string, a ...any) {
		if len(ticketValues) < 1000 {
			ticketValues = append(ticketValues, Problem{area, fmt.Sprintf(format, a...)})
		}
	}
	var rec checkedTicket
	_ = tx.bucket(bucketTickets).ForEach(func(k, v []byte) error {
		t, err := decodeCheckedTicket(v, &rec)
		if err != nil {
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
		wantTicketIdx.add(t)
		checkTicketValues(k, t, addValue)
		return nil
	})
	compareIndex(tx.bucket(bucketTicketIndex), wantTicketIdx.keys(), "ticket index", add)
	wantTicketIdx.checkAssigneeValues(tx.bucket(bucketTicketIndex), add)

	_ = tx.bucket(bucketTokens).ForEach(func(k, v []byte) error {
		n, _, _, ok := tokenValue(v)
		if !ok || tx.bucket(bucketApprovals).Get(be64(uint64(n))) == nil {
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
		for i, st := range a.Stages {
			for j, sl := range st.Approvers {
				for l, link := range sl.Links {
					ref := helpdesk.LinkRef{Stage: i, Slot: j, Link: l}
					if link.TokenHash != "" && !bytes.Equal(tx.bucket(bucketTokens).Get([]byte(link.TokenHash)), linkKey(a.Ticket, ref)) {
						add("approvals", "the link of %s on #%d is missing from the link index", link.Login, a.Ticket)
					}
				}
			}
		}
		return nil
	})
	_ = tx.bucket(bucketDelegations).ForEach(func(k, v []byte) error {
		var d helpdesk.Delegation
		switch err := json.Unmarshal(v, &d); {
		case err != nil:
			add("delegations", "the delegation of %s cannot be decoded: %v", k, err)
		case d.User != string(k):
			add("delegations", "the delegation of %s is filed under %s", d.User, k)
		case !users[d.User]:
			add("delegations", "delegation of unknown user %s", d.User)
		case !users[d.Delegate]:
			add("delegations", "%s delegates to unknown user %s", d.User, d.Delegate)
		}
		return nil
	})
	_ = tx.bucket(bucketDigests).ForEach(func(k, v []byte) error {
		var at time.Time
		switch {
		case !users[string(k)]:
			add("digests", "last digest of unknown user %s", k)
		case at.UnmarshalText(v) != nil:
			add("digests", "the last digest of %s is not a time: %q", k, v)
		}
		return nil
	})
	tx.checkValues(ticketValues, add)
	wantOSLogins := map[string]bool{}
	for _, u := range us {
		if u.OSLogin != "" {
			wantOSLogins[u.OSLogin] = true
			if got := tx.bucket(bucketOSLogins).Get([]byte(u.OSLogin)); got != nil && string(got) != u.Login {
				add("index", "os-login %s of user %s is not indexed to it", u.OSLogin, u.Login)
			}
		}
	}
	compareIndex(tx.bucket(bucketOSLogins), sortedKeys(wantOSLogins), "os-login index", add)
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

// checkValues reports every enumerated field holding a value outside its
// set: ticket state and priority, log entry states and visibility (found by
// checkTicketValues in Check's pass over the tickets and passed in), resource
// member access, approval state and outbox state. Readers treat such values
// as the most restrictive (an unknown visibility hides the entry), but they
// are damage all the same. Records that do not decode are reported by Check.
func (tx *Tx) checkValues(ticketValues []Problem, add func(area, format string, a ...any)) {
	bad := func(area, what, value string, valid []string, key string) {
		add(area, "%s has %s %q, not one of %s", key, what, value, strings.Join(valid, ", "))
	}
	for _, p := range ticketValues {
		add(p.Area, "%s", p.Detail)
	}
	accesses := enumNames(helpdesk.Accesses)
	_ = tx.bucket(bucketResources).ForEach(func(k, v []byte) error {
		var r helpdesk.Resource
		if json.Unmarshal(v, &r) != nil {
			return nil
		}
		for _, m := range r.Members {
			if _, err := helpdesk.ParseAccess(string(m.Access)); err != nil {
				bad("resources", "access", string(m.Access), accesses, fmt.Sprintf("resource %s member %s", k, m.Login))
			}
		}
		return nil
	})
	_ = tx.bucket(bucketApprovals).ForEach(func(k, v []byte) error {
		var a helpdesk.Approval
		if json.Unmarshal(v, &a) != nil {
			return nil
		}
		if _, err := helpdesk.ParseApprovalState(string(a.State)); err != nil {
			bad("approvals", "state", string(a.State), enumNames(helpdesk.ApprovalStates), fmt.Sprintf("approval of #%d", fromBE64(k)))
		}
		return nil
	})
	outbox := []string{MailQueued, MailSent, MailFailed, MailDropped}
	_ = tx.bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		var m OutboxMail
		if json.Unmarshal(v, &m) != nil {
			return nil
		}
		if !slices.Contains(outbox, m.State) {
			bad("outbox", "state", m.State, outbox, fmt.Sprintf("mail %d", fromBE64(k)))
		}
		return nil
	})
}

// checkTicketValues is checkValues for the ticket stored under key k.
func checkTicketValues(k []byte, t helpdesk.Ticket, add func(area, format string, a ...any)) {
	bad := func(what, value string, valid []string, key string) {
		add("tickets", "%s has %s %q, not one of %s", key, what, value, strings.Join(valid, ", "))
	}
	validState := func(s helpdesk.State) bool { _, err := helpdesk.ParseState(string(s)); return err == nil }
	key := func() string { return fmt.Sprintf("ticket #%d", fromBE64(k)) }
	if !validState(t.State) {
		bad("state", string(t.State), enumNames(helpdesk.States), key())
	}
	if _, err := helpdesk.ParsePriority(string(t.Priority)); err != nil {
		bad("priority", string(t.Priority), enumNames(helpdesk.Priorities), key())
	}
	for _, e := range t.Log {
		ekey := func() string { return fmt.Sprintf("%s log entry %d", key(), e.Seq) }
		if !e.Visibility.Valid() {
			bad("visibility", string(e.Visibility), enumNames(helpdesk.Visibilities), ekey()+" (shown to technicians only)")
		}
		for _, s := range [...]helpdesk.State{e.From, e.To} {
			if s != "" && !validState(s) {
				bad("state", string(s), enumNames(helpdesk.States), ekey())
			}
		}
	}
}

func enumNames[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
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
	if db.pg != nil {
		return db.pgStats(s)
	}
	if st, err := os.Stat(db.path); err == nil {
		s.FileBytes = st.Size()
	}
	s.Schema, _ = db.schemaVersion()
	s.PageSize = db.bolt.Info().PageSize
	err := db.View(func(tx *Tx) error {
		s.FreePages = db.bolt.Stats().FreePageN
		// Counting visits every page; hand mapped pages back as db check does.
		defer tx.releaseMapped()()
		for _, name := range dataBuckets() {
			if b := tx.btx.Bucket(name); b != nil {
				s.Counts[string(name)] = b.Stats().KeyN
			}
		}
		return nil
	})
	return s, err
}

// BucketNames lists every bucket, sorted (for stats output).
func BucketNames() []string {
	var out []string
	for _, b := range dataBuckets() {
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

// dataBuckets are the buckets stats count: all but meta, which holds the
// schema version (reported on its own) and server state such as the form
// key, which differs between databases holding the same data.
func dataBuckets() [][]byte {
	var out [][]byte
	for _, b := range allBuckets {
		if string(b) != string(bucketMeta) {
			out = append(out, b)
		}
	}
	return out
}

// Backup writes a consistent copy of the database to path from this
// (read) transaction, so other commands keep working meanwhile. It writes to
// a temporary file beside path and renames it into place.
func (tx *Tx) Backup(path string) (int64, error) {
	if tx.btx == nil {
		return 0, errNoFileOps("db backup")
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, errs.Wrap(errs.Usage, err, "cannot create the backup directory %s", dir)
	}
	tmp, err := os.CreateTemp(dir, ".deskctl-backup-*")
	if err != nil {
		return 0, errs.Wrap(errs.Usage, err, "cannot write the backup in %s", dir)
	}
	defer os.Remove(tmp.Name())
	n, err := tx.btx.WriteTo(tmp)
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
	if isDamage(err) {
		return 0, err
	}
	if err != nil {
		return 0, errs.Wrap(errs.Internal, err, "backup to %s failed", path)
	}
	return n, nil
}

// RestoreHooks let the caller check the database being replaced and add to
// the one replacing it.
type RestoreHooks struct {
	// Live reads the database being replaced, under its lock, before
	// anything is written. It is not called when there is no database at
	// the target; tx is nil when there is one that cannot be read (not a
	// bbolt file, buckets missing, another schema).
	Live func(tx *Tx) error
	// Restored writes to the restored copy before it is renamed into
	// place, so what it adds is there the moment the file is.
	Restored func(tx *Tx) error
}

// Restore replaces the database at target with the backup at source. The
// backup is checked first (opens, current or older schema, and everything
// `db check` looks at); the target's lock is held while the file is swapped.
// A damaged backup is errs.Unusable, anything else that is not a backup
// errs.Usage; either way the target is not touched.
func Restore(source, target string, timeout time.Duration, force bool, h RestoreHooks) error {
	if IsURL(source) || IsURL(target) {
		return errNoFileOps("db restore")
	}
	src, err := Open(Options{Path: source, ReadOnly: true, LockTimeout: timeout})
	if isDamage(err) {
		return errs.Wrap(errs.Unusable, err, "backup %s is damaged", source).WithHint(damagedBackupHint)
	}
	if err != nil {
		return errs.Wrap(errs.Usage, err, "%s is not a usable backup", source)
	}
	problems, err := src.Check()
	if err == nil && len(problems) > 0 {
		err = errs.Unusablef("backup %s is damaged: %s: %s", source, problems[0].Area, problems[0].Detail).WithHint(damagedBackupHint)
	}
	if err != nil {
		src.Close()
		return err
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
		if h.Live != nil {
			if err := lock.viewLive(h.Live); err != nil {
				src.Close()
				return err
			}
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".deskctl-restore-*")
	if err != nil {
		src.Close()
		return err
	}
	defer os.Remove(tmp.Name())
	err = src.View(func(tx *Tx) error {
		_, err := tx.btx.WriteTo(tmp)
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
	if err == nil && h.Restored != nil {
		err = updateFile(tmp.Name(), timeout, h.Restored)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), target)
	}
	return err
}

const damagedBackupHint = "restore an older backup; `deskctl --db BACKUP db check` lists what is wrong with this one"

// viewLive runs fn over the database db holds the lock of, or with a nil
// Tx when db is nil or not a readable current-schema deskctl database.
func (db *DB) viewLive(fn func(*Tx) error) error {
	if db == nil {
		return fn(nil)
	}
	if v, err := db.schemaVersion(); err != nil || v != SchemaVersion {
		return fn(nil)
	}
	return db.View(func(tx *Tx) error {
		for _, b := range allBuckets {
			if tx.btx.Bucket(b) == nil {
				return fn(nil)
			}
		}
		return fn(tx)
	})
}

// updateFile runs fn in one write transaction of the database at path
// (migrating an older schema first) and closes it again.
func updateFile(path string, timeout time.Duration, fn func(*Tx) error) error {
	db, err := Open(Options{Path: path, LockTimeout: timeout})
	if err != nil {
		return err
	}
	if err := db.Update(fn); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

var _ io.Writer = (*os.File)(nil)
