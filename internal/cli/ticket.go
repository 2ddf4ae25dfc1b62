package cli

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

var _ = register("ticket", func(f *Factory) (string, *cobra.Command) {
	cmd := noun("ticket", "Create and work tickets through ticket actions", `Every change to a ticket is a ticket action (comment, close, authorize, …). Whether
you may run an action on a ticket is decided by the permission engine: you need a role
on the ticket, the action's category must admit that role, you must not be read-only,
the ticket's state must be one the action applies to, and you must hold the action.
When any of these fails the command exits 4 and says which condition failed and how to
fix it (see `+"`deskctl access explain LOGIN --ticket N`).",
		newCmdTicketCreate(f), newCmdTicketList(f), newCmdTicketShow(f), newCmdTicketLog(f), newCmdTicketDo(f), newCmdTicketEdit(f), newCmdTicketImport(f))
	for _, v := range thinVerbs {
		cmd.AddCommand(newCmdTicketVerb(f, v))
	}
	return "work", cmd
})

func parseTicket(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(s, "#"))
	if err != nil || n <= 0 {
		return 0, errs.Usagef("%q is not a ticket number", s).WithHint("write it like 42 or #42")
	}
	return n, nil
}

// ticketFlag is a --ticket flag: a ticket number like 42 or #42, checked
// when the flag is parsed (0 and other non-numbers are usage errors).
type ticketFlag struct{ n *int }

func (t ticketFlag) String() string {
	if t.n == nil {
		return "0"
	}
	return strconv.Itoa(*t.n)
}

func (t ticketFlag) Set(s string) error {
	n, err := parseTicket(s)
	if err != nil {
		return err
	}
	*t.n = n
	return nil
}

func (t ticketFlag) Type() string { return "N" }

func ticketTab(list []app.TicketView) output.Tab {
	t := output.Tab{Columns: output.Cols("#", "STATE", "PRIORITY", "RESOURCE", "REQUESTER", "ASSIGNEE", "SUBJECT*", "CATEGORY+", "DUE+", "UPDATED+"),
		Empty: "no tickets"}
	for _, x := range list {
		t.Rows = append(t.Rows, ticketRow(x))
	}
	return t
}

func ticketRow(x app.TicketView) []string {
	return []string{itoa(x.Number), x.State, x.Priority, x.Resource, x.Requester, x.Assignee, x.Subject, x.Category, x.Due, ts(x.Updated)}
}

// allTicketsPage is how many tickets `ticket list --all` reads in one
// transaction; between two pages other commands may write.
var allTicketsPage = 5000

// printAllTickets lists every ticket matching q a page at a time, newest
// first, each page below the last number of the page before: a ticket is
// listed once at most, one created meanwhile is not listed, and -o json and
// -o csv are written as the pages come.
func (f *Factory) printAllTickets(svc app.UseCases, q app.TicketQuery) error {
	p, err := f.Printer()
	if err != nil {
		return err
	}
	l, err := p.List(ticketTab(nil))
	if err != nil {
		return err
	}
	q.Limit = allTicketsPage
	for {
		page, err := svc.ListTickets(q)
		if err != nil {
			l.Flush()
			return err
		}
		for _, x := range page {
			if err := l.Add(x, ticketRow(x)); err != nil {
				return err
			}
		}
		if len(page) < q.Limit {
			return l.Close()
		}
		last := page[len(page)-1].Number
		if last <= 0 || (q.Before != 0 && last >= q.Before) {
			// A record whose number is not its key: the next page would
			// start over or go back.
			l.Flush()
			return errs.Unusablef("the database holds a damaged record: ticket %d came after ticket %d in a list newest first", last, q.Before).
				WithHint("run `deskctl db check` to list every problem, then restore a backup: deskctl db restore FILE --force")
		}
		q.Before = last
	}
}

type ticketCreateOptions struct {
	app.CreateTicketInput
	DescriptionFile string
}

