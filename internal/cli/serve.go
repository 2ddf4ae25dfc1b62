package cli

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/deskctl/deskctl/internal/web"
	"github.com/spf13/cobra"
)

var _ = register(func(f *Factory) (string, *cobra.Command) {
	var listen string
	var trustProxy bool
	cmd := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:8080]",
		Short: "Serve the approval confirmation pages",
		Long: `Serve the pages approvers reach from their mail links. GET only shows the page;
the decision is a POST from the page's form, checked for origin and a CSRF token, so
mail scanners that open links never decide. Links are built from public-url, never
from the request's Host header. Tokens are redacted from the request log (stderr).

The database is opened per request and never held, so every other deskctl command keeps
working while serve runs. The mail a decision causes is sent in the background right
after the approver has their answer, and queued mail that is due is retried every
minute, so a running serve keeps the outbox moving. SIGINT or SIGTERM shut it down
gracefully (the mail being sent is finished; the rest stays queued).` +
			exitStatus("2  the address cannot be listened on, or public-url is invalid"),
		Example: "  deskctl serve --listen 127.0.0.1:8080\n  DESKCTL_PUBLIC_URL=https://help.example.com deskctl serve --listen :8080",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Config()
			if err != nil {
				return err
			}
			if listen == "" {
				listen = c.Listen
			}
			public, err := web.ParsePublicURL(c.PublicURL)
			if err != nil {
				return err
			}
			svc, err := f.LocalService()
			if err != nil {
				return err
			}
			if _, err := os.Stat(svc.DBPath); err != nil {
				// Fail at start, not on the first request.
				if _, err := svc.VerifyAudit(); err != nil {
					return err
				}
			}
			logger := slog.New(slog.NewTextHandler(f.IO.ErrOut, nil))
			if cmd.Flags().Changed("trust-proxy") {
				c.TrustProxy = trustProxy
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// Decisions on the page are answered at once; their mail goes
			// out behind them, and due mail is retried every minute.
			waitMail := svc.StartMailer(ctx, time.Minute)
			h := web.New(web.Options{Approvals: svc.Pages(), PublicURL: public, Logger: logger, TrustProxy: c.TrustProxy})
			f.notef("serving approval pages on %s (links use %s)", listen, public)
			err = web.Serve(ctx, listen, h, logger)
			stop()
			waitMail()
			return err
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (config key listen, default 127.0.0.1:8080)")
	cmd.Flags().BoolVar(&trustProxy, "trust-proxy", false, "behind a reverse proxy: rate-limit by the client address in X-Forwarded-For (config key trust-proxy)")
	return "ops", cmd
})

func envToken() string { return os.Getenv("DESKCTL_APPROVAL_TOKEN") }
