package cli

import (
	"fmt"
	"os"
	"strconv"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/deskctl/deskctl/internal/store"
	"github.com/spf13/cobra"
)

var _ = register("db", func(f *Factory) (string, *cobra.Command) {
	return "ops", noun("db", "Check, back up, restore, copy and measure the database", `Care of the database itself. check and stats need no acting user, so they work on a
file too damaged to say who is who; backup and restore need the admin permission. Whoever
can read the file can still copy it, so protect it with its mode (0600) and directory (0700).
On PostgreSQL (--db postgres://…) check, stats and copy work the same; back up with
pg_dump instead of backup/restore (docs/postgres.md).`,
		newCmdDBCheck(f), newCmdDBBackup(f), newCmdDBRestore(f), newCmdDBStats(f), newCmdDBCopy(f))
})

func newCmdDBCheck(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Check bbolt's structure and deskctl's invariants",
		Long: `Check the file's two meta pages (a damaged one makes bbolt fall back to the previous
transaction), its page structure (every page reached once or listed free, keys in order,
read with bounds checks, never through the mapped file), that every reference resolves (group and resource members, grants, ticket requesters and resources),
that every index matches its records, that every enumerated field (ticket state and
priority, log entry state and visibility, member access, approval and outbox state) holds
a known value, and that the audit chain is intact. Lists every problem found.
JSON fields: path, healthy, problems (area, detail).` +
			exitStatus("1  problems were found (listed): damaged pages, a meta page bbolt passed over, broken invariants",
				"7  the file cannot be read at all: cut short (both sizes are named), both meta pages invalid, not bbolt"),
		Example: "  deskctl db check\n  deskctl db check -o json",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			r, err := svc.CheckDB()
			if err != nil {
				return err
			}
			return f.printCheck(r, r, "", "restore a backup taken before the damage: deskctl db restore FILE --force")
		},
	}
}

// printCheck shows what db check found in a file: one line when it is
// healthy, else its problems, followed by a negative answer with hint; a
// structured format gets data whole. what names the file in the messages
// ("" for the database).
func (f *Factory) printCheck(data any, r app.CheckResult, what, hint string) error {
	tab := output.Tab{Columns: output.Cols("AREA", "PROBLEM*")}
	for _, p := range r.Problems {
		tab.Rows = append(tab.Rows, []string{p.Area, p.Detail})
	}
	p, err := f.Printer()
	if err != nil {
		return err
	}
	if r.Healthy && !p.Structured() {
		fmt.Fprintf(f.IO.Out, "%s%s is healthy\n", what, r.Path)
	} else if err := p.Print(data, tab); err != nil {
		return err
	}
	if !r.Healthy {
		return errs.Negativef("%d problem(s) in %s%s", len(r.Problems), what, r.Path).WithHint("%s", hint)
	}
	return nil
}