func newCmdTicketCreate(f *Factory) *cobra.Command {
	var o ticketCreateOptions
	cmd := &cobra.Command{
		Use:   "create --subject S [--description D|--description-file F] [--requester U] [--resource R] [--priority P] [--category C]",
		Short: "Open a ticket (a request, or authorized into a resource)",
		Long: `Open a ticket. Without --resource it is a request, waiting for a dispatcher to
authorize it into a resource. Dispatchers may create it straight into a resource
(--resource, state new) and on behalf of another user (--requester).` + exitStatus(),
		Example: `  deskctl ticket create --subject "VPN drops every hour" --priority high
  deskctl --as dispatcher1 ticket create --subject "Printer jam" --requester dave --resource printers`,
		Args: usageArgs(0, 0, "no arguments (use --subject)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.DescriptionFile != "" {
				if o.Description != "" {
					return errs.Usagef("--description and --description-file exclude each other")
				}
				raw, err := readInputFile(o.DescriptionFile)
				if err != nil {
					return err
				}
				o.Description = string(raw)
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			t, err := svc.CreateTicket(o.CreateTicketInput)
			if err != nil {
				return err
			}
			f.notef("created #%d (%s)", t.Number, t.State)
			return f.print(t, ticketTab([]app.TicketView{t}))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Subject, "subject", "", "one-line summary")
	fl.StringVar(&o.Description, "description", "", "details")
	fl.StringVar(&o.DescriptionFile, "description-file", "", "read the description from a file (- for stdin)")
	fl.StringVar(&o.Requester, "requester", "", "open on behalf of this user (dispatchers)")
	fl.StringVar(&o.Resource, "resource", "", "authorize straight into this resource (dispatchers)")
	fl.StringVar(&o.Priority, "priority", "", "low|normal|high|urgent (default normal)")
	fl.StringVar(&o.Category, "category", "", "free-form category")
	fl.StringVar(&o.Due, "due", "", "due date YYYY-MM-DD")
	_ = cmd.RegisterFlagCompletionFunc("priority", fixedCompletion("low", "normal", "high", "urgent"))
	_ = cmd.RegisterFlagCompletionFunc("requester", completeValue(f, app.CompleteUsers))
	_ = cmd.RegisterFlagCompletionFunc("resource", completeValue(f, app.CompleteResources))
	return cmd
}

// readInputFile reads a file argument, "-" meaning standard input.
func readInputFile(path string) ([]byte, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = readAllLimited(os.Stdin)
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, errs.Wrap(errs.Usage, err, "cannot read %s", path)
	}
	return raw, nil
}

