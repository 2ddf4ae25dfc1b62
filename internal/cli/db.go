package cli

import (
	"fmt"
	"strconv"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/deskctl/deskctl/internal/store"
	"github.com/spf13/cobra"
)

var _ = register(func(f *Factory) (string, *cobra.Command) {
	return "ops", noun("db", "Check, back up, restore and measure the database file", `Care of the database file itself. These commands need no acting user: whoever can
read the file can check or copy it, so protect it with its mode (0600) and directory (0700).`,
		newCmdDBCheck(f), newCmdDBBackup(f), newCmdDBRestore(f), newCmdDBStats(f))
})

func newCmdDBCheck(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Check bbolt's structure and deskctl's invariants",
		Long: `Check the file's page structure (bbolt), that every reference resolves (group and
resource members, grants, ticket requesters and resources), that every index matches
its records, and that the audit chain is intact. Lists every problem found.
JSON fields: path, healthy, problems (area, detail).` +
			exitStatus("1  problems were found (listed)"),
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
			tab := output.Tab{Columns: output.Cols("AREA", "PROBLEM")}
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
		Short: "Write a hot, consistent copy of the database",
		Long: `Copy the database from one read transaction, while other commands keep working.
The copy is written beside FILE and renamed into place (mode 0600). An existing FILE is
replaced only with --force; the database itself never.` +
			exitStatus("2  FILE is a directory or the database itself", "5  FILE exists and --force was not given"),
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
	var force bool
	cmd := &cobra.Command{
		Use:   "restore FILE [--force]",
		Short: "Replace the database with a checked backup",
		Long: `Check the backup (opens, known schema, consistent) and put it in place of the
database. An existing database is replaced only with --force.` +
			exitStatus("5  a database exists and --force was not given"),
		Example: "  deskctl db restore /backups/deskctl-2026-11-01.db --force",
		Args:    usageArgs(1, 1, "a backup FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.LocalService()
			if err != nil {
				return err
			}
			if err := svc.RestoreDB(args[0], force); err != nil {
				return err
			}
			f.notef("restored %s from %s", svc.DBPath, args[0])
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing database")
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
