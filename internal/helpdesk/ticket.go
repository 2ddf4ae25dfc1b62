package helpdesk

import (
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

// ParsePriority reads a priority name.
func ParsePriority(s string) (Priority, error) {
	switch Priority(s) {
	case PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent:
		return Priority(s), nil
	}
	return "", errs.Usagef("unknown priority %q", s).WithHint("use low, normal, high or urgent")
}

// Visibility says who may read a log entry.
type Visibility string

const (
	VisibleEveryone    Visibility = "everyone"
	VisibleTechnicians Visibility = "technicians"
)

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
