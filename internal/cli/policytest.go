package cli

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/deskctl/deskctl/internal/policy"
	"github.com/spf13/cobra"
)

var _ = func() bool {
	policyCommands = append(policyCommands, newCmdPolicyTest)
	return true
}()

// PolicyTestOptions are the inputs of `policy test`.
type PolicyTestOptions struct {
	Policy   []string // policy files and directories
	Tests    []string // tests files and directories
	JUnit    string   // where to write a JUnit XML report; "" for none
	Coverage bool     // list the grants no test exercises
	MaxBytes int64    // the most to read of the policy files, and of the tests files
}

// policyTestOutput is the -o json/yaml document: the report, and with
// --coverage the grants no test exercised.
type policyTestOutput struct {
	policy.Report
	Uncovered []policy.UncoveredGrant `json:"uncovered"`
}

func newCmdPolicyTest(f *Factory) *cobra.Command {
	var o PolicyTestOptions
	cmd := &cobra.Command{
		Use:   "test FILE... --tests TESTS [--junit REPORT.xml] [--coverage]",
		Short: "Run permission assertions against policy files, offline (for CI)",
		Long: `Check what a policy means without a database: load the policy files, then run the
assertions of the tests files with the permission engine. Assertions: can and cannot
(a user holds a right, or an action is available on a ticket fixture), role (the
user's role on a ticket fixture), who-can (the exact set of users holding a right
or able to act on a fixture) and needs-approval (the approval template of a fixture's
resource asks an approver and holds an action back). docs/policy.md describes the tests file.

Prints one line per test, PASS or FAIL with the test's file:line and name; under a
failure the expected and actual answers and the engine's explanation: why, the paths
through which a right is held (as access explain prints them) and the change to make.
The last line counts the results, e.g. "12 passed, 1 failed".

--junit writes a JUnit XML report for CI systems. --coverage lists the grants in the
policy files that no test exercised. -o json prints the report (passed, failed,
results with name, assertion, file, line, passed, expected, actual, explanation and
the engine's answer: check, role or holders; uncovered with --coverage).

Problems in the policy or the tests files are printed as file:line:col: message, and
no test runs.` +
			exitStatus("1  a test failed",
				"2  invalid input: a bad flag or argument, findings in the policy or the tests files, a file that cannot be read, files over --max-file-size (default 16MiB)"),
		Example: `  deskctl policy test policy/ --tests policy/tests/
  deskctl policy test policy/*.yaml --tests access.yaml --tests dispatch.yaml --junit report.xml
  deskctl policy test policy/ --tests policy/tests/ --coverage
  deskctl policy test policy/ --tests policy/tests/ -o json`,
		Args: usageArgs(1, -1, "at least one policy FILE or directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(o.Tests) == 0 {
				return errs.Usagef("policy test needs a tests file").WithHint("pass --tests TESTS.yaml")
			}
			o.Policy = args
			return policyTestRun(f, o)
		},
	}
	cmd.Flags().StringArrayVar(&o.Tests, "tests", nil, "tests file or directory (repeatable)")
	cmd.Flags().StringVar(&o.JUnit, "junit", "", "write a JUnit XML report to this file")
	cmd.Flags().BoolVar(&o.Coverage, "coverage", false, "list the grants no test exercises")
	maxFileSizeFlag(cmd, &o.MaxBytes)
	return cmd
}

