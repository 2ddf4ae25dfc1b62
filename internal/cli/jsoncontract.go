package cli

import (
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/spf13/cobra"
)

// withoutJSON lists the commands that print no JSON document with -o json,
// with what they print instead; docs/json.md lists them too, and a test
// keeps the two and the commands' real output in step. --jq and --template
// are refused on them before any work, rather than filtering nothing.
var withoutJSON = map[string]string{
	"user remove":           "nothing; the exit status says whether it worked",
	"group remove":          "nothing; the exit status says whether it worked",
	"resource remove":       "nothing; the exit status says whether it worked",
	"action remove":         "nothing; the exit status says whether it worked",
	"access graph":          "a Mermaid or Graphviz picture (its own -o mermaid|dot|svg)",
	"mail test":             "nothing; the exit status says whether the server took the message",
	"logout":                "nothing; the exit status says whether it worked",
	"serve":                 "nothing; it serves until stopped",
	"completion bash":       "a shell script",
	"completion zsh":        "a shell script",
	"completion fish":       "a shell script",
	"completion powershell": "a shell script",
}

// noJSONAnnotation marks a command of withoutJSON; its value says what the
// command prints.
const noJSONAnnotation = "deskctl/no-json"

// markWithoutJSON annotates the commands of withoutJSON in the tree. A
// run's tree may hold only some of them; looking the others up with
// cobra's Find would compute a "did you mean" suggestion for each.
func markWithoutJSON(root *cobra.Command) {
	for path, what := range withoutJSON {
		c := root
		for _, name := range strings.Fields(path) {
			if c = subcommand(c, name); c == nil {
				break
			}
		}
		if c == nil {
			continue
		}
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[noJSONAnnotation] = what
	}
}

// subcommand returns c's subcommand called name, or nil.
func subcommand(c *cobra.Command, name string) *cobra.Command {
	for _, sub := range c.Commands() {
		if sub.Name() == name {
			return sub
		}
	}
	return nil
}

// refuseFilterWithoutJSON is the usage error for --jq or --template on a
// command that has no JSON document to give them.
func (f *Factory) refuseFilterWithoutJSON(cmd *cobra.Command) error {
	what, ok := cmd.Annotations[noJSONAnnotation]
	if !ok || (f.jq == "" && f.template == "") {
		return nil
	}
	flag := "--jq"
	if f.template != "" {
		flag = "--template"
	}
	return errs.Usagef("%s prints no JSON for %s to work on: it prints %s", cmd.CommandPath(), flag, what).
		WithHint("leave out %s; docs/json.md lists what each command prints", flag)
}
