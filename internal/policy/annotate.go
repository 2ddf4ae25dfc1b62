package policy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// CodeInfo describes a finding code for the reports CI systems read.
type CodeInfo struct {
	Code    Code
	Summary string
	// Warning marks the codes reported as warnings, which fail nothing.
	Warning bool
}

// ValidationCodes lists every code `policy validate` may report, in the
// order of docs/policy.md.
var ValidationCodes = []CodeInfo{
	{CodeSyntax, "The file is not valid YAML or JSON.", false},
	{CodeUnknownKey, "A key the format does not have.", false},
	{CodeDuplicateKey, "The same key twice in one mapping.", false},
	{CodeType, "A value of the wrong shape.", false},
	{CodeMissing, "A required key is absent or empty.", false},
	{CodeVersion, "A version other than 1.", false},
	{CodeTooComplex, "Aliases expand the file far beyond its size.", false},
	{CodeDuplicate, "A user, group, resource, action or setting defined twice.", false},
	{CodeRepeated, "A right, group member or state listed twice in one list.", true},
	{CodeInvalidLogin, "A login that breaks the naming rules.", false},
	{CodeInvalidName, "A group, resource or action name that breaks the naming rules.", false},
	{CodeInvalidEmail, "An address that is not a plain user@domain.tld.", false},
	{CodeInvalidText, "A display name or description that cannot be shown safely.", false},
	{CodeInvalidValue, "An access level, category, state or setting value out of range.", false},
	{CodeInvalidMember, "A group member that is neither a user nor a group.", false},
	{CodeInvalidAction, "A custom action the catalog refuses.", false},
	{CodeUnknownRight, "A right neither built in nor defined under actions.", false},
	{CodeUnknownMember, "A group or resource member the policy does not define.", false},
	{CodeUnknownParent, "A resource parent the policy does not define.", false},
	{CodeUnknownSetting, "A settings key deskctl does not have.", false},
	{CodeGroupCycle, "Group memberships that make a group contain itself.", false},
	{CodeParentCycle, "Resources that are their own parent or ancestor.", false},
	{CodeNotForResources, "A permission granted to a resource that cannot hold it.", false},
	{CodeRequiresRight, "edit-all-tickets without read-all-tickets on the same subject.", false},
	{CodeEveryoneMembers, "Members listed for the group everyone.", false},
	{CodeNoAdmin, "No active user would hold admin.", false},
}

// WriteGitHub writes findings as GitHub Actions workflow commands, one per
// line: "::error file=F,line=L,col=C::message" (warnings as ::warning), which
// the runner shows as annotations on the file. Parts of the position that
// are unknown are left out.
func WriteGitHub(w io.Writer, fs []Finding) error {
	for _, f := range fs {
		var props []string
		if f.File != "" {
			props = append(props, "file="+escapeProperty(f.File))
			if f.Line > 0 {
				props = append(props, "line="+strconv.Itoa(f.Line))
				if f.Col > 0 {
					props = append(props, "col="+strconv.Itoa(f.Col))
				}
			}
		}
		level := "error"
		if f.Severity == SeverityWarning {
			level = "warning"
		}
		line := "::" + level
		if len(props) > 0 {
			line += " " + strings.Join(props, ",")
		}
		if _, err := fmt.Fprintf(w, "%s::%s\n", line, escapeData(f.Message)); err != nil {
			return err
		}
	}
	return nil
}

// escapeData escapes a workflow command's message the way the Actions
// toolkit does, so a line break cannot end the command early.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a property value; ',' and ':' would otherwise end it.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// SARIFSchema is the schema a SARIF log names: SARIF 2.1.0 with its errata.
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool       sarifTool     `json:"tool"`
	ColumnKind string        `json:"columnKind"`
	Results    []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name    string      `json:"name"`
	Version string      `json:"version,omitempty"`
	Rules   []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID               string          `json:"id"`
	ShortDescription sarifText       `json:"shortDescription"`
	Default          sarifRuleConfig `json:"defaultConfiguration"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	Physical sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	Artifact sarifArtifact `json:"artifactLocation"`
	Region   *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

func sarifLevel(warning bool) string {
	if warning {
		return "warning"
	}
	return "error"
}

// WriteSARIF writes findings as a SARIF 2.1.0 log, the format code scanning
// services read: one run of the tool deskctl (at version, when not empty)
// whose rules are the finding codes, each result with its rule, level,
// message and place. Columns count Unicode code points, as findings do.
func WriteSARIF(w io.Writer, fs []Finding, version string) error {
	rules := make([]sarifRule, 0, len(ValidationCodes))
	index := map[Code]int{}
	addRule := func(c CodeInfo) {
		index[c.Code] = len(rules)
		rules = append(rules, sarifRule{ID: string(c.Code), ShortDescription: sarifText{c.Summary}, Default: sarifRuleConfig{sarifLevel(c.Warning)}})
	}
	for _, c := range ValidationCodes {
		addRule(c)
	}
	results := make([]sarifResult, 0, len(fs))
	for _, f := range fs {
		if _, ok := index[f.Code]; !ok {
			addRule(CodeInfo{Code: f.Code, Summary: string(f.Code), Warning: f.Severity == SeverityWarning})
		}
		r := sarifResult{RuleID: string(f.Code), RuleIndex: index[f.Code], Level: sarifLevel(f.Severity == SeverityWarning),
			Message: sarifText{f.Message}, Locations: []sarifLocation{}}
		if f.File != "" {
			loc := sarifLocation{Physical: sarifPhysical{Artifact: sarifArtifact{fileURI(f.File)}}}
			if f.Line > 0 {
				loc.Physical.Region = &sarifRegion{StartLine: f.Line, StartColumn: f.Col}
			}
			r.Locations = append(r.Locations, loc)
		}
		results = append(results, r)
	}
	log := sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{{
		Tool:       sarifTool{sarifDriver{Name: "deskctl", Version: version, Rules: rules}},
		ColumnKind: "unicodeCodePoints",
		Results:    results,
	}}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

// fileURI turns a file name as given on the command line into a URI
// reference: relative names stay relative (to where deskctl ran, usually
// the repository root), absolute ones become file: URIs.
func fileURI(name string) string {
	p := filepath.ToSlash(name)
	if filepath.IsAbs(name) {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // a Windows drive: file:///C:/…
		}
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).String()
}
