package cli

// deskctl on PostgreSQL when things go wrong: a database that cannot be
// reached at all, two `deskctl serve` processes on one database while many
// writers and approvers race each other, the database server stopped and
// started again under them, and a command whose connection is lost before
// it commits. Every server here is a private cluster of the test's own,
// since the tests stop it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/api"
	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/client"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/mail/mailtest"
	"github.com/deskctl/deskctl/internal/pgtest"
)

// A database server that is not there is a busy database (exit 6): the
// message names where deskctl looked, the hint says to retry, and no Go
// internals reach the user. No PostgreSQL is needed for this.
func TestPostgresUnreachableIsBusy(t *testing.T) {
	addr := freeAddr(t) // closed again: nothing listens there
	db := "postgres://deskctl@" + addr + "/desk"
	for _, args := range [][]string{
		{"user", "list"},
		{"--as", "alice", "ticket", "create", "--subject", "printer"},
		{"db", "check"},
	} {
		p := runDeskctlProcess(t, db, args...)
		if p.code != ExitBusy {
			t.Errorf("want exit %d: %v", ExitBusy, p)
			continue
		}
		if p.stdout != "" {
			t.Errorf("deskctl %s printed on stdout: %q", strings.Join(args, " "), p.stdout)
		}
		checkErrorLines(t, p.stderr, addr, "")
		if !hintSays(p.stderr, "retry") {
			t.Errorf("deskctl %s: no hint to retry:\n%s", strings.Join(args, " "), p.stderr)
		}
		for _, internal := range []string{"panic", "goroutine ", ".go:"} {
			if strings.Contains(p.stderr, internal) {
				t.Errorf("deskctl %s: stderr shows %q:\n%s", strings.Join(args, " "), internal, p.stderr)
			}
		}
	}
}

// hintSays reports whether a "hint: " line of stderr contains s.
func hintSays(stderr, s string) bool {
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		if h, ok := strings.CutPrefix(sc.Text(), "hint: "); ok && strings.Contains(h, s) {
			return true
		}
	}
	return false
}

// pgPublic is the address approvers are given for both servers, as for two
// servers behind one load balancer: links carry it, the browser names it as
// the origin of its forms, and the balancer adds the browser's address in
// X-Forwarded-For. The test plays the balancer and sends each request to
// one server's real address.
const pgPublic = "https://helpdesk.example.test"

// pgTwoServers is one PostgreSQL database served by two deskctl processes.
type pgTwoServers struct {
	t       *testing.T
	h       *teamHost
	cluster *pgtest.Cluster
	db      string
	srv     [2]*teamServer
	pages   [2]*http.Client // each server's HTTPS, trusting its certificate
	smtp    *mailtest.Server
}

// as is a client of server i acting as login (alice, bound to this
// process's OS login, may act as anyone).
func (d *pgTwoServers) as(i int, login string) *client.Client {
	d.t.Helper()
	if login == "alice" {
		login = ""
	}
	c, err := client.New(client.Options{Server: "unix://" + d.srv[i].socket, As: login, Timeout: time.Minute})
	if err != nil {
		d.t.Fatal(err)
	}
	return c
}

// local runs deskctl on the database itself, as alice, as an operator on
// any host would.
func (d *pgTwoServers) local(args ...string) deskProc {
	d.t.Helper()
	return d.h.run(d.t, caller{env: []string{"DESKCTL_DB=" + d.db, "DESKCTL_USER=alice"}}, "", args...)
}

// auditRecords runs audit verify on the database and returns how many
// records the intact chain holds.
func (d *pgTwoServers) auditRecords() int {
	d.t.Helper()
	p := d.local("audit", "verify", "-o", "json")
	var v app.AuditVerification
	if p.code != ExitOK || json.Unmarshal([]byte(p.stdout), &v) != nil || !v.OK {
		d.t.Fatalf("audit verify: %v", p)
	}
	return v.Records
}

func (d *pgTwoServers) requireHealthy() {
	d.t.Helper()
	if p := d.local("db", "check"); p.code != ExitOK {
		d.t.Fatalf("db check: %v", p)
	}
}

