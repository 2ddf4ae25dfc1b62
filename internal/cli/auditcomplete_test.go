package cli

// Every command that changes the database leaves exactly the audit records
// of its change, naming the actor, the command and the subject, and a
// refused command leaves the file as it was. The test walks the command
// tree, so a new command cannot slip by: it fails until the command has an
// entry below. Whether a command writes is decided by what it does to the
// file, not by the table.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/mail/mailtest"
	"github.com/deskctl/deskctl/internal/store"
	"github.com/spf13/cobra"
)

// auditCase is how the test runs one command against a copy of the fixture.
type auditCase struct {
	valid   []string // an invocation that succeeds
	refused []string // one that is refused (required when valid writes)
	// subjects are the audit subjects valid appends, in order; a command
	// that writes appends one record unless it lists more.
	subjects []string
	command  string // the command the records name, when not the command path
	actor    string // the actor the records name, when there is no --as
	fresh    bool   // valid runs where no database exists yet
	skip     string // why the command is not run here
	// unaudited says why a command may change the file without a record.
	unaudited string
}

// tokenArg stands for the approver's link token in an invocation.
const tokenArg = "<token>"

var auditCases = map[string]auditCase{
	"init": {valid: []string{"init", "--admin", "alice", "--email", "alice@example.com"}, fresh: true, actor: "alice",
		subjects: []string{"database"}, refused: []string{"init", "--admin", "zoe", "--email", "zoe@example.com"}},

	"user add":     {valid: as("alice", "user", "add", "frank", "--email", "frank@example.com"), subjects: []string{"user:frank"}, refused: as("bob", "user", "add", "frank", "--email", "frank@example.com")},
	"user update":  {valid: as("alice", "user", "update", "dave", "--name", "David"), subjects: []string{"user:dave"}, refused: as("bob", "user", "update", "dave", "--name", "David")},
	"user disable": {valid: as("alice", "user", "disable", "dave"), subjects: []string{"user:dave"}, refused: as("bob", "user", "disable", "dave")},
	"user enable":  {valid: as("alice", "user", "enable", "erin"), subjects: []string{"user:erin"}, refused: as("bob", "user", "enable", "erin")},
	"user remove":  {valid: as("alice", "user", "remove", "erin", "--yes"), subjects: []string{"user:erin"}, refused: as("bob", "user", "remove", "erin", "--yes")},
	"user list":    {valid: as("alice", "user", "list")},
	"user show":    {valid: as("alice", "user", "show", "bob")},

	"group add":           {valid: as("alice", "group", "add", "tier3"), subjects: []string{"group:tier3"}, refused: as("bob", "group", "add", "tier3")},
	"group remove":        {valid: as("alice", "group", "remove", "tier2", "--yes"), subjects: []string{"group:tier2"}, refused: as("bob", "group", "remove", "tier2", "--yes")},
	"group add-member":    {valid: as("alice", "group", "add-member", "tier2", "carol"), subjects: []string{"group:tier2"}, refused: as("bob", "group", "add-member", "tier2", "carol")},
	"group remove-member": {valid: as("alice", "group", "remove-member", "tier1", "bob"), subjects: []string{"group:tier1"}, refused: as("bob", "group", "remove-member", "tier1", "bob")},
	"group list":          {valid: as("alice", "group", "list")},
	"group show":          {valid: as("alice", "group", "show", "tier1")},

	"resource add":           {valid: as("alice", "resource", "add", "phones"), subjects: []string{"resource:phones"}, refused: as("bob", "resource", "add", "phones")},
	"resource remove":        {valid: as("alice", "resource", "remove", "printers", "--yes"), subjects: []string{"resource:printers"}, refused: as("bob", "resource", "remove", "printers", "--yes")},
	"resource add-member":    {valid: as("alice", "resource", "add-member", "printers", "carol", "--access", "read"), subjects: []string{"resource:printers"}, refused: as("bob", "resource", "add-member", "printers", "carol")},
	"resource remove-member": {valid: as("alice", "resource", "remove-member", "network", "bob"), subjects: []string{"resource:network"}, refused: as("bob", "resource", "remove-member", "network", "bob")},
	"resource list":          {valid: as("alice", "resource", "list")},
	"resource show":          {valid: as("alice", "resource", "show", "network")},

	"resource approval set":   {valid: as("alice", "resource", "approval", "set", "network", "--approver", "carol", "--gate", "close"), subjects: []string{"resource:network"}, refused: as("alice", "resource", "approval", "set", "network", "--approver", "erin")},
	"resource approval show":  {valid: as("bob", "resource", "approval", "show", "printers")},
	"resource approval clear": {valid: as("alice", "resource", "approval", "clear", "printers"), subjects: []string{"resource:printers"}, refused: as("bob", "resource", "approval", "clear", "printers")},

	"action add":    {valid: as("alice", "action", "add", "triage", "--category", "supporter", "--from-states", "new"), subjects: []string{"action:triage"}, refused: as("bob", "action", "add", "triage", "--category", "supporter", "--from-states", "new")},
	"action update": {valid: as("alice", "action", "update", "escalate", "--requires-text"), subjects: []string{"action:escalate"}, refused: as("bob", "action", "update", "escalate", "--requires-text")},
	"action remove": {valid: as("alice", "action", "remove", "escalate", "--yes"), subjects: []string{"action:escalate"}, refused: as("bob", "action", "remove", "escalate", "--yes")},
	"action list":   {valid: as("alice", "action", "list")},
	"action show":   {valid: as("alice", "action", "show", "close")},

	"access grant":   {valid: as("alice", "access", "grant", "delete", "--to", "group:tier1"), subjects: []string{"group:tier1"}, refused: as("bob", "access", "grant", "delete", "--to", "group:tier1")},
	"access revoke":  {valid: as("alice", "access", "revoke", "admin", "--from", "user:carol"), subjects: []string{"user:carol"}, refused: as("bob", "access", "revoke", "admin", "--from", "user:carol")},
	"access explain": {valid: as("alice", "access", "explain", "bob")},
	"access can":     {valid: as("alice", "access", "can", "bob", "close", "--ticket", "1")},
	"access who-can": {valid: as("alice", "access", "who-can", "close", "--ticket", "1")},
	"access matrix":  {valid: as("alice", "access", "matrix")},
	"access diff":    {valid: as("alice", "access", "diff", "bob", "carol")},
	"access graph":   {valid: as("alice", "access", "graph", "bob", "--ticket", "1")},

	"settings set":  {valid: as("alice", "settings", "set", "approvals.link-ttl", "48h"), subjects: []string{"setting:approvals.link-ttl"}, refused: as("bob", "settings", "set", "approvals.link-ttl", "48h")},
	"settings get":  {valid: as("alice", "settings", "get", "approvals.enabled")},
	"settings list": {valid: as("alice", "settings", "list")},

	"ticket create":    {valid: as("alice", "ticket", "create", "--subject", "new one", "--requester", "dave", "--resource", "network"), subjects: []string{"ticket:5"}, refused: as("bob", "ticket", "create", "--subject", "new one", "--resource", "nowhere")},
	"ticket comment":   {valid: as("bob", "ticket", "comment", "1", "--text", "any news?"), subjects: []string{"ticket:1"}, refused: as("carol", "ticket", "comment", "1", "--text", "any news?")},
	"ticket reply":     {valid: as("bob", "ticket", "reply", "1", "--text", "restart it"), subjects: []string{"ticket:1"}, refused: as("dave", "ticket", "reply", "1", "--text", "restart it")},
	"ticket note":      {valid: as("bob", "ticket", "note", "1", "--text", "same as before"), subjects: []string{"ticket:1"}, refused: as("dave", "ticket", "note", "1", "--text", "same as before")},
	"ticket start":     {valid: as("bob", "ticket", "start", "1"), subjects: []string{"ticket:1"}, refused: as("dave", "ticket", "start", "1")},
	"ticket wait":      {valid: as("bob", "ticket", "wait", "1"), subjects: []string{"ticket:1"}, refused: as("dave", "ticket", "wait", "1")},
	"ticket close":     {valid: as("bob", "ticket", "close", "1"), subjects: []string{"ticket:1"}, refused: as("bob", "ticket", "close", "3")},
	"ticket reopen":    {valid: as("bob", "ticket", "reopen", "3"), subjects: []string{"ticket:3"}, refused: as("bob", "ticket", "reopen", "1")},
	"ticket withdraw":  {valid: as("dave", "ticket", "withdraw", "1"), subjects: []string{"ticket:1"}, refused: as("dave", "ticket", "withdraw", "3")},
	"ticket authorize": {valid: as("alice", "ticket", "authorize", "4", "--resource", "network"), subjects: []string{"ticket:4"}, refused: as("bob", "ticket", "authorize", "4", "--resource", "network")},
	"ticket forward":   {valid: as("bob", "ticket", "forward", "1", "--resource", "printers"), subjects: []string{"ticket:1"}, refused: as("dave", "ticket", "forward", "1", "--resource", "printers")},
	"ticket assign":    {valid: as("bob", "ticket", "assign", "1", "--assignee", "bob"), subjects: []string{"ticket:1"}, refused: as("bob", "ticket", "assign", "1", "--assignee", "carol")},
	"ticket take-over": {valid: as("bob", "ticket", "take-over", "1"), subjects: []string{"ticket:1"}, refused: as("dave", "ticket", "take-over", "1")},
	"ticket link":      {valid: as("bob", "ticket", "link", "1", "--ticket", "2"), subjects: []string{"ticket:1"}, refused: as("dave", "ticket", "link", "1", "--ticket", "2")},
	"ticket delete":    {valid: as("alice", "ticket", "delete", "1", "--yes"), subjects: []string{"ticket:1"}, refused: as("bob", "ticket", "delete", "1", "--yes")},
	"ticket do":        {valid: as("bob", "ticket", "do", "1", "escalate"), command: "ticket escalate", subjects: []string{"ticket:1"}, refused: as("dave", "ticket", "do", "1", "escalate")},
	"ticket edit":      {valid: as("bob", "ticket", "edit", "1", "--priority", "high"), command: "ticket edit-priority", subjects: []string{"ticket:1"}, refused: as("dave", "ticket", "edit", "1", "--priority", "high")},
	"ticket list":      {valid: as("alice", "ticket", "list")},
	"ticket show":      {valid: as("alice", "ticket", "show", "1")},
	"ticket log":       {valid: as("alice", "ticket", "log", "1")},

	"approval request": {valid: as("bob", "approval", "request", "1", "--approver", "carol"), subjects: []string{"approval:1"}, refused: as("bob", "approval", "request", "2", "--approver", "carol")},
	"approval cancel":  {valid: as("alice", "approval", "cancel", "2"), subjects: []string{"approval:2"}, refused: as("bob", "approval", "cancel", "2")},
	"approval remind":  {valid: as("alice", "approval", "remind", "2"), subjects: []string{"approval:2"}, refused: as("dave", "approval", "remind", "2")},
	"approval approve": {valid: as("carol", "approval", "approve", "2"), command: "approval decide", subjects: []string{"approval:2"}, refused: as("bob", "approval", "approve", "2")},
	"approval reject":  {valid: as("carol", "approval", "reject", "2", "--comment", "no"), command: "approval decide", subjects: []string{"approval:2"}, refused: as("bob", "approval", "reject", "2")},
	"approval decide": {valid: []string{"approval", "decide", "--token", tokenArg, "--approve"}, actor: "carol", command: "approval decide (link)",
		subjects: []string{"approval:2"}, refused: []string{"approval", "decide", "--token", strings.Repeat("A", 43), "--approve"}},
	"approval show": {valid: as("alice", "approval", "show", "2")},
	"approval list": {valid: as("alice", "approval", "list")},
	"approval delegate": {valid: as("dave", "approval", "delegate", "dave", "--to", "bob", "--until", "2099-01-01"), subjects: []string{"delegation:dave"},
		refused: as("bob", "approval", "delegate", "dave", "--to", "carol", "--until", "2099-01-01")},
	"approval delegations": {valid: as("alice", "approval", "delegations")},

	"policy apply":    {valid: as("alice", "policy", "apply", "<dir>/extra.yaml", "--yes"), subjects: []string{"user:gina", "policy"}, refused: as("bob", "policy", "apply", "<dir>/extra.yaml", "--yes")},
	"policy plan":     {valid: as("alice", "policy", "plan", "<dir>/extra.yaml")},
	"policy export":   {valid: as("alice", "policy", "export")},
	"policy validate": {valid: []string{"policy", "validate", "<dir>/extra.yaml"}},
	"policy schema":   {valid: []string{"policy", "schema"}},
	"policy test":     {valid: []string{"policy", "test", "<dir>/extra.yaml", "--tests", "<dir>/tests.yaml"}},

	"ticket import": {valid: as("alice", "ticket", "import", "<dir>/tickets.jsonl"), subjects: []string{"import:<dir>/tickets.jsonl"}, refused: as("bob", "ticket", "import", "<dir>/tickets.jsonl")},

	"audit log":    {valid: as("alice", "audit", "log")},
	"audit verify": {valid: []string{"audit", "verify"}},

	"db check":  {valid: []string{"db", "check"}},
	"db stats":  {valid: []string{"db", "stats"}},
	"db backup": {valid: as("alice", "db", "backup", "<dir>/copy.db")},
	// db copy reads the database it is run on and writes a new one whose
	// audit chain must equal the source's, so it appends no record; the
	// source is left byte-for-byte alone, which this table checks.
	"db copy":    {valid: []string{"db", "copy", "--from", "<db>", "--to", "<work>/copy.db"}},
	"db restore": {valid: as("alice", "db", "restore", "<dir>/backup.db", "--force", "--yes"), subjects: []string{"database"}, refused: as("bob", "db", "restore", "<dir>/backup.db", "--force", "--yes")},

	"token create": {valid: as("alice", "token", "create", "--name", "laptop"), subjects: []string{"token:2"}, refused: as("bob", "token", "create", "--user", "alice")},
	"token list":   {valid: as("alice", "token", "list")},
	"token revoke": {valid: as("alice", "token", "revoke", "1", "--yes"), subjects: []string{"token:1"}, refused: as("bob", "token", "revoke", "1", "--yes")},
	"auth status":  {valid: as("alice", "auth", "status")},
	"login":        {skip: "writes the client's config file after asking a server, never a database; tested against real servers"},
	"logout":       {skip: "removes a login from the client's config file, never touches a database"},

	"mail queue": {valid: as("alice", "mail", "queue")},
	"mail flush": {valid: as("alice", "mail", "flush")},
	"mail test":  {valid: as("alice", "mail", "test", "--to", "alice@example.com")},

	"config show": {valid: []string{"config", "show"}},
	"config path": {valid: []string{"config", "path"}},
	"version":     {valid: []string{"version"}},

	"serve": {skip: "it serves until stopped; its decisions are the same use case as approval decide --token, run here"},

	"completion bash":       {skip: "prints a shell script; never opens the database"},
	"completion zsh":        {skip: "prints a shell script; never opens the database"},
	"completion fish":       {skip: "prints a shell script; never opens the database"},
	"completion powershell": {skip: "prints a shell script; never opens the database"},
}

