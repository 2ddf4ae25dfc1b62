package helpdesk

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// AuditRecord is one entry in the append-only audit log. Each record carries
// the hash of the one before it, so editing, reordering or deleting a record
// breaks the chain at that point.
type AuditRecord struct {
	Seq     uint64          `json:"seq"`
	Time    time.Time       `json:"time"`
	Actor   string          `json:"actor"`
	Command string          `json:"command"`
	Subject string          `json:"subject"`
	Before  json.RawMessage `json:"before,omitempty"`
	After   json.RawMessage `json:"after,omitempty"`
	Prev    string          `json:"prev"`
	Hash    string          `json:"hash"`

	// How the change arrived. Records written before deskctl knew channels
	// have none of these, and their hash is computed as it always was.
	Via string `json:"via,omitempty"` // ViaFile, ViaSocket or ViaToken
	// OSUser is the operating-system login that ran the command on the
	// file, or that the server's socket reported (kernel-verified).
	OSUser string `json:"os_user,omitempty"`
	// Token names the API token the request presented (never its secret).
	Token string `json:"token,omitempty"`
	// RealActor is the authenticated user when they acted as Actor
	// (impersonation, `--as` against a server).
	RealActor string `json:"real_actor,omitempty"`
}

// ComputeHash hashes every field but Hash itself, in a fixed layout.
func (r AuditRecord) ComputeHash() string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\x00%s\x00", r.Seq, r.Time.UTC().Format(time.RFC3339Nano), r.Actor, r.Command, r.Subject)
	h.Write(r.Before)
	h.Write([]byte{0})
	h.Write(r.After)
	h.Write([]byte{0})
	h.Write([]byte(r.Prev))
	// The channel fields follow only when set, each named and length
	// prefixed, so older records keep their hash and newer ones cover them.
	for _, f := range [...]struct{ k, v string }{{"via", r.Via}, {"os_user", r.OSUser}, {"token", r.Token}, {"real_actor", r.RealActor}} {
		if f.v != "" {
			fmt.Fprintf(h, "\x00%s=%d:%s", f.k, len(f.v), f.v)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ChainProblem describes the first place an audit chain is broken.
type ChainProblem struct {
	Seq    uint64 `json:"seq"`
	Reason string `json:"reason"`
}

// ChainVerifier checks records one at a time, in stored order.
type ChainVerifier struct {
	prevHash string
	prevSeq  uint64
	count    int
}

// Next checks r against the records seen so far.
func (v *ChainVerifier) Next(r AuditRecord) *ChainProblem {
	v.count++
	switch {
	case r.Seq != v.prevSeq+1:
		return &ChainProblem{r.Seq, fmt.Sprintf("sequence jumps from %d to %d (a record was deleted or reordered)", v.prevSeq, r.Seq)}
	case r.Prev != v.prevHash:
		return &ChainProblem{r.Seq, "previous-hash link does not match the record before it"}
	case r.ComputeHash() != r.Hash:
		return &ChainProblem{r.Seq, "record content does not match its hash (it was edited)"}
	}
	v.prevHash, v.prevSeq = r.Hash, r.Seq
	return nil
}

// Count is how many records were checked.
func (v *ChainVerifier) Count() int { return v.count }
