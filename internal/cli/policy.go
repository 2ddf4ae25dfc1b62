package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/deskctl/deskctl/internal/policy"
	"github.com/spf13/cobra"
)

var policyCommands []func(*Factory) *cobra.Command

var _ = register("policy", func(f *Factory) (string, *cobra.Command) {
	cmd := noun("policy", "The directory and grant set as code: validate, plan, apply, export, test", `A policy file (YAML or JSON, several files merged) describes users, groups, resources,
custom actions, grants and settings. validate and test work offline without a database,
for CI; plan shows what apply would change, entity by entity and in effective access;
apply makes the database match in one transaction; export writes the database as a
policy. The format is documented in docs/policy.md; `+"`deskctl policy schema`"+` prints
its JSON Schema.`,
		newCmdPolicyValidate(f), newCmdPolicyPlan(f), newCmdPolicyApply(f), newCmdPolicyExport(f), newCmdPolicySchema(f))
	for _, c := range policyCommands {
		cmd.AddCommand(c(f))
	}
	return "admin", cmd
})

// sizeFlag is a size in bytes written like 64MiB, checked when parsed.
type sizeFlag struct{ n *int64 }

func (v sizeFlag) String() string {
	if v.n == nil {
		return ""
	}
	return policy.SizeText(*v.n)
}

func (v sizeFlag) Set(s string) error {
	n, err := policy.ParseSize(s)
	if err != nil {
		return err
	}
	*v.n = n
	return nil
}

func (v sizeFlag) Type() string { return "SIZE" }

// maxFileSizeFlag adds --max-file-size: how much of its policy files (and,
// separately, of its tests files) the command reads before refusing them.
func maxFileSizeFlag(cmd *cobra.Command, n *int64) {
	*n = policy.DefaultMaxBytes
	cmd.Flags().Var(sizeFlag{n}, "max-file-size", "refuse policy or tests files larger than this together (e.g. 64MiB)")
}

// tooLargeStatus is the EXIT STATUS line of commands that read policy files.
const tooLargeStatus = "2  a file cannot be read or the files are over --max-file-size (default 16MiB)"

func printFindings(f *Factory, fs []policy.Finding) {
	for _, x := range fs {
		fmt.Fprintln(f.IO.ErrOut, x.String())
	}
}

func newCmdPolicyValidate(f *Factory) *cobra.Command {
	var maxBytes int64
	var format string
	cmd := &cobra.Command{
		Use:   "validate FILE... [--format text|github|sarif]",
		Short: "Check policy files offline (syntax and meaning)",
		Long: `Check policy files without a database: unknown keys and rights (with the closest
suggestion), unknown members, group cycles, permissions not grantable to resources,
edit-all-tickets without read-all-tickets, duplicate names, invalid logins and emails,
no active administrator. Each finding prints as file:line:col: message.
JSON: an array of {file, line, col, severity, code, message}.

For CI, --format github prints GitHub Actions workflow commands
(::error file=F,line=L,col=C::message), which annotate the files of a pull request;
--format sarif prints a SARIF 2.1.0 log (rules are the finding codes) for code
scanning uploads. The exit status is the same in every format.` +
			exitStatus("1  the files have findings (errors; warnings alone exit 0)", tooLargeStatus),
		Example: "  deskctl policy validate policy/*.yaml\n  deskctl policy validate policy/ --format github\n  deskctl policy validate policy/ --format sarif > policy.sarif",
		Args:    usageArgs(1, -1, "at least one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.checkFindingsFormat(format); err != nil {
				return err
			}
			_, findings, err := policy.Check(maxBytes, args...)
			if err != nil {
				return err
			}
			if findings == nil {
				findings = []policy.Finding{}
			}
			pr, err := f.Printer()
			if err != nil {
				return err
			}
			switch {
			case format != findingsFormats[0]:
				if err := f.writeFindings(format, findings); err != nil {
					return err
				}
			case pr.Structured():
				if err := pr.Print(findings, output.Tab{}); err != nil {
					return err
				}
			default:
				for _, x := range findings {
					fmt.Fprintln(f.IO.Out, x.String())
				}
			}
			if policy.HasErrors(findings) {
				return &silentError{errs.Negativef("%d finding(s)", len(findings))}
			}
			if !pr.Structured() {
				fmt.Fprintf(f.IO.ErrOut, "%d file(s) valid\n", len(args))
			}
			return nil
		},
	}
	maxFileSizeFlag(cmd, &maxBytes)
	findingsFormatFlag(cmd, &format)
	return cmd
}

