// Command deskctl-bench takes the whole-process timings of docs/benchmarks.md:
// it builds deskctl and deskctl-devgen, generates the benchmark database once
// (deskctl-devgen), then runs each command many times, interleaved round by
// round so that machine noise hits every command alike, and reports per command the median
// wall time, its ratio to the floor (`deskctl version`) and to a bare bbolt
// open measured in the same run, and the peak RSS and minor page faults of
// the child process (getrusage; page faults do not vary with the machine's
// load, times do). OPA evaluates the same checks and runs the same 1 000-assertion
// test suite over the same directory, also whole-process, and in-process with `opa bench` beside deskctl's Go
// benchmarks on the same database. `ticket list` is timed for the users it is
// hardest for (devgen.PickListUsers) with each filter, with CPU time beside
// the wall time, and with -before also for an earlier build in the same rounds;
// -complete times the completion of ticket numbers for the same users.
//
//	go run ./internal/devgen/cmd/deskctl-bench [-dir /tmp/deskctl-bench] [-runs 30] [-import] [-list|-complete] [-before OLD-DESKCTL]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/deskctl/deskctl/internal/devgen"
	"github.com/deskctl/deskctl/internal/helpdesk"
)

type config struct {
	dir, deskctl, devgen, opa, before string
	postgres                          string
	pooled                            string
	compare                           bool
	runs, tickets                     int
	importToo, goBench, list          bool
	startup, complete                 bool
}