func newCmdTicketList(f *Factory) *cobra.Command {
	var q app.TicketQuery
	var all bool
	cmd := &cobra.Command{
		Use:     "list [--state S] [--resource R [--no-children]] [--requester U] [--assignee U] [--limit N | --all]",
		Aliases: []string{"ls"},
		Short:   "List tickets you have a role on, newest first",
		Long: `List tickets you have a role on (tickets you cannot see are never listed), newest
first, at most --limit of them (50 unless told). When more match, a note on stderr
says so and gives the --before N that shows the next page; --all lists every one,
reading 5 000 at a time so that other commands can write in between (a ticket is listed
once at most; one created meanwhile is not listed) and writing -o json and -o csv as
they come, in memory that does not grow with the list; should a page fail (the file
busy past --lock-timeout, say), what was written stays and the exit code is the error's.
--resource R includes the tickets of R's sub-resources at any depth (--no-children:
R's own only); --resource - lists requests (no resource yet).
JSON fields: number, subject, description, requester, resource, state, priority,
category, due, assignee, links, created, updated.` + exitStatus(),
		Example: "  deskctl ticket list --state new --resource network\n  deskctl ticket list --requester dave -o json\n  deskctl ticket list --all -o csv > tickets.csv",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if q.Limit <= 0 {
				return errs.Usagef("--limit must be positive").WithHint("use --all for every ticket")
			}
			if all && cmd.Flags().Changed("limit") {
				return errs.Usagef("--limit and --all exclude each other")
			}
			if q.NoChildren && q.Resource == "" {
				return errs.Usagef("--no-children applies to --resource").WithHint("name the resource: --resource R --no-children")
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			if all {
				return f.printAllTickets(svc, q)
			}
			// One ticket past the limit tells whether more match, without
			// counting every ticket the actor may see.
			limit := q.Limit
			if q.Limit < math.MaxInt {
				q.Limit++
			}
			ts, err := svc.ListTickets(q)
			if err != nil {
				return err
			}
			if len(ts) > limit {
				ts = ts[:limit]
				shown := itoa(limit) + " matching tickets"
				if limit == 1 {
					shown = "matching ticket"
				}
				f.notef("showing the newest %s; more exist (next page: --before %d; or use --limit N or --all)", shown, ts[limit-1].Number)
			}
			return f.print(ts, ticketTab(ts))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&q.State, "state", "", "request|new|in-progress|waiting|closed")
	fl.StringVar(&q.Resource, "resource", "", "resource name, or - for requests")
	fl.BoolVar(&q.NoChildren, "no-children", false, "with --resource: leave out the tickets of its sub-resources")
	fl.StringVar(&q.Requester, "requester", "", "requester login")
	fl.StringVar(&q.Assignee, "assignee", "", "assignee login, or - for unassigned")
	fl.IntVar(&q.Limit, "limit", 50, "at most N tickets")
	fl.BoolVar(&all, "all", false, "every matching ticket, however many")
	fl.IntVar(&q.Before, "before", 0, "only tickets numbered below N (paging)")
	_ = cmd.RegisterFlagCompletionFunc("state", fixedCompletion("request", "new", "in-progress", "waiting", "closed"))
	_ = cmd.RegisterFlagCompletionFunc("resource", completeValue(f, app.CompleteResources))
	_ = cmd.RegisterFlagCompletionFunc("requester", completeValue(f, app.CompleteUsers))
	_ = cmd.RegisterFlagCompletionFunc("assignee", completeValue(f, app.CompleteUsers))
	return cmd
}

func newCmdTicketShow(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show N",
		Short: "Show a ticket: fields, your role, the actions you can run now, the approval",
		Long: `Show a ticket's details panel: every field, your role on it and why, the ticket
actions available to you now, and the Approval row when an approval exists.
JSON fields: number, subject, description, requester, resource, state, priority, category, due,
assignee, links, created, updated, role (ticket, role, read_only, requester, reason, …),
available_actions, approval (state, approver, text), log_entries.` + exitStatus(),
		Example: "  deskctl ticket show 42\n  deskctl ticket show 42 -o json",
		Args:    usageArgs(1, 1, "a ticket number"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := parseTicket(args[0])
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			t, err := svc.ShowTicket(n)
			if err != nil {
				return err
			}
			role := string(t.Role.Role)
			if t.Role.ReadOnly {
				role += " (read-only)"
			}
			pairs := [][2]string{{"Ticket", "#" + itoa(t.Number)}, {"Subject", t.Subject}, {"State", t.State},
				{"Priority", t.Priority}, {"Resource", t.Resource}, {"Requester", t.Requester}, {"Assignee", t.Assignee},
				{"Category", t.Category}, {"Due", t.Due}, {"Links", joinInts(t.Links)},
				{"Created", ts(t.Created)}, {"Updated", ts(t.Updated)}}
			if t.Approval != nil {
				pairs = append(pairs, [2]string{"Approval", t.Approval.Text})
			}
			pairs = append(pairs, [2]string{"Your role", role + " — " + t.Role.Reason},
				[2]string{"You can", join(t.Available)}, [2]string{"Log entries", itoa(t.LogEntries)},
				[2]string{"Description", t.Description})
			return f.print(t, output.KV("#"+itoa(t.Number), pairs...))
		},
	}
}

func joinInts(ns []int) string {
	var parts []string
	for _, n := range ns {
		parts = append(parts, "#"+itoa(n))
	}
	return join(parts)
}