// onServer is a link from a mail (under pgPublic) sent to server i.
func (d *pgTwoServers) onServer(i int, link string) string {
	return d.srv[i].https + strings.TrimPrefix(link, pgPublic)
}

// page does one request to server i's pages as the browser at xff.
func (d *pgTwoServers) page(i int, method, link, xff string, form url.Values) (page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, link, body)
	if err != nil {
		return page{}, err
	}
	req.Header.Set("X-Forwarded-For", xff)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", pgPublic)
	}
	resp, err := d.pages[i].Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}, err
}

func TestPostgresTwoServers(t *testing.T) {
	h := newTeamHost(t)
	cluster := pgtest.StartPrivate(t)
	d := &pgTwoServers{t: t, h: h, cluster: cluster, db: cluster.CreateDatabase(t, "desk"), smtp: mailtest.Start(t)}
	h.setupTeam(t, d.db)
	env := []string{"DESKCTL_PUBLIC_URL=" + pgPublic, "DESKCTL_TRUST_PROXY=true",
		"DESKCTL_SMTP_HOST=" + d.smtp.Host(), "DESKCTL_SMTP_PORT=" + strconv.Itoa(d.smtp.Port()),
		"DESKCTL_SMTP_TLS=none", "DESKCTL_SMTP_FROM=helpdesk@example.com"}
	for i, name := range []string{"one", "two"} {
		d.srv[i] = h.startTeamServer(t, name, d.db, env...)
		tr := &http.Transport{TLSClientConfig: tlsTo(t, d.srv[i].ca), MaxConnsPerHost: 64, MaxIdleConnsPerHost: 64}
		t.Cleanup(tr.CloseIdleConnections)
		d.pages[i] = &http.Client{Transport: tr, Timeout: time.Minute,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}

	var link string // a decided link, for the outage
	if !t.Run("creates", func(t *testing.T) { d.t = t; pgCreates(d) }) {
		return
	}
	if !t.Run("approvals", func(t *testing.T) { d.t = t; link = pgApprovals(d) }) {
		return
	}
	t.Run("outage", func(t *testing.T) { d.t = t; pgOutage(d, link) })
	d.t = t
	for i, s := range d.srv {
		if log := s.stop(t); s.proc.err != nil || strings.Contains(log, "panic") {
			t.Errorf("server %d stopped with %v\n%s", i+1, s.proc.err, log)
		}
	}
}

// pgCreates: 16 writers × 50 creates, each writer alternating between the
// servers, give exactly 800 tickets numbered 1..800, each with the number
// its create answered, and one audit record each.
func pgCreates(d *pgTwoServers) {
	t := d.t
	const writers, perWriter = 16, 50
	before := d.auditRecords()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		answer = map[string]int{} // subject → the number the create returned
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs := [2]*client.Client{d.as(0, "alice"), d.as(1, "alice")}
			for i := range perWriter {
				subject := fmt.Sprintf("load w%02d #%02d", w, i)
				tk, err := cs[(w+i)%2].CreateTicket(app.CreateTicketInput{Subject: subject})
				if err != nil {
					t.Errorf("create %q on server %d: %v", subject, (w+i)%2+1, err)
					continue
				}
				mu.Lock()
				answer[subject] = tk.Number
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	tickets, err := d.as(1, "alice").ListTickets(app.TicketQuery{Limit: 2000})
	if err != nil {
		t.Fatal(err)
	}
	checkNumbering(t, tickets, writers*perWriter)
	for _, tk := range tickets {
		if n, ok := answer[tk.Subject]; !ok || n != tk.Number {
			t.Errorf("ticket #%d %q: its create answered #%d (%v)", tk.Number, tk.Subject, n, ok)
		}
	}
	if got := d.auditRecords(); got != before+writers*perWriter {
		t.Errorf("audit: %d records, want %d before and %d creates", got, before, writers*perWriter)
	}
	d.requireHealthy()
}

// checkNumbering checks tickets are numbered 1..want, each number once.
func checkNumbering(t *testing.T, tickets []app.TicketView, want int) {
	t.Helper()
	seen := make([]bool, want+1)
	for _, tk := range tickets {
		switch {
		case tk.Number < 1 || tk.Number > want:
			t.Errorf("ticket number %d outside 1..%d", tk.Number, want)
		case seen[tk.Number]:
			t.Errorf("ticket number %d given twice", tk.Number)
		default:
			seen[tk.Number] = true
		}
	}
	if len(tickets) != want {
		t.Errorf("%d tickets, want %d", len(tickets), want)
	}
}

// A decider is one approver's browser: it opens a link on one server and
// submits the page's form to the other, as a load balancer without sticky
// sessions may send it (the servers share the form key through the database).
type decider struct {
	ticket  int
	srv     int
	approve bool
	comment string
	xff     string // the browser's address, as the balancer adds it
	link    string // on its server
	action  string
	csrf    string
	status  int
	heading string
	waits   int // 503s waited out
}

// pgApprovals: bob asks carol to approve 100 tickets; each link is then
// decided by 10 browsers at once, half of them on each server, half
// approving and half rejecting. Exactly one decision per ticket is
// recorded, the others are told it was already decided, and bob is mailed
// each outcome exactly once. It returns one of the (used) links.
func pgApprovals(d *pgTwoServers) string {
	t := d.t
	const tickets, perLink = 100, 10
	alice := d.as(0, "alice")
	for _, step := range []func() error{
		func() error { _, err := alice.AddGroup("support", ""); return err },
		func() error { _, err := alice.SetGroupMember("support", "bob", true); return err },
		func() error {
			_, err := alice.Grant("group:support", []string{"request-approval", "start", "close", "note"})
			return err
		},
		func() error { _, err := alice.AddResource("network", "", ""); return err },
		func() error {
			_, err := alice.SetResourceMember("network", "bob", helpdesk.AccessWrite, true)
			return err
		},
		func() error {
			_, err := alice.Grant("user:alice", []string{"dispatcher", "read-all-tickets"})
			return err
		},
		func() error { _, err := alice.SetSetting("approvals.enabled", "true"); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	before := d.auditRecords()
	bob := [2]*client.Client{d.as(0, "bob"), d.as(1, "bob")}
	subjects := map[int]string{}
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < tickets; i += 4 {
				tk, err := d.as(i%2, "alice").CreateTicket(app.CreateTicketInput{Subject: fmt.Sprintf("approval %03d", i), Requester: "dave", Resource: "network"})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				subjects[tk.Number] = tk.Subject
				mu.Unlock()
				if _, _, err := bob[i%2].RequestApproval(tk.Number, "carol", ""); err != nil {
					t.Errorf("request approval of #%d on server %d: %v", tk.Number, i%2+1, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// The approver mails, with links to the public address.
	approveLink, rejectLink := map[int]string{}, map[int]string{}
	for _, m := range d.smtp.WaitFor(tickets, time.Minute) {
		n, ok := ticketOfSubject(m.Subject, "Approval needed: #")
		if !ok || len(m.To) != 1 || m.To[0] != "carol@example.com" {
			t.Fatalf("unexpected mail %q to %v", m.Subject, m.To)
		}
		for _, l := range mailtest.Links(m.Text) {
			switch {
			case !strings.HasPrefix(l, pgPublic+"/approval/"):
			case strings.HasSuffix(l, "?decision=approve"):
				approveLink[n] = l
			case strings.HasSuffix(l, "?decision=reject"):
				rejectLink[n] = l
			}
		}
	}
	if len(approveLink) != tickets || len(rejectLink) != tickets {
		t.Fatalf("links for %d and %d tickets, want %d each", len(approveLink), len(rejectLink), tickets)
	}

	var ds []*decider
	for n := range subjects {
		for k := range perLink {
			dc := &decider{ticket: n, srv: k % 2, approve: k%4 < 2, comment: fmt.Sprintf("decider %d of #%d", k, n),
				xff: fmt.Sprintf("10.%d.%d.%d", len(ds)/250/250, len(ds)/250%250, len(ds)%250+1)}
			dc.link = d.onServer(dc.srv, rejectLink[n])
			if dc.approve {
				dc.link = d.onServer(dc.srv, approveLink[n])
			}
			ds = append(ds, dc)
		}
	}
	// Every browser opens its page first...
	sem := make(chan struct{}, 32)
	for _, dc := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p, err := d.page(dc.srv, http.MethodGet, dc.link, dc.xff, nil)
			if err != nil || p.status != http.StatusOK {
				t.Errorf("GET the link of #%d on server %d: %d %q %v", dc.ticket, dc.srv+1, p.status, p.heading(), err)
				return
			}
			a, c := actionPattern.FindStringSubmatch(p.body), csrfPattern.FindStringSubmatch(p.body)
			if a == nil || c == nil {
				t.Errorf("no decision form on the page of #%d", dc.ticket)
				return
			}
			action, err := url.Parse(a[1])
			if err != nil {
				t.Error(err)
				return
			}
			base, _ := url.Parse(d.srv[1-dc.srv].https)
			dc.action, dc.csrf = base.ResolveReference(action).String(), c[1]
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// ...then all submit at once. A busy database answers 503 with
	// Retry-After, and the browser's user tries again.
	start := make(chan struct{})
	for _, dc := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			decision := "reject"
			if dc.approve {
				decision = "approve"
			}
			form := url.Values{"csrf": {dc.csrf}, "decision": {decision}, "comment": {dc.comment}}
			<-start
			for {
				p, err := d.page(1-dc.srv, http.MethodPost, dc.action, dc.xff, form)
				if err != nil {
					t.Errorf("POST the decision on #%d: %v", dc.ticket, err)
					return
				}
				dc.status, dc.heading = p.status, p.heading()
				if p.status != http.StatusServiceUnavailable || dc.waits == 5 {
					return
				}
				secs, err := strconv.Atoi(p.header.Get("Retry-After"))
				if err != nil || secs < 1 {
					t.Errorf("503 without a Retry-After: %q", p.header.Get("Retry-After"))
					return
				}
				dc.waits++
				time.Sleep(time.Duration(secs) * time.Second)
			}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	waits := 0
	winner := map[int]*decider{}
	for _, dc := range ds {
		waits += dc.waits
		verb := "rejected"
		if dc.approve {
			verb = "approved"
		}
		switch {
		case dc.status == http.StatusOK && dc.heading == "You "+verb+" ticket #"+strconv.Itoa(dc.ticket):
			if w := winner[dc.ticket]; w != nil {
				t.Errorf("#%d decided twice: by %q and %q", dc.ticket, w.comment, dc.comment)
			}
			winner[dc.ticket] = dc
		case dc.status == http.StatusGone && dc.heading == "Already decided":
		default:
			t.Errorf("%s on server %d: %d %q", dc.comment, dc.srv+1, dc.status, dc.heading)
		}
	}
	t.Logf("%d decisions on %d links in %v, %d answers of 503 waited out", len(ds), tickets, time.Since(began).Round(time.Millisecond), waits)

	// What was recorded is what the one winner of each ticket was told.
	list, err := alice.ListApprovals(app.ApprovalQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != tickets {
		t.Fatalf("%d approvals, want %d", len(list), tickets)
	}
	for _, a := range list {
		w := winner[a.Ticket]
		if w == nil {
			t.Errorf("#%d: no browser was told its decision was recorded; approval %+v", a.Ticket, a)
			continue
		}
		if want := map[bool]string{true: "approved", false: "rejected"}[w.approve]; a.State != want || a.Comment != w.comment || a.DecidedBy != "carol" {
			t.Errorf("#%d recorded %s by %s with %q; the winner %s with %q", a.Ticket, a.State, a.DecidedBy, a.Comment, want, w.comment)
		}
	}
	for n := range subjects {
		log, err := bob[n%2].TicketLog(n)
		if err != nil {
			t.Fatal(err)
		}
		decisions := 0
		for _, e := range log {
			if strings.Contains(e.Text, "(email link)") {
				decisions++
			}
		}
		if decisions != 1 {
			t.Errorf("the log of #%d shows %d decisions, want 1", n, decisions)
		}
	}
	audit, err := alice.AuditLog(app.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	decided := map[string]int{}
	for _, r := range audit {
		if strings.HasPrefix(r.Command, "approval decide") {
			decided[r.Subject]++
		}
	}
	for n := range subjects {
		if c := decided["approval:"+strconv.Itoa(n)]; c != 1 {
			t.Errorf("%d decision records for #%d in the audit log, want 1", c, n)
		}
	}
	if got := d.auditRecords(); got != before+3*tickets {
		t.Errorf("audit: %d records, want %d before and %d creates, requests and decisions", got, before, tickets)
	}

	// Both servers mail outcomes behind the pages: once the outbox is
	// empty, bob has had each exactly once.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		q, err := alice.MailQueue(false)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mail still waiting after a minute: %+v", q[0])
		}
	}
	asked, outcomes := map[int]int{}, map[int]int{}
	for _, m := range d.smtp.Messages() {
		if n, ok := ticketOfSubject(m.Subject, "Approval needed: #"); ok && len(m.To) == 1 && m.To[0] == "carol@example.com" {
			asked[n]++
			continue
		}
		verb, rest, _ := strings.Cut(m.Subject, " by "+list[0].ApproverName+": #")
		n, ok := ticketOfSubject(rest, "")
		if w := winner[n]; !ok || w == nil || len(m.To) != 1 || m.To[0] != "bob@example.com" || verb != map[bool]string{true: "Approved", false: "Rejected"}[w.approve] {
			t.Errorf("unexpected mail %q to %v", m.Subject, m.To)
			continue
		}
		outcomes[n]++
	}
	for n := range subjects {
		if asked[n] != 1 || outcomes[n] != 1 {
			t.Errorf("#%d: carol was asked %d times and bob told the outcome %d times, want once each", n, asked[n], outcomes[n])
		}
	}
	d.requireHealthy()
	return approveLink[list[0].Ticket]
}

// ticketOfSubject reads N from a mail subject "<prefix>N <ticket subject>".
func ticketOfSubject(subject, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(subject, prefix)
	if !ok {
		return 0, false
	}
	num, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(num)
	return n, err == nil
}

// attempt is one create during the outage.
type attempt struct {
	subject    string
	started    int32 // the phase it started in, and finished in
	finished   int32
	ok         bool
	number     int
	server     int
	unexpected string // what was wrong with a failure, if anything
	// unknown is a failure that lost the connection while committing: the
	// command said the change may or may not have been saved.
	unknown bool
}

// lostAtCommit tells the failure whose outcome deskctl reports unknown.
func lostAtCommit(text string) bool { return strings.Contains(text, "while committing") }

// Outage phases: PostgreSQL is up, stopped, starting (StartServer has not
// returned yet) and up again.
const (
	phaseUp int32 = iota
	phaseDown
	phaseStarting
	phaseUpAgain
)

// pgOutage: while a CLI loop creates tickets through server 1 and an API
// loop through server 2, and a browser keeps opening a decided link on
// both, PostgreSQL is stopped (as by a crash) and started again. While it
// is down every create fails as busy (exit 6, or 503 with Retry-After) and
// the pages answer 503 with Retry-After; once it is back both servers work
// again without a restart, and every create either is there, whole, or
// was reported failed.
func pgOutage(d *pgTwoServers, link string) {
	t := d.t
	alice := d.as(0, "alice")
	before, err := alice.ListTickets(app.TicketQuery{Limit: 5000})
	if err != nil {
		t.Fatal(err)
	}
	beforeRecords := d.auditRecords()
	pgAddr := net.JoinHostPort(d.cluster.Host, strconv.Itoa(d.cluster.Port))

	var (
		phase    atomic.Int32
		mu       sync.Mutex
		attempts []attempt
		pages    = map[[2]int]int{} // {phase, status} → count, both servers
		done     = make(chan struct{})
		wg       sync.WaitGroup
	)
	record := func(a attempt) {
		a.finished = phase.Load()
		mu.Lock()
		attempts = append(attempts, a)
		mu.Unlock()
	}
	loop := func(step func(i int)) { repeatUntil(&wg, done, step) }
	// deskctl processes on server 1's socket.
	loop(func(i int) {
		a := attempt{subject: fmt.Sprintf("outage cli %03d", i), started: phase.Load(), server: 1}
		p := d.h.run(t, caller{args: []string{"--server", "unix://" + d.srv[0].socket}}, "", "ticket", "create", "--subject", a.subject, "-o", "json")
		switch {
		case p.code == ExitOK:
			var tk app.TicketView
			a.ok = json.Unmarshal([]byte(p.stdout), &tk) == nil
			a.number = tk.Number
		case p.code == ExitBusy && strings.Contains(p.stderr, pgAddr) && lostAtCommit(p.stderr) &&
			hintSays(p.stderr, "may or may not have been saved"):
			a.unknown = true
		case p.code != ExitBusy || !strings.Contains(p.stderr, pgAddr) || !hintSays(p.stderr, "retry"):
			a.unexpected = p.String()
		}
		record(a)
	})
	// The API on server 2's socket, as a remote client sees it.
	apiClient := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", d.srv[1].socket)
		}}}
	loop(func(i int) {
		a := attempt{subject: fmt.Sprintf("outage api %03d", i), started: phase.Load(), server: 2}
		arg, _ := json.Marshal(app.CreateTicketInput{Subject: a.subject})
		body, _ := json.Marshal(api.Request{Args: []json.RawMessage{arg}})
		resp, err := apiClient.Post("http://deskctl"+api.Prefix+"CreateTicket", "application/json", bytes.NewReader(body))
		if err != nil {
			a.unexpected = err.Error()
			record(a)
			return
		}
		var r api.Response
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		switch {
		case err != nil:
			a.unexpected = fmt.Sprintf("status %d: %v", resp.StatusCode, err)
		case resp.StatusCode == http.StatusOK && r.Error == nil && len(r.Results) == 1:
			var tk app.TicketView
			a.ok = json.Unmarshal(r.Results[0], &tk) == nil
			a.number = tk.Number
		case resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
			r.Error == nil || r.Error.Kind != "busy" || !strings.Contains(r.Error.Message, pgAddr):
			a.unexpected = fmt.Sprintf("status %d, Retry-After %q, %+v", resp.StatusCode, resp.Header.Get("Retry-After"), r.Error)
		default:
			a.unknown = lostAtCommit(r.Error.Message)
		}
		record(a)
		time.Sleep(50 * time.Millisecond)
	})
	// A browser reopening a decided link on either server.
	loop(func(i int) {
		started := phase.Load()
		p, err := d.page(i%2, http.MethodGet, d.onServer(i%2, link), fmt.Sprintf("10.99.%d.%d", i/250%250, i%250+1), nil)
		switch {
		case err != nil:
			t.Errorf("GET the page: %v", err)
		case p.status == http.StatusGone && p.heading() == "Already decided",
			p.status == http.StatusServiceUnavailable && p.header.Get("Retry-After") != "":
			if started == phase.Load() {
				mu.Lock()
				pages[[2]int{int(started), p.status}]++
				mu.Unlock()
			}
		default:
			t.Errorf("GET the page on server %d: %d %q (Retry-After %q)", i%2+1, p.status, p.heading(), p.header.Get("Retry-After"))
		}
		time.Sleep(100 * time.Millisecond)
	})

	// until waits for count, taken under mu, to reach want.
	until := func(what string, want int, count func() int) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
			mu.Lock()
			n := count()
			mu.Unlock()
			if n >= want {
				return
			}
			if time.Now().After(deadline) || t.Failed() {
				close(done)
				wg.Wait()
				t.Fatalf("waited in vain for %d %s (saw %d)", want, what, n)
			}
		}
	}
	attemptsWhere := func(ok func(a attempt) bool) func() int {
		return func() int {
			n := 0
			for _, a := range attempts {
				if ok(a) {
					n++
				}
			}
			return n
		}
	}
	succeeded := func(ph int32, server int) func() int {
		return attemptsWhere(func(a attempt) bool { return a.ok && a.started == ph && a.server == server })
	}
	failedWhileDown := func(server int) func() int {
		return attemptsWhere(func(a attempt) bool {
			return !a.ok && a.unexpected == "" && a.started == phaseDown && a.finished == phaseDown && a.server == server
		})
	}
	pageAnswered := func(ph int32, status int) func() int {
		return func() int { return pages[[2]int{int(ph), status}] }
	}

	until("creates before the outage on server 1", 2, succeeded(phaseUp, 1))
	until("creates before the outage on server 2", 2, succeeded(phaseUp, 2))
	if err := d.cluster.StopServer(); err != nil {
		t.Fatal(err)
	}
	phase.Store(phaseDown)
	until("CLI creates reported busy", 2, failedWhileDown(1))
	until("API creates answered 503", 2, failedWhileDown(2))
	until("pages answering 503", 2, pageAnswered(phaseDown, http.StatusServiceUnavailable))
	phase.Store(phaseStarting)
	if err := d.cluster.StartServer(); err != nil {
		t.Fatal(err)
	}
	phase.Store(phaseUpAgain)
	until("creates after the outage on server 1", 2, succeeded(phaseUpAgain, 1))
	until("creates after the outage on server 2", 2, succeeded(phaseUpAgain, 2))
	until("pages answering again", 2, pageAnswered(phaseUpAgain, http.StatusGone))
	close(done)
	wg.Wait()

	created := map[string]int{}
	unknown := map[string]bool{} // lost at commit: may be stored, whole, or not at all
	count := map[[2]int32]int{}  // {started, ok}
	for _, a := range attempts {
		if a.unexpected != "" {
			t.Errorf("create %q on server %d failed unexpectedly: %s", a.subject, a.server, a.unexpected)
		}
		if a.ok {
			created[a.subject] = a.number
		}
		if a.unknown {
			unknown[a.subject] = true
		}
		if a.ok && a.started == phaseDown && a.finished == phaseDown {
			t.Errorf("create %q on server %d succeeded while PostgreSQL was down", a.subject, a.server)
		}
		ok := int32(0)
		if a.ok {
			ok = 1
		}
		count[[2]int32{a.started, ok}]++
	}
	t.Logf("creates (ok/failed) started before the outage %d/%d, during %d/%d, while starting %d/%d, after %d/%d; pages {phase status}: %v",
		count[[2]int32{phaseUp, 1}], count[[2]int32{phaseUp, 0}], count[[2]int32{phaseDown, 1}], count[[2]int32{phaseDown, 0}],
		count[[2]int32{phaseStarting, 1}], count[[2]int32{phaseStarting, 0}], count[[2]int32{phaseUpAgain, 1}], count[[2]int32{phaseUpAgain, 0}], pages)

	// Both servers answer again, and the database holds exactly what was
	// reported created, under the numbers reported, and nothing else.
	after, err := d.as(1, "alice").ListTickets(app.TicketQuery{Limit: 5000})
	if err != nil {
		t.Fatal(err)
	}
	storedUnknown := 0
	for _, tk := range after {
		if unknown[tk.Subject] {
			storedUnknown++
		}
	}
	checkNumbering(t, after, len(before)+len(created)+storedUnknown)
	for _, tk := range after {
		if !strings.HasPrefix(tk.Subject, "outage ") || unknown[tk.Subject] {
			continue
		}
		if n, ok := created[tk.Subject]; !ok || n != tk.Number {
			t.Errorf("ticket #%d %q is stored, but its create reported %d (ok %v)", tk.Number, tk.Subject, n, ok)
		}
		delete(created, tk.Subject)
	}
	for s, n := range created {
		t.Errorf("create %q reported #%d, which is not stored", s, n)
	}
	if got, want := d.auditRecords(), beforeRecords+len(after)-len(before); got != want {
		t.Errorf("audit: %d records, want %d (one per stored create)", got, want)
	}
	d.requireHealthy()
	for i, s := range d.srv {
		if s.proc.exited() {
			t.Errorf("server %d exited: %v\n%s", i+1, s.proc.err, s.proc.errOut.String())
		}
	}
}

// A command that loses its connection inside its transaction leaves
// nothing behind: stopped at its commit while the server goes down, it
// fails as busy (exit 6) and nothing of it is stored; killed there, the
// server rolls it back and the next writer gets the lock and the number.
func TestPostgresConnectionLostMidCommand(t *testing.T) {
	cluster := pgtest.StartPrivate(t)
	db := cluster.CreateDatabase(t, "desk")
	pgAddr := net.JoinHostPort(cluster.Host, strconv.Itoa(cluster.Port))
	mustDeskctlProcess(t, db, "init", "--admin", "alice", "--email", "alice@example.com")
	records := auditRecords(t, db)
	dir := t.TempDir()

	t.Run("server stopped", func(t *testing.T) {
		marker, resume := filepath.Join(dir, "paused"), filepath.Join(dir, "resume")
		p := startDeskctl(t, db, append(pauseEnv(marker, "ticket create", 1), pauseResumeEnv+"="+resume),
			"--as", "alice", "ticket", "create", "--subject", "lost")
		waitForPause(t, marker, p)
		// Paused inside its transaction, it holds the writers' lock.
		if q := runDeskctlProcess(t, db, "--lock-timeout", "200ms", "--as", "alice", "ticket", "create", "--subject", "blocked"); q.code != ExitBusy ||
			!strings.Contains(q.stderr, "another deskctl process is writing") {
			t.Errorf("a second writer while the first is paused: %v", q)
		}
		if err := cluster.StopServer(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(resume, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.done:
		case <-time.After(time.Minute):
			t.Fatal("the command did not end within a minute of losing its server")
		}
		if err := cluster.StartServer(); err != nil {
			t.Fatal(err)
		}
		if code := p.cmd.ProcessState.ExitCode(); code != ExitBusy {
			t.Fatalf("exit %d, want %d\n%s", code, ExitBusy, p.errOut.String())
		}
		checkErrorLines(t, p.errOut.String(), pgAddr, "")
		if !hintSays(p.errOut.String(), "nothing of this command was saved") {
			t.Errorf("the hint does not say nothing was saved:\n%s", p.errOut.String())
		}
		if n := dbCounts(t, db)["tickets"]; n != 0 {
			t.Errorf("%d tickets stored, want none", n)
		}
		if got := auditRecords(t, db); got != records {
			t.Errorf("audit: %d records, want the %d from before", got, records)
		}
		requireHealthy(t, db)
	})

	t.Run("killed", func(t *testing.T) {
		marker := filepath.Join(dir, "paused-again")
		p := startDeskctl(t, db, pauseEnv(marker, "ticket create", 1), "--as", "alice", "ticket", "create", "--subject", "killed")
		waitForPause(t, marker, p)
		if !killMidway(t, p) {
			t.Fatal("the paused process was not killed by SIGKILL")
		}
		var tk app.TicketView
		deskctlJSON(t, db, &tk, "--as", "alice", "ticket", "create", "--subject", "after")
		if tk.Number != 1 {
			t.Errorf("the create after the kill got #%d, want #1", tk.Number)
		}
		var list []app.TicketView
		deskctlJSON(t, db, &list, "--as", "alice", "ticket", "list")
		if len(list) != 1 || list[0].Subject != "after" {
			t.Errorf("tickets after the kill: %+v, want only #1 \"after\"", list)
		}
		if got := auditRecords(t, db); got != records+1 {
			t.Errorf("audit: %d records, want %d", got, records+1)
		}
		requireHealthy(t, db)
	})
}