func main() {
	var c config
	flag.StringVar(&c.dir, "dir", filepath.Join(os.TempDir(), "deskctl-bench"), "work directory: database, policy, OPA files, results")
	flag.StringVar(&c.deskctl, "deskctl", "", "deskctl binary (default: build ./cmd/deskctl into -dir)")
	flag.StringVar(&c.opa, "opa", "", "opa binary (default: $PATH, then $GOPATH/bin)")
	flag.IntVar(&c.runs, "runs", 30, "runs per command")
	flag.IntVar(&c.tickets, "tickets", 1_000_000, "tickets in the generated database (when it does not exist yet)")
	flag.BoolVar(&c.importToo, "import", false, "also time `ticket import` of all tickets into a fresh database")
	flag.BoolVar(&c.goBench, "gobench", true, "also run the in-process Go benchmarks and `opa bench` on the same database")
	flag.BoolVar(&c.list, "list", false, "time only the floor and `ticket list` for the picked users and filters")
	flag.BoolVar(&c.complete, "complete", false, "time only the floor and the completion of ticket numbers (`__complete ticket show PREFIX`) for the users picked for `ticket list`")
	flag.BoolVar(&c.startup, "startup", false, "time only start-up: the floor, a minimal Go binary, access can/explain and OPA's eval (with -before, its version and can too)")
	flag.StringVar(&c.before, "before", "", "another deskctl binary (an earlier build) timed beside -deskctl for every `ticket list` (or completion), in the same rounds")
	flag.StringVar(&c.postgres, "postgres", "", "a PostgreSQL database URL: copy the benchmark database there (db copy, timed) and time each command on it beside the file, in the same rounds")
	flag.StringVar(&c.pooled, "pooled", "", "with -postgres: the same database through a connection pooler (e.g. PgBouncer in transaction mode); time each PostgreSQL command through it too, in the same rounds")
	flag.BoolVar(&c.compare, "compare", false, "with -postgres: copy the benchmark database there and back, and compare audit heads, policy exports and 1 000 sampled access can answers (no timings)")
	pick := flag.String("pick-list-users", "", "print the users and filters for `ticket list` picked from this database as JSON, and exit")
	flag.Parse()
	if c.pooled != "" && (c.postgres == "" || c.compare) {
		fmt.Fprintln(os.Stderr, "deskctl-bench: -pooled needs -postgres URL (the same database, reached directly) and times commands, so it does not go with -compare")
		os.Exit(2)
	}
	if *pick != "" {
		users, f, err := devgen.PickListUsers(*pick)
		if err == nil {
			err = json.NewEncoder(os.Stdout).Encode(listPick{users, f})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "deskctl-bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "deskctl-bench:", err)
		os.Exit(1)
	}
}

// sample is one run of a command.
type sample struct {
	wall   time.Duration
	cpu    time.Duration // user + system
	rssKB  int64
	faults int64 // minor page faults
	status int
}

// result summarises a command's runs.
type result struct {
	Name     string        `json:"name"`
	Command  string        `json:"command"`
	Runs     int           `json:"runs"`
	Median   time.Duration `json:"median_ns"`
	Min      time.Duration `json:"min_ns"`
	P90      time.Duration `json:"p90_ns"`
	CPU      time.Duration `json:"cpu_median_ns"`
	PeakRSS  int64         `json:"peak_rss_kb"`
	Faults   int64         `json:"page_faults_median"`
	VsFloor  float64       `json:"vs_floor"`
	VsOpen   float64       `json:"vs_open"`
	Expected int           `json:"exit_status"`
}

type command struct {
	name     string
	argv     []string
	expected int      // exit status
	env      []string // added to the common environment (the PostgreSQL twin's DESKCTL_DB)
}

func run(c config, out io.Writer) error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if c.deskctl == "" {
		c.deskctl = filepath.Join(c.dir, "deskctl")
		logf("building %s", c.deskctl)
		// As released: static, without cgo (.goreleaser.yaml).
		if err := sh(root, []string{"CGO_ENABLED=0"}, "go", "build", "-trimpath", "-o", c.deskctl, "./cmd/deskctl"); err != nil {
			return err
		}
	}
	// The generator is a program of its own (the deskctl binary ships
	// without it); it also times the bare bbolt open.
	c.devgen = filepath.Join(c.dir, "deskctl-devgen")
	logf("building %s", c.devgen)
	if err := sh(root, nil, "go", "build", "-trimpath", "-o", c.devgen, "./internal/devgen/cmd/deskctl-devgen"); err != nil {
		return err
	}
	if c.opa == "" {
		c.opa = findOPA()
	}
	minimal, err := buildMinimal(c.dir)
	if err != nil {
		return err
	}
	db := filepath.Join(c.dir, "bench.db")
	opaDir := filepath.Join(c.dir, "opa")
	env := []string{"DESKCTL_DB=" + db, "XDG_CONFIG_HOME=" + filepath.Join(c.dir, "config"), "XDG_DATA_HOME=" + filepath.Join(c.dir, "data"), "NO_COLOR=1"}

	tests := filepath.Join(c.dir, "tests.yaml")
	var extra []result
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		logf("generating %s with %d tickets (takes about a minute per million)", db, c.tickets)
		s, err := once(c.devgen, env, "-out", db, "-policy", filepath.Join(c.dir, "policy.yaml"),
			"-tests", tests, "-opa-dir", opaDir, "-tickets", strconv.Itoa(c.tickets))
		if err != nil {
			return err
		}
		extra = append(extra, single("generate (deskctl-devgen)", "deskctl-devgen -out bench.db -tickets "+strconv.Itoa(c.tickets), s))
	}
	if _, err := os.Stat(tests); errors.Is(err, os.ErrNotExist) {
		logf("writing the policy test suite %s", tests)
		if _, err := once(c.devgen, env, "-tests", tests, "-opa-dir", opaDir); err != nil {
			return err
		}
	}
	if c.compare {
		if c.postgres == "" {
			return fmt.Errorf("-compare needs -postgres URL")
		}
		return roundTrip(c, env, db)
	}
	var sc devgen.Scenario
	raw, err := os.ReadFile(filepath.Join(opaDir, "scenario.json"))
	if err != nil {
		return fmt.Errorf("%w (remove %s to generate it again)", err, db)
	}
	if err := json.Unmarshal(raw, &sc); err != nil {
		return err
	}
	canStatus := 1
	if sc.Available {
		canStatus = 0
	}
	tk := strconv.Itoa(sc.Ticket)
	as := func(user string, args ...string) []string { return append([]string{c.deskctl, "--as", user}, args...) }
	cmds := []command{
		{name: "floor: deskctl version", argv: []string{c.deskctl, "version"}},
		{name: "bare bbolt open", argv: []string{c.devgen, "-out", db, "-open-only"}},
		{name: "minimal Go binary (prints one line)", argv: []string{minimal}},
		{name: "access can", argv: as(sc.User, "access", "can", sc.User, sc.Action, "--ticket", tk), expected: canStatus},
		{name: "access can (no ticket)", argv: as(sc.User, "access", "can", sc.User, sc.Action), expected: canStatus},
		{name: "access explain", argv: as(sc.User, "access", "explain", sc.User)},
		{name: "access explain --ticket", argv: as(sc.User, "access", "explain", sc.User, "--ticket", tk)},
		{name: "ticket list --state new --resource R", argv: as(sc.User, "ticket", "list", "--state", "new", "--resource", sc.Resource)},
		{name: "ticket show", argv: as(sc.User, "ticket", "show", tk)},
		{name: "ticket create", argv: as(sc.User, "ticket", "create", "--subject", "benchmark ticket")},
		{name: "access who-can close", argv: as(devgen.AdminLogin, "access", "who-can", sc.Action)},
		{name: "access matrix -o csv", argv: as(devgen.AdminLogin, "access", "matrix", "-o", "csv")},
		{name: "policy test (1 000 assertions)", argv: []string{c.deskctl, "policy", "test", filepath.Join(c.dir, "policy.yaml"), "--tests", tests}},
	}
	logf("picking the users ticket list is hardest for")
	// In a child process: the pick maps much of the file, and every child
	// started later would count this process's memory as its own peak RSS.
	raw, err = exec.Command(os.Args[0], "-pick-list-users", db).Output()
	if err != nil {
		return fmt.Errorf("picking the ticket list users: %w", err)
	}
	var picked listPick
	if err := json.Unmarshal(raw, &picked); err != nil {
		return err
	}
	listUsers, filters := picked.Users, picked.Filters
	switch {
	case c.list, c.complete:
		cmds, c.opa = cmds[:3], ""
	case c.startup:
		cmds = cmds[:7] // floor, open, minimal, can, can without ticket, explain, explain --ticket
		if c.before != "" {
			cmds = append(cmds,
				command{name: "floor: deskctl version (before)", argv: []string{c.before, "version"}},
				command{name: "access can (before)", argv: append([]string{c.before}, cmds[3].argv[1:]...), expected: canStatus})
		}
	}
	switch {
	case c.complete:
		cmds = append(cmds, completeCommands(c, listUsers)...)
	case !c.startup:
		cmds = append(cmds, listCommands(c, listUsers, filters)...)
	}
	if c.postgres != "" {
		s, err := copyToPostgres(c, env, db)
		if err != nil {
			return err
		}
		extra = append(extra, single("db copy of the file to PostgreSQL", "deskctl db copy --from bench.db --to URL", s))
		cmds = append(cmds, postgresTwins(c, cmds)...)
	}
	if c.opa != "" {
		q := func(input, query string) []string {
			return []string{c.opa, "eval", "-d", filepath.Join(opaDir, "deskctl.rego"), "-d", filepath.Join(opaDir, "data.json"),
				"-i", filepath.Join(opaDir, input), query}
		}
		cmds = append(cmds,
			command{name: "opa version", argv: []string{c.opa, "version"}},
			command{name: "opa eval: can (allow)", argv: q("input-can.json", "data.deskctl.allow")},
			command{name: "opa eval: can, no ticket (holds)", argv: q("input-holds.json", "data.deskctl.holds")},
			command{name: "opa eval: explain (explanation)", argv: q("input-explain.json", "data.deskctl.explanation")},
		)
		if !c.startup {
			cmds = append(cmds, command{name: "opa test (the same 1 000 assertions)", argv: []string{c.opa, "test",
				filepath.Join(opaDir, "deskctl.rego"), filepath.Join(opaDir, "data.json"), filepath.Join(opaDir, "deskctl_test.rego")}})
		}
		if err := sameAnswer(c.opa, opaDir, sc); err != nil {
			return err
		}
	} else {
		logf("opa not found: skipping the OPA comparison (go install github.com/open-policy-agent/opa@latest)")
	}

	// Warm up: the page cache, and a first run checks every exit status.
	warm := 2
	if c.list || c.complete {
		warm = 1 // the earlier build's lists take seconds each
	}
	for _, cmd := range cmds {
		for range warm {
			s, err := exec1(cmd.argv, append(env, cmd.env...))
			if err != nil {
				return err
			}
			if s.status != cmd.expected {
				return fmt.Errorf("%s exited %d, want %d", strings.Join(cmd.argv, " "), s.status, cmd.expected)
			}
		}
	}
	logf("timing %d commands × %d runs, interleaved", len(cmds), c.runs)
	samples := make([][]sample, len(cmds))
	for r := range c.runs {
		for i, cmd := range cmds {
			s, err := exec1(cmd.argv, append(env, cmd.env...))
			if err != nil {
				return err
			}
			samples[i] = append(samples[i], s)
		}
		if (r+1)%10 == 0 {
			logf("round %d of %d", r+1, c.runs)
		}
	}
	results := make([]result, len(cmds))
	for i, cmd := range cmds {
		results[i] = summarise(cmd, samples[i])
	}
	floor, open := results[0].Median, results[1].Median
	for i := range results {
		results[i].VsFloor = float64(results[i].Median) / float64(floor)
		results[i].VsOpen = float64(results[i].Median) / float64(open)
	}

	if c.importToo {
		r, err := timeImport(c, env)
		if err != nil {
			return err
		}
		extra = append(extra, r)
	}

	fmt.Fprintf(out, "deskctl-bench %s · %s/%s · %d CPUs · %d runs per command · scenario: user %s (%d effective groups), resource %s, ticket #%d, action %s\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), c.runs,
		sc.User, sc.Groups, sc.Resource, sc.Ticket, sc.Action)
	for _, u := range listUsers {
		fmt.Fprintf(out, "ticket list user %s: %s (%d effective groups, read-all-tickets %v, %d tickets visible counted by resource)\n",
			u.Kind, u.Login, u.Groups, u.ReadAll, u.Visible)
	}
	fmt.Fprintf(out, "ticket list filters: --resource %s (most tickets), --assignee %s, --requester %s (busiest)\n\n",
		filters.Resource, filters.Assignee, filters.Requester)
	printTable(out, results)
	printVsOPA(out, results)
	if len(extra) > 0 {
		fmt.Fprintln(out)
		fmt.Fprintln(out, "| One-off | wall | peak RSS |")
		fmt.Fprintln(out, "|---|---:|---:|")
		for _, r := range extra {
			fmt.Fprintf(out, "| %s | %s | %s |\n", r.Name, dur(r.Median), mb(r.PeakRSS))
		}
	}
	var inproc []goBench
	if c.goBench && !c.list && !c.complete {
		if inproc, err = inProcess(c, root, db, opaDir); err != nil {
			return err
		}
		fmt.Fprintln(out)
		printInProcess(out, inproc)
	}
	all := map[string]any{"scenario": sc, "list_users": listUsers, "list_filters": filters, "whole_process": results, "one_off": extra, "in_process": inproc}
	raw, _ = json.MarshalIndent(all, "", "  ")
	return os.WriteFile(filepath.Join(c.dir, "results.json"), raw, 0o644)
}

