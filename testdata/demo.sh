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

section "Every change is audited; the hash chain shows tampering"
run deskctl audit log
run deskctl audit verify

section "Stable JSON for scripts"
run deskctl user list -o json