func newCmdTicketLog(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "log N",
		Short: "Show the ticket's log entries you may see",
		Long: `Show the ticket's log, oldest first. End Users do not see entries visible to
technicians only (internal notes, approval system entries), nor entries whose stored
visibility is neither everyone nor technicians (damage, reported by db check).
JSON fields: seq, time, actor, action, text, from, to, visibility, system.` + exitStatus(),
		Example: "  deskctl ticket log 42",
		Args:    usageArgs(1, 1, "a ticket number"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := parseTicket(args[0])
			if err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			es, err := svc.TicketLog(n)
			if err != nil {
				return err
			}
			t := output.Tab{Columns: output.Cols("#", "TIME", "ACTOR", "ACTION", "STATE", "TEXT*", "VISIBILITY+")}
			for _, e := range es {
				state := ""
				if e.To != "" {
					state = e.From + "→" + e.To
				}
				vis := e.Visibility
				if e.System {
					vis += " (system)"
				}
				t.Rows = append(t.Rows, []string{itoa(e.Seq), ts(e.Time), e.Actor, e.Action, state, e.Text, vis})
			}
			return f.print(es, t)
		},
	}
}

type actionFlags struct {
	Text, Resource, Assignee, Value string
	Link                            int
	// fields holds --subject, --description, --priority, --category and
	// --due on ticket do: the new value named by the field it is for.
	fields map[string]*string
}

func (a *actionFlags) register(f *Factory, cmd *cobra.Command, which ...string) {
	for _, w := range which {
		switch w {
		case "text":
			cmd.Flags().StringVarP(&a.Text, "text", "m", "", "text of the comment, reply or note (or an explanation)")
		case "resource":
			cmd.Flags().StringVar(&a.Resource, "resource", "", "target resource")
			_ = cmd.RegisterFlagCompletionFunc("resource", completeValue(f, app.CompleteResources))
		case "assignee":
			cmd.Flags().StringVar(&a.Assignee, "assignee", "", "member of the ticket's resource")
			_ = cmd.RegisterFlagCompletionFunc("assignee", completeValue(f, app.CompleteUsers))
		case "link":
			cmd.Flags().Var(ticketFlag{&a.Link}, "ticket", "the other ticket's number")
		case "value":
			cmd.Flags().StringVar(&a.Value, "value", "", "new value of the field (edit-* actions)")
		case "fields":
			a.fields = map[string]*string{}
			for _, fl := range []string{"subject", "description", "priority", "category", "due"} {
				a.fields[fl] = cmd.Flags().String(fl, "", "new "+fl+" (the edit action that changes it)")
			}
		}
	}
}

func (a *actionFlags) input(cmd *cobra.Command) (helpdesk.ActionInput, error) {
	in := helpdesk.ActionInput{Text: a.Text, Resource: a.Resource, Assignee: a.Assignee, Link: a.Link, Value: a.Value}
	for name, v := range a.fields {
		if !cmd.Flags().Changed(name) {
			continue
		}
		if in.Field != "" || cmd.Flags().Changed("value") {
			return in, errs.Usagef("give one new value: --value or one field flag").WithHint("an action changes one field")
		}
		in.Field, in.Value = name, *v
	}
	return in, nil
}

func (f *Factory) runActions(reqs ...app.ActionRequest) error {
	svc, err := f.Service()
	if err != nil {
		return err
	}
	r, err := svc.DoAction(reqs...)
	if err != nil {
		return err
	}
	if r.Deleted {
		f.notef("deleted #%d", reqs[0].Ticket)
		p, err := f.Printer()
		if err != nil {
			return err
		}
		if p.Structured() {
			return p.Print(r, output.Tab{})
		}
		return nil
	}
	for _, e := range r.Entries {
		msg := "#" + itoa(r.Ticket.Number) + " " + e.Action
		if e.To != "" {
			msg += " (" + e.From + " → " + e.To + ")"
		}
		f.notef("%s", msg)
	}
	return f.print(r, ticketTab([]app.TicketView{r.Ticket}))
}

