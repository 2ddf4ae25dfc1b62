package store

import (
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/helpdesk"
	bolt "go.etcd.io/bbolt"
)

func TestUserByOSLoginFollowsTheIndex(t *testing.T) {
	db := openTestStore(t)
	addUsers(t, db, "alice", "bob")
	mustUpdate(t, db, func(tx *Tx) error {
		return tx.PutUser(helpdesk.User{Login: "bob", Name: "Bob", Active: true, OSLogin: "robert"})
	})
	find := func(os string) string {
		var login string
		mustView(t, db, func(tx *Tx) error {
			u, ok, err := tx.UserByOSLogin(os)
			if ok {
				login = u.Login
			}
			return err
		})
		return login
	}
	equal(t, "alice by default", find("alice"), "alice")
	equal(t, "bob by os-login", find("robert"), "bob")
	equal(t, "bob's own name once bound elsewhere", find("bob"), "")
	// Rebinding moves the index entry; removing the user drops it.
	mustUpdate(t, db, func(tx *Tx) error {
		return tx.PutUser(helpdesk.User{Login: "bob", Name: "Bob", Active: true, OSLogin: "rob"})
	})
	equal(t, "old os-login", find("robert"), "")
	equal(t, "new os-login", find("rob"), "bob")
	assertNoProblems(t, db)
	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteUser("bob") })
	equal(t, "removed user", find("rob"), "")
	assertNoProblems(t, db)
}

func TestAPITokensGoWithTheirUser(t *testing.T) {
	db := openTestStore(t)
	addUsers(t, db, "alice", "bob")
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	mustUpdate(t, db, func(tx *Tx) error {
		for i, owner := range []string{"bob", "alice", "bob"} {
			id, err := tx.NewAPITokenID()
			if err != nil {
				return err
			}
			if err := tx.PutAPIToken(helpdesk.APIToken{ID: id, Name: "t" + string(rune('1'+i)), User: owner,
				Hash: helpdesk.HashToken(owner + string(rune('1'+i))), Created: now}); err != nil {
				return err
			}
		}
		return nil
	})
	names := func(user string) (out []string) {
		mustView(t, db, func(tx *Tx) error {
			ts, err := tx.APITokens(user)
			for _, t := range ts {
				out = append(out, t.User+"/"+t.Name)
			}
			return err
		})
		return out
	}
	equal(t, "all tokens by id", names(""), []string{"bob/t1", "alice/t2", "bob/t3"})
	equal(t, "bob's tokens", names("bob"), []string{"bob/t1", "bob/t3"})
	mustView(t, db, func(tx *Tx) error {
		got, ok, err := tx.APIToken(helpdesk.HashToken("alice2"))
		if !ok || got.Name != "t2" {
			t.Errorf("APIToken(hash) = %+v, %v", got, ok)
		}
		return err
	})
	assertNoProblems(t, db)
	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteUser("bob") })
	equal(t, "tokens after bob is removed", names(""), []string{"alice/t2"})
	assertNoProblems(t, db)

	// A token of a user removed behind deskctl's back is reported.
	mustUpdate(t, db, func(tx *Tx) error { return tx.bucket(bucketUsers).Delete([]byte("alice")) })
	mustView(t, db, func(tx *Tx) error {
		ps := tx.Check()
		if len(ps) == 0 || !strings.Contains(ps[len(ps)-1].Detail, "belongs to unknown user alice") {
			t.Errorf("Check() = %+v, want the orphaned token", ps)
		}
		return nil
	})
}

func TestMigrateV4AddsTokenBuckets(t *testing.T) {
	db, path := fileAtSchema(t, 4, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketAPITokens) != nil || tx.Bucket(bucketOSLogins) != nil {
			t.Fatal("schema 4 already has the token buckets; the test no longer exercises step 4 → 5")
		}
		return nil
	})
	mustView(t, db, func(tx *Tx) error {
		ts, err := tx.APITokens("")
		equal(t, "tokens after migration", len(ts), 0)
		return err
	})
	db.Close()
	if v := readSchema(t, path); v != SchemaVersion {
		t.Errorf("schema %d after migration, want %d", v, SchemaVersion)
	}
}

