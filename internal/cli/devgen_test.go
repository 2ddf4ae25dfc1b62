package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/devgen"
)

// generate writes a devgen database (and whatever else outs names) at
// outs.DB, sized for tests.
func generate(t testing.TB, o devgen.Options, outs devgen.Outputs) devgen.Report {
	t.Helper()
	rep, err := devgen.Run(o, outs, nil)
	if err != nil {
		t.Fatalf("generating %+v: %v", outs, err)
	}
	return rep
}

// The benchmark data sets (internal/devgen/cmd/deskctl-devgen) work with
// the ordinary commands.
func TestDevgenDataWorkWithCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gen.db")
	pol, tests := filepath.Join(dir, "p.yaml"), filepath.Join(dir, "t.yaml")
	o := devgen.Options{Seed: 1, Users: 40, Groups: 10, Resources: 6, Tickets: 300, Batch: 100}
	rep := generate(t, o, devgen.Outputs{DB: db, Policy: pol, Tests: tests, OPADir: filepath.Join(dir, "opa")})
	if rep.Scenario == nil {
		t.Fatal("no scenario with -out and -opa-dir")
	}

	// The generated suite passes `policy test` against the generated policy.
	var out, errOut bytes.Buffer
	if code := run([]string{"policy", "test", pol, "--tests", tests, "-o", "json"}, &IOStreams{Out: &out, ErrOut: &errOut}); code != ExitOK {
		t.Fatalf("policy test of the generated suite exited %d: %s", code, errOut.String())
	}
	var res struct{ Passed, Failed int }
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Passed != 1000 || res.Failed != 0 {
		t.Errorf("policy test of the generated suite: %+v (%v)", res, err)
	}

	t.Setenv("DESKCTL_DB", db)
	t.Setenv("XDG_CONFIG_HOME", dir)
	out.Reset()
	if code := run([]string{"db", "check"}, &IOStreams{Out: &out, ErrOut: &errOut}); code != ExitOK {
		t.Errorf("db check on the generated database exited %d: %s%s", code, out.String(), errOut.String())
	}
	args := []string{"--as", rep.Scenario.User, "ticket", "show", itoa(rep.Scenario.Ticket)}
	if code := run(args, &IOStreams{Out: &out, ErrOut: &errOut}); code != ExitOK {
		t.Errorf("deskctl %s exited %d: %s", strings.Join(args, " "), code, errOut.String())
	}
}