type listPick struct {
	Users   []devgen.ListUser  `json:"users"`
	Filters devgen.ListFilters `json:"filters"`
}

// listCommands times `ticket list` for every picked user with no filter and
// with each filter, with -deskctl and, when given, the -before binary beside it.
func listCommands(c config, users []devgen.ListUser, f devgen.ListFilters) []command {
	filters := [][]string{nil, {"--state", string(helpdesk.StateNew)}, {"--resource", f.Resource},
		{"--assignee", f.Assignee}, {"--requester", f.Requester}}
	builds := [][2]string{{"", c.deskctl}}
	if c.before != "" {
		builds = append(builds, [2]string{" (before)", c.before})
	}
	var out []command
	for _, u := range users {
		for _, fl := range filters {
			for _, b := range builds {
				out = append(out, command{
					name: fmt.Sprintf("ticket list %s (%s, %s)%s", strings.Join(fl, " "), u.Login, u.Kind, b[0]),
					argv: append([]string{b[1], "--as", u.Login, "ticket", "list"}, fl...),
				})
			}
		}
	}
	return out
}

// completeCommands times what a shell runs for `deskctl ticket show <TAB>`
// (nothing typed, one digit, two digits) for every picked user, with
// -deskctl and, when given, the -before binary beside it.
func completeCommands(c config, users []devgen.ListUser) []command {
	builds := [][2]string{{"", c.deskctl}}
	if c.before != "" {
		builds = append(builds, [2]string{" (before)", c.before})
	}
	var out []command
	for _, u := range users {
		for _, prefix := range []string{"", "5", "97"} {
			for _, b := range builds {
				out = append(out, command{
					name: fmt.Sprintf("__complete ticket show '%s' (%s, %s)%s", prefix, u.Login, u.Kind, b[0]),
					argv: []string{b[1], "__complete", "--as", u.Login, "ticket", "show", prefix},
				})
			}
		}
	}
	return out
}