func newCmdTicketDo(f *Factory) *cobra.Command {
	var a actionFlags
	var yes bool
	cmd := &cobra.Command{
		Use:   "do N ACTION [--text T] [--resource R] [--assignee U] [--ticket M] [--priority P|--subject S|… or --value V]",
		Short: "Run any ticket action, built-in or custom",
		Long: `Run one ticket action on a ticket. Every ticket verb (comment, close, authorize, …)
is a thin wrapper over this command; custom actions defined with
` + "`deskctl action add`" + ` run through it too. The delete action asks first on a terminal and
needs --yes without one, as ` + "`deskctl ticket delete`" + ` does.` +
			exitStatus("1  delete: you did not answer yes at the prompt: nothing was changed",
				"2  delete: standard input is not a terminal and --yes was not given",
				"4  the action is not available to you on this ticket now (the message names the failed condition and the fix)"),
		Example: `  deskctl ticket do 42 close
  deskctl ticket do 42 escalate --text "customer is a VIP"
  deskctl ticket do 42 edit-priority --priority urgent
  deskctl ticket do 42 edit-due-date --due 2026-12-31`,
		Args:              usageArgs(2, 2, "a ticket number and an ACTION"),
		ValidArgsFunction: completeTicketThenAction(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := parseTicket(args[0])
			if err != nil {
				return err
			}
			in, err := a.input(cmd)
			if err != nil {
				return err
			}
			if args[1] == helpdesk.ActDelete {
				if err := f.confirmTicketDelete(cmd, yes, n); err != nil {
					return err
				}
			}
			return f.runActions(app.ActionRequest{Ticket: n, Action: args[1], Input: in})
		},
	}
	a.register(f, cmd, "text", "resource", "assignee", "link", "value", "fields")
	yesFlag(cmd, &yes)
	cmd.Flag("yes").Usage = "do not ask before the delete action (required for it when standard input is not a terminal)"
	return cmd
}

// thinVerb is a ticket verb that runs exactly one action.
type thinVerb struct {
	name, action, short, example string
	flags                        []string
	required                     string // flag that must be set
}

var thinVerbs = []thinVerb{
	{"comment", helpdesk.ActComment, "Add a comment everyone on the ticket can read", "deskctl ticket comment 42 --text \"any news?\"", []string{"text"}, "text"},
	{"reply", helpdesk.ActReply, "Answer the requester (supporters)", "deskctl ticket reply 42 --text \"restart the router\"", []string{"text"}, "text"},
	{"note", helpdesk.ActNote, "Add an internal note, technicians only", "deskctl ticket note 42 --text \"same as #17\"", []string{"text"}, "text"},
	{"start", helpdesk.ActStart, "Start work (→ in-progress)", "deskctl ticket start 42", []string{"text"}, ""},
	{"wait", helpdesk.ActWait, "Wait for the requester or a third party (→ waiting)", "deskctl ticket wait 42 --text \"waiting for the vendor\"", []string{"text"}, ""},
	{"close", helpdesk.ActClose, "Close the ticket (→ closed)", "deskctl ticket close 42 --text \"fixed\"", []string{"text"}, ""},
	{"reopen", helpdesk.ActReopen, "Reopen a closed ticket", "deskctl ticket reopen 42 --text \"it is back\"", []string{"text"}, ""},
	{"withdraw", helpdesk.ActWithdraw, "Close your own ticket as its requester", "deskctl ticket withdraw 42", []string{"text"}, ""},
	{"authorize", helpdesk.ActAuthorize, "Authorize a request into a resource (request → new)", "deskctl ticket authorize 42 --resource network", []string{"resource", "text"}, "resource"},
	{"forward", helpdesk.ActForward, "Forward the ticket to another resource", "deskctl ticket forward 42 --resource network-wifi", []string{"resource", "text"}, "resource"},
	{"assign", helpdesk.ActAssign, "Assign to a member of the ticket's resource", "deskctl ticket assign 42 --assignee bob", []string{"assignee", "text"}, "assignee"},
	{"take-over", helpdesk.ActTakeOver, "Assign the ticket to yourself", "deskctl ticket take-over 42", []string{"text"}, ""},
	{"link", helpdesk.ActLink, "Relate two tickets", "deskctl ticket link 42 --ticket 17", []string{"link", "text"}, "ticket"},
	{"delete", helpdesk.ActDelete, "Delete the ticket and its approval record", "deskctl ticket delete 42", nil, ""},
}

