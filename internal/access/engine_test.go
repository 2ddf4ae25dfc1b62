package access

import (
	"fmt"
	"slices"
	"testing"

	"github.com/deskctl/deskctl/internal/helpdesk"
)

// countingSource records every call an Engine makes, to check that
// questions read only what they need and that memoization holds.
type countingSource struct {
	*Memory
	calls map[string]int // "Method arg"
}

func newCounting(m *Memory) *countingSource {
	return &countingSource{Memory: m, calls: map[string]int{}}
}

func (c *countingSource) note(method string, arg any) { c.calls[fmt.Sprintf("%s %v", method, arg)]++ }

func (c *countingSource) User(l string) (helpdesk.User, bool, error) {
	c.note("User", l)
	return c.Memory.User(l)
}
func (c *countingSource) Users() ([]string, error) { c.note("Users", ""); return c.Memory.Users() }
func (c *countingSource) GroupsOf(s helpdesk.Subject) ([]string, error) {
	c.note("GroupsOf", s)
	return c.Memory.GroupsOf(s)
}
func (c *countingSource) Group(n string) (helpdesk.Group, bool, error) {
	c.note("Group", n)
	return c.Memory.Group(n)
}
func (c *countingSource) Groups() ([]string, error) { c.note("Groups", ""); return c.Memory.Groups() }
func (c *countingSource) Resource(n string) (helpdesk.Resource, bool, error) {
	c.note("Resource", n)
	return c.Memory.Resource(n)
}
func (c *countingSource) Resources() ([]string, error) {
	c.note("Resources", "")
	return c.Memory.Resources()
}
func (c *countingSource) Grants(s helpdesk.Subject) ([]string, error) {
	c.note("Grants", s)
	return c.Memory.Grants(s)
}
func (c *countingSource) Holders(r string) ([]helpdesk.Subject, error) {
	c.note("Holders", r)
	return c.Memory.Holders(r)
}

// args lists the arguments a method was called with, sorted.
func (c *countingSource) args(method string) []string {
	var out []string
	for k := range c.calls {
		if len(k) > len(method) && k[:len(method)+1] == method+" " {
			out = append(out, k[len(method)+1:])
		}
	}
	slices.Sort(out)
	return out
}

func TestHoldsReadsOnlyTheUsersAncestry(t *testing.T) {
	src := newCounting(fixture(t))
	e := New(src)
	if ok, err := e.Holds("bob", "close"); err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	for _, listing := range []string{"Users", "Groups", "Resources", "Holders", "Group", "Resource"} {
		if got := src.args(listing); len(got) > 0 {
			t.Errorf("Holds called %s %v", listing, got)
		}
	}
	want := []string{"group:everyone", "group:staff", "group:support", "group:tier1", "user:bob"}
	if got := src.args("GroupsOf"); !equalStrings(got, want) {
		t.Errorf("GroupsOf %v, want %v", got, want)
	}
	// A second question about the same user reads nothing new.
	before := len(src.calls)
	if _, err := e.Available("bob", ticket(1, "carol", "network", helpdesk.StateNew), "close"); err != nil {
		t.Fatal(err)
	}
	if got := src.args("Resource"); !equalStrings(got, []string{"network"}) {
		t.Errorf("Available read resources %v", got)
	}
	if len(src.calls) != before+1 {
		t.Errorf("Available on a known user made %d new kinds of call", len(src.calls)-before)
	}
}

func TestMatrixWalksEachGroupOnce(t *testing.T) {
	src := newCounting(GenerateMemory(3, 300, 60, 12))
	if _, err := New(src).Matrix(nil, nil); err != nil {
		t.Fatal(err)
	}
	for k, n := range src.calls {
		if n > 1 {
			t.Errorf("%s called %d times", k, n)
		}
	}
	if src.calls["Users "] != 1 || len(src.args("Holders")) != 0 {
		t.Errorf("Users called %d times, Holders for %v", src.calls["Users "], src.args("Holders"))
	}
}

func TestWhoCanExpandsDownward(t *testing.T) {
	src := newCounting(fixture(t))
	if _, err := New(src).WhoCan("close", nil); err != nil {
		t.Fatal(err)
	}
	// close is granted to group:support only: the engine looks at support's
	// members, not at every user.
	if got := src.args("User"); !equalStrings(got, []string{"bob", "frank"}) {
		t.Errorf("User called for %v", got)
	}
	if src.calls["Users "] != 0 {
		t.Error("WhoCan listed every user for a right not granted to everyone")
	}
}