// buildMinimal builds a Go program that prints one line, the way deskctl is
// built (-trimpath): the least any Go command costs to start on this machine.
func buildMinimal(dir string) (string, error) {
	src := filepath.Join(dir, "minimal-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	files := map[string]string{
		"go.mod":  "module minimal\n\ngo 1.26\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"deskctl dev\") }\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(dir, "minimal")
	return bin, sh(src, nil, "go", "build", "-trimpath", "-o", bin, ".")
}

func logf(format string, a ...any) { fmt.Fprintf(os.Stderr, "deskctl-bench: "+format+"\n", a...) }

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run this from inside the deskctl module")
	}
	return filepath.Dir(mod), nil
}

func findOPA() string {
	if p, err := exec.LookPath("opa"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "opa")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func sh(dir string, env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), env...)
	return cmd.Run()
}

// exec1 runs argv once with stdout discarded and reports wall time, the
// child's peak RSS and its exit status.
func exec1(argv, env []string) (sample, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return sample{}, err
	}
	s := sample{wall: wall, status: cmd.ProcessState.ExitCode()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.rssKB = ru.Maxrss // kilobytes on Linux
		s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		s.faults = ru.Minflt
	}
	if s.status > 1 {
		return s, fmt.Errorf("%s exited %d: %s", strings.Join(argv, " "), s.status, stderr.String())
	}
	return s, nil
}