func newCmdTicketVerb(f *Factory, v thinVerb) *cobra.Command {
	var a actionFlags
	var yes bool
	long := v.short + ". Same as `deskctl ticket do N " + v.action + "`." + exitStatus("4  the action is not available to you on this ticket now")
	if v.action == helpdesk.ActDelete {
		long = v.short + ": it cannot be undone. Same as `deskctl ticket do N " + v.action + "`. On a terminal it\n" +
			"asks first; without one it needs --yes." +
			exitStatus(declinedStatus, noYesStatus, "4  the action is not available to you on this ticket now")
	}
	cmd := &cobra.Command{
		Use:     v.name + " N",
		Short:   v.short,
		Long:    long,
		Example: "  " + v.example,
		Args:    usageArgs(1, 1, "a ticket number"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := parseTicket(args[0])
			if err != nil {
				return err
			}
			if v.required != "" && !cmd.Flags().Changed(v.required) {
				return errs.Usagef("ticket %s needs --%s", v.name, v.required)
			}
			in, err := a.input(cmd)
			if err != nil {
				return err
			}
			if v.action == helpdesk.ActDelete {
				if err := f.confirmTicketDelete(cmd, yes, n); err != nil {
					return err
				}
			}
			return f.runActions(app.ActionRequest{Ticket: n, Action: v.action, Input: in})
		},
		ValidArgsFunction: completeTickets(f),
	}
	a.register(f, cmd, v.flags...)
	if v.action == helpdesk.ActDelete {
		cmd.Use += " [--yes]"
		yesFlag(cmd, &yes)
	}
	return cmd
}

// confirmTicketDelete asks before the delete action, the one ticket action
// that cannot be undone. When delete is not available to the user on the
// ticket there is nothing to ask: the action is refused with the reason.
func (f *Factory) confirmTicketDelete(cmd *cobra.Command, yes bool, n int) error {
	return f.confirmed(cmd, yes, func(svc app.UseCases) (string, error) {
		t, err := svc.ShowTicket(n)
		if err != nil || !slices.Contains(t.Available, helpdesk.ActDelete) {
			return "", err
		}
		approval := ""
		if t.Approval != nil {
			approval = "its approval record"
		}
		return fmt.Sprintf("Delete ticket #%d (%s)%s?", t.Number, helpdesk.EscapeText(t.Subject),
			withParts(counted(t.LogEntries, "log entry", "log entries"), approval)), nil
	})
}

func newCmdTicketEdit(f *Factory) *cobra.Command {
	var subject, description, priority, category, due, text string
	cmd := &cobra.Command{
		Use:   "edit N [--subject S] [--description D] [--priority P] [--category C] [--due YYYY-MM-DD]",
		Short: "Change ticket fields (each field needs its edit-* action)",
		Long: `Change one or more fields in one transaction. Each field is its own ticket action
(edit-subject, edit-description, edit-priority, edit-category, edit-due-date) and must be
available to you; if any is not, nothing changes.` + exitStatus("4  one of the edit actions is not available to you"),
		Example: "  deskctl ticket edit 42 --priority urgent --due 2026-12-01",
		Args:    usageArgs(1, 1, "a ticket number"),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := parseTicket(args[0])
			if err != nil {
				return err
			}
			var reqs []app.ActionRequest
			for _, x := range []struct{ flag, action, value string }{
				{"subject", helpdesk.ActEditSubject, subject}, {"description", helpdesk.ActEditDescription, description},
				{"priority", helpdesk.ActEditPriority, priority}, {"category", helpdesk.ActEditCategory, category},
				{"due", helpdesk.ActEditDueDate, due},
			} {
				if cmd.Flags().Changed(x.flag) {
					reqs = append(reqs, app.ActionRequest{Ticket: n, Action: x.action, Input: helpdesk.ActionInput{Value: x.value, Text: text}})
				}
			}
			if len(reqs) == 0 {
				return errs.Usagef("nothing to change").WithHint("pass at least one of --subject, --description, --priority, --category, --due")
			}
			return f.runActions(reqs...)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&subject, "subject", "", "new subject")
	fl.StringVar(&description, "description", "", "new description")
	fl.StringVar(&priority, "priority", "", "low|normal|high|urgent")
	fl.StringVar(&category, "category", "", "new category")
	fl.StringVar(&due, "due", "", "new due date YYYY-MM-DD")
	fl.StringVarP(&text, "text", "m", "", "why (added to the log entry)")
	return cmd
}
