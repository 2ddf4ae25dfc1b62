package cli

import (
	"fmt"
	"strings"

	"github.com/deskctl/deskctl/internal/access"
	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

type graphOptions struct {
	Ticket int
	Right  string
	Format string
}

// graphReceivers bounds the users drawn one by one as receivers of a group
// or members of a resource; the rest are counted in one node.
const graphReceivers = 12

func newCmdAccessGraph(f *Factory) *cobra.Command {
	var o graphOptions
	cmd := &cobra.Command{
		Use:   "graph USER|group:G|resource:R [--right R] [--ticket N] [-o mermaid|dot|svg]",
		Short: "Draw the paths explain lists, as Mermaid, Graphviz dot or SVG",
		Long: `Draw what ` + "`access explain`" + ` says as a picture: the user, the groups they are in
and the groups those are nested in, the resources they are a member of (with their
access), and the rights granted to each of them. Arrows point the way a right travels:
bob → group:tier1 → group:support → close reads "bob is in tier1, which is in support,
which is granted close". With --right only that right's paths are drawn; a right the
user does not hold is drawn dashed. With --ticket the user's role on the ticket is drawn
too, and each action says whether it is available there (dashed when not).

For group:G it draws the groups G is nested in, the rights granted to G and inherited
from them, and who receives them; for resource:R the rights granted to R, its parent
and the members who work its tickets.

-o mermaid (the default) writes a Mermaid flowchart, which GitHub, GitLab and many
editors draw inside a mermaid code block; -o dot writes Graphviz dot text; -o svg
runs Graphviz's dot program (dot -Tsvg) and writes the picture. Names are escaped for
each language, so any name draws as written.

The same permission rules as explain apply: you may draw yourself; drawing others, groups
and resources needs the admin permission.` +
			exitStatus("2  usage error: bad flag, argument or value, or -o svg without Graphviz's dot program (-o dot and -o mermaid need nothing)"),
		Example: "  deskctl access graph bob\n  deskctl access graph bob --right close -o dot | dot -Tpng > close.png\n" +
			"  deskctl access graph bob --ticket 42 -o svg > bob-42.svg\n  deskctl access graph group:tier1",
		Args:              usageArgs(1, 1, "a USER, group:NAME or resource:NAME"),
		ValidArgsFunction: completeFrom(f, app.CompleteUsers),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := output.ParseGraphFormat(o.Format)
			if _, table := output.ParseFormat(o.Format); err != nil && table == nil {
				return errs.Usagef("access graph draws mermaid, dot or svg, not %s", o.Format).
					WithHint("explain prints the same paths as a table or data: deskctl access explain %s -o %s", args[0], o.Format)
			}
			if err != nil {
				return err
			}
			dot := "dot"
			if format == output.SVG {
				// Before any work: without Graphviz there is nothing to draw with.
				if dot, err = output.Graphviz(dot); err != nil {
					return err
				}
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			x, err := svc.Explain(app.ExplainInput{Who: args[0], Ticket: o.Ticket, Right: o.Right, All: true})
			if err != nil {
				return err
			}
			return output.WriteGraph(f.IO.Out, accessGraph(x, o.Right != ""), format, dot)
		},
	}
	fl := cmd.Flags()
	fl.Var(ticketFlag{&o.Ticket}, "ticket", "draw the role on this ticket and each action's availability")
	fl.StringVar(&o.Right, "right", "", "only this right's paths")
	// This command's -o names drawing formats, not the table formats of the global flag.
	fl.StringVarP(&o.Format, "output", "o", string(output.Mermaid), "drawing format: mermaid|dot|svg (svg runs Graphviz's dot)")
	var formats []string
	for _, g := range output.GraphFormats {
		formats = append(formats, string(g))
	}
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion(formats...))
	_ = cmd.RegisterFlagCompletionFunc("ticket", completeValue(f, app.CompleteTickets))
	_ = cmd.RegisterFlagCompletionFunc("right", completeValue(f, app.CompleteRights))
	return cmd
}

// accessGraph turns an explanation into a picture. onlyRight says the
// explanation was asked for one right, which is then drawn even when it is
// not held.
func accessGraph(x app.ExplainResult, onlyRight bool) *output.Graph {
	g := &output.Graph{}
	if x.Subject != nil {
		subjectGraph(g, x.Subject)
	} else if x.User != nil {
		userGraph(g, x.User, onlyRight)
	}
	return g
}

func subjectNode(g *output.Graph, s helpdesk.Subject) string {
	id := s.String()
	switch s.Kind {
	case helpdesk.KindUser:
		g.Node(id, output.ShapeRounded, s.Name)
	case helpdesk.KindResource:
		g.Node(id, output.ShapeCylinder, id)
	default:
		g.Node(id, output.ShapeBox, id)
	}
	return id
}

// chainEdges draws a membership chain (top-down, as explain prints it) as
// arrows from the member up to the group or resource; access labels the
// first step of a resource membership.
func chainEdges(g *output.Graph, c access.Chain, acc helpdesk.Access) {
	for i := len(c) - 1; i > 0; i-- {
		label := ""
		if i == 1 && c[0].Kind == helpdesk.KindResource {
			label = string(acc)
		}
		g.Edge(subjectNode(g, c[i]), subjectNode(g, c[i-1]), label, false)
	}
}

func rightNode(g *output.Graph, name string) string {
	id := "right:" + name
	g.Node(id, output.ShapePill, name)
	return id
}

