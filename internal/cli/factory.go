package cli

import (
	"sync"
	"time"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/client"
	"github.com/deskctl/deskctl/internal/config"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/mail"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Factory hands commands their dependencies. Cheap things are fields;
// expensive ones are functions evaluated on first use, so --help and shell
// completion never read the config file or open the database.
type Factory struct {
	IO  *IOStreams
	Now func() time.Time

	// Set by the root command's persistent flags.
	configFile string
	output     string
	jq         string
	template   string

	root *cobra.Command

	Config func() (*config.Config, error)
	// Service returns the use cases every command runs.
	Service func() (app.UseCases, error)
	// LocalService returns the service over the local database file, for
	// the commands that act on the file itself (init, db backup/restore, serve).
	LocalService func() (*app.Service, error)
}

// NewFactory builds the factory over io.
func NewFactory(io *IOStreams) *Factory {
	f := &Factory{IO: io, Now: time.Now}
	f.Config = sync.OnceValues(func() (*config.Config, error) {
		var flags *pflag.FlagSet
		if f.root != nil {
			flags = f.root.PersistentFlags()
			// An empty --db or --as is a mistake (an unset variable in a
			// script), not a request for the default.
			for _, name := range []string{"db", "as", "server"} {
				if fl := flags.Lookup(name); fl != nil && fl.Changed && fl.Value.String() == "" {
					return nil, errs.Usagef("--%s is empty", name).WithHint("give a value, or leave the flag out for the default")
				}
			}
		}
		return config.Load(flags, f.configFile)
	})
	f.Service = func() (app.UseCases, error) {
		c, err := f.Config()
		if err != nil {
			return nil, err
		}
		if c.Server != "" {
			return f.Remote(c.Server, c.Token)
		}
		return f.LocalService()
	}
	f.LocalService = func() (*app.Service, error) {
		c, err := f.Config()
		if err != nil {
			return nil, err
		}
		if c.Server != "" {
			return nil, errs.Usagef("this command acts on the database file itself and cannot run against a server (%s)", c.Server).
				WithHint("run it on the server host, without --server or DESKCTL_SERVER")
		}
		return &app.Service{
			DBPath:      c.DB,
			LockTimeout: c.LockTimeout,
			Actor:       c.User,
			OSUser:      osLogin,
			Now:         f.Now,
			Mail: &app.MailSettings{
				PublicURL:      c.PublicURL,
				PublicURLUnset: c.Source("public-url") == "default",
				SendWait:       c.SMTP.SendWait,
				SMTP: mail.Config{Host: c.SMTP.Host, Port: c.SMTP.Port, Username: c.SMTP.Username, Password: c.SMTP.Password,
					TLS: c.SMTP.TLS, From: c.SMTP.From, Timeout: c.SMTP.Timeout, Problem: c.SMTP.PasswordErr},
			},
		}, nil
	}
	return f
}

// Remote returns the client for a deskctl server, acting as --as (an
// impersonation request the server grants administrators only).
func (f *Factory) Remote(server, token string) (*client.Client, error) {
	c, err := f.Config()
	if err != nil {
		return nil, err
	}
	return client.New(client.Options{Server: server, Token: token, As: c.User})
}

// Printer returns a printer for the -o, --jq and --template flags.
func (f *Factory) Printer() (*output.Printer, error) {
	format, filter, err := f.outputFormat()
	if err != nil {
		return nil, err
	}
	return &output.Printer{Out: f.IO.Out, Format: format, TTY: f.IO.OutTTY, Color: f.IO.Color, Width: f.IO.Width, ASCII: f.IO.ASCII, Filter: filter}, nil
}

// outputFormat reads -o, --jq and --template. --jq and --template work on
// the JSON document, so either implies -o json; with another -o, or both
// at once, they are a usage error.
func (f *Factory) outputFormat() (output.Format, *output.Filter, error) {
	format := output.Table
	if f.output != "" {
		var err error
		if format, err = output.ParseFormat(f.output); err != nil {
			return "", nil, err
		}
	}
	if f.jq == "" && f.template == "" {
		return format, nil, nil
	}
	flag, parse, text := "--jq", output.ParseJQ, f.jq
	if f.template != "" {
		if f.jq != "" {
			return "", nil, errs.Usagef("--jq and --template cannot be combined").WithHint("use one of them")
		}
		flag, parse, text = "--template", output.ParseTemplate, f.template
	}
	if f.root != nil && f.root.PersistentFlags().Changed("output") && format != output.JSON {
		return "", nil, errs.Usagef("%s works on JSON output, not -o %s", flag, format).WithHint("leave out -o, or use -o json")
	}
	filter, err := parse(text)
	if err != nil {
		return "", nil, err
	}
	return output.JSON, filter, nil
}
