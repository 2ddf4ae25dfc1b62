package cli

import (
	"os"
	"strconv"

	"github.com/deskctl/deskctl/internal/devgen"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

// __devgen is a developer tool for the scale benchmarks (docs/benchmarks.md).
// It writes the database directly through the store instead of going through
// use cases: it creates a new file and nobody else can be using it.
var _ = register(func(f *Factory) (string, *cobra.Command) {
	return "ops", newCmdDevgen(f)
})

type devgenOptions struct {
	devgen.Options
	devgen.Outputs
	OpenOnly bool
}

func newCmdDevgen(f *Factory) *cobra.Command {
	o := devgenOptions{Options: devgen.Defaults()}
	cmd := &cobra.Command{
		Use:    "__devgen --out FILE.db [--users N --groups N --resources N --tickets N --seed N] [--policy FILE.yaml] [--tests FILE.yaml] [--opa-dir DIR] [--import-jsonl FILE]",
		Short:  "Generate a large deterministic database, policy and OPA data (developers)",
		Hidden: true,
		Long: `Generate a realistic database for benchmarks: users, groups nested 8 deep, resources
with sub-resources, 40 rights with grants spread over groups, resources and users, and
tickets across resources and states, written in large transactions. The same seed and
sizes always give the same data. The directory is also written as a policy file
(--policy) and as OPA data with the Rego model (--opa-dir); with both --out and
--opa-dir the benchmark scenario (user, resource, ticket) and its OPA inputs are
written too. --tests writes a suite of 1 000 assertions with the engine's answers
for ` + "`deskctl policy test`" + `, and with --opa-dir the same suite as deskctl_test.rego
for ` + "`opa test`" + `. --import-jsonl writes the tickets for ` + "`deskctl ticket import`" + `.
--open-only opens --out read-only and closes it: the floor for whole-process timings.
The generated database has an administrator "admin".` + exitStatus("5  --out already exists"),
		Example: `  deskctl __devgen --out /tmp/bench.db --policy /tmp/bench.yaml --tests /tmp/tests.yaml --opa-dir /tmp/opa
  deskctl __devgen --out /tmp/small.db --users 100 --groups 20 --resources 10 --tickets 1000
  deskctl __devgen --out /tmp/bench.db --open-only`,
		Args: usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.OpenOnly {
				if o.DB == "" {
					return errs.Usagef("--open-only needs --out FILE")
				}
				if err := devgen.OpenOnly(o.DB); err != nil {
					return errs.Wrap(errs.Unusable, err, "cannot open %s", o.DB)
				}
				return nil
			}
			return devgenRun(f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.DB, "out", "", "database file to create")
	fl.StringVar(&o.Policy, "policy", "", "also write the directory as a YAML policy file")
	fl.StringVar(&o.OPADir, "opa-dir", "", "also write deskctl.rego, data.json and the scenario inputs here")
	fl.StringVar(&o.Tests, "tests", "", "also write a policy test suite of 1000 assertions (and deskctl_test.rego with --opa-dir)")
	fl.StringVar(&o.ImportJSONL, "import-jsonl", "", "also write the tickets as JSON Lines for ticket import")
	fl.Int64Var(&o.Seed, "seed", o.Seed, "random seed")
	fl.IntVar(&o.Users, "users", o.Users, "number of users (plus admin)")
	fl.IntVar(&o.Groups, "groups", o.Groups, "number of groups (plus everyone)")
	fl.IntVar(&o.Resources, "resources", o.Resources, "number of resources")
	fl.IntVar(&o.Tickets, "tickets", o.Tickets, "number of tickets")
	fl.IntVar(&o.Batch, "batch", o.Batch, "tickets per write transaction")
	fl.BoolVar(&o.OpenOnly, "open-only", false, "only open --out read-only and close it")
	return cmd
}

func devgenRun(f *Factory, o devgenOptions) error {
	if o.DB == "" && o.Policy == "" && o.Tests == "" && o.OPADir == "" && o.ImportJSONL == "" {
		return errs.Usagef("nothing to write").WithHint("pass --out FILE.db and/or --policy, --tests, --opa-dir, --import-jsonl")
	}
	if o.DB != "" {
		if _, err := os.Stat(o.DB); err == nil {
			return errs.Conflictf("%s already exists", o.DB).WithHint("pass another --out, or remove the file first")
		}
	}
	if o.Users < 1 || o.Groups < 0 || o.Resources < 0 || o.Tickets < 0 || o.Batch < 1 {
		return errs.Usagef("sizes must be positive (at least one user, batches of at least one ticket)")
	}
	report, stop := f.progress()
	var count func(done, total int)
	if report != nil {
		count = func(done, total int) { report("writing " + itoa(done) + "/" + itoa(total) + " tickets") }
	}
	rep, err := devgen.Run(o.Options, o.Outputs, count)
	stop()
	if err != nil {
		if errs.KindOf(err) != errs.Internal {
			return err
		}
		return errs.Wrap(errs.Internal, err, "generation failed")
	}
	pairs := [][2]string{{"seed", strconv.FormatInt(o.Seed, 10)}}
	if o.DB != "" {
		pairs = append(pairs, [2]string{"database", rep.Path}, [2]string{"users", itoa(rep.Users)},
			[2]string{"groups", itoa(rep.Groups)}, [2]string{"resources", itoa(rep.Resources)},
			[2]string{"rights", itoa(rep.Rights)}, [2]string{"grants", itoa(rep.Grants)},
			[2]string{"tickets", itoa(rep.Tickets)}, [2]string{"transactions", itoa(rep.Batches)},
			[2]string{"file bytes", strconv.FormatInt(rep.FileBytes, 10)}, [2]string{"elapsed", rep.Elapsed.Round(1e6).String()})
	}
	if sc := rep.Scenario; sc != nil {
		pairs = append(pairs, [2]string{"scenario user", sc.User}, [2]string{"effective groups", itoa(sc.Groups)},
			[2]string{"scenario resource", sc.Resource}, [2]string{"scenario ticket", itoa(sc.Ticket)})
	}
	return f.print(rep, output.KV("", pairs...))
}