// pathEdges draws one path: the chain down to the user, then the grant.
func pathEdges(g *output.Graph, p access.Path, right string) {
	chainEdges(g, p.Chain, p.Access)
	g.Edge(subjectNode(g, p.Grant), rightNode(g, right), "", false)
}

func userGraph(g *output.Graph, e *access.Explanation, onlyRight bool) {
	me := helpdesk.UserSubject(e.User)
	lines := []string{e.User}
	if e.Name != "" && e.Name != e.User {
		lines = append(lines, e.Name)
	}
	if !e.Active {
		lines = append(lines, "disabled: holds nothing")
	}
	g.Node(me.String(), output.ShapeRounded, lines...).Dashed = !e.Active
	if !onlyRight {
		for _, m := range e.Groups {
			for _, c := range m.Chains {
				chainEdges(g, c, "")
			}
		}
		for _, r := range e.Resources {
			g.Edge(me.String(), subjectNode(g, helpdesk.ResourceSubject(r.Resource)), string(r.Access), false)
		}
	}
	for _, r := range e.Rights {
		if !r.Granted && !onlyRight {
			continue
		}
		for _, p := range r.Paths {
			pathEdges(g, p, r.Right)
		}
		n := g.Node(rightNode(g, r.Right), output.ShapePill)
		if !r.Granted {
			n.Lines = append(n.Lines, "not held")
			n.Dashed = true
		}
		if c := r.Check; c != nil {
			if c.Available {
				n.Lines = append(n.Lines, fmt.Sprintf("available on #%d", e.Role.Ticket))
			} else {
				n.Lines = append(n.Lines, fmt.Sprintf("not available on #%d: %s", e.Role.Ticket, c.Condition))
				n.Dashed = true
			}
		}
	}
	if e.Role != nil {
		roleEdges(g, me, e.Role)
	}
}

// roleEdges draws the ticket and where the user's role on it comes from.
func roleEdges(g *output.Graph, me helpdesk.Subject, role *access.RoleInfo) {
	title := role.Role.Title()
	if role.ReadOnly {
		title += " (read-only)"
	}
	t := fmt.Sprintf("ticket:%d", role.Ticket)
	g.Node(t, output.ShapeHexagon, fmt.Sprintf("#%d", role.Ticket), title).Dashed = role.Role == access.RoleNone
	switch {
	case role.Role == access.RoleNone:
		g.Edge(me.String(), t, "no role", true)
	case role.Permission != "":
		for _, p := range role.Paths {
			pathEdges(g, p, role.Permission)
		}
		g.Edge(rightNode(g, role.Permission), t, "role", false)
	case role.Resource != "":
		res := subjectNode(g, helpdesk.ResourceSubject(role.Resource))
		g.Edge(me.String(), res, string(role.Access), false)
		g.Edge(res, t, "role", false)
	default:
		label := "role"
		if role.Requester {
			label = "requester"
		}
		g.Edge(me.String(), t, label, false)
	}
}

func subjectGraph(g *output.Graph, s *access.SubjectExplanation) {
	subj, err := helpdesk.ParseSubject(s.Subject, "")
	if err != nil {
		return
	}
	self := subjectNode(g, subj)
	if s.Description != "" {
		n := g.Node(self, output.ShapeBox) // the node just added
		n.Lines = append(n.Lines, shorten(s.Description, 48))
	}
	for _, m := range s.Groups {
		for _, c := range m.Chains {
			chainEdges(g, c, "")
		}
	}
	for _, r := range s.Granted {
		g.Edge(self, rightNode(g, r), "", false)
	}
	for _, r := range s.Inherited {
		for _, p := range r.Paths {
			pathEdges(g, p, r.Right)
		}
	}
	if subj.Kind == helpdesk.KindGroup {
		lines := append([]string{fmt.Sprintf("%d receiving user(s)", s.MemberCount)}, listed(s.Members)...)
		g.Node("receivers", output.ShapeNote, lines...)
		g.Edge("receivers", self, "in, directly or nested", true)
		return
	}
	from := ""
	if s.TicketMembersFrom != "" {
		from = subjectNode(g, helpdesk.ResourceSubject(s.TicketMembersFrom))
	}
	parent := ""
	if s.Parent != "" {
		parent = subjectNode(g, helpdesk.ResourceSubject(s.Parent))
		label := "sub-resource of"
		if parent == from {
			label += ", whose members work its tickets"
		}
		g.Edge(self, parent, label, true)
	}
	if from == "" {
		return
	}
	if from != self && from != parent {
		g.Edge(self, from, "its tickets are worked by its members", true)
	}
	for i, m := range s.TicketMembers {
		if i == graphReceivers {
			more := fmt.Sprintf("%d more member(s)", len(s.TicketMembers)-i)
			g.Node("more-members", output.ShapeNote, more)
			g.Edge("more-members", from, "", false)
			break
		}
		g.Edge(subjectNode(g, helpdesk.UserSubject(m.Login)), from, string(m.Access), false)
	}
}

// listed names up to graphReceivers logins, four to a line, and how many
// more there are.
func listed(logins []string) []string {
	var lines []string
	shown := logins[:min(len(logins), graphReceivers)]
	for len(shown) > 0 {
		n := min(len(shown), 4)
		lines = append(lines, strings.Join(shown[:n], ", "))
		shown = shown[n:]
	}
	if more := len(logins) - graphReceivers; more > 0 {
		lines = append(lines, fmt.Sprintf("and %d more", more))
	}
	return lines
}

// shorten cuts s to at most n characters, ending in "…" when cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
