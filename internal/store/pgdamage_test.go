package store

import (
	"context"
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
// needs it and by db check, never as a generic failure.
func TestPostgresDroppedTableIsDamage(t *testing.T) {
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
	if _, err := conn.Exec(ctx, `DROP TABLE deskctl_kv_groups CASCADE`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	db, err = Open(Options{Path: url, ReadOnly: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	err = db.View(func(tx *Tx) error {
		if u, ok, err := tx.User("ann"); err != nil || !ok || u.Login != "ann" {
			t.Errorf("a table that is there still reads: %v %v %v", u, ok, err)
		}
		_, _, err := tx.Group("staff")
		return err
	})
	if errs.KindOf(err) != errs.Unusable || !strings.Contains(err.Error(), "is damaged") ||
		!strings.Contains(err.Error(), "deskctl_kv_groups") || !strings.Contains(errs.HintOf(err), "db check") {
		t.Errorf("reading the dropped table: %v (kind %v, hint %q)", err, errs.KindOf(err), errs.HintOf(err))
	}
	db.Close()

	checkFindsMissing(t, url, "groups")
}
