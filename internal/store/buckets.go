// Package store persists deskctl's data in one bbolt file. This file declares
// every bucket and the schema version; accessors live beside it, one file per
// entity, and all of them work inside a *Tx.
package store

// SchemaVersion is the layout this build reads and writes. A database with a
// higher version was written by a newer deskctl and is refused.
const SchemaVersion = 9

var (
	// meta holds schemaKey → big-endian uint64 version.
	bucketMeta = []byte("meta")
	schemaKey  = []byte("schema_version")

	// Directory.
	bucketUsers    = []byte("users")     // login → helpdesk.User
	bucketGroups   = []byte("groups")    // name → helpdesk.Group
	bucketMemberOf = []byte("member_of") // "kind:name\x00group" → "" (reverse index of group members)
	// "kind:name" → the member_of groups of that subject in one record,
	// sorted and joined by "\x00" (absent when it is in no group): the
	// permission engine reads a subject's parents with one Get, where the
	// member_of range costs a cursor seek and a key copy per group.
	bucketParents   = []byte("parents")
	bucketResources = []byte("resources") // name → helpdesk.Resource
	bucketUserRes   = []byte("user_res")  // "login\x00resource" → access (reverse index of resource members)
	bucketChildren  = []byte("res_child") // "parent\x00child" → ""
	bucketOSLogins  = []byte("os_logins") // explicit OS login → login (users whose os-login differs from their login)

	// Rights.
	bucketActions = []byte("actions") // custom action name → helpdesk.Right
	bucketCatalog = []byte("catalog") // catalogKey → every custom action in one compact record (catalog.go)
	bucketGrants  = []byte("grants")  // "kind:name\x00right" → ""
	bucketHolders = []byte("holders") // "right\x00kind:name" → ""

	// Tickets.
	bucketTickets     = []byte("tickets")      // be64(number) → helpdesk.Ticket
	bucketTicketIndex = []byte("ticket_index") // "field\x00value\x00" + be64(number) → "" (assignee keys: the ticket's resource)
	bucketTicketExt   = []byte("ticket_ext")   // import source id → be64(number), so re-imports skip known tickets

	// Approvals.
	bucketApprovals = []byte("approvals")       // be64(ticket) → helpdesk.Approval
	bucketTokens    = []byte("approval_tokens") // token hash → be64(ticket)
	// login of an away approver → helpdesk.Delegation (at most one per user)
	bucketDelegations = []byte("approval_delegations")
	// login of an approver → time of the last digest sent to them (RFC 3339)
	bucketDigests = []byte("approval_digests")

	// API access to `deskctl serve`.
	bucketAPITokens = []byte("api_tokens") // token hash → helpdesk.APIToken

	// Delivery and history.
	bucketOutbox   = []byte("outbox")   // be64(id) → OutboxMail
	bucketSettings = []byte("settings") // key → value
	bucketAudit    = []byte("audit")    // be64(seq) → helpdesk.AuditRecord
)

// allBuckets lists every bucket the current schema has.
var allBuckets = [][]byte{
	bucketMeta, bucketUsers, bucketGroups, bucketMemberOf, bucketParents, bucketResources, bucketUserRes, bucketChildren,
	bucketActions, bucketCatalog, bucketGrants, bucketHolders, bucketTickets, bucketTicketIndex, bucketTicketExt,
	bucketApprovals, bucketTokens, bucketOutbox, bucketSettings, bucketAudit, bucketOSLogins, bucketAPITokens,
	bucketDelegations, bucketDigests,
}
