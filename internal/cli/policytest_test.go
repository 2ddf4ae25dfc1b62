package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writePolicySuite writes a policy and a tests file with one passing and
// one failing test, and returns the arguments of policy test over them.
func writePolicySuite(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	pol, tests := filepath.Join(dir, "policy.yaml"), filepath.Join(dir, "tests.yaml")
	for path, body := range map[string]string{
		pol: "users:\n  - {login: alice, name: Alice, email: alice@example.com, rights: [admin]}\n" +
			"  - {login: bob, name: Bob, email: bob@example.com}\n",
		tests: "tests:\n  - who-can: {right: admin, users: [alice]}\n  - can: {user: bob, right: admin}\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"policy", "test", pol, "--tests", tests}
}

// TestPolicyTestColoursPassFail: PASS is green and FAIL red where colour is
// allowed; otherwise the words are plain.
func TestPolicyTestColoursPassFail(t *testing.T) {
	args := writePolicySuite(t)
	for _, color := range []bool{true, false} {
		var out, errOut bytes.Buffer
		code := run(args, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, OutTTY: true, ErrTTY: true, Color: color})
		if code != ExitNegative {
			t.Fatalf("colour %v: exit %d, want %d\n%s%s", color, code, ExitNegative, out.String(), errOut.String())
		}
		green, red := strings.Contains(out.String(), "\x1b[32mPASS\x1b[0m "), strings.Contains(out.String(), "\x1b[31mFAIL\x1b[0m ")
		if color && (!green || !red) {
			t.Errorf("with colour, PASS is not green or FAIL is not red:\n%q", out.String())
		}
		if !color && (strings.Contains(out.String(), "\x1b[") || !strings.Contains(out.String(), "PASS ") || !strings.Contains(out.String(), "FAIL ")) {
			t.Errorf("without colour:\n%q", out.String())
		}
	}
}
