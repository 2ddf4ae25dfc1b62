package cli

import "strings"

// nounExamples are the examples of the noun commands (`deskctl user`,
// `deskctl ticket`, …): the verbs most runs use, in the order a newcomer
// meets them. TestExamplesParse checks that each names a real command and
// flags it accepts.
var nounExamples = map[string][]string{
	"access": {
		"deskctl access explain bob --ticket 42",
		"deskctl access can bob close --ticket 42",
		"deskctl access grant close reply --to group:tier1",
		"deskctl access who-can admin",
	},
	"action": {
		"deskctl action list",
		"deskctl action show close",
		"deskctl action add escalate --category supporter --from-states new,in-progress --to-state in-progress",
	},
	"approval": {
		`deskctl approval request 42 --approver carol --note "new laptop over budget"`,
		"deskctl approval list --state pending",
		`deskctl --as carol approval approve 42 --comment "ok within budget"`,
	},
	"audit": {
		"deskctl audit log --since 24h",
		"deskctl audit log --actor alice -o json",
		"deskctl audit verify",
	},
	"auth": {
		"deskctl auth status",
		"deskctl --server unix:///run/deskctl/deskctl.sock auth status -o json",
	},
	"config": {
		"deskctl config show",
		"deskctl config show -o json",
		"deskctl config path",
	},
	"db": {
		"deskctl db check",
		"deskctl db backup /backups/deskctl.db",
		"deskctl db stats",
	},
	"group": {
		`deskctl group add tier1 --description "First-line support"`,
		"deskctl group add-member tier1 bob",
		"deskctl group add-member support group:tier1",
		"deskctl group show support",
	},
	"mail": {
		"deskctl mail queue",
		"deskctl mail flush",
		"deskctl mail test --to alice@example.com",
	},
	"policy": {
		"deskctl policy export > policy.yaml",
		"deskctl policy validate policy.yaml",
		"deskctl policy plan policy.yaml",
		"deskctl policy apply policy.yaml",
		"deskctl policy test policy.yaml --tests tests.yaml",
	},
	"resource": {
		"deskctl resource add network",
		"deskctl resource add network-wifi --parent network",
		"deskctl resource add-member network bob --access write",
		"deskctl resource list",
	},
	"settings": {
		"deskctl settings list",
		"deskctl settings get approvals.enabled",
		"deskctl settings set approvals.link-ttl 72h",
	},
	"ticket": {
		`deskctl ticket create --subject "VPN drops every hour" --priority high`,
		"deskctl ticket list --state new --resource network",
		"deskctl ticket show 42",
		"deskctl ticket assign 42 --assignee bob",
		`deskctl ticket close 42 --text "router replaced"`,
	},
	"token": {
		"deskctl token create --name laptop",
		"deskctl token list",
		"deskctl token revoke laptop",
	},
	"user": {
		`deskctl user add bob --email bob@example.com --name "Bob Tech"`,
		"deskctl user list",
		"deskctl user show bob",
		"deskctl user disable bob",
	},
}

// nounExample is the Example text of the noun command use.
func nounExample(use string) string {
	lines, ok := nounExamples[use]
	if !ok {
		return "  deskctl " + use + " --help"
	}
	return "  " + strings.Join(lines, "\n  ")
}
