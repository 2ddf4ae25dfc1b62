package cli

import (
	"os"
	"runtime/debug"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/deskctl/deskctl/internal/store"
	"github.com/spf13/cobra"
)

func newCmdTicketImport(f *Factory) *cobra.Command {
	var format string
	var batch int
	cmd := &cobra.Command{
		Use:   "import FILE [--format jsonl|csv] [--batch N]",
		Short: "Load tickets from JSON Lines or CSV (admin)",
		Long: `Import tickets from another system. Each record (a JSON object per line, or a CSV
row under a header) has: id (the source system's key, required), subject, description,
requester, resource, state, priority, category, due, assignee, created (RFC 3339).

The whole file is checked first; any invalid record stops the import before anything is
written, naming its line. Tickets are then written in transactions of --batch tickets
(default 2 500; larger is faster and takes more memory); an interrupted import keeps
complete batches, and running it again skips the ids already imported, so nothing is
duplicated. On a terminal, a long import says on stderr what it is doing
(checking N lines, writing batch i/n).
JSON fields: records, imported, skipped, batches, first, last.` + exitStatus("2  a record is malformed or invalid (nothing imported)", "3  a record names an unknown user or resource (nothing imported)"),
		Example: "  deskctl ticket import old-helpdesk.jsonl\n  deskctl ticket import export.csv --format csv",
		Args:    usageArgs(1, 1, "a FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if path == "-" {
				return errs.Usagef("import reads a file twice (check, then write); save standard input to a file first")
			}
			fm, err := app.ImportFormat(path, format)
			if err != nil {
				return err
			}
			if _, err := os.Stat(path); err != nil {
				return errs.Wrap(errs.Usage, err, "cannot read %s", path)
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			if batch < 1 {
				return errs.Usagef("--batch must be 1 or more, not %d", batch)
			}
			report, stop := f.progress()
			restore := func() {}
			if c, _ := f.Config(); c != nil && c.Server == "" && !store.IsURL(c.DB) {
				// The cap is sized for the file's write transactions;
				// PostgreSQL holds and sends writes differently.
				restore = limitImportHeap(batch)
			}
			r, err := svc.ImportTickets(app.LocalFile(path), fm, batch, report)
			restore()
			stop()
			if err != nil {
				if r.Imported > 0 {
					f.notef("imported %d ticket(s) (#%d–#%d) before the failure; running the import again skips them", r.Imported, r.First, r.Last)
				}
				return err
			}
			f.notef("imported %d ticket(s), skipped %d already imported, in %d transaction(s)", r.Imported, r.Skipped, r.Batches)
			return f.print(r, output.KV("", [2]string{"records", itoa(r.Records)}, [2]string{"imported", itoa(r.Imported)},
				[2]string{"skipped", itoa(r.Skipped)}, [2]string{"first", itoa(r.First)}, [2]string{"last", itoa(r.Last)}))
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "jsonl or csv (default: from the file name)")
	cmd.Flags().IntVar(&batch, "batch", app.ImportBatch, "tickets per write transaction")
	return cmd
}

// limitImportHeap sets a soft limit on this process's Go memory while an
// import of batch tickets per transaction runs, unless GOMEMLIMIT sets one.
// Each write transaction holds the index pages it changes, about 20 KB per
// ticket on a file of a million tickets, and the collector would otherwise
// let the heap grow to twice that before collecting; near the limit it
// collects sooner instead. The limit is soft: a batch that needs more gets
// it, at the cost of more frequent collection (docs/benchmarks.md,
// "Import memory").
func limitImportHeap(batch int) (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(importHeapLimit(batch))
	return func() { debug.SetMemoryLimit(prev) }
}

// importHeapLimit is the soft memory limit for an import of batch tickets
// per transaction: 24 MiB for the program and the check's leftovers, and
// 24 KiB per ticket of a batch.
func importHeapLimit(batch int) int64 {
	const most = 1 << 30 // tickets per batch counted; beyond, no limit to speak of
	return 24<<20 + int64(min(max(batch, 0), most))*(24<<10)
}
