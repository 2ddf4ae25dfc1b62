package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/policy"
	"github.com/spf13/cobra"
)

// findingsFormats are the values of `policy validate --format`: text lines
// (file:line:col: message), GitHub Actions workflow commands, or a SARIF log.
var findingsFormats = []string{"text", "github", "sarif"}

// findingsFormat is the --format flag, checked when it is parsed.
type findingsFormat struct{ s *string }

func (v findingsFormat) String() string {
	if v.s == nil || *v.s == "" {
		return findingsFormats[0]
	}
	return *v.s
}

func (v findingsFormat) Set(s string) error {
	if !slices.Contains(findingsFormats, s) {
		return errs.Usagef("unknown findings format %q; use %s", s, strings.Join(findingsFormats, ", "))
	}
	*v.s = s
	return nil
}

func (v findingsFormat) Type() string { return "FORMAT" }

// findingsFormatFlag adds --format to cmd.
func findingsFormatFlag(cmd *cobra.Command, s *string) {
	*s = findingsFormats[0]
	cmd.Flags().Var(findingsFormat{s}, "format", "findings as text, github (workflow commands for annotations) or sarif (SARIF 2.1.0 for code scanning)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(findingsFormats, cobra.ShellCompDirectiveNoFileComp))
}

// checkFindingsFormat refuses a CI format together with -o, --jq or
// --template: each says on its own what stdout holds.
func (f *Factory) checkFindingsFormat(format string) error {
	if format == findingsFormats[0] {
		return nil
	}
	for _, name := range []string{"output", "jq", "template"} {
		if fl := f.root.PersistentFlags().Lookup(name); fl != nil && fl.Changed {
			return errs.Usagef("--format %s and --%s both choose the output", format, name).
				WithHint("leave out --%s: --format %s prints its own document", name, format)
		}
	}
	return nil
}

// writeFindings prints findings in a CI format on stdout.
func (f *Factory) writeFindings(format string, fs []policy.Finding) error {
	switch format {
	case "github":
		return policy.WriteGitHub(f.IO.Out, fs)
	case "sarif":
		v := versionInfo().Version
		if v == "dev" {
			v = ""
		}
		return policy.WriteSARIF(f.IO.Out, fs, v)
	}
	return fmt.Errorf("no writer for findings format %q", format)
}