func as(login string, args ...string) []string { return append([]string{"--as", login}, args...) }

// auditFixture is a database where every command in auditCases has
// something to act on, and the approver's link token for ticket 2.
func auditFixture(t *testing.T, dir, config string, smtp *mailtest.Server) (db, token string) {
	t.Helper()
	db = filepath.Join(dir, "fixture.db")
	mustRun := func(args ...string) {
		t.Helper()
		if p := runInProcess(db, config, args); p.code != ExitOK {
			t.Fatalf("fixture: %v", p)
		}
	}
	writeFile(t, dir, "setup.yaml", []byte(`settings: {approvals.enabled: true}
users:
  - {login: alice, name: Alice, email: alice@example.com, rights: [admin, dispatcher, read-all-tickets, edit-all-tickets, authorize, delete]}
  - {login: bob, name: Bob, email: bob@example.com, rights: [request-approval]}
  - {login: carol, name: Carol, email: carol@example.com, rights: [admin]}
  - {login: dave, name: Dave, email: dave@example.com}
  - {login: erin, name: Erin, email: erin@example.com, active: false}
groups:
  - {name: tier1, members: [bob], rights: [comment, reply, note, start, wait, close, reopen, forward, assign, take-over, link, escalate, edit-priority]}
  - {name: tier2}
resources:
  - {name: network, members: [{user: bob, access: write}]}
  - {name: printers, members: [{user: bob, access: write}], approval: {approvers: [carol]}}
actions:
  - {name: escalate, category: supporter, from-states: [new, in-progress]}
`))
	writeFile(t, dir, "extra.yaml", []byte(`users:
  - {login: alice, name: Alice, email: alice@example.com, rights: [admin, dispatcher, read-all-tickets, edit-all-tickets, authorize, delete]}
  - {login: gina, name: Gina, email: gina@example.com}
`))
	writeFile(t, dir, "tests.yaml", []byte("tests:\n  - {name: gina cannot administer, cannot: {user: gina, right: admin}}\n"))
	writeFile(t, dir, "tickets.jsonl", []byte(`{"id":"x1","subject":"imported","requester":"dave"}`+"\n"))
	mustRun("init", "--admin", "alice", "--email", "alice@example.com")
	mustRun(as("alice", "policy", "apply", filepath.Join(dir, "setup.yaml"), "--yes")...)
	mustRun(as("alice", "ticket", "create", "--subject", "printer on fire", "--requester", "dave", "--resource", "network")...)
	mustRun(as("alice", "ticket", "create", "--subject", "new laptop", "--requester", "dave", "--resource", "network")...)
	mustRun(as("alice", "ticket", "create", "--subject", "old and done", "--requester", "dave", "--resource", "network")...)
	mustRun(as("bob", "ticket", "close", "3")...)
	mustRun(as("dave", "ticket", "create", "--subject", "may I have a phone")...)
	mustRun(as("bob", "approval", "request", "2", "--approver", "carol")...)
	for _, m := range smtp.WaitFor(1, time.Minute) {
		if m.To[0] != "carol@example.com" {
			continue
		}
		for _, l := range mailtest.Links(m.Text) {
			if s := regexp.MustCompile(`/approval/([A-Za-z0-9_-]{43})`).FindStringSubmatch(l); s != nil {
				token = s[1]
			}
		}
	}
	if token == "" {
		t.Fatal("fixture: no approval link in the mail to carol")
	}
	mustRun(as("alice", "token", "create", "--name", "ci")...)
	mustRun(as("alice", "db", "backup", filepath.Join(dir, "backup.db"))...)
	return db, token
}

