package cli

// TestReadme follows README.md as a newcomer would: every ```sh block, in
// order, in one bash session (so an export in one block holds in the next),
// against a fresh database, with deskctl the same re-executed test binary the
// scripts use. A ```console block's "$ " lines run in the same session and
// their output (stdout and stderr together) must be what the README shows.
// A block that cannot run here (make, root, a second machine) says so in its
// info string: ```sh no-test. A shell block in any other spelling (bash,
// shell, zsh) fails the test, so no command can slip past it unseen.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"
)

// readmeBlock is one fenced code block of the README.
type readmeBlock struct {
	line   int // README line of the first line inside the fence
	lang   string
	noTest bool
	lines  []string
}

// readmeBlocks reads the fenced blocks of a markdown file and checks their
// test markers.
func readmeBlocks(text string) ([]readmeBlock, error) {
	var blocks []readmeBlock
	var cur *readmeBlock
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		if cur != nil {
			if strings.TrimSpace(line) == "```" {
				blocks = append(blocks, *cur)
				cur = nil
			} else {
				cur.lines = append(cur.lines, line)
			}
			continue
		}
		info, ok := strings.CutPrefix(line, "```")
		if !ok {
			continue
		}
		cur = &readmeBlock{line: n + 1}
		fields := strings.Fields(info)
		if len(fields) > 0 {
			cur.lang = fields[0]
		}
		switch {
		case slices.Contains([]string{"bash", "shell", "zsh", "shell-session"}, cur.lang):
			return nil, fmt.Errorf("line %d: a ```%s block: write ```sh (run by this test), ```console (run, output compared) or ```sh no-test", n, cur.lang)
		case cur.lang != "sh" && cur.lang != "console":
		case len(fields) == 2 && fields[1] == "no-test":
			cur.noTest = true
		case len(fields) > 1:
			return nil, fmt.Errorf("line %d: unknown marker %q after ```%s (the only one is no-test)", n, strings.Join(fields[1:], " "), cur.lang)
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: the block opened here is never closed", cur.line-1)
	}
	return blocks, nil
}

// readmeScript turns the README's blocks into a testscript: one bash script
// holding every block to run, then a cmp per console command.
func readmeScript(blocks []readmeBlock) (*txtar.Archive, []string) {
	var sh, cmds strings.Builder
	var skipped []string
	ar := &txtar.Archive{}
	lineNo := 0
	emit := func(line string) {
		sh.WriteString(line + "\n")
		lineNo++
	}
	// quiet runs bookkeeping without showing it in the trace.
	quiet := func(cmds string) { emit("{ " + cmds + "; } 2>/dev/null") }
	// at makes the next script line report README line n: xtrace and the
	// error trap add readme_off to bash's LINENO.
	at := func(n int) { quiet(fmt.Sprintf("readme_off=%d", n-(lineNo+2))) }
	emit(`set -euo pipefail`)
	emit(`readme_off=0 readme_status=0`)
	emit(`readme_trap='{ readme_rc=$?; set +x; } 2>/dev/null; echo "README.md:$((LINENO + readme_off)): failed with exit $readme_rc" >&2'`)
	emit(`trap "$readme_trap" ERR`)
	emit(`export PS4='+ README.md:$((LINENO + readme_off)): '`)
	emit(`mkdir -p readme-out`)
	emit(`set -x`)
	for _, b := range blocks {
		switch {
		case b.lang != "sh" && b.lang != "console":
		case b.noTest:
			skipped = append(skipped, fmt.Sprintf("README.md:%d (%s no-test)", b.line-1, b.lang))
		case b.lang == "sh":
			at(b.line)
			for _, l := range b.lines {
				emit(l)
			}
		default:
			for i := 0; i < len(b.lines); i++ {
				cmd, ok := strings.CutPrefix(b.lines[i], "$ ")
				if !ok {
					continue
				}
				var want strings.Builder
				for i+1 < len(b.lines) && !strings.HasPrefix(b.lines[i+1], "$ ") {
					i++
					want.WriteString(b.lines[i] + "\n")
				}
				n := b.line + i - strings.Count(want.String(), "\n")
				// The command may fail: that is what the block shows. $?
				// stays the previous command's, for a following `echo $?`.
				quiet(`set +e; trap - ERR`)
				at(n)
				emit(fmt.Sprintf(`(exit $readme_status); %s >readme-out/%d 2>&1; readme_status=$?`, cmd, n))
				quiet(`set -e; trap "$readme_trap" ERR`)
				fmt.Fprintf(&cmds, "# README.md:%d: %s\ncmp readme-out/%d readme-want/%d\n", n, cmd, n, n)
				ar.Files = append(ar.Files, txtar.File{Name: fmt.Sprintf("readme-want/%d", n), Data: []byte(want.String())})
			}
		}
	}
	ar.Comment = []byte("# README.md, top to bottom\nexec bash readme.sh\n" + cmds.String())
	ar.Files = append([]txtar.File{{Name: "readme.sh", Data: []byte(sh.String())}}, ar.Files...)
	return ar, skipped
}

func TestReadme(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		if runtime.GOOS == "windows" {
			t.Skip("the README's commands are for a POSIX shell; no bash here")
		}
		t.Fatal("the README test runs its commands with bash, which is not installed")
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readmeBlocks(string(raw))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	ar, skipped := readmeScript(blocks)
	if len(ar.Files) == 0 || !strings.Contains(string(ar.Files[0].Data), "deskctl init") {
		t.Fatal("README.md: found no sh block that runs deskctl init; did the fences change?")
	}
	for _, s := range skipped {
		t.Logf("not run: %s", s)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "readme.txtar"), txtar.Format(ar), 0o600); err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{Dir: dir, Setup: setupScript, Cmds: scriptCommands})
}

// The block reader finds what the test runs and refuses what it would miss.
func TestReadmeBlocks(t *testing.T) {
	text := "intro\n```sh\na\nb\n```\n```sh no-test\nmake x\n```\n```\nplain\n```\n```console\n$ deskctl x\nout\n$ echo $?\n4\n```\n"
	blocks, err := readmeBlocks(text)
	if err != nil {
		t.Fatal(err)
	}
	ar, skipped := readmeScript(blocks)
	script := string(ar.Files[0].Data)
	if !strings.Contains(script, "\na\nb\n") || strings.Contains(script, "make x") || strings.Contains(script, "plain") {
		t.Errorf("script runs the wrong lines:\n%s", script)
	}
	if want := []string{"README.md:6 (sh no-test)"}; !slices.Equal(skipped, want) {
		t.Errorf("skipped %q, want %q", skipped, want)
	}
	if got := string(ar.Comment); !strings.Contains(got, "cmp readme-out/13 readme-want/13\n") || !strings.Contains(got, "cmp readme-out/15 readme-want/15\n") {
		t.Errorf("console commands compared at the wrong lines:\n%s", got)
	}
	if got := string(ar.Files[1].Data); got != "out\n" {
		t.Errorf("expected output of the first console command = %q", got)
	}
	for _, bad := range []string{"```bash\nx\n```\n", "```sh skip\nx\n```\n", "```sh\nx\n"} {
		if _, err := readmeBlocks(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
