package cli

import (
	"runtime"
	"runtime/debug"

	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

// Set by the release build through -ldflags -X.
var (
	version = ""
	commit  = ""
	date    = ""
)

// VersionInfo is `deskctl version -o json`.
type VersionInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	Go      string `json:"go"`
	// JSONVersion is the version of the JSON output contract (docs/json.md).
	JSONVersion int `json:"json_version"`
}

func versionInfo() VersionInfo {
	v := VersionInfo{Version: version, Commit: commit, Date: date, Go: runtime.Version(), JSONVersion: output.ContractVersion}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && v.Commit == "":
				v.Commit = s.Value
			case s.Key == "vcs.time" && v.Date == "":
				v.Date = s.Value
			}
		}
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	return v
}

func versionString() string {
	v := versionInfo()
	s := "deskctl " + v.Version
	if v.Commit != "" {
		s += " (" + v.Commit + ")"
	}
	return s
}

func newCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit, build date and Go version",
		Long: `Print deskctl's version, the commit and date it was built from, and the Go version. It never opens the database.
JSON fields: version, commit, date, go, json_version (the version of the JSON output
contract, docs/json.md).` + exitStatus(),
		Example: "  deskctl version\n  deskctl version -o json",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := versionInfo()
			return f.print(v, output.KV("", [2]string{"version", v.Version}, [2]string{"commit", v.Commit},
				[2]string{"date", v.Date}, [2]string{"go", v.Go}, [2]string{"json version", itoa(v.JSONVersion)}))
		},
	}
}
