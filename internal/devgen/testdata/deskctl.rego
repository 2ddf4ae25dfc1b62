# deskctl's permission model in Rego, so OPA can be timed against deskctl on
# the same questions over the same directory (docs/benchmarks.md).
#
# data.directory is what devgen.OPAData exports; input is a devgen.OPAInput:
#   {"user": "u", "right": "close"}                                  holds
#   {"user": "u"}                                                    explanation
#   {"user": "u", "action": "close", "ticket": {number, requester, resource, state}}
#                                                                    role, read_only, allow
# The rules follow internal/access (docs/permissions.md): a user holds a right
# granted directly, to a group they are in (nested, everyone included for active
# users) or to a resource they are a direct member of; exactly one role or none
# per ticket; an action is available when the role admits its category, the user
# is not read-only, the state fits and the user holds the action.
package deskctl

dir := data.directory

user := dir.users[input.user]

active if user.active

direct_groups contains g if some g in user.groups

direct_groups contains "everyone" if active

# Groups reached through nesting, the direct ones included.
effective_groups := graph.reachable(dir.group_parents, direct_groups)

# held: every right the user holds, by any path. Disabled users hold nothing.
held contains r if {
	active
	some r in dir.grants.user[input.user]
}

held contains r if {
	active
	some g in effective_groups
	some r in dir.grants.group[g]
}

held contains r if {
	active
	some res, _ in user.resources
	some r in dir.grants.resource[res]
}

# holds: `access can USER RIGHT` without a ticket.
default holds := false

holds if input.right in held

# grants_via: per held right, the granted subjects it arrives through — the
# grants that would have to be revoked to remove it.
grants_via[r] contains "direct" if {
	active
	some r in dir.grants.user[input.user]
}

grants_via[r] contains sprintf("group:%s", [g]) if {
	active
	some g in effective_groups
	some r in dir.grants.group[g]
}

grants_via[r] contains sprintf("resource:%s (%s)", [res, acc]) if {
	active
	some res, acc in user.resources
	some r in dir.grants.resource[res]
}

# explanation: `access explain USER` — effective groups, resources and, per
# right held, the grants it comes through.
explanation := {
	"user": input.user,
	"active": active,
	"groups": effective_groups,
	"resources": user.resources,
	"rights": grants_via,
}

# --- tickets ---

ticket := input.ticket

requester if ticket.requester == input.user

# The resource whose members count for the ticket: its own resource, or the
# nearest ancestor with members when the resources below have none.
chain := p if some p in graph.reachable_paths(dir.resource_parents, {ticket.resource})

has_members(r) if count(dir.resources[r].members) > 0

members_before(i) if {
	some j, r in chain
	j < i
	has_members(r)
}

members_from := r if {
	some i, r in chain
	has_members(r)
	not members_before(i)
}

member_access := dir.resources[members_from].members[input.user]

read_all if "read-all-tickets" in held

edit_all if {
	read_all
	"edit-all-tickets" in held
}

default role := "none"

role := "dispatcher" if {
	active
	ticket.resource == ""
	"dispatcher" in held
} else := "end-user" if {
	active
	ticket.resource == ""
	requester
} else := "resource-member" if {
	active
	ticket.resource != ""
	member_access
} else := "resource-member" if {
	active
	ticket.resource != ""
	read_all
} else := "end-user" if {
	active
	requester
}

# A Resource Member without write access (or seeing the ticket through
# read-all-tickets alone) and without edit-all-tickets is read-only.
read_only if {
	role == "resource-member"
	member_access != "write"
	not edit_all
}

read_only if {
	role == "resource-member"
	not member_access
	not edit_all
}

right := dir.rights[input.action]

requester_ok if not right.requester_only

requester_ok if requester

category_ok if right.category == "all-users"

category_ok if {
	right.category != "all-users"
	role != "end-user"
}

# A read-only member who is also the requester keeps the all-users actions.
blocked if {
	read_only
	not keeps_all_users
}

keeps_all_users if {
	requester
	right.category == "all-users"
}

# allow: `access can USER ACTION --ticket N`.
default allow := false

allow if {
	role != "none"
	right.kind == "action"
	requester_ok
	category_ok
	not blocked
	ticket.state in right.from_states
	input.action in held
}
