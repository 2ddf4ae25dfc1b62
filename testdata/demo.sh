#!/usr/bin/env bash
# A scripted tour of deskctl against a fresh database in a temporary directory.
# It prints every command, like a terminal transcript, followed by its output.
#
#   bash testdata/demo.sh [PATH-TO-DESKCTL]      (make demo builds bin/deskctl and runs this)
#
# To extend the tour, add `run deskctl …` lines (a command expected to succeed)
# or `refused deskctl …` lines (a command expected to fail: its exit code is shown).
set -euo pipefail

bin=$(realpath "${1:-bin/deskctl}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Keep the caller's own deskctl setup (database, config file, acting user) out of the tour.
while read -r v; do unset "$v"; done < <(compgen -e DESKCTL_)
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
export DESKCTL_DB="$work/deskctl.db"

deskctl() { "$bin" "$@"; }

# show prints a command line, quoting the arguments that need it.
show() {
	local out='$' a
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:@=,+#-]+$ ]]; then out+=" $a"; else out+=" \"$a\""; fi
	done
	printf '\n%s\n' "$out"
}

# run shows and runs a command; the tour stops at the first one that fails.
run() {
	show "$@"
	"$@"
}

# refused shows and runs a command that must fail, and prints its exit code.
refused() {
	show "$@"
	local code=0
	"$@" || code=$?
	if ((code == 0)); then
		echo "demo: expected this command to fail" >&2
		exit 1
	fi
	echo "(exit $code)"
}

section() { printf '\n\n### %s\n' "$*"; }

section "The administrator sets up the helpdesk (database: $DESKCTL_DB)"
run deskctl init --admin alice --email alice@example.com --name "Alice Admin"
show export DESKCTL_USER=alice
export DESKCTL_USER=alice
run deskctl user add bob --email bob@example.com --name "Bob Tech"
run deskctl user add carol --email carol@example.com --name "Carol Requester"
run deskctl user list

section "Groups nest; a membership that would make a cycle is refused"
run deskctl group add tier1 --description "First-line support"
run deskctl group add support
run deskctl group add-member tier1 bob
run deskctl group add-member support group:tier1
refused deskctl group add-member tier1 group:support
run deskctl group show support

section "Resources receive tickets; a sub-resource without members uses its parent's"
run deskctl resource add network
run deskctl resource add network-wifi --parent network
run deskctl resource add-member network bob --access write
run deskctl resource list

section "Rights are granted to groups, users or resources"
run deskctl access grant start wait close reply note assign --to group:support
run deskctl group add dispatch
run deskctl group add-member dispatch alice
run deskctl access grant dispatcher authorize --to group:dispatch

section "A ticket's life: requested, authorized into a resource, worked, closed, reopened"
run deskctl --as carol ticket create --subject "Wifi drops every hour"
run deskctl ticket authorize 1 --resource network-wifi
run deskctl --as bob ticket start 1
run deskctl --as bob ticket note 1 --text "AP firmware is old"
run deskctl --as bob ticket close 1 --text "replaced the access point"
refused deskctl --as carol ticket close 1
run deskctl --as carol ticket reopen 1 --text "still drops at noon"
run deskctl --as bob ticket close 1 --text "moved the access point away from the microwave"
run deskctl --as bob ticket show 1
run deskctl --as bob ticket log 1

section "Why may someone act? The permission engine explains"
run deskctl access explain bob --ticket 1
refused deskctl access can bob close --ticket 1
run deskctl access can bob reopen --ticket 1

run deskctl access who-can close
run deskctl access graph bob --right close
run deskctl access matrix --rights comment,close,note,dispatcher

section "Ad-hoc approvals: without SMTP configured the mail waits in the outbox"
run deskctl settings set approvals.enabled true
run deskctl access grant request-approval --to group:support
run deskctl user add dan --email dan@example.com --name "Dan Budget"
run deskctl --as carol ticket create --subject "New laptop for the intern"
run deskctl ticket authorize 2 --resource network
run deskctl --as bob approval request 2 --approver dan --note "1 200 EUR, over the team budget"
refused deskctl --as bob approval request 2 --approver alice
run deskctl mail queue
run deskctl --as dan approval approve 2 --comment "ok, buy it"
run deskctl --as bob ticket show 2

section "Permissions as code: export, validate, test offline, plan"
run deskctl policy export
deskctl policy export > "$work/policy.yaml"
cat > "$work/tests.yaml" <<'TESTS'
fixtures:
  wifi: {state: new, resource: network-wifi, requester: carol}
tests:
  - can: {user: bob, right: close, ticket: wifi}
  - cannot: {user: carol, right: close, ticket: wifi}
  - role: {user: bob, ticket: wifi, is: resource-member}
  - who-can: {right: admin, users: [alice]}
TESTS
show cat tests.yaml
cat "$work/tests.yaml"
run deskctl policy validate "$work/policy.yaml"
run deskctl policy test "$work/policy.yaml" --tests "$work/tests.yaml"
run deskctl policy plan "$work/policy.yaml"

section "Every change is audited; the hash chain shows tampering"
run deskctl audit log --limit 8
run deskctl audit verify
run deskctl db check

section "Stable JSON for scripts"
run deskctl user list -o json
