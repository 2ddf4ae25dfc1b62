package helpdesk

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// A record without channel fields hashes exactly as before the fields
// existed, so chains written by older builds still verify.
func TestAuditHashWithoutChannelIsUnchanged(t *testing.T) {
	r := AuditRecord{Seq: 7, Time: time.Date(2026, 1, 31, 9, 30, 0, 123, time.UTC), Actor: "alice", Command: "user add",
		Subject: "user:bob", After: json.RawMessage(`{"login":"bob"}`), Prev: "ab12"}
	const before = "ed3c97a6c9332933f8371138d8ac5f555648efc3d69202595fdd016853bc4f46"
	if got := r.ComputeHash(); got != before {
		t.Fatalf("hash of a record without channel = %s, want %s", got, before)
	}
	seen := map[string]string{before: "none"}
	for name, set := range map[string]func(*AuditRecord){
		"via":        func(r *AuditRecord) { r.Via = ViaSocket },
		"os_user":    func(r *AuditRecord) { r.OSUser = "alice" },
		"token":      func(r *AuditRecord) { r.Token = "ci" },
		"real_actor": func(r *AuditRecord) { r.RealActor = "carol" },
		// The same text in another field must hash differently.
		"os_user=ci": func(r *AuditRecord) { r.OSUser = "ci" },
	} {
		c := r
		set(&c)
		h := c.ComputeHash()
		if other, dup := seen[h]; dup {
			t.Errorf("setting %s hashes like %s: the field is not covered", name, other)
		}
		seen[h] = name
	}
}

func TestAPITokenShapeAndExpiry(t *testing.T) {
	tok, hash, err := NewAPIToken()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, APITokenPrefix) || !ValidAPITokenShape(tok) || hash != HashToken(tok) || strings.Contains(hash, tok) {
		t.Fatalf("token %q hash %q", tok, hash)
	}
	for _, bad := range []string{"", tok[4:], "dsk_" + tok[5:], tok + "A", "DSK_" + tok[4:], "dsk_" + strings.Repeat("!", 43)} {
		if ValidAPITokenShape(bad) {
			t.Errorf("ValidAPITokenShape(%q) = true", bad)
		}
	}
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "12h": 12 * time.Hour, "never": 0} {
		if d, err := ParseExpiry(in); err != nil || d != want {
			t.Errorf("ParseExpiry(%q) = %v, %v", in, d, err)
		}
	}
	for _, bad := range []string{"", "0d", "-1d", "soon", "30s", "99999d"} {
		if _, err := ParseExpiry(bad); err == nil {
			t.Errorf("ParseExpiry(%q) accepted", bad)
		}
	}
	now := time.Now()
	if (APIToken{Expires: now}).Expired(now.Add(-time.Second)) || !(APIToken{Expires: now}).Expired(now) || (APIToken{}).Expired(now) {
		t.Error("Expired is wrong at the boundary or for a token that never expires")
	}
}