func planTab(p app.Plan) output.Tab {
	t := output.Tab{Columns: output.Cols("", "SUBJECT", "DETAIL*"), Empty: "no changes"}
	t.Columns[0].Tone = signTone
	sym := map[string]string{"add": "+", "remove": "-", "update": "~", "disable": "~", "grant": "+", "revoke": "-", "set": "~"}
	for _, c := range p.Changes {
		t.Rows = append(t.Rows, []string{sym[c.Op] + " " + c.Op, c.Subject, c.Detail})
	}
	return t
}

// signTone colours a plan line by its sign, as terraform does: + green,
// - red, ~ plain. Printer.Paint applies it only where colour is allowed.
func signTone(line string) output.Tone {
	switch {
	case strings.HasPrefix(line, "+"):
		return output.Good
	case strings.HasPrefix(line, "-"), strings.HasPrefix(line, "−"):
		return output.Bad
	}
	return output.Plain
}

func printPlan(f *Factory, p app.Plan) error {
	pr, err := f.Printer()
	if err != nil {
		return err
	}
	if pr.Structured() {
		return pr.Print(p, output.Tab{})
	}
	if err := pr.Print(p, planTab(p)); err != nil {
		return err
	}
	if len(p.Access) > 0 {
		fmt.Fprintln(f.IO.Out, "\nEffective access:")
		for _, a := range p.Access {
			sign := "+"
			if a.Op == "loses" {
				sign = "−"
			}
			what := a.Right
			if a.Resource != "" {
				what = "the tickets of " + a.Resource + " (" + a.Access + ")"
			}
			fmt.Fprintf(f.IO.Out, "  %s %s %s %s via %s\n", pr.Paint(signTone(sign), sign), a.User, a.Op, what, a.Via)
		}
	}
	return nil
}

