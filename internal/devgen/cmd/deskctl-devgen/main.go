// Command deskctl-devgen writes the data sets of the scale benchmarks
// (docs/benchmarks.md): a realistic database with users, groups nested 8
// deep, resources with sub-resources, 40 rights with grants spread over
// groups, resources and users, and tickets across resources and states,
// written in large transactions. The same seed and sizes always give the
// same data, and the generated database has an administrator "admin".
//
// The same directory can also be written as a policy file (-policy) and as
// OPA data with the Rego model (-opa-dir); with both -out and -opa-dir the
// benchmark scenario (user, resource, ticket) and its OPA inputs are written
// too. -tests writes a suite of 1 000 assertions with the engine's answers
// for `deskctl policy test`, and with -opa-dir the same suite as
// deskctl_test.rego for `opa test`. -import-jsonl writes the tickets for
// `deskctl ticket import`. -audit N appends N audit records of ticket
// changes, chained as the app chains them, for `deskctl audit verify` at
// scale. -open-only opens -out read-only and closes it:
// the floor of the whole-process timings.
//
// It is a program of its own, not a deskctl command, so the shipped binary
// carries only what users run. It writes the database through the store
// directly, not through use cases: the file is new and nobody else uses it.
//
//	go run ./internal/devgen/cmd/deskctl-devgen -out /tmp/bench.db -policy /tmp/bench.yaml -tests /tmp/tests.yaml -opa-dir /tmp/opa
//	go run ./internal/devgen/cmd/deskctl-devgen -out /tmp/small.db -users 100 -groups 20 -resources 10 -tickets 1000
//	go run ./internal/devgen/cmd/deskctl-devgen -out /tmp/audit.db -tickets 10000 -audit 1000000
//	go run ./internal/devgen/cmd/deskctl-devgen -out /tmp/bench.db -open-only
//
// Exit status: 0 written (or opened), 1 cannot write or open, 2 usage.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/deskctl/deskctl/internal/devgen"
	"golang.org/x/term"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(args []string, stdout, stderr io.Writer) int {
	o := devgen.Defaults()
	var out devgen.Outputs
	var openOnly, asJSON bool
	fl := flag.NewFlagSet("deskctl-devgen", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&out.DB, "out", "", "database file to create")
	fl.StringVar(&out.Policy, "policy", "", "also write the directory as a YAML policy file")
	fl.StringVar(&out.OPADir, "opa-dir", "", "also write deskctl.rego, data.json and the scenario inputs here")
	fl.StringVar(&out.Tests, "tests", "", "also write a policy test suite of 1000 assertions (and deskctl_test.rego with -opa-dir)")
	fl.StringVar(&out.ImportJSONL, "import-jsonl", "", "also write the tickets as JSON Lines for ticket import")
	fl.Int64Var(&o.Seed, "seed", o.Seed, "random seed")
	fl.IntVar(&o.Users, "users", o.Users, "number of users (plus admin)")
	fl.IntVar(&o.Groups, "groups", o.Groups, "number of groups (plus everyone)")
	fl.IntVar(&o.Resources, "resources", o.Resources, "number of resources")
	fl.IntVar(&o.Tickets, "tickets", o.Tickets, "number of tickets")
	fl.IntVar(&o.Batch, "batch", o.Batch, "tickets (or audit records) per write transaction")
	fl.IntVar(&o.Audit, "audit", 0, "also append this many audit records of ticket changes (a verifiable chain)")
	fl.BoolVar(&openOnly, "open-only", false, "only open -out read-only and close it")
	fl.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	err := generate(fl.Args(), o, out, openOnly, asJSON, stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "deskctl-devgen:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "deskctl-devgen:", err)
		return 1
	}
}

func generate(args []string, o devgen.Options, out devgen.Outputs, openOnly, asJSON bool, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("no arguments expected, got %q", args[0])}
	}
	if openOnly {
		if out.DB == "" {
			return usageError{"-open-only needs -out FILE"}
		}
		if err := devgen.OpenOnly(out.DB); err != nil {
			return fmt.Errorf("cannot open %s: %w", out.DB, err)
		}
		return nil
	}
	if out == (devgen.Outputs{}) {
		return usageError{"nothing to write: pass -out FILE.db and/or -policy, -tests, -opa-dir, -import-jsonl"}
	}
	if o.Users < 1 || o.Groups < 0 || o.Resources < 0 || o.Tickets < 0 || o.Batch < 1 || o.Audit < 0 {
		return usageError{"sizes must be positive (at least one user, batches of at least one ticket)"}
	}
	if o.Audit > 0 && o.Tickets == 0 {
		return usageError{"-audit records changes to tickets: pass -tickets N (N > 0) too"}
	}
	if out.DB != "" {
		if _, err := os.Stat(out.DB); err == nil {
			return fmt.Errorf("%s already exists: pass another -out, or remove the file first", out.DB)
		}
	}
	rep, err := devgen.Run(o, out, progress(stderr))
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	pairs := [][2]string{{"seed", strconv.FormatInt(o.Seed, 10)}}
	if out.DB != "" {
		pairs = append(pairs, [2]string{"database", rep.Path}, [2]string{"users", strconv.Itoa(rep.Users)},
			[2]string{"groups", strconv.Itoa(rep.Groups)}, [2]string{"resources", strconv.Itoa(rep.Resources)},
			[2]string{"rights", strconv.Itoa(rep.Rights)}, [2]string{"grants", strconv.Itoa(rep.Grants)},
			[2]string{"tickets", strconv.Itoa(rep.Tickets)}, [2]string{"audit records", strconv.Itoa(rep.Audit)}, [2]string{"transactions", strconv.Itoa(rep.Batches)},
			[2]string{"file bytes", strconv.FormatInt(rep.FileBytes, 10)}, [2]string{"elapsed", rep.Elapsed.Round(time.Millisecond).String()})
	}
	if sc := rep.Scenario; sc != nil {
		pairs = append(pairs, [2]string{"scenario user", sc.User}, [2]string{"effective groups", strconv.Itoa(sc.Groups)},
			[2]string{"scenario resource", sc.Resource}, [2]string{"scenario ticket", strconv.Itoa(sc.Ticket)})
	}
	for _, p := range pairs {
		fmt.Fprintf(stdout, "%-18s %s\n", p[0]+":", p[1])
	}
	return nil
}

// progress reports each written batch on stderr when it is a terminal.
func progress(stderr io.Writer) func(done, total int) {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func(done, total int) {
		fmt.Fprintf(stderr, "\rwriting tickets %d/%d", done, total)
		if done >= total {
			fmt.Fprintln(stderr)
		}
	}
}
