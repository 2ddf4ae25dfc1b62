// Package helpdesk holds deskctl's domain: users, groups, resources, the
// rights catalog, tickets, approvals and the audit chain. It is pure: no
// storage, no terminal, no command-line framework. Storage lives in
// internal/store, use cases in internal/app, the permission engine in
// internal/access.
package helpdesk