func policyTestRun(f *Factory, o PolicyTestOptions) error {
	pr, err := f.Printer()
	if err != nil {
		return err
	}
	// The tests files are read while the policy loads; their problems
	// count only once the policy is found sound.
	type loadedTests struct {
		suite    *policy.Suite
		findings []policy.Finding
		err      error
	}
	tests := make(chan loadedTests, 1)
	go func() {
		s, fs, err := policy.LoadTests(o.MaxBytes, o.Tests...)
		tests <- loadedTests{s, fs, err}
	}()
	p, mem, findings, err := policy.CheckForTests(o.MaxBytes, o.Policy...)
	if err != nil {
		return err
	}
	if err := invalidInput(f, findings, "the policy files"); err != nil {
		return err
	}
	lt := <-tests
	suite, findings, err := lt.suite, lt.findings, lt.err
	if err != nil {
		return err
	}
	findings = append(findings, suite.Check(p)...)
	slices.SortStableFunc(findings, func(a, b policy.Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	if err := invalidInput(f, findings, "the tests files"); err != nil {
		return err
	}

	report := suite.RunOn(mem)
	out := policyTestOutput{Report: report}
	if o.Coverage {
		out.Uncovered = policy.Coverage(p, report)
	}
	if o.JUnit != "" {
		if err := writeJUnit(o.JUnit, report); err != nil {
			return err
		}
	}
	summary := f.IO.Out
	switch {
	case pr.Structured():
		if err := pr.Print(out, output.Tab{}); err != nil {
			return err
		}
		summary = f.IO.ErrOut
	case pr.Format == output.CSV || pr.Format == output.Markdown:
		if err := pr.Print(out, resultsTab(report)); err != nil {
			return err
		}
		summary = f.IO.ErrOut
	default:
		printResults(f, pr, out, o.Coverage)
	}
	fmt.Fprintln(summary, report.Summary())
	if report.Failed > 0 {
		return &silentError{errs.Negativef("%s", report.Summary())}
	}
	return nil
}

// invalidInput prints findings and, when any is an error, returns the
// invalid-input error: nothing is tested against a broken policy or suite.
func invalidInput(f *Factory, fs []policy.Finding, what string) error {
	printFindings(f, fs)
	if !policy.HasErrors(fs) {
		return nil
	}
	n := 0
	for _, x := range fs {
		if x.Severity != policy.SeverityWarning {
			n++
		}
	}
	f.notef("deskctl: %d problem(s) in %s; no test was run", n, what)
	return &silentError{errs.Usagef("%d problem(s) in %s", n, what)}
}

func writeJUnit(path string, r policy.Report) error {
	fh, err := os.Create(path)
	if err != nil {
		return errs.Wrap(errs.Usage, err, "cannot write the JUnit report").WithHint("check the --junit path")
	}
	if err := policy.WriteJUnit(fh, r); err != nil {
		_ = fh.Close()
		return errs.Wrap(errs.Usage, err, "cannot write the JUnit report").WithHint("check the --junit path")
	}
	if err := fh.Close(); err != nil {
		return errs.Wrap(errs.Usage, err, "cannot write the JUnit report").WithHint("check the --junit path")
	}
	return nil
}

// printResults writes one line per test, PASS in green and FAIL in red where
// colour is allowed, and under each failure its details with the labels aligned.
func printResults(f *Factory, pr *output.Printer, out policyTestOutput, coverage bool) {
	w := f.IO.Out
	for _, r := range out.Results {
		status := pr.Paint(output.Good, "PASS")
		if !r.Passed {
			status = pr.Paint(output.Bad, "FAIL")
		}
		fmt.Fprintf(w, "%s %s %s\n", status, r.Pos(), r.Name)
		if r.Passed {
			continue
		}
		detail := func(label, text string) { fmt.Fprintf(w, "    %-11s %s\n", label+":", text) }
		detail("expected", r.Expected)
		detail("actual", r.Actual)
		for _, line := range r.Explanation {
			label, text, ok := strings.Cut(line, ": ")
			if !ok {
				label, text = "", line
			}
			detail(label, text)
		}
	}
	if coverage {
		if len(out.Uncovered) == 0 {
			fmt.Fprintln(w, "Every grant is exercised by a test.")
		} else {
			fmt.Fprintf(w, "Grants no test exercises (%d):\n", len(out.Uncovered))
			for _, u := range out.Uncovered {
				fmt.Fprintf(w, "  %s\n", u)
			}
		}
	}
}

func resultsTab(r policy.Report) output.Tab {
	t := output.Tab{Columns: output.Cols("STATUS", "POSITION", "NAME", "EXPECTED", "ACTUAL", "EXPLANATION"), Empty: "no tests"}
	for _, x := range r.Results {
		status := "PASS"
		if !x.Passed {
			status = "FAIL"
		}
		t.Rows = append(t.Rows, []string{status, x.Pos().String(), x.Name, x.Expected, x.Actual, strings.Join(x.Explanation, "; ")})
	}
	return t
}
