package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/output"
)

// nestedDirectory: kim is in l1 ⊂ l2 ⊂ l3 ⊂ top and in side ⊂ top (two
// chains to top), a write member of network; top holds close, l2 reply,
// network forward, kim herself note. Group and user names carry characters
// that mean something in Mermaid and dot.
func nestedDirectory() *access.Memory {
	m := access.NewMemory()
	m.PutUser(helpdesk.User{Login: "kim", Name: `Kim "K" <Ops> & #1`, Active: true})
	m.PutUser(helpdesk.User{Login: "lee", Name: "Lee", Active: true})
	g, u := helpdesk.GroupSubject, helpdesk.UserSubject
	m.PutGroup(helpdesk.Group{Name: "top", Members: []helpdesk.Subject{g("l3"), g("side")}})
	m.PutGroup(helpdesk.Group{Name: "l3", Members: []helpdesk.Subject{g("l2")}})
	m.PutGroup(helpdesk.Group{Name: "l2", Members: []helpdesk.Subject{g("l1")}})
	m.PutGroup(helpdesk.Group{Name: "l1", Members: []helpdesk.Subject{u("kim"), u("lee")}})
	m.PutGroup(helpdesk.Group{Name: "side", Description: `second "way" up`, Members: []helpdesk.Subject{u("kim")}})
	m.PutResource(helpdesk.Resource{Name: "network"})
	m.AddResourceMember("network", "kim", helpdesk.AccessWrite)
	m.Grant(g("top"), helpdesk.ActClose)
	m.Grant(g("l2"), helpdesk.ActReply)
	m.Grant(helpdesk.ResourceSubject("network"), helpdesk.ActForward)
	m.Grant(u("kim"), helpdesk.ActNote)
	return m
}

func goldenGraph(t *testing.T, name string, g *output.Graph, f output.GraphFormat) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := output.WriteGraph(&buf, g, f, "dot"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name)
	if *updateScripts {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", name, path, got)
	}
	return buf.Bytes()
}

// requireDot returns Graphviz's dot, skipping without it, except under CI,
// where a missing dot fails the test so that the check cannot vanish.
func requireDot(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("dot")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Graphviz's dot is not installed; CI must install it (apt-get install -y graphviz)")
	}
	t.Skip("Graphviz's dot is not installed (apt-get install graphviz); skipping the check that dot reads the output")
	return ""
}

// dotAccepts runs dot on the text and returns the SVG it draws.
func dotAccepts(t *testing.T, src []byte) string {
	t.Helper()
	cmd := exec.Command(requireDot(t), "-Tsvg")
	cmd.Stdin = bytes.NewReader(src)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("dot refused the graph: %v\n%s\n%s", err, stderr.String(), src)
	}
	return out.String()
}