// once runs a deskctl subcommand one time for a one-off figure.
func once(bin string, env []string, args ...string) (sample, error) {
	s, err := exec1(append([]string{bin}, args...), env)
	if err == nil && s.status != 0 {
		err = fmt.Errorf("%s %s exited %d", filepath.Base(bin), strings.Join(args, " "), s.status)
	}
	return s, err
}

func single(name, cmdline string, s sample) result {
	return result{Name: name, Command: cmdline, Runs: 1, Median: s.wall, Min: s.wall, P90: s.wall, PeakRSS: s.rssKB}
}

func summarise(cmd command, ss []sample) result {
	walls, cpus := make([]time.Duration, len(ss)), make([]time.Duration, len(ss))
	faults := make([]int64, len(ss))
	var peak int64
	for i, s := range ss {
		walls[i], cpus[i], faults[i] = s.wall, s.cpu, s.faults
		peak = max(peak, s.rssKB)
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	slices.Sort(faults)
	args := make([]string, len(cmd.argv))
	for i, a := range cmd.argv {
		args[i] = filepath.Base(a)
		if !strings.HasPrefix(a, "/") {
			args[i] = a
		}
	}
	return result{Name: cmd.name, Command: strings.Join(args, " "), Runs: len(ss), Median: walls[len(walls)/2],
		Min: walls[0], P90: walls[len(walls)*9/10], CPU: cpus[len(cpus)/2], PeakRSS: peak, Faults: faults[len(faults)/2], Expected: cmd.expected}
}

// sameAnswer makes sure OPA and deskctl agree on the timed check before
// their times are compared.
func sameAnswer(opa, dir string, sc devgen.Scenario) error {
	out, err := exec.Command(opa, "eval", "-f", "raw", "-d", filepath.Join(dir, "deskctl.rego"), "-d", filepath.Join(dir, "data.json"),
		"-i", filepath.Join(dir, "input-can.json"), "data.deskctl.allow").Output()
	if err != nil {
		return fmt.Errorf("opa eval: %w", err)
	}
	if got := strings.TrimSpace(string(out)); got != strconv.FormatBool(sc.Available) {
		return fmt.Errorf("OPA answers %s for %s %s #%d, deskctl %v", got, sc.User, sc.Action, sc.Ticket, sc.Available)
	}
	return nil
}

// timeImport times `ticket import` of the generated tickets into a fresh
// database holding the same directory.
func timeImport(c config, env []string) (result, error) {
	db := filepath.Join(c.dir, "import.db")
	jsonl := filepath.Join(c.dir, "tickets.jsonl")
	os.Remove(db)
	if _, err := once(c.devgen, env, "-out", db, "-tickets", "0"); err != nil {
		return result{}, err
	}
	if _, err := os.Stat(jsonl); err != nil {
		logf("writing %s", jsonl)
		if _, err := once(c.devgen, env, "-import-jsonl", jsonl, "-tickets", strconv.Itoa(c.tickets)); err != nil {
			return result{}, err
		}
	}
	logf("importing %d tickets", c.tickets)
	s, err := once(c.deskctl, append(env, "DESKCTL_DB="+db), "--as", devgen.AdminLogin, "ticket", "import", jsonl)
	if err != nil {
		return result{}, err
	}
	os.Remove(db)
	return single(fmt.Sprintf("ticket import (%d tickets)", c.tickets), "deskctl ticket import tickets.jsonl", s), nil
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.1f µs", float64(d)/1e3)
}

func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }

