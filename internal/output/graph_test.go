package output

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/errs"
)

func TestMermaidText(t *testing.T) {
	for in, want := range map[string]string{
		"group:tier1":         "group:tier1",
		"bob (Bob O'Brien)":   "bob (Bob O'Brien)",
		`say "hi"`:            "say #34;hi#34;",
		"#1; <b>&amp;</b>":    "#35;1#59; #60;b#62;#38;amp#59;#60;/b#62;",
		"a|b[c]{d}`e`\\f":     "a#124;b#91;c#93;#123;d#125;#96;e#96;#92;f",
		"line\nbreak\ttab":    "line#10;break#9;tab",
		"x\u202ey\x1b[0m":     "x#8238;y#27;#91;0m",
		"café — ← ✓":          "café — ← ✓",
		"non\u00a0breaking":   "non#160;breaking",
		"end":                 "end",
		"click n0 call x()":   "click n0 call x()",
		"%%{init: {}}%%":      "#37;#37;#123;init: #123;#125;#125;#37;#37;",
		"classDef a fill:red": "classDef a fill:red",
	} {
		if got := mermaidText(in); got != want {
			t.Errorf("mermaidText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDotText(t *testing.T) {
	for in, want := range map[string]string{
		"group:tier1":     "group:tier1",
		`say "hi"`:        `say \"hi\"`,
		`back\slash \N`:   `back\\slash \\N`,
		"a &amp; b & c":   "a &#38;amp; b &#38; c",
		"<b>#1; {x|y}":    "<b>#1; {x|y}",
		"line\nbreak":     "line&#10;break",
		"x\u202ey\x1b[0m": "x&#8238;y&#27;[0m",
		"café ←":          "café ←",
	} {
		if got := dotText(in); got != want {
			t.Errorf("dotText(%q) = %q, want %q", in, got, want)
		}
	}
}

// A graph whose every label is hostile to one language or the other.
func hostileGraph() *Graph {
	g := &Graph{}
	g.Node("a", ShapeRounded, `Kim "K" <Ops>`, `a\b & c #1; end`)
	g.Node("b", ShapeBox, "group:x|y{z}")
	g.Node("c", ShapePill, "right\u202eRLO", "ctl\x1b[31m")
	g.Node("d", ShapeHexagon, "#7", "--> ;")
	g.Node("e", ShapeNote, "subgraph end", "%%")
	g.Node("f", ShapeCylinder, "}]);")
	g.Node("c", ShapeBox, "ignored: c exists").Dashed = true
	g.Edge("a", "b", `"q" & |p|`, false)
	g.Edge("b", "c", "", false)
	g.Edge("b", "c", "", false) // drawn once
	g.Edge("a", "d", "-.->", true)
	g.Edge("e", "a", "", true)
	g.Edge("a", "f", "write", false)
	return g
}

func TestGraphKeepsOrderAndDrawsEachEdgeOnce(t *testing.T) {
	g := hostileGraph()
	if len(g.Nodes) != 6 || len(g.Edges) != 5 {
		t.Fatalf("%d nodes and %d edges, want 6 and 5", len(g.Nodes), len(g.Edges))
	}
	if g.Nodes[2].ID != "c" || g.Nodes[2].Shape != ShapePill || !g.Nodes[2].Dashed || g.Nodes[2].Lines[0] != "right\u202eRLO" {
		t.Errorf("the second Node call for c changed more than its dashes: %+v", g.Nodes[2])
	}
	var m, d bytes.Buffer
	if err := WriteMermaid(&m, g); err != nil {
		t.Fatal(err)
	}
	if err := WriteDot(&d, g); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{m.String(), d.String()} {
		// Every name became text inside a quoted label: no raw control, no
		// raw quote, no terminal escape.
		if strings.ContainsAny(s, "\x1b\u202e") {
			t.Errorf("raw control character in:\n%s", s)
		}
	}
	wantMermaid := `flowchart LR
  n0("Kim #34;K#34; #60;Ops#62;<br/>a#92;b #38; c #35;1#59; end")
  n1["group:x#124;y#123;z#125;"]
  n2(["right#8238;RLO<br/>ctl#27;#91;31m"])
  n3{{"#35;7<br/>--#62; #59;"}}
  n4>"subgraph end<br/>#37;#37;"]
  n5[("#125;#93;)#59;")]
  n0 -->|"#34;q#34; #38; #124;p#124;"| n1
  n1 --> n2
  n0 -.->|"-.-#62;"| n3
  n4 -.-> n0
  n0 -->|"write"| n5
  classDef box fill:#fef3c7,stroke:#92400e
  class n1 box
  classDef rounded fill:#dbeafe,stroke:#1e40af
  class n0 rounded
  classDef cylinder fill:#dcfce7,stroke:#166534
  class n5 cylinder
  classDef pill fill:#f3f4f6,stroke:#374151
  class n2 pill
  classDef hexagon fill:#ffedd5,stroke:#9a3412
  class n3 hexagon
  classDef note fill:#ffffff,stroke:#6b7280
  class n4 note
  classDef dashed stroke-dasharray: 5 5
  class n2 dashed
`
	if m.String() != wantMermaid {
		t.Errorf("mermaid:\n%s\nwant:\n%s", m.String(), wantMermaid)
	}
	if !strings.Contains(d.String(), `  n0 [label="Kim \"K\" <Ops>\na\\b &#38; c #1; end", shape=box, style="rounded,filled"`) {
		t.Errorf("dot:\n%s", d.String())
	}
}

// dot itself reads the text and draws every label as it was given.
func TestDotParsesHostileLabels(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("Graphviz's dot is not installed; CI must install it (apt-get install -y graphviz)")
		}
		t.Skip("Graphviz's dot is not installed (apt-get install graphviz); skipping the check that dot reads the output")
	}
	var svg bytes.Buffer
	if err := WriteSVG(&svg, hostileGraph(), "dot"); err != nil {
		t.Fatal(err)
	}
	// The SVG escapes for XML what dot drew: the labels exactly as given.
	for _, want := range []string{">Kim &quot;K&quot; &lt;Ops&gt;<", `>a\b &amp; c #1; end<`, ">group:x|y{z}<",
		">&quot;q&quot; &amp; |p|<", ">}]);<", ">right\u202eRLO<"} {
		if !strings.Contains(svg.String(), want) {
			t.Errorf("the SVG lacks %q:\n%s", want, svg.String())
		}
	}
}

func TestSVGWithoutGraphviz(t *testing.T) {
	var out bytes.Buffer
	err := WriteSVG(&out, hostileGraph(), "deskctl-no-such-dot-program")
	if errs.KindOf(err) != errs.Usage || out.Len() > 0 {
		t.Fatalf("err %v, output %q", err, out.String())
	}
	if !strings.Contains(err.Error(), "deskctl-no-such-dot-program") {
		t.Errorf("the error does not name the program: %v", err)
	}
	hint := errs.HintOf(err)
	for _, want := range []string{"apt-get install graphviz", "brew install graphviz", "-o dot"} {
		if !strings.Contains(hint, want) {
			t.Errorf("hint %q lacks %q", hint, want)
		}
	}
}

func TestParseGraphFormat(t *testing.T) {
	for _, s := range []string{"mermaid", "dot", "svg"} {
		if f, err := ParseGraphFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseGraphFormat(%q) = %q, %v", s, f, err)
		}
	}
	if _, err := ParseGraphFormat("png"); errs.KindOf(err) != errs.Usage {
		t.Errorf("png: %v", err)
	}
}