func TestDelegationsGoWithTheirUser(t *testing.T) {
	db := openTestStore(t)
	addUsers(t, db, "carol", "dave", "erin")
	from := time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)
	mustUpdate(t, db, func(tx *Tx) error {
		for _, d := range []helpdesk.Delegation{
			{User: "carol", Delegate: "dave", From: from, Until: from.AddDate(0, 0, 18), SetBy: "carol", SetAt: from},
			{User: "erin", Delegate: "dave", From: from, SetBy: "erin", SetAt: from},
			// A new delegation replaces the user's previous one.
			{User: "carol", Delegate: "erin", From: from, Until: from.AddDate(0, 0, 3), SetBy: "carol", SetAt: from},
		} {
			if err := tx.PutDelegation(d); err != nil {
				return err
			}
		}
		return nil
	})
	list := func() (out []string) {
		mustView(t, db, func(tx *Tx) error {
			ds, err := tx.Delegations()
			for _, d := range ds {
				out = append(out, d.User+"→"+d.Delegate)
			}
			return err
		})
		return out
	}
	equal(t, "delegations", list(), []string{"carol→erin", "erin→dave"})
	mustView(t, db, func(tx *Tx) error {
		d, ok, err := tx.Delegation("carol")
		if err != nil || !ok || d.Delegate != "erin" || !d.Until.Equal(from.AddDate(0, 0, 3)) {
			t.Errorf("Delegation(carol) = %+v, %v, %v", d, ok, err)
		}
		if _, ok, _ := tx.Delegation("dave"); ok {
			t.Errorf("dave has no delegation")
		}
		if p := tx.Check(); len(p) > 0 {
			t.Errorf("check: %v", p)
		}
		return nil
	})
	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteUser("erin") })
	mustView(t, db, func(tx *Tx) error {
		// erin's own delegation went with her; carol's still names her,
		// which the check reports (the use case refuses such a removal).
		var areas []string
		for _, p := range tx.Check() {
			areas = append(areas, p.Area+": "+p.Detail)
		}
		equal(t, "check after removing a delegate", areas, []string{"delegations: carol delegates to unknown user erin"})
		return nil
	})
	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteDelegation("carol") })
	equal(t, "after clearing", list(), []string(nil))
}

func TestLastDigestGoesWithItsUser(t *testing.T) {
	db := openTestStore(t)
	addUsers(t, db, "carol", "dave")
	at := time.Date(2026, 3, 3, 8, 0, 0, 0, time.FixedZone("X", 3600))
	last := func(login string) (v time.Time) {
		mustView(t, db, func(tx *Tx) error {
			var err error
			v, err = tx.LastDigest(login)
			return err
		})
		return v
	}
	if v := last("carol"); !v.IsZero() {
		t.Fatalf("carol's digest before any: %v", v)
	}
	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.PutLastDigest("carol", at.Add(-24*time.Hour)); err != nil {
			return err
		}
		return tx.PutLastDigest("carol", at)
	})
	if v := last("carol"); !v.Equal(at) {
		t.Fatalf("carol's last digest %v, want %v", v, at)
	}
	if v := last("dave"); !v.IsZero() {
		t.Fatalf("dave's digest: %v", v)
	}
	mustUpdate(t, db, func(tx *Tx) error { return tx.DeleteUser("carol") })
	if v := last("carol"); !v.IsZero() {
		t.Fatalf("carol's digest after she was removed: %v", v)
	}
	// What db check finds in the bucket: a record of nobody, a value that
	// is not a time.
	mustUpdate(t, db, func(tx *Tx) error {
		if err := tx.bucket(bucketDigests).Put([]byte("zed"), []byte("2026-03-03T08:00:00Z")); err != nil {
			return err
		}
		return tx.bucket(bucketDigests).Put([]byte("dave"), []byte("yesterday"))
	})
	mustView(t, db, func(tx *Tx) error {
		var got []string
		for _, p := range tx.Check() {
			got = append(got, p.Area+": "+p.Detail)
		}
		equal(t, "check of the digest bucket", got, []string{
			`digests: the last digest of dave is not a time: "yesterday"`,
			"digests: last digest of unknown user zed",
		})
		return nil
	})
}