func TestAccessGraphNestedGroups(t *testing.T) {
	x, err := access.New(nestedDirectory()).Explain("kim", access.ExplainOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	g := accessGraph(app.ExplainResult{User: &x}, false)
	mermaid := string(goldenGraph(t, "access-graph-nested.mmd", g, output.Mermaid))
	dot := goldenGraph(t, "access-graph-nested.dot", g, output.Dot)

	// Every step of both chains to top is drawn once, from member to group.
	for _, step := range [][2]string{{"user:kim", "group:l1"}, {"group:l1", "group:l2"}, {"group:l2", "group:l3"},
		{"group:l3", "group:top"}, {"user:kim", "group:side"}, {"group:side", "group:top"},
		{"group:top", "right:close"}, {"group:l2", "right:reply"}, {"user:kim", "right:note"},
		{"user:kim", "resource:network"}, {"resource:network", "right:forward"}} {
		n := 0
		for _, e := range g.Edges {
			if e.From == step[0] && e.To == step[1] {
				n++
			}
		}
		if n != 1 {
			t.Errorf("edge %s → %s drawn %d times, want once", step[0], step[1], n)
		}
	}
	// A right the user does not hold is not drawn without --right.
	if g.Has("right:delete") {
		t.Error("delete, which kim does not hold, is drawn")
	}
	if !strings.Contains(mermaid, `("kim<br/>Kim #34;K#34; #60;Ops#62; #38; #35;1")`) {
		t.Errorf("kim's name is not escaped for Mermaid:\n%s", mermaid)
	}
	svg := dotAccepts(t, dot)
	// Graphviz draws the name as written (escaped again for SVG).
	if !strings.Contains(svg, ">Kim &quot;K&quot; &lt;Ops&gt; &amp; #1<") {
		t.Errorf("dot did not draw kim's name as written:\n%s", svg)
	}
}

func TestAccessGraphOneRightAndTicket(t *testing.T) {
	e := access.New(nestedDirectory())
	held, err := e.Explain("kim", access.ExplainOptions{Right: helpdesk.ActClose,
		Ticket: &helpdesk.Ticket{Number: 7, State: helpdesk.StateClosed, Resource: "network", Requester: "lee"}})
	if err != nil {
		t.Fatal(err)
	}
	g := accessGraph(app.ExplainResult{User: &held}, true)
	// Only close's two paths: l1, l2, l3, side and top, not the resource's forward.
	for _, id := range []string{"group:l1", "group:l2", "group:l3", "group:side", "group:top", "right:close", "ticket:7"} {
		if !g.Has(id) {
			t.Errorf("%s is not drawn", id)
		}
	}
	if g.Has("right:forward") || g.Has("right:reply") {
		t.Error("rights other than --right are drawn")
	}
	var ticket, closeNode output.Node
	for _, n := range g.Nodes {
		switch n.ID {
		case "ticket:7":
			ticket = n
		case "right:close":
			closeNode = n
		}
	}
	if got := strings.Join(ticket.Lines, "|"); got != "#7|Resource Member" {
		t.Errorf("ticket node says %q", got)
	}
	if got := strings.Join(closeNode.Lines, "|"); got != "close|not available on #7: state" || !closeNode.Dashed {
		t.Errorf("close on a closed ticket: %q dashed=%v", got, closeNode.Dashed)
	}

	// A right not held is drawn alone, dashed, when asked for.
	notHeld, err := e.Explain("lee", access.ExplainOptions{Right: helpdesk.ActNote})
	if err != nil {
		t.Fatal(err)
	}
	g = accessGraph(app.ExplainResult{User: &notHeld}, true)
	if len(g.Nodes) != 2 || len(g.Edges) != 0 || !g.Nodes[1].Dashed || strings.Join(g.Nodes[1].Lines, "|") != "note|not held" {
		t.Errorf("a right not held: %+v %+v", g.Nodes, g.Edges)
	}
}

// A role from a permission is drawn from the permission, which is drawn
// with the paths that grant it; a role as requester from the user.
func TestAccessGraphRoleFromPermission(t *testing.T) {
	m := nestedDirectory()
	m.Grant(helpdesk.GroupSubject("side"), helpdesk.PermDispatcher)
	request := &helpdesk.Ticket{Number: 9, State: helpdesk.StateRequest, Requester: "lee"}
	x, err := access.New(m).Explain("kim", access.ExplainOptions{Right: helpdesk.ActNote, Ticket: request})
	if err != nil {
		t.Fatal(err)
	}
	g := accessGraph(app.ExplainResult{User: &x}, true)
	want := []output.Edge{{From: "user:kim", To: "right:note"}, {From: "user:kim", To: "group:side"},
		{From: "group:side", To: "right:dispatcher"}, {From: "right:dispatcher", To: "ticket:9", Label: "role"}}
	if !slices.Equal(g.Edges, want) {
		t.Errorf("edges %+v, want %+v", g.Edges, want)
	}

	x, err = access.New(m).Explain("lee", access.ExplainOptions{Right: helpdesk.ActNote, Ticket: request})
	if err != nil {
		t.Fatal(err)
	}
	g = accessGraph(app.ExplainResult{User: &x}, true)
	if want := []output.Edge{{From: "user:lee", To: "ticket:9", Label: "requester"}}; !slices.Equal(g.Edges, want) {
		t.Errorf("edges %+v, want %+v", g.Edges, want)
	}
}

func TestAccessGraphGroup(t *testing.T) {
	x, err := access.New(nestedDirectory()).ExplainSubject(helpdesk.GroupSubject("side"))
	if err != nil {
		t.Fatal(err)
	}
	g := accessGraph(app.ExplainResult{Subject: &x}, false)
	goldenGraph(t, "access-graph-group.mmd", g, output.Mermaid)
	dotAccepts(t, goldenGraph(t, "access-graph-group.dot", g, output.Dot))
}

// Without Graphviz, -o svg stops before reading anything and says how to
// install it; the dot text needs nothing.
func TestAccessGraphSVGWithoutGraphviz(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DESKCTL_DB", filepath.Join(dir, "desk.db"))
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("DESKCTL_USER", "alice")
	deskctl := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(args, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		return code, out.String(), errOut.String()
	}
	if code, _, errOut := deskctl("init", "--admin", "alice", "--email", "alice@example.com"); code != ExitOK {
		t.Fatalf("init: exit %d\n%s", code, errOut)
	}
	t.Setenv("PATH", filepath.Join(dir, "empty"))
	code, out, errOut := deskctl("access", "graph", "alice", "-o", "svg")
	if code != ExitUsage || out != "" {
		t.Fatalf("-o svg without dot: exit %d, stdout %q", code, out)
	}
	for _, want := range []string{"deskctl: -o svg needs Graphviz's dot program, which is not on PATH\n",
		"apt-get install graphviz", "brew install graphviz", "-o dot"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if code, out, errOut := deskctl("access", "graph", "alice", "-o", "dot"); code != ExitOK || !strings.HasPrefix(out, "digraph access {\n") {
		t.Errorf("-o dot without Graphviz: exit %d\n%s%s", code, out, errOut)
	}
}
