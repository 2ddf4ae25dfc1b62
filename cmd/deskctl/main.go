// Command deskctl administers a helpdesk. See internal/cli.
package main

import (
	"os"

	"github.com/deskctl/deskctl/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