func newCmdDBBackup(f *Factory) *cobra.Command {
	var force, noCheck bool
	cmd := &cobra.Command{
		Use:   "backup FILE [--force] [--no-check]",
		Short: "Write a hot, consistent copy of the database and check it (admin)",
		Long: `Copy the database from one read transaction, while other commands keep working.
The copy is written beside FILE and renamed into place (mode 0600). An existing FILE is
replaced only with --force; the database itself never. Needs the admin permission: the
copy holds everything. Then the copy gets the checks of db check, and the result is
printed: "backup FILE is healthy", or its problems (the copy is faithful, so the database
has them too). --no-check skips the check, for a file so large the time matters.
JSON fields: bytes, check (path, healthy, problems; null with --no-check).` +
			exitStatus("1  the copy was written, but db check found problems in it (listed)",
				"2  FILE is a directory or the database itself", "4  you lack the admin permission", "5  FILE exists and --force was not given"),
		Example: "  deskctl db backup /backups/deskctl-$(date +%F).db",
		Args:    usageArgs(1, 1, "a FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.LocalService()
			if err != nil {
				return err
			}
			r, err := svc.BackupDB(args[0], force, !noCheck)
			if err != nil {
				return err
			}
			f.notef("backed up %s to %s (%d bytes)", svc.DBName(), args[0], r.Bytes)
			if r.Check == nil {
				p, err := f.Printer()
				if err != nil || !p.Structured() {
					return err
				}
				return p.Print(r, output.Tab{})
			}
			return f.printCheck(r, *r.Check, "backup ", "the copy is faithful, so the database has these problems too: see deskctl db check")
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing FILE")
	cmd.Flags().BoolVar(&noCheck, "no-check", false, "do not run db check on the copy")
	return cmd
}

func newCmdDBRestore(f *Factory) *cobra.Command {
	var force, yes bool
	cmd := &cobra.Command{
		Use:   "restore FILE [--force [--yes]]",
		Short: "Replace the database with a checked backup (admin)",
		Long: `Check the backup as db check does (meta pages, page structure, known schema,
consistent) and put it in place of the database; a backup that is refused leaves the
database untouched. An existing database is replaced only with --force, and only by a
user who is an administrator in it (checked while it is locked). When there is no
database at the path, or one too damaged to read who is an administrator, the restore
goes ahead without that check and says so: the file's mode is then the only guard.
Replacing loses every change made since the backup, so with --force it asks first on a
terminal (when there is a database to replace), and needs --yes without one.

Before the restored file is put in place, an audit record is appended to it: "restored
from backup taken at T with audit head SEQ:HASH, by USER", where T is the time of the
backup's newest audit record (the last change it holds). So the rollback shows in
` + "`deskctl audit log`" + ` and ` + "`deskctl audit verify`" + ` passes on the restored file, while an
anchor kept from the replaced database no longer does. The audit heads of the replaced
database and of the restored one are printed (keep the new one as an anchor).
JSON fields: path, backup, backup_as_of, backup_head, replaced_head, head, by, admin_checked.` +
			exitStatus(declinedStatus, "2  FILE is missing, empty or not a bbolt file; --force without --yes when standard input is not a terminal",
				"3  the acting user does not exist",
				"4  you lack the admin permission in the database being replaced", "5  a database exists and --force was not given",
				"7  FILE is damaged: cut short, a meta page invalid, damaged pages or broken invariants"),
		Example: "  deskctl db restore /backups/deskctl-2026-11-01.db --force\n  deskctl db restore /backups/deskctl-2026-11-01.db --force --yes",
		Args:    usageArgs(1, 1, "a backup FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.LocalService()
			if err != nil {
				return err
			}
			if force {
				// Only --force can replace a database, so only it asks.
				err := f.confirmed(cmd, yes, func(app.UseCases) (string, error) {
					if _, err := os.Stat(svc.DBPath); err != nil {
						return "", nil // nothing to replace
					}
					return fmt.Sprintf("Replace the database %s with the backup %s? Changes made since the backup are lost.",
						errs.Input(svc.DBPath), errs.Input(args[0])), nil
				})
				if err != nil {
					return err
				}
			}
			r, err := svc.RestoreDB(args[0], force)
			if err != nil {
				return err
			}
			f.notef("restored %s from %s", svc.DBName(), args[0])
			if !r.AdminChecked {
				f.notef("warning: no readable database was replaced, so %s was not checked as an administrator", r.By)
			}
			return f.print(r, output.KV("", [2]string{"backup as of", orNone(ts(r.BackupAsOf))},
				[2]string{"replaced head", orNone(r.ReplacedHead)}, [2]string{"backup head", orNone(r.BackupHead)},
				[2]string{"head", r.Head}, [2]string{"by", r.By}))
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing database")
	yesFlag(cmd, &yes)
	return cmd
}

func newCmdDBStats(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Record counts, file size and free pages",
		Long: `Print the number of records per bucket, the file size, the schema version and bbolt's free pages.
JSON fields: path, file_bytes, schema, counts (per bucket), free_pages, page_size.` + exitStatus(),
		Example: "  deskctl db stats -o json",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			s, err := svc.StatsDB()
			if err != nil {
				return err
			}
			pairs := [][2]string{{"path", s.Path}, {"file bytes", strconv.FormatInt(s.FileBytes, 10)},
				{"schema", strconv.FormatUint(s.Schema, 10)}, {"free pages", strconv.Itoa(s.FreePages)}, {"page size", strconv.Itoa(s.PageSize)}}
			for _, b := range store.BucketNames() {
				pairs = append(pairs, [2]string{b, strconv.Itoa(s.Counts[b])})
			}
			return f.print(s, output.KV("", pairs...))
		},
	}
}

func newCmdDBCopy(f *Factory) *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "copy --from FILE|URL --to FILE|URL",
		Short: "Copy the whole database between a file and PostgreSQL",
		Long: `Copy everything — directory, grants, tickets, approvals, outbox, settings and the audit
chain with its hashes — from one database into a new one: a file that does not exist yet,
or a PostgreSQL database (postgres://USER@HOST:PORT/DB) that holds no deskctl tables. The
source is read in one consistent snapshot while other commands keep working; the copy is
written in batches and stays unusable until the last one. At the end every table's record
count and the audit head are compared on both sides. A copy that fails is removed again.
The copy adds no audit record: its audit head is the source's, which is how to tell the
two are the same database.
JSON fields: from, to, counts (per bucket), audit_head, verified.` +
			exitStatus("2  --from or --to is missing, the same database, or not a usable path or URL",
				"5  --to already holds a database (a file exists, or the PostgreSQL database has deskctl tables)",
				"6  a database is locked by another process or PostgreSQL cannot be reached (retry)",
				"7  the source cannot be used (missing, damaged, newer schema)"),
		Example: "  deskctl db copy --from ~/.local/share/deskctl/deskctl.db --to postgres://deskctl@db.example.com/deskctl\n" +
			"  deskctl db copy --from postgres://deskctl@db.example.com/deskctl --to /srv/deskctl/export.db",
		Args: usageArgs(0, 0, "no arguments; name the databases with --from and --to"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" || to == "" {
				return errs.Usagef("db copy needs both --from and --to").WithHint("deskctl db copy --from FILE|URL --to FILE|URL")
			}
			c, err := f.Config()
			if err != nil {
				return err
			}
			report, stop := f.progress()
			var progress store.CopyProgress
			if report != nil {
				progress = func(bucket string, done, total int) {
					report(fmt.Sprintf("copying %s: %d of %d records", bucket, done, total))
				}
			}
			r, err := app.CopyDB(from, to, c.LockTimeout, progress)
			stop()
			if err != nil {
				return err
			}
			pairs := [][2]string{{"from", r.From}, {"to", r.To}, {"audit head", r.AuditHead}, {"verified", strconv.FormatBool(r.Verified)}}
			for _, b := range store.BucketNames() {
				if n, ok := r.Counts[b]; ok {
					pairs = append(pairs, [2]string{b, strconv.Itoa(n)})
				}
			}
			return f.print(r, output.KV("", pairs...))
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "database to copy: a file path or a postgres:// URL")
	cmd.Flags().StringVar(&to, "to", "", "new database to create: a file path that does not exist, or an empty PostgreSQL database")
	return cmd
}