func printTable(out io.Writer, rs []result) {
	fmt.Fprintln(out, "| Command (whole process) | median | min | p90 | CPU | × floor | × bbolt open | peak RSS | page faults |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %.2f | %.2f | %s | %d |\n", r.Name, dur(r.Median), dur(r.Min), dur(r.P90), dur(r.CPU), r.VsFloor, r.VsOpen, mb(r.PeakRSS), r.Faults)
	}
}

// printVsOPA compares deskctl with OPA on the same checks, whole process.
func printVsOPA(out io.Writer, rs []result) {
	med := map[string]time.Duration{}
	for _, r := range rs {
		med[r.Name] = r.Median
	}
	pairs := [][2]string{{"access can", "opa eval: can (allow)"}, {"access can (no ticket)", "opa eval: can, no ticket (holds)"},
		{"access explain", "opa eval: explain (explanation)"}, {"policy test (1 000 assertions)", "opa test (the same 1 000 assertions)"}}
	for _, p := range pairs {
		if d, o := med[p[0]], med[p[1]]; d > 0 && o > 0 {
			fmt.Fprintf(out, "\nOPA ÷ deskctl, %s: %.1f×", p[0], float64(o)/float64(d))
		}
	}
	fmt.Fprintln(out)
}

// goBench is one line of Go benchmark output.
type goBench struct {
	Name     string  `json:"name"`
	NsPerOp  float64 `json:"ns_per_op"`
	BPerOp   float64 `json:"bytes_per_op"`
	AllocsOp float64 `json:"allocs_per_op"`
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

func parseBench(r io.Reader, prefix string) []goBench {
	var out []goBench
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		b := goBench{Name: prefix + m[1]}
		b.NsPerOp, _ = strconv.ParseFloat(m[2], 64)
		f := strings.Fields(sc.Text())
		for i := 1; i < len(f); i++ {
			switch f[i] {
			case "B/op":
				b.BPerOp, _ = strconv.ParseFloat(f[i-1], 64)
			case "allocs/op":
				b.AllocsOp, _ = strconv.ParseFloat(f[i-1], 64)
			}
		}
		out = append(out, b)
	}
	return out
}