func newCmdPolicyPlan(f *Factory) *cobra.Command {
	var exitCode, prune, detail bool
	var maxBytes int64
	cmd := &cobra.Command{
		Use:   "plan FILE... [--prune] [--exit-code] [--detail]",
		Short: "Show what apply would change, including effective access",
		Long: `Compare the policy with the database (admin): entity changes (add, update, remove,
grant, revoke, set) and, more important, effective access changes per user
("+ bob gains close via group:support ← group:tier1 ← bob").
On a terminal a summary comes first (changes by kind, the users gaining or losing
access), then the full plan through the pager ($DESKCTL_PAGER, else $PAGER, else
less -FRX), or printed in full with --detail. Piped or redirected, the full plan is
printed as it is.
JSON fields: changes (op, subject, detail), access (op, user, right or resource and
access, paths as access explain gives them, via), applied (docs/json.md).` +
			exitStatus("1  with --exit-code: there are changes", tooLargeStatus),
		Example: "  deskctl policy plan policy/*.yaml\n  deskctl policy plan policy/*.yaml --detail\n  deskctl policy plan policy/*.yaml --exit-code -o json",
		Args:    usageArgs(1, -1, "at least one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := app.ReadPolicy(maxBytes, args...)
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			p, findings, err := svc.PlanPolicy(src, prune)
			printFindings(f, findings)
			if err != nil {
				return err
			}
			if err := showPlan(f, p, detail, true); err != nil {
				return err
			}
			if exitCode && p.HasChanges() {
				return &silentError{errs.Negativef("changes")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&exitCode, "exit-code", false, "exit 1 when there are changes")
	cmd.Flags().BoolVar(&prune, "prune", false, "plan removing what the files do not mention")
	detailFlag(cmd, &detail)
	maxFileSizeFlag(cmd, &maxBytes)
	return cmd
}

// detailFlag adds --detail: the full plan on a terminal, without the pager.
func detailFlag(cmd *cobra.Command, detail *bool) {
	cmd.Flags().BoolVar(detail, "detail", false, "on a terminal, print the full plan after the summary instead of paging it")
}

func newCmdPolicyApply(f *Factory) *cobra.Command {
	var prune, dryRun, yes, detail bool
	var maxBytes int64
	cmd := &cobra.Command{
		Use:   "apply FILE... [--prune] [--dry-run] [--yes] [--detail]",
		Short: "Make the database match the policy, all or nothing (admin)",
		Long: `Apply the policy in one write transaction. Entities the files name are set to what
the files say (with their members and rights); others are kept, unless --prune removes
them (users that tickets refer to are disabled instead). A result with no active
administrator is refused. Applying twice reports no changes.

When standard input is a terminal, apply shows the plan as policy plan does (on a
terminal: a summary, then the full plan through the pager, or in full with --detail)
and asks before it writes; what it writes is exactly the plan agreed to. Without a
terminal to answer on, it needs --yes (or --dry-run). After writing it prints one line
on stderr; the plan itself is printed afterwards only if it was not shown before
(piped or redirected: in full, as scripts expect). A long apply shows what it is
doing on stderr when that is a terminal.` +
			exitStatus(declinedStatus,
				"2  the policy is invalid, a file cannot be read or the files are over --max-file-size (default 16MiB); "+
					"standard input is not a terminal and neither --yes nor --dry-run was given",
				"5  the result would leave no active administrator, or the database changed while the question waited"),
		Example: "  deskctl policy apply policy/*.yaml\n  deskctl policy apply policy/*.yaml --yes\n  deskctl policy apply policy/*.yaml --prune --dry-run",
		Args:    usageArgs(1, -1, "at least one FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !dryRun {
				if err := f.canConfirm(cmd, yes); err != nil {
					return err
				}
			}
			src, err := app.ReadPolicy(maxBytes, args...)
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			pr, err := f.Printer()
			if err != nil {
				return err
			}
			asked := !dryRun && !yes
			var confirmed []app.Change
			if asked {
				plan, findings, err := svc.PlanPolicy(src, prune)
				printFindings(f, findings)
				if err != nil {
					return err
				}
				if !plan.HasChanges() {
					return printPlan(f, plan)
				}
				if pr.Structured() {
					// stdout carries the one document at the end; the
					// person answering reads the summary on stderr.
					writePlanSummary(f.IO.ErrOut, plan, nil)
				} else if err := showPlan(f, plan, detail, true); err != nil {
					return err
				}
				if err := f.confirm("Apply " + counted(len(plan.Changes), "change", "changes") + "?"); err != nil {
					return err
				}
				confirmed = plan.Changes
			}
			report, stop := f.progress()
			plan, findings, err := svc.ApplyPolicy(src, prune, dryRun, confirmed, report)
			stop()
			if !asked {
				printFindings(f, findings)
			}
			if err != nil {
				return err
			}
			switch {
			case dryRun:
				f.notef("dry run: nothing written")
			case plan.Applied:
				f.notef("%s", planResult(plan))
			default:
				f.notef("no changes")
			}
			switch {
			case pr.Structured():
				return printPlan(f, plan)
			case asked:
				return nil // shown before the question
			}
			return showPlan(f, plan, detail, dryRun)
		},
	}
	cmd.Flags().BoolVar(&prune, "prune", false, "remove what the files do not mention")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "compute and print the plan, write nothing")
	yesFlag(cmd, &yes)
	detailFlag(cmd, &detail)
	maxFileSizeFlag(cmd, &maxBytes)
	return cmd
}

func newCmdPolicyExport(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "export [-o yaml|json]",
		Short: "Write the database as a policy file (admin)",
		Long: `Write the whole directory, custom actions, grants and settings as a policy document.
Exporting, applying to a fresh database and exporting again gives the same document.
YAML starts with "# yaml-language-server: $schema=policy.schema.json", which points
editors at the schema ` + "`deskctl policy schema`" + ` writes, saved beside the file.` + exitStatus(),
		Example: "  deskctl policy export > policy.yaml\n  deskctl policy export -o json",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			of, filter, err := f.outputFormat()
			if err != nil {
				return err
			}
			format := "yaml"
			if of == output.JSON {
				format = "json"
			} else if of != output.YAML && of != output.Table {
				return errs.Usagef("policy export writes yaml or json, not %s", of)
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			out, err := svc.ExportPolicy(format)
			if err != nil {
				return err
			}
			if filter != nil {
				return filter.Write(f.IO.Out, json.RawMessage(out))
			}
			_, err = f.IO.Out.Write(out)
			return err
		},
	}
}

func newCmdPolicySchema(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "schema",
		Short:   "Print the policy file's JSON Schema (for editors)",
		Long:    `Print the JSON Schema of the policy format (also at docs/policy.schema.json).` + exitStatus(),
		Example: "  deskctl policy schema > policy.schema.json",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, filter, err := f.outputFormat()
			if err != nil {
				return err
			}
			if filter != nil {
				return filter.Write(f.IO.Out, json.RawMessage(policy.JSONSchema()))
			}
			_, err = f.IO.Out.Write(policy.JSONSchema())
			return err
		},
	}
}
