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

var _ = register(func(f *Factory) (string, *cobra.Command) {
	return "ops", noun("db", "Check, back up, restore and measure the database file", `Care of the database file itself. check and stats need no acting user, so they work on a
file too damaged to say who is who; backup and restore need the admin permission. Whoever
can read the file can still copy it, so protect it with its mode (0600) and directory (0700).`,
		newCmdDBCheck(f), newCmdDBBackup(f), newCmdDBRestore(f), newCmdDBStats(f))
})

func newCmdDBCheck(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Check bbolt's structure and deskctl's invariants",
		Long: `Check the file's two meta pages (a damaged one makes bbolt fall back to the previous
transaction), its page structure (read safely first, then bbolt's own check), that every
reference resolves (group and resource members, grants, ticket requesters and resources),
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
			tab := output.Tab{Columns: output.Cols("AREA", "PROBLEM*")}
			for _, p := range r.Problems {
				tab.Rows = append(tab.Rows, []string{p.Area, p.Detail})
			}
			p, err := f.Printer()
			if err != nil {
				return err
			}
			if r.Healthy && !p.Structured() {
				fmt.Fprintf(f.IO.Out, "%s is healthy\n", r.Path)
			} else if err := p.Print(r, tab); err != nil {
				return err
			}
			if !r.Healthy {
				return errs.Negativef("%d problem(s) in %s", len(r.Problems), r.Path).WithHint("restore a backup taken before the damage: deskctl db restore FILE --force")
			}
			return nil
		},
	}
}

func newCmdDBBackup(f *Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "backup FILE [--force]",
		Short: "Write a hot, consistent copy of the database (admin)",
		Long: `Copy the database from one read transaction, while other commands keep working.
The copy is written beside FILE and renamed into place (mode 0600). An existing FILE is
replaced only with --force; the database itself never. Needs the admin permission: the
copy holds everything.` +
			exitStatus("2  FILE is a directory or the database itself", "4  you lack the admin permission", "5  FILE exists and --force was not given"),
		Example: "  deskctl db backup /backups/deskctl-$(date +%F).db",
		Args:    usageArgs(1, 1, "a FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.LocalService()
			if err != nil {
				return err
			}
			n, err := svc.BackupDB(args[0], force)
			if err != nil {
				return err
			}
			f.notef("backed up %s to %s (%d bytes)", svc.DBPath, args[0], n)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing FILE")
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
			f.notef("restored %s from %s", svc.DBPath, args[0])
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
