package helpdesk

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

// ApprovalState is where an approval record stands.
type ApprovalState string

const (
	ApprovalPending   ApprovalState = "pending"
	ApprovalApproved  ApprovalState = "approved"
	ApprovalRejected  ApprovalState = "rejected"
	ApprovalCancelled ApprovalState = "cancelled"
)

// ApprovalStates lists every approval state.
var ApprovalStates = []ApprovalState{ApprovalPending, ApprovalApproved, ApprovalRejected, ApprovalCancelled}

// ParseApprovalState reads an approval state name.
func ParseApprovalState(s string) (ApprovalState, error) {
	switch ApprovalState(s) {
	case ApprovalPending, ApprovalApproved, ApprovalRejected, ApprovalCancelled:
		return ApprovalState(s), nil
	}
	return "", errs.Usagef("unknown approval state %q", s).WithHint("use pending, approved, rejected or cancelled")
}

// Approval is the one approval record a ticket may have. Re-requesting after
// a decision or a cancel resets it to pending with a new link.
type Approval struct {
	Ticket   int           `json:"ticket"`
	State    ApprovalState `json:"state"`
	Approver string        `json:"approver"`
	// OnBehalfOf is the approver asked for when a delegation sent the
	// request to Approver instead; empty otherwise.
	OnBehalfOf  string    `json:"on_behalf_of,omitempty"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	Note        string    `json:"note,omitempty"`
	DecidedBy   string    `json:"decided_by,omitempty"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
	Comment     string    `json:"comment,omitempty"`
	CancelledBy string    `json:"cancelled_by,omitempty"`
	// TokenHash is the SHA-256 of the current link token, hex. The token itself is never stored.
	TokenHash string    `json:"token_hash"`
	Expires   time.Time `json:"expires"`
	Round     int       `json:"round"` // how many times the record was (re)requested
	Reminders int       `json:"reminders"`
	// Stages holds a request with several approvers or stages (see
	// approvalrule.go); a record without them asks Approver alone.
	Stages []ApprovalStage `json:"stages,omitempty"`
	// Deadline is the request's due window and timeout action (nil: none);
	// Due is when its open stage is due, from when the stage opened.
	Deadline *DeadlineSpec `json:"deadline,omitempty"`
	Due      time.Time     `json:"due,omitzero"`
	// Nudged is when the open stage opened or its approvers were last
	// reminded; AutoReminders counts the reminders sweeps sent it.
	Nudged        time.Time `json:"nudged,omitzero"`
	AutoReminders int       `json:"auto_reminders,omitempty"`
	// TimedOut says the request was rejected by its deadline.
	TimedOut bool `json:"timed_out,omitempty"`
}

// TokenBytes is the link token's entropy: 256 bits.
const TokenBytes = 32

// NewToken returns a fresh URL-safe link token and its storage hash.
func NewToken() (token, hash string, err error) {
	b := make([]byte, TokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the only form of a token that is ever stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ValidTokenShape reports whether s looks like a token NewToken made, so
// malformed input is refused before any lookup.
func ValidTokenShape(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(TokenBytes) {
		return false
	}
	// The decoder skips \r and \n, so check the alphabet byte by byte.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == TokenBytes
}

// TokenMatches compares a presented token with a stored hash in constant time.
func TokenMatches(token, storedHash string) bool {
	got := HashToken(token)
	return subtle.ConstantTimeCompare([]byte(got), []byte(storedHash)) == 1
}

// LinkProblem says why an approval link cannot be used.
type LinkProblem string

const (
	LinkUnknown    LinkProblem = "unknown"    // never issued, tampered or malformed
	LinkUsed       LinkProblem = "used"       // a decision was already made
	LinkExpired    LinkProblem = "expired"    // past approvals.link-ttl
	LinkCancelled  LinkProblem = "cancelled"  // an administrator withdrew the request
	LinkSuperseded LinkProblem = "superseded" // a newer link (reminder or new request) replaced it
	LinkTimedOut   LinkProblem = "timed-out"  // the request reached its deadline and was rejected
	LinkClosed     LinkProblem = "closed"     // the ticket was closed while the request waited
	LinkTurnedOff  LinkProblem = "turned-off" // approvals.enabled is false
	LinkInactive   LinkProblem = "inactive"   // the approver's account is disabled
	// LinkDecidedByRule: the request (or this link's stage) was settled by
	// the other approvers' decisions before this one decided.
	LinkDecidedByRule LinkProblem = "decided-by-rule"
)

// LinkError is returned for a link that must not lead to a decision.
type LinkError struct {
	Problem LinkProblem
	Ticket  int // 0 when unknown
}

func (e *LinkError) Error() string {
	switch e.Problem {
	case LinkUsed:
		return "this approval link was already used; the decision is recorded"
	case LinkExpired:
		return "this approval link has expired; ask the technician to send a reminder"
	case LinkCancelled:
		return "this approval request was cancelled"
	case LinkTimedOut:
		return "this approval request timed out: nobody decided before its deadline, so it was rejected; nothing was recorded"
	case LinkSuperseded:
		return "this approval link was replaced by a newer one; use the most recent email"
	case LinkClosed:
		return fmt.Sprintf("ticket #%d was closed, so there is nothing left to approve; nothing was recorded", e.Ticket)
	case LinkTurnedOff:
		return "approvals are turned off in this helpdesk, so no decision can be recorded now"
	case LinkInactive:
		return "the approver's account is disabled, so this link cannot record a decision"
	case LinkDecidedByRule:
		return "this approval was already decided by the rule: the other approvers' decisions settled it, so yours is no longer needed"
	}
	return "this approval link is not valid"
}

// Kind lets the CLI map link problems to exit codes.
func (e *LinkError) Kind() errs.Kind {
	if e.Problem == LinkUnknown {
		return errs.NotFound
	}
	return errs.Conflict
}
