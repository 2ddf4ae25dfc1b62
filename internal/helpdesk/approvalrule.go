package helpdesk

import (
	"strconv"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

// ApprovalRule says how many of a stage's approvers must agree for the
// stage to be settled one way. The zero rule is "any".
type ApprovalRule struct {
	Kind  string // RuleAny, RuleAll, RuleMajority or RuleCount
	Count int    // for RuleCount
}

// Rule kinds.
const (
	RuleAny      = "any"
	RuleAll      = "all"
	RuleMajority = "majority"
	RuleCount    = "count"
)

// ParseApprovalRule reads a rule as written on the command line: any, all,
// majority or a number. flag names the option in messages.
func ParseApprovalRule(flag, s string) (ApprovalRule, error) {
	switch s {
	case "", RuleAny:
		return ApprovalRule{Kind: RuleAny}, nil
	case RuleAll, RuleMajority:
		return ApprovalRule{Kind: s}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return ApprovalRule{}, errs.Usagef("%s %q is not a rule", flag, s).
			WithHint("use any, all, majority or a number of approvers (1 or more)")
	}
	return ApprovalRule{Kind: RuleCount, Count: n}, nil
}

func (r ApprovalRule) String() string {
	switch r.Kind {
	case "", RuleAny:
		return RuleAny
	case RuleCount:
		return strconv.Itoa(r.Count)
	}
	return r.Kind
}

// MarshalText stores a rule as it is written: "any", "all", "majority", "2".
func (r ApprovalRule) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a stored rule.
func (r *ApprovalRule) UnmarshalText(b []byte) error {
	v, err := ParseApprovalRule("rule", string(b))
	*r = v
	return err
}

// Need is how many of n approvers must agree to meet the rule: a majority
// is more than half.
func (r ApprovalRule) Need(n int) int {
	switch r.Kind {
	case RuleAll:
		return n
	case RuleMajority:
		return n/2 + 1
	case RuleCount:
		return r.Count
	}
	return 1
}

// Check refuses a rule that n approvers could never meet.
func (r ApprovalRule) Check(flag string, n int) error {
	if r.Kind == RuleCount && r.Count > n {
		return errs.Usagef("%s %d asks for more approvers than the stage has (%d)", flag, r.Count, n).
			WithHint("lower %s to at most %d, or name more approvers with --approver", flag, n)
	}
	return nil
}

// ApprovalStage is one step of a request: its approvers decide under its
// rules, and the next stage opens only once this one is approved.
type ApprovalStage struct {
	Rule ApprovalRule `json:"rule"`
	// RejectRule settles the stage as rejected: how many rejections it
	// takes. Approvals and rejections are counted separately; a stage whose
	// approvals can no longer meet Rule is rejected too.
	RejectRule ApprovalRule `json:"reject_rule"`
	// State is empty while an earlier stage is still open, pending while
	// this one is, then approved or rejected.
	State     ApprovalState  `json:"state,omitempty"`
	OpenedAt  time.Time      `json:"opened_at,omitzero"`
	DecidedAt time.Time      `json:"decided_at,omitzero"`
	Approvers []ApproverSlot `json:"approvers"`
}

// ApproverSlot is one approver of a stage: a user, or a group that counts
// as one approver whose first member to decide decides for it.
type ApproverSlot struct {
	Approver string `json:"approver"` // a login, or group:NAME
	// Links lists the people asked: the user, or each active member of the
	// group when the request was made; each gets a link of their own.
	Links     []ApprovalLink `json:"links"`
	Decision  ApprovalState  `json:"decision,omitempty"` // approved or rejected once decided
	DecidedBy string         `json:"decided_by,omitempty"`
	DecidedAt time.Time      `json:"decided_at,omitzero"`
	Comment   string         `json:"comment,omitempty"`
	Via       string         `json:"via,omitempty"` // "email link" or "command line"
}

// IsGroup reports whether the slot is a group's.
func (s ApproverSlot) IsGroup() bool { return strings.HasPrefix(s.Approver, "group:") }

// ApprovalLink is one person's link: only its hash is kept, from when its
// mail was sent.
type ApprovalLink struct {
	Login string `json:"login"`
	// OnBehalfOf is the away approver whose delegate Login is; "" when
	// Login was asked in their own right.
	OnBehalfOf string    `json:"on_behalf_of,omitempty"`
	TokenHash  string    `json:"token_hash,omitempty"`
	Expires    time.Time `json:"expires,omitzero"`
}

// LinkRef names one link of a record: stage, approver slot and person.
type LinkRef struct{ Stage, Slot, Link int }

// Plan returns a's stages; a record written before stages existed is read
// as one stage with its single approver.
func (a Approval) Plan() []ApprovalStage {
	if len(a.Stages) > 0 || a.Approver == "" {
		return a.Stages
	}
	slot := ApproverSlot{Approver: a.Approver, Links: []ApprovalLink{{Login: a.Approver, OnBehalfOf: a.OnBehalfOf, TokenHash: a.TokenHash, Expires: a.Expires}}}
	st := ApprovalStage{Rule: ApprovalRule{Kind: RuleAny}, RejectRule: ApprovalRule{Kind: RuleAny}, State: a.State,
		OpenedAt: a.RequestedAt, Approvers: []ApproverSlot{slot}}
	switch a.State {
	case ApprovalApproved, ApprovalRejected:
		st.Approvers[0].Decision, st.Approvers[0].DecidedBy = a.State, a.DecidedBy
		st.Approvers[0].DecidedAt, st.Approvers[0].Comment = a.DecidedAt, a.Comment
		st.DecidedAt = a.DecidedAt
	case ApprovalCancelled:
		st.State = ApprovalPending
	}
	return []ApprovalStage{st}
}

// Single reports whether a asks one user in one stage: the original form
// of a request, shown and mailed exactly as before stages existed.
func (a Approval) Single() bool {
	p := a.Plan()
	return len(p) == 1 && len(p[0].Approvers) == 1 && !p[0].Approvers[0].IsGroup()
}

// OpenStage returns the index of the stage waiting for decisions, or -1.
func (a Approval) OpenStage() int {
	if a.State != ApprovalPending {
		return -1
	}
	for i, st := range a.Plan() {
		if st.State == ApprovalPending {
			return i
		}
	}
	return -1
}

// Link returns the link ref names, if the record has it.
func (a Approval) Link(ref LinkRef) (ApprovalLink, bool) {
	p := a.Plan()
	if ref.Stage < 0 || ref.Stage >= len(p) || ref.Slot < 0 || ref.Slot >= len(p[ref.Stage].Approvers) {
		return ApprovalLink{}, false
	}
	ls := p[ref.Stage].Approvers[ref.Slot].Links
	if ref.Link < 0 || ref.Link >= len(ls) {
		return ApprovalLink{}, false
	}
	return ls[ref.Link], true
}

// FindLink returns the link whose current hash is hash.
func (a Approval) FindLink(hash string) (LinkRef, bool) {
	if hash == "" {
		return LinkRef{}, false
	}
	for i, st := range a.Plan() {
		for j, sl := range st.Approvers {
			for k, l := range sl.Links {
				if l.TokenHash == hash {
					return LinkRef{i, j, k}, true
				}
			}
		}
	}
	return LinkRef{}, false
}

// SetLink replaces the hash and expiry of one link and keeps the summary
// fields in step.
func (a *Approval) SetLink(ref LinkRef, hash string, expires time.Time) {
	a.Stages = a.Plan()
	l := &a.Stages[ref.Stage].Approvers[ref.Slot].Links[ref.Link]
	l.TokenHash, l.Expires = hash, expires
	a.Summarize()
}

// StageOutcome settles a stage of n approvers with the given counts:
// approved once approvals meet rule; rejected once rejections meet reject,
// or once the approvers still to decide could no longer bring approvals up
// to rule; pending otherwise. Decisions are applied one at a time (Decide),
// so the first rule met settles the stage.
func StageOutcome(rule, reject ApprovalRule, n, approved, rejected int) ApprovalState {
	switch {
	case approved >= rule.Need(n):
		return ApprovalApproved
	case rejected >= reject.Need(n), approved+(n-approved-rejected) < rule.Need(n):
		return ApprovalRejected
	}
	return ApprovalPending
}

// Tally counts a stage's decisions.
func (st ApprovalStage) Tally() (approved, rejected int) {
	for _, s := range st.Approvers {
		switch s.Decision {
		case ApprovalApproved:
			approved++
		case ApprovalRejected:
			rejected++
		}
	}
	return approved, rejected
}

// DecisionResult says what one decision settled.
type DecisionResult struct {
	StageState ApprovalState // the stage's state after the decision
	Opened     int           // the stage the decision opened, or -1
	Decided    bool          // the request as a whole is now approved or rejected
}

// Decide records the decision of person by for the approver slot of ref
// and settles whatever it settles: the stage, the opening of the next one,
// the request. A decision that is no longer wanted is refused with the
// LinkError the link would show: LinkUsed when the slot (the group) has
// decided, LinkDecidedByRule when the stage or request was settled without
// it, LinkCancelled when the request was withdrawn.
func (a *Approval) Decide(ref LinkRef, by string, approve bool, comment, via string, now time.Time) (DecisionResult, error) {
	res := DecisionResult{Opened: -1}
	a.Stages = a.Plan()
	if ref.Stage < 0 || ref.Stage >= len(a.Stages) || ref.Slot < 0 || ref.Slot >= len(a.Stages[ref.Stage].Approvers) {
		return res, &LinkError{Problem: LinkUnknown}
	}
	st := &a.Stages[ref.Stage]
	slot := &st.Approvers[ref.Slot]
	switch {
	case a.State == ApprovalCancelled:
		return res, &LinkError{Problem: LinkCancelled, Ticket: a.Ticket}
	case slot.Decision != "":
		return res, &LinkError{Problem: LinkUsed, Ticket: a.Ticket}
	case a.State != ApprovalPending || st.State != ApprovalPending:
		return res, &LinkError{Problem: LinkDecidedByRule, Ticket: a.Ticket}
	}
	slot.Decision = ApprovalRejected
	if approve {
		slot.Decision = ApprovalApproved
	}
	slot.DecidedBy, slot.DecidedAt, slot.Comment, slot.Via = by, now, comment, via
	ok, no := st.Tally()
	st.State = StageOutcome(st.Rule, st.RejectRule, len(st.Approvers), ok, no)
	res.StageState = st.State
	if st.State != ApprovalPending {
		st.DecidedAt = now
	}
	switch {
	case st.State == ApprovalRejected:
		a.State, res.Decided = ApprovalRejected, true
	case st.State == ApprovalApproved && ref.Stage+1 < len(a.Stages):
		next := &a.Stages[ref.Stage+1]
		next.State, next.OpenedAt = ApprovalPending, now
		res.Opened = ref.Stage + 1
		a.startClock(now)
	case st.State == ApprovalApproved:
		a.State, res.Decided = ApprovalApproved, true
	}
	if res.Decided {
		a.DecidedAt = now
		a.DecidedBy, a.Comment = by, comment
	}
	a.Summarize()
	return res, nil
}

// Summarize keeps the record's top-level fields meaningful for readers
// that know only them (JSON, the reporting view, older deskctl): for a
// single approver they are exactly what they always were, and the record
// is kept in that form, without stages; for several,
// Approver lists them ("carol, group:finance then dan") and the token
// hash is empty, each link being kept in its stage, and Expires is the
// latest expiry of the open stage's links (kept once the request ends).
func (a *Approval) Summarize() {
	if len(a.Stages) == 0 {
		return
	}
	if a.Single() {
		s := a.Stages[0].Approvers[0]
		a.Approver = s.Approver
		a.TokenHash, a.Expires = s.Links[0].TokenHash, s.Links[0].Expires
		if s.Decision != "" {
			a.DecidedBy, a.DecidedAt, a.Comment = s.DecidedBy, s.DecidedAt, s.Comment
		}
		a.Stages = nil
		return
	}
	a.Approver = ApproverList(a.Stages)
	a.TokenHash = ""
	if i := a.OpenStage(); i >= 0 {
		a.Expires = time.Time{}
		for _, s := range a.Stages[i].Approvers {
			for _, l := range s.Links {
				if l.Expires.After(a.Expires) {
					a.Expires = l.Expires
				}
			}
		}
	}
}

// ApproverList writes the approvers of stages as "carol, group:finance then dan".
func ApproverList(stages []ApprovalStage) string {
	var parts []string
	for _, st := range stages {
		var names []string
		for _, s := range st.Approvers {
			names = append(names, s.Approver)
		}
		parts = append(parts, strings.Join(names, ", "))
	}
	return strings.Join(parts, " then ")
}

// NewStages builds the stages of a new request from its approvers and
// rules, checked: each stage names at least one approver, none twice, and
// rules its approvers can meet. members gives each approver's people (the
// user, or a group's active members). The first stage is opened at now.
func NewStages(specs []StageSpec, members func(approver string) ([]string, error), now time.Time) ([]ApprovalStage, error) {
	var out []ApprovalStage
	for i, sp := range specs {
		label := "stage " + strconv.Itoa(i+1)
		if len(sp.Approvers) == 0 {
			hint := "name at least one --approver before the first --then"
			if i > 0 {
				hint = "name at least one --approver after each --then, or drop the trailing --then"
			}
			return nil, errs.Usagef("%s has no approver", label).WithHint("%s", hint)
		}
		st := ApprovalStage{Rule: sp.Rule, RejectRule: sp.RejectRule}
		if st.Rule.Kind == "" {
			st.Rule.Kind = RuleAny
		}
		if st.RejectRule.Kind == "" {
			st.RejectRule.Kind = RuleAny
		}
		if err := st.Rule.Check("--rule", len(sp.Approvers)); err != nil {
			return nil, err
		}
		if err := st.RejectRule.Check("--reject-rule", len(sp.Approvers)); err != nil {
			return nil, err
		}
		for _, ap := range sp.Approvers {
			for _, st := range out {
				for _, s := range st.Approvers {
					if s.Approver == ap {
						return nil, errs.Usagef("approver %s is named twice", ap).
							WithHint("name each approver once across all stages")
					}
				}
			}
			for _, s := range st.Approvers {
				if s.Approver == ap {
					return nil, errs.Usagef("approver %s is named twice", ap).
						WithHint("name each approver once across all stages")
				}
			}
			people, err := members(ap)
			if err != nil {
				return nil, err
			}
			slot := ApproverSlot{Approver: ap}
			for _, p := range people {
				slot.Links = append(slot.Links, ApprovalLink{Login: p})
			}
			st.Approvers = append(st.Approvers, slot)
		}
		if i == 0 {
			st.State, st.OpenedAt = ApprovalPending, now
		}
		out = append(out, st)
	}
	if len(out) == 0 {
		return nil, errs.Usagef("approval request needs --approver LOGIN")
	}
	return out, nil
}

// StageSpec is one stage as asked for: its approvers (logins or
// group:NAME) and rules.
type StageSpec struct {
	Approvers  []string     `json:"approvers"`
	Rule       ApprovalRule `json:"rule"`
	RejectRule ApprovalRule `json:"reject_rule"`
}