// runInProcess runs deskctl in this process against db with config.
func runInProcess(db, config string, args []string) deskProc {
	var out, errOut bytes.Buffer
	full := append([]string{"--db", db, "--config", config}, args...)
	code := run(full, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return deskProc{args: args, stdout: out.String(), stderr: errOut.String(), code: code}
}

// auditTail reads the audit sequence and the records after seq (nil when
// the file does not exist).
func auditTail(t *testing.T, db string, after uint64) (uint64, []helpdesk.AuditRecord) {
	t.Helper()
	if _, err := os.Stat(db); err != nil {
		return 0, nil
	}
	s, err := store.Open(store.Options{Path: db, ReadOnly: true, LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var seq uint64
	var recs []helpdesk.AuditRecord
	err = s.View(func(tx *store.Tx) error {
		seq = tx.AuditSequence()
		all, err := tx.Audit(store.AuditFilter{Since: func(r helpdesk.AuditRecord) bool { return r.Seq > after }})
		recs = all
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return seq, recs
}

func readOrNil(path string) []byte {
	data, _ := os.ReadFile(path)
	return data
}

func TestEveryWriteIsAudited(t *testing.T) {
	dir := t.TempDir()
	smtp := mailtest.Start(t)
	config := writeFile(t, dir, "config.yaml", fmt.Appendf(nil,
		"public-url: http://127.0.0.1:9\nsmtp:\n  host: %s\n  port: %d\n  tls: none\n  from: helpdesk@example.com\n", smtp.Host(), smtp.Port()))
	fixture, token := auditFixture(t, dir, config, smtp)
	fixtureBytes := readOrNil(fixture)

	root := NewRootCmd(NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}))
	var paths []string
	walk(root, func(c *cobra.Command) {
		if c.Runnable() && !c.HasSubCommands() && c.Name() != "help" && !isHelpTopic(c) {
			paths = append(paths, strings.TrimPrefix(c.CommandPath(), root.Name()+" "))
		}
	})
	for name := range auditCases {
		if !slices.Contains(paths, name) {
			t.Errorf("auditCases has %q, which is not a command", name)
		}
	}
	writers := 0
	for _, path := range paths {
		tc, ok := auditCases[path]
		if !ok {
			t.Errorf("deskctl %s has no entry in auditCases: add one valid invocation (and one refused, if it writes)", path)
			continue
		}
		if tc.skip != "" {
			continue
		}
		t.Run(path, func(t *testing.T) {
			work := t.TempDir()
			expand := func(args []string) []string {
				out := make([]string, len(args))
				for i, a := range args {
					a = strings.ReplaceAll(strings.ReplaceAll(a, "<db>", filepath.Join(work, "desk.db")), "<work>", work)
					out[i] = strings.ReplaceAll(strings.ReplaceAll(a, "<dir>", dir), tokenArg, token)
				}
				return out
			}
			db := filepath.Join(work, "desk.db")
			if !tc.fresh {
				writeFile(t, work, "desk.db", fixtureBytes)
			}
			if tc.refused != nil {
				refusedDB := filepath.Join(work, "refused.db")
				writeFile(t, work, "refused.db", fixtureBytes)
				p := runInProcess(refusedDB, config, expand(tc.refused))
				if p.code == ExitOK {
					t.Errorf("the refused invocation succeeded: %v", p)
				}
				if !bytes.Equal(readOrNil(refusedDB), fixtureBytes) {
					t.Errorf("the refused invocation changed the file: %v", p)
				}
			}
			before := readOrNil(db)
			seq, _ := auditTail(t, db, 0)
			p := runInProcess(db, config, expand(tc.valid))
			if p.code != ExitOK {
				t.Fatalf("the valid invocation failed: %v", p)
			}
			if bytes.Equal(readOrNil(db), before) {
				if tc.subjects != nil {
					t.Errorf("the file is unchanged, but the table expects records for %v", tc.subjects)
				}
				return
			}
			writers++
			t.Logf("deskctl %s writes", path)
			if tc.refused == nil {
				t.Errorf("deskctl %s writes: add a refused invocation to its entry", path)
			}
			_, recs := auditTail(t, db, seq)
			if tc.unaudited != "" {
				if len(recs) != 0 {
					t.Errorf("%d audit records appended, want none: %s", len(recs), tc.unaudited)
				}
				return
			}
			actor, command := tc.actor, path
			if i := slices.Index(tc.valid, "--as"); i >= 0 {
				actor = tc.valid[i+1]
			}
			if tc.command != "" {
				command = tc.command
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.Subject)
				if r.Actor != actor || r.Command != command {
					t.Errorf("record %d names actor %q and command %q, want %q and %q", r.Seq, r.Actor, r.Command, actor, command)
				}
			}
			if want := expand(tc.subjects); !slices.Equal(got, want) || len(want) == 0 {
				t.Errorf("deskctl %s changed the file and appended records for %q, want %q", path, got, want)
			}
		})
	}
	if writers < 40 {
		t.Errorf("only %d commands wrote; the fixture no longer gives the writing commands anything to do", writers)
	}
}
