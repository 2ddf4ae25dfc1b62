package cli

// Team-mode benchmarks for docs/benchmarks.md: `access can` and `access
// explain` as whole processes on the file, over the socket and over HTTPS
// (a one-shot CLI gets no keep-alive: every run dials, and over HTTPS
// handshakes, afresh), and the server's own throughput from 16 concurrent
// keep-alive clients. They need root (like the team tests) and build a
// devgen database of 10 000 users and 100 000 tickets first:
//
//	go test ./internal/cli -run '^$' -bench Team -benchtime 30x

import (
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/client"
	"github.com/deskctl/deskctl/internal/devgen"
)

// benchTeam is a devgen database served on a socket and HTTPS, with the
// scenario's user bound to this process's OS login and holding a token.
type benchTeam struct {
	h     *teamHost
	srv   *teamServer
	db    string
	sc    devgen.Scenario
	token string
}

func newBenchTeam(b *testing.B) *benchTeam {
	b.Helper()
	h := newTeamHost(b)
	db := filepath.Join(h.dir, "bench.db")
	admin := caller{env: []string{"DESKCTL_DB=" + db, "DESKCTL_USER=" + devgen.AdminLogin}}
	o := devgen.Defaults()
	o.Tickets = 100000
	sc := *generate(b, o, devgen.Outputs{DB: db, OPADir: filepath.Join(h.dir, "opa")}).Scenario
	h.must(b, admin, "user", "update", sc.User, "--os-login", "root")
	tok := h.must(b, admin, "token", "create", "--user", sc.User, "--name", "bench", "--expires", "never")
	return &benchTeam{h: h, srv: h.startTeamServer(b, "bench", db), db: db, sc: sc, token: tok[:len(tok)-1]}
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Each round runs every command once, in turn, so load on the shared
// machine hits them alike; the medians are reported per command.
func BenchmarkTeamWholeProcess(b *testing.B) {
	bt := newBenchTeam(b)
	sc := bt.sc
	tk := strconv.Itoa(sc.Ticket)
	ways := []struct {
		name string
		c    caller
	}{
		{"local", caller{args: []string{"--as", sc.User}, env: []string{"DESKCTL_DB=" + bt.db}}},
		{"socket", caller{args: []string{"--server", "unix://" + bt.srv.socket}}},
		{"https", caller{args: []string{"--server", bt.srv.https}, env: []string{"DESKCTL_TOKEN=" + bt.token, "SSL_CERT_FILE=" + bt.srv.ca}}},
	}
	type cmd struct {
		name string
		c    caller
		args []string
	}
	cmds := []cmd{{"version", caller{}, []string{"version"}}}
	for _, w := range ways {
		cmds = append(cmds,
			cmd{"can-" + w.name, w.c, []string{"access", "can", sc.User, sc.Action, "--ticket", tk}},
			cmd{"explain-" + w.name, w.c, []string{"access", "explain", sc.User, "--ticket", tk}})
	}
	// Warm the page cache and the server; check every command works.
	for _, c := range cmds {
		if p := bt.h.run(b, c.c, "", c.args...); p.code != 0 && !(!sc.Available && p.code == 1) {
			b.Fatal(p)
		}
	}
	times := make([][]time.Duration, len(cmds))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, c := range cmds {
			start := time.Now()
			bt.h.run(b, c.c, "", c.args...)
			times[j] = append(times[j], time.Since(start))
		}
	}
	b.StopTimer()
	for j, c := range cmds {
		b.ReportMetric(ms(quantile(times[j], 0.5)), "ms-"+c.name)
	}
}

// 16 keep-alive clients ask `access can` as fast as the server answers.
func BenchmarkTeamServerAccessCan(b *testing.B) {
	bt := newBenchTeam(b)
	for _, way := range []struct {
		name string
		opts client.Options
	}{
		{"socket", client.Options{Server: "unix://" + bt.srv.socket}},
		{"https", client.Options{Server: bt.srv.https, Token: bt.token, TLS: tlsTo(b, bt.srv.ca)}},
	} {
		b.Run(way.name, func(b *testing.B) {
			const clients = 16
			var mu sync.Mutex
			var lat []time.Duration
			var wg sync.WaitGroup
			next := make(chan struct{}, b.N)
			for i := 0; i < b.N; i++ {
				next <- struct{}{}
			}
			close(next)
			b.ResetTimer()
			start := time.Now()
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cl, err := client.New(way.opts)
					if err != nil {
						b.Error(err)
						return
					}
					var mine []time.Duration
					for range next {
						t0 := time.Now()
						if _, err := cl.Can(bt.sc.User, bt.sc.Action, bt.sc.Ticket); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(t0))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if len(lat) > 0 {
				b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
				b.ReportMetric(ms(quantile(lat, 0.99)), "ms-p99")
				b.ReportMetric(ms(quantile(lat, 0.5)), "ms-p50")
			}
		})
	}
}
