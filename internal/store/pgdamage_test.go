package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/pgtest"
)

// Opening a PostgreSQL database does not list its tables; a table dropped
// by hand must still be reported as damage, by the first command that
// needs it and by db check, never as a generic failure; and a copy refuses
// a damaged source before it writes anything.
func TestPostgresDroppedTableIsDamage(t *testing.T) {
	for _, c := range []struct {
		table string
		use   func(tx *Tx) error // meets the missing table
		found string             // db check's first finding
	}{
		{"deskctl_kv_groups", func(tx *Tx) error { _, _, err := tx.Group("staff"); return err }, "bucket groups is missing"},
		{"deskctl_sequences", func(tx *Tx) error { _, err := tx.NewAPITokenID(); return err }, "table deskctl_sequences is missing"},
	} {
		t.Run(c.table, func(t *testing.T) {
			url := damagedPG(t, c.table)

			db, err := Open(Options{Path: url, LockTimeout: time.Second})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			err = db.Update(func(tx *Tx) error {
				if u, ok, err := tx.User("ann"); err != nil || !ok || u.Login != "ann" {
					t.Errorf("a table that is there still reads: %v %v %v", u, ok, err)
				}
				return c.use(tx)
			})
			db.Close()
			if errs.KindOf(err) != errs.Unusable || !strings.Contains(err.Error(), "is damaged") ||
				!strings.Contains(err.Error(), c.table) || !strings.Contains(errs.HintOf(err), "db check") {
				t.Errorf("meeting the dropped table: %v (kind %v, hint %q)", err, errs.KindOf(err), errs.HintOf(err))
			}

			db, err = Open(Options{Path: url, ReadOnly: true, LockTimeout: time.Second, Damaged: true})
			if err != nil {
				t.Fatalf("opening for db check: %v", err)
			}
			mustView(t, db, func(tx *Tx) error {
				if ps := tx.Check(); len(ps) == 0 || ps[0].Detail != c.found {
					t.Errorf("check: %+v", ps)
				}
				return nil
			})
			db.Close()

			to := filepath.Join(t.TempDir(), "copy.db")
			_, err = Copy(url, to, time.Second, nil)
			if errs.KindOf(err) != errs.Unusable || !strings.Contains(err.Error(), c.table+" is missing") {
				t.Errorf("copying the damaged database: %v", err)
			}
			if _, serr := os.Stat(to); !os.IsNotExist(serr) {
				t.Errorf("the copy of a damaged source was started: %v", serr)
			}
		})
	}
}

// damagedPG is a PostgreSQL database with one user, ann, and table
// dropped behind deskctl's back.
func damagedPG(t *testing.T, table string) string {
	url := pgtest.NewDatabase(t)
	db, err := Create(url, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, db, func(tx *Tx) error {
		return tx.PutUser(helpdesk.User{Login: "ann", Name: "Ann", Email: "ann@example.com", Active: true, Created: time.Now()})
	})
	db.Close()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP TABLE `+pgx.Identifier{table}.Sanitize()+` CASCADE`); err != nil {
		t.Fatal(err)
	}
	return url
}
