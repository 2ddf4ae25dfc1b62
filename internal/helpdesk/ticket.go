package helpdesk

import (
	"strconv"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

// State is where a ticket is in its life.
type State string

const (
	StateRequest    State = "request" // not yet authorized into a resource
	StateNew        State = "new"
	StateInProgress State = "in-progress"
	StateWaiting    State = "waiting"
	StateClosed     State = "closed"
)

// States lists every ticket state in life-cycle order.
var States = []State{StateRequest, StateNew, StateInProgress, StateWaiting, StateClosed}

// ParseState reads a state name.
func ParseState(s string) (State, error) {
	for _, st := range States {
		if string(st) == s {
			return st, nil
		}
	}
	return "", errs.Usagef("unknown ticket state %q", s).WithHint("use one of: %s", joinStates(States))
}

func joinStates(ss []State) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// Priority of a ticket.
type Priority string

const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Priorities lists every priority, lowest first.
var Priorities = []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}

// ParsePriority reads a priority name.
func ParsePriority(s string) (Priority, error) {
	switch Priority(s) {
	case PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent:
		return Priority(s), nil
	}
	return "", errs.Usagef("unknown priority %q", s).WithHint("use low, normal, high or urgent")
}

// Visibility says who may read a log entry. It is a closed set: a value
// outside it (a damaged record, a typo in an import) is read as
// technicians-only, never as everyone.
type Visibility string

const (
	VisibleEveryone    Visibility = "everyone"
	VisibleTechnicians Visibility = "technicians"
)

// Visibilities lists every valid visibility.
var Visibilities = []Visibility{VisibleEveryone, VisibleTechnicians}

// Valid reports whether v is one of Visibilities.
func (v Visibility) Valid() bool { return v == VisibleEveryone || v == VisibleTechnicians }

// TechniciansOnly is the one place that decides who reads an entry: every
// value but "everyone" keeps it from End Users, so an unknown one fails closed.
func (v Visibility) TechniciansOnly() bool { return v != VisibleEveryone }

// Entry is one line of a ticket's log.
type Entry struct {
	Seq        int        `json:"seq"`
	Time       time.Time  `json:"time"`
	Actor      string     `json:"actor"`
	Action     string     `json:"action"`
	Text       string     `json:"text,omitempty"`
	From       State      `json:"from,omitempty"`
	To         State      `json:"to,omitempty"`
	Visibility Visibility `json:"visibility"`
	System     bool       `json:"system,omitempty"`
}