// inProcess runs deskctl's engine benchmarks over the benchmark database and
// `opa bench` on the same questions.
func inProcess(c config, root, db, opaDir string) ([]goBench, error) {
	logf("running the in-process Go benchmarks on %s", db)
	var out []goBench
	for _, b := range []struct{ prefix, pattern, pkg string }{
		{"deskctl ", "^Benchmark(Open|Explain|ExplainTicket|Can|Holds|WhoCan|WhoCanTicket|Matrix|UseCase.*)$", "./internal/devgen/"},
		{"deskctl in-memory ", "^Benchmark(Explain|Can|Matrix)$", "./internal/access/"},
		{"deskctl ", "^BenchmarkPolicyTest$", "./internal/policy/"},
	} {
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", b.pattern, "-benchmem", "-benchtime", "2s", b.pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "DESKCTL_BENCH_DB="+db)
		cmd.Stderr = os.Stderr
		raw, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go test -bench %s: %w\n%s", b.pkg, err, raw)
		}
		out = append(out, parseBench(bytes.NewReader(raw), b.prefix)...)
	}
	if c.opa == "" {
		return out, nil
	}
	for _, q := range []struct{ name, input, query string }{
		{"BenchmarkCan", "input-can.json", "data.deskctl.allow"},
		{"BenchmarkHolds", "input-holds.json", "data.deskctl.holds"},
		{"BenchmarkExplain", "input-explain.json", "data.deskctl.explanation"},
	} {
		logf("opa bench %s", q.query)
		raw, err := exec.Command(c.opa, "bench", "-f", "gobench", "--benchmem", "-d", filepath.Join(opaDir, "deskctl.rego"),
			"-d", filepath.Join(opaDir, "data.json"), "-i", filepath.Join(opaDir, q.input), q.query).Output()
		if err != nil {
			return nil, fmt.Errorf("opa bench %s: %w", q.query, err)
		}
		for _, b := range parseBench(bytes.NewReader(raw), "opa ") {
			b.Name = "opa " + q.name
			out = append(out, b)
		}
	}
	return out, nil
}

func printInProcess(out io.Writer, bs []goBench) {
	fmt.Fprintln(out, "| In process | time/op | B/op | allocs/op | OPA ÷ deskctl |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|")
	ns := map[string]float64{}
	for _, b := range bs {
		ns[b.Name] = b.NsPerOp
	}
	for _, b := range bs {
		ratio := ""
		if strings.HasPrefix(b.Name, "opa ") {
			if d := ns["deskctl "+strings.TrimPrefix(b.Name, "opa ")]; d > 0 {
				ratio = fmt.Sprintf("%.1f", b.NsPerOp/d)
			}
		}
		fmt.Fprintf(out, "| %s | %s | %.0f | %.0f | %s |\n", b.Name, dur(time.Duration(b.NsPerOp)), b.BPerOp, b.AllocsOp, ratio)
	}
}

// copyToPostgres fills the -postgres database from the file once: a
// database that already holds the same audit head is kept.
func copyToPostgres(c config, env []string, db string) (sample, error) {
	pgEnv := append(append([]string(nil), env...), "DESKCTL_DB="+c.postgres)
	check := exec.Command(c.deskctl, "audit", "verify", "--head")
	check.Env = append(os.Environ(), pgEnv...)
	pgHead, pgErr := check.Output()
	check = exec.Command(c.deskctl, "audit", "verify", "--head")
	check.Env = append(os.Environ(), env...)
	fileHead, err := check.Output()
	if err != nil {
		return sample{}, fmt.Errorf("audit head of %s: %w", db, err)
	}
	if pgErr == nil && string(pgHead) == string(fileHead) {
		logf("%s already holds the benchmark database", c.postgres)
		return sample{}, nil
	}
	logf("copying %s to PostgreSQL", db)
	return once(c.deskctl, env, "db", "copy", "--from", db, "--to", c.postgres)
}

// postgresTwins repeats the commands that read or write the database on
// the -postgres database, and through the -pooled URL when there is one.
func postgresTwins(c config, cmds []command) []command {
	var out []command
	for _, cmd := range cmds {
		if strings.HasPrefix(cmd.name, "floor") || strings.HasPrefix(cmd.name, "bare") || strings.HasPrefix(cmd.name, "minimal") ||
			strings.HasPrefix(cmd.name, "policy test") || strings.Contains(cmd.name, "(before)") {
			continue
		}
		twin := cmd
		twin.name = cmd.name + " [postgres]"
		twin.env = []string{"DESKCTL_DB=" + c.postgres}
		out = append(out, twin)
		if c.pooled != "" {
			pooled := cmd
			pooled.name = cmd.name + " [postgres, pooled]"
			pooled.env = []string{"DESKCTL_DB=" + c.pooled}
			out = append(out, pooled)
		}
	}
	return out
}
