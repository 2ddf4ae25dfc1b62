package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The shipped binary carries only what users run: the developer tools under
// internal/devgen (data generator, benchmark harness, doc generators) and
// the libraries only they need are programs of their own.
func TestBinaryLeavesOutDeveloperTools(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 || !slices.Contains(deps, "github.com/deskctl/deskctl/internal/cli") {
		t.Fatalf("go list -deps gave %d packages without internal/cli; the check below would prove nothing", len(deps))
	}
	for _, pkg := range deps {
		for _, banned := range []string{
			"github.com/deskctl/deskctl/internal/devgen",
			"github.com/spf13/cobra/doc",
			"github.com/cpuguy83/go-md2man",
			"github.com/russross/blackfriday",
		} {
			if pkg == banned || strings.HasPrefix(pkg, banned+"/") {
				t.Errorf("deskctl links %s", pkg)
			}
		}
	}
}