// Ticket is a request or an authorized ticket with its log.
type Ticket struct {
	Number      int       `json:"number"`
	Subject     string    `json:"subject"`
	Description string    `json:"description"`
	Requester   string    `json:"requester"`
	Resource    string    `json:"resource,omitempty"`
	State       State     `json:"state"`
	Priority    Priority  `json:"priority"`
	Category    string    `json:"category,omitempty"`
	Due         string    `json:"due,omitempty"` // YYYY-MM-DD
	Assignee    string    `json:"assignee,omitempty"`
	Links       []int     `json:"links,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	Log         []Entry   `json:"log"`
}

// Limits on ticket text.
const (
	MaxSubject = 200
	MaxText    = 64 << 10
)

// CleanTicketFields checks subject, description, category and due date, and
// normalises the description's line breaks (CleanText).
func CleanTicketFields(t *Ticket) error {
	if err := ValidateLine("subject", t.Subject, MaxSubject); err != nil {
		return err
	}
	if strings.TrimSpace(t.Subject) == "" {
		return errs.Usagef("a ticket needs a subject").WithHint("pass --subject \"what is wrong\"")
	}
	desc, err := CleanText("description", t.Description, MultiLine, MaxText)
	if err != nil {
		return err
	}
	t.Description = desc
	if err := ValidateLine("category", t.Category, 100); err != nil {
		return err
	}
	if t.Due != "" {
		if _, err := time.Parse("2006-01-02", t.Due); err != nil {
			return errs.Usagef("due date %q is not YYYY-MM-DD", t.Due).WithHint("write it like 2026-12-31")
		}
	}
	return nil
}

// ActionInput carries the arguments of one ticket action.
type ActionInput struct {
	Text     string
	Resource string // authorize, forward
	Assignee string // assign
	Link     int    // link
	Value    string // edit-*: the new field value
	// Field names the field Value was given for (ticket do --priority …);
	// empty when it came as a bare value.
	Field string
}

// Apply runs action r on t for actor: validates its input, changes state
// and fields, and appends the log entry. Availability must have been checked
// by the permission engine; checks that need the directory (resource exists,
// assignee is a member) are the caller's.
func Apply(t *Ticket, r Right, actor string, in ActionInput, now time.Time) (Entry, error) {
	if r.Kind != KindAction {
		return Entry{}, errs.Usagef("%s is a permission, not a ticket action", r.Name)
	}
	text, err := CleanText("text", in.Text, MultiLine, MaxText)
	if err != nil {
		return Entry{}, err
	}
	in.Text = text
	switch {
	case in.Field != "" && in.Field != r.Field && r.Field != "":
		return Entry{}, errs.Usagef("--%s does not go with %s, which changes the %s", in.Field, r.Name, r.Field).
			WithHint("pass the new value as --%s", r.Field)
	case (in.Field != "" || in.Value != "") && r.Field == "":
		return Entry{}, errs.Usagef("%s changes no field, so it takes no new value", r.Name).
			WithHint("drop the value, or run an edit action such as edit-priority")
	}
	if r.RequiresText && strings.TrimSpace(in.Text) == "" {
		return Entry{}, errs.Usagef("%s needs a text", r.Name).WithHint("pass --text \"…\"")
	}
	e := Entry{Time: now, Actor: actor, Action: r.Name, Text: in.Text, Visibility: VisibleEveryone}
	if r.Internal {
		e.Visibility = VisibleTechnicians
	}
	switch r.Name {
	case ActAuthorize, ActForward:
		if in.Resource == "" {
			return e, errs.Usagef("%s needs a resource", r.Name).WithHint("pass --resource NAME")
		}
		if r.Name == ActForward && in.Resource == t.Resource {
			return e, errs.Conflictf("#%d is already in resource %s", t.Number, in.Resource)
		}
		e.Text = joinText("→ resource "+in.Resource, in.Text)
		t.Resource = in.Resource
		if r.Name == ActForward {
			t.Assignee = "" // the new resource's members pick it up
		}
	case ActAssign:
		if in.Assignee == "" {
			return e, errs.Usagef("assign needs an assignee").WithHint("pass --assignee LOGIN")
		}
		t.Assignee = in.Assignee
		e.Text = joinText("assigned to "+in.Assignee, in.Text)
	case ActTakeOver:
		t.Assignee = actor
		e.Text = joinText("taken over by "+actor, in.Text)
	case ActLink:
		if in.Link <= 0 || in.Link == t.Number {
			return e, errs.Usagef("link needs another ticket number").WithHint("pass --ticket N")
		}
		for _, l := range t.Links {
			if l == in.Link {
				return e, errs.Conflictf("#%d is already linked to #%d", t.Number, in.Link)
			}
		}
		t.Links = append(t.Links, in.Link)
		e.Text = joinText("linked to #"+itoa(in.Link), in.Text)
	case ActRequestApproval:
		return e, errs.Usagef("approvals are requested with their own command").
			WithHint("run: deskctl approval request %d --approver LOGIN", t.Number)
	}
	if r.Field != "" {
		v, err := setField(t, r.Field, in.Value)
		if err != nil {
			return e, err
		}
		e.Text = joinText(r.Field+" → "+v, in.Text)
	}
	to := r.ToState
	if r.Name == ActReopen && t.Resource == "" {
		to = StateRequest
	}
	if to != "" && to != t.State {
		e.From, e.To = t.State, to
		t.State = to
	}
	t.Updated = now
	e.Seq = len(t.Log) + 1
	t.Log = append(t.Log, e)
	return e, nil
}

// setField sets a ticket field and returns the value as stored.
func setField(t *Ticket, field, value string) (string, error) {
	switch field {
	case "subject":
		t.Subject = value
	case "description":
		t.Description = value
	case "category":
		t.Category = value
	case "due":
		t.Due = value
	case "priority":
		p, err := ParsePriority(value)
		if err != nil {
			return "", err
		}
		t.Priority = p
		return value, nil
	default:
		return "", errs.Usagef("unknown ticket field %q", field)
	}
	if err := CleanTicketFields(t); err != nil {
		return "", err
	}
	if field == "description" {
		return t.Description, nil
	}
	return value, nil
}

// AddSystemEntry appends a technician-only system entry (approvals).
func (t *Ticket) AddSystemEntry(action, text string, now time.Time, actor string) {
	t.Log = append(t.Log, Entry{Seq: len(t.Log) + 1, Time: now, Actor: actor, Action: action, Text: text,
		Visibility: VisibleTechnicians, System: true})
	t.Updated = now
}

func joinText(a, b string) string {
	if b == "" {
		return a
	}
	return a + ": " + b
}

func itoa(n int) string { return strconv.Itoa(n) }
