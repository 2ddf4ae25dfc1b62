package access

import (
	"sync"
	"testing"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// The benchmark directory: 10 000 users, 1 000 groups nested 8 deep, 200
// resources, 40 rights. Each iteration uses a fresh Engine, as one deskctl
// command does, so memoization within a question counts and across
// questions does not.
var (
	benchOnce sync.Once
	benchMem  *Memory
	benchTks  []helpdesk.Ticket
)

func benchWorld(b *testing.B) (*Memory, []helpdesk.Ticket) {
	b.Helper()
	benchOnce.Do(func() {
		benchMem = GenerateMemory(1, 10000, 1000, 200)
		benchTks = GenerateTickets(1, benchMem, 1000)
	})
	return benchMem, benchTks
}

// benchUser is an active user with many effective groups.
const benchUser = "user00042"

func BenchmarkExplain(b *testing.B) {
	m, _ := benchWorld(b)
	for b.Loop() {
		if _, err := New(m).Explain(benchUser, ExplainOptions{All: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExplainTicket(b *testing.B) {
	m, tks := benchWorld(b)
	for b.Loop() {
		if _, err := New(m).Explain(benchUser, ExplainOptions{Ticket: &tks[0]}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCan(b *testing.B) {
	m, tks := benchWorld(b)
	i := 0
	for b.Loop() {
		if _, err := New(m).Available(benchUser, &tks[i%len(tks)], helpdesk.ActClose); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkHolds(b *testing.B) {
	m, _ := benchWorld(b)
	for b.Loop() {
		if _, err := New(m).Holds(benchUser, helpdesk.ActClose); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWhoCan(b *testing.B) {
	m, _ := benchWorld(b)
	for b.Loop() {
		if _, err := New(m).WhoCan(helpdesk.ActClose, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWhoCanTicket(b *testing.B) {
	m, tks := benchWorld(b)
	for b.Loop() {
		if _, err := New(m).WhoCan(helpdesk.ActClose, &tks[1]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatrix(b *testing.B) {
	m, _ := benchWorld(b)
	for b.Loop() {
		if _, err := New(m).Matrix(nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}
