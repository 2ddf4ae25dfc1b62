package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/pgtest"
	"github.com/deskctl/deskctl/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"
	bolt "go.etcd.io/bbolt"
)

// pgScripts are the end-to-end scripts that say what deskctl does, whatever
// database holds it; TestScriptsPostgres runs them again with DESKCTL_DB set
// to a PostgreSQL database of their own. Scripts about the file itself
// (modes, locks, damage, backups, schema files) stay bbolt-only.
var pgScripts = []string{
	"access", "access-diamond", "approvals", "audit", "groups", "identity", "init",
	"last-admin", "policy_apply", "policy_export", "policy_plan", "policy_test",
	"resources", "settings", "tickets", "tokens", "users", "visibility",
	"approval-gates", "approval-delegate", "approval-deadlines", "approval-digest", "approval-stages", "approval-template", "resource-approval",
	"completion-tickets", "text", "ticket-list-children",
}

func TestScriptsPostgres(t *testing.T) {
	pgtest.Server(t)
	testscript.Run(t, pgScriptParams(pgScripts, pgtest.NewDatabaseURL))
}

// pgScriptParams runs the named scripts, each on a PostgreSQL database of
// its own that database() makes (drop removes it, when not nil).
func pgScriptParams(names []string, database func() (url string, drop func(), err error)) testscript.Params {
	var files []string
	for _, name := range names {
		files = append(files, filepath.Join("..", "..", "testdata", "script", name+".txtar"))
	}
	return testscript.Params{
		Files: files,
		Setup: func(env *testscript.Env) error {
			if err := setupScript(env); err != nil {
				return err
			}
			url, drop, err := database()
			if err != nil {
				return err
			}
			if drop != nil {
				env.Defer(drop)
			}
			env.Setenv("DESKCTL_DB", url)
			// Scripts name the database in expected output as $WORK/desk.db;
			// DBNAME lets a script that prints it work on both.
			env.Setenv("DBNAME", strings.SplitN(strings.TrimPrefix(url, "postgres://"), "?", 2)[0])
			return nil
		},
		Cmds:               scriptCommands,
		Condition:          scriptCondition(true),
		RequireUniqueNames: true,
	}
}

// scriptCondition adds [postgres]: true when the script's database is a
// PostgreSQL URL, for the few lines that handle the file itself.
func scriptCondition(postgres bool) func(string) (bool, error) {
	return func(cond string) (bool, error) {
		if cond == "postgres" {
			return postgres, nil
		}
		return false, fmt.Errorf("unknown condition %q", cond)
	}
}

// pgTarget maps the script's database file name to its PostgreSQL URL when
// the script runs on PostgreSQL.
func pgTarget(ts *testscript.TestScript, name string) (string, bool) {
	url := ts.Getenv("DESKCTL_DB")
	if !store.IsURL(url) || name != "desk.db" {
		return "", false
	}
	return url, true
}

// rawBucket is a bucket edited behind deskctl's back.
type rawBucket interface {
	Get(k []byte) []byte
	Put(k, v []byte) error
	Delete(k []byte) error
	// Cut deletes every key from k on and sets the sequence to seq.
	Cut(k []byte, seq uint64) error
}

type boltRaw struct{ *bolt.Bucket }

func (b boltRaw) Cut(key []byte, seq uint64) error {
	for k, _ := b.Cursor().Seek(key); k != nil; k, _ = b.Cursor().Seek(key) {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return b.SetSequence(seq)
}

// rawEdit runs fn over bucket of the named database, in a file or in
// PostgreSQL, and marks the database damaged for the cleanup check.
func rawEdit(ts *testscript.TestScript, name, bucket string, fn func(rawBucket) error) error {
	if url, ok := pgTarget(ts, name); ok {
		return pgRawEdit(url, bucket, fn)
	}
	return rawUpdate(ts.MkAbs(name), func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fn(nil)
		}
		return fn(boltRaw{b})
	})
}

type pgRaw struct {
	ctx    context.Context
	tx     pgx.Tx
	table  string
	bucket string
	err    error
}

func (p *pgRaw) Get(k []byte) []byte {
	var v []byte
	err := p.tx.QueryRow(p.ctx, `SELECT v FROM `+p.table+` WHERE k = $1`, k).Scan(&v)
	if err != nil {
		if err != pgx.ErrNoRows {
			p.err = err
		}
		return nil
	}
	if v == nil {
		v = []byte{}
	}
	return v
}

func (p *pgRaw) Put(k, v []byte) error {
	_, err := p.tx.Exec(p.ctx, `INSERT INTO `+p.table+` (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v`, k, v)
	return err
}

func (p *pgRaw) Delete(k []byte) error {
	_, err := p.tx.Exec(p.ctx, `DELETE FROM `+p.table+` WHERE k = $1`, k)
	return err
}

func (p *pgRaw) Cut(k []byte, seq uint64) error {
	if _, err := p.tx.Exec(p.ctx, `DELETE FROM `+p.table+` WHERE k >= $1`, k); err != nil {
		return err
	}
	_, err := p.tx.Exec(p.ctx, `UPDATE deskctl_sequences SET value = $2 WHERE bucket = $1`, p.bucket, int64(seq))
	return err
}

func pgRawEdit(url, bucket string, fn func(rawBucket) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := rawConnect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	p := &pgRaw{ctx: ctx, tx: tx, table: pgx.Identifier{"deskctl_kv_" + bucket}.Sanitize(), bucket: bucket}
	if err := fn(p); err != nil {
		return err
	}
	if p.err != nil {
		return p.err
	}
	return tx.Commit(ctx)
}

// pgContentSum hashes every deskctl table's rows in key order and the
// sequences: equal sums mean nothing was changed.
func pgContentSum(url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := rawConnect(ctx, url)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'deskctl\_%' ORDER BY tablename`)
	if err != nil {
		return "", err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, t := range tables {
		order := "k"
		if t == "deskctl_sequences" {
			order = "bucket"
		}
		rows, err := conn.Query(ctx, `SELECT * FROM `+pgx.Identifier{t}.Sanitize()+` ORDER BY `+order)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&buf, "%s %q\n", t, fmt.Sprint(vals...))
		}
		if err := rows.Err(); err != nil {
			return "", err
		}
		h.Write(buf.Bytes())
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// rawConnect connects the scripts' own tools to url without named
// prepared statements, so they also work through a transaction pooler.
func rawConnect(ctx context.Context, url string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	return pgx.ConnectConfig(ctx, cfg)
}
