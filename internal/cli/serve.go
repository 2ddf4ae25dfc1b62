package cli

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/deskctl/deskctl/internal/api"
	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/store"
	"github.com/deskctl/deskctl/internal/web"
	"github.com/spf13/cobra"
)

var _ = register("serve", func(f *Factory) (string, *cobra.Command) {
	var listen, socket, socketMode, socketGroup, tlsCert, tlsKey string
	var trustProxy bool
	var sweepEvery time.Duration
	cmd := &cobra.Command{
		Use:   "serve [--listen 127.0.0.1:8080] [--socket PATH] [--tls-cert FILE --tls-key FILE]",
		Short: "Serve the approval pages and the API for remote deskctl commands",
		Long: `Serve the API that lets every deskctl command run here from elsewhere (--server), and
the pages approvers reach from their mail links.

The API is under /api/v1/. On --socket PATH (a Unix socket, mode --socket-mode, group
--socket-group), the kernel tells the server each caller's uid, and the deskctl user
bound to that OS login acts (user update --os-login): no secret to manage. On the TCP
address, callers present an API token (deskctl token create); serve HTTPS with
--tls-cert and --tls-key, or plain HTTP only behind a TLS proxy or on loopback. Failed
authentications are rate-limited per client and audited (auth-failed). --listen none
serves the socket alone. See docs/security.md.

The pages: GET only shows the page;
the decision is a POST from the page's form, checked for origin and a CSRF token, so
mail scanners that open links never decide. Links are built from public-url, never
from the request's Host header. Tokens are redacted from the request log (stderr).
serve speaks plain HTTP; put a TLS proxy in front and set public-url to https, and every
response carries Strict-Transport-Security: max-age=31536000 (one year, no preload).

The database is opened per request and never held, so every other deskctl command keeps
working while serve runs. The mail a decision causes is sent in the background right
after the approver has their answer, and queued mail that is due is retried every
minute, so a running serve keeps the outbox moving. Every --sweep-every (default 1m)
it also sends the automatic approval reminders that are due and carries out approval
deadlines, as deskctl approval remind --due does; several servers on one database
never do either twice. SIGINT or SIGTERM shut it down
gracefully (the mail being sent is finished; the rest stays queued).` +
			exitStatus("2  the address or socket cannot be listened on, a TLS file cannot be read, or public-url is invalid"),
		Example: "  deskctl serve --listen 127.0.0.1:8080\n  deskctl serve --socket /run/deskctl/deskctl.sock --socket-group deskctl --listen none\n" +
			"  DESKCTL_PUBLIC_URL=https://help.example.com deskctl serve --listen :8443 --tls-cert cert.pem --tls-key key.pem",
		Args: usageArgs(0, 0, "no arguments"),
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
			logger := slog.New(slog.NewTextHandler(f.IO.ErrOut, nil))
			switch _, statErr := os.Stat(svc.DBPath); {
			case store.IsURL(svc.DBPath):
				// A database server that is down now may be up in a moment:
				// serve answers 503 meanwhile and recovers by itself. Any
				// other problem (no deskctl tables, newer schema) is fatal.
				if err := svc.Ping(); errs.Is(err, errs.Busy) {
					logger.Warn("the database is not reachable yet; answering 503 until it is", "db", svc.DBName(), "error", err.Error())
				} else if err != nil {
					return err
				}
			case statErr != nil:
				// Fail at start, not on the first request.
				if _, err := svc.VerifyAudit(); err != nil {
					return err
				}
			}
			if sweepEvery <= 0 {
				return errs.Usagef("--sweep-every %s is not a positive duration", sweepEvery).WithHint("write it like 1m or 30s")
			}
			if cmd.Flags().Changed("trust-proxy") {
				c.TrustProxy = trustProxy
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// Decisions on the page are answered at once; their mail goes
			// out behind them, and due mail is retried every minute.
			lns, err := serveListeners(ctx, listen, socket, socketMode, socketGroup, tlsCert, tlsKey)
			if err != nil {
				return err
			}
			waitMail := svc.StartMailer(ctx, time.Minute)
			waitSweep := svc.StartSweeper(ctx, sweepEvery, func(r app.SweepResult, err error) {
				if err != nil {
					logger.Warn("approval sweep failed; trying again next round", "error", err.Error())
				}
				for _, a := range r.Actions {
					logger.Info("approval sweep", "ticket", a.Ticket, "action", a.Action, "to", strings.Join(a.To, ","), "detail", a.Detail)
				}
			})
			apiHandler := api.New(api.Options{Service: svc, Logger: logger, TrustProxy: c.TrustProxy})
			// One form key per database, so that servers behind one load
			// balancer accept each other's forms; while the database cannot
			// be reached at start, a key of this process only.
			formKey, err := svc.FormKey()
			if err != nil {
				if !errs.Is(err, errs.Busy) {
					return err
				}
				formKey = nil
				logger.Warn("no shared form key yet; approval forms opened on another server are refused until this one restarts", "error", err.Error())
			}
			h := web.New(web.Options{Approvals: svc.Pages(), PublicURL: public, Logger: logger, TrustProxy: c.TrustProxy, API: apiHandler, Secret: formKey})
			for _, ln := range lns {
				f.notef("serving the API and approval pages on %s (links use %s)", describeListener(ln, tlsCert != ""), public)
			}
			err = web.ServeListeners(ctx, lns, h, logger, api.ConnContext)
			stop()
			waitSweep()
			waitMail()
			if socket != "" {
				os.Remove(socket)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (config key listen, default 127.0.0.1:8080)")
	cmd.Flags().StringVar(&socket, "socket", "", "also serve on this Unix socket; callers are known by their OS login")
	cmd.Flags().StringVar(&socketMode, "socket-mode", "0660", "the socket's permissions (octal)")
	cmd.Flags().StringVar(&socketGroup, "socket-group", "", "the socket's group: its members may connect (with mode 0660)")
	cmd.Flags().StringVar(&tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM, with chain)")
	cmd.Flags().StringVar(&tlsKey, "tls-key", "", "the certificate's private key (PEM)")
	cmd.MarkFlagsRequiredTogether("tls-cert", "tls-key")
	cmd.Flags().DurationVar(&sweepEvery, "sweep-every", time.Minute, "how often to send due approval reminders and carry out deadlines")
	cmd.Flags().BoolVar(&trustProxy, "trust-proxy", false, "behind a reverse proxy: rate-limit by the client address in X-Forwarded-For (config key trust-proxy)")
	return "ops", cmd
})

func envToken() string { return os.Getenv("DESKCTL_APPROVAL_TOKEN") }

// serveListeners opens what serve listens on: the TCP address (with TLS
// when a certificate is given) unless it is "none", and the Unix socket.
func serveListeners(ctx context.Context, listen, socket, mode, group, cert, key string) ([]net.Listener, error) {
	var lns []net.Listener
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	if listen != "none" {
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", listen)
		if err != nil {
			return nil, errs.Wrap(errs.Usage, err, "cannot listen on %s", listen).
				WithHint("choose a free address with --listen HOST:PORT, or --listen none with --socket")
		}
		if cert != "" {
			pair, err := tls.LoadX509KeyPair(cert, key)
			if err != nil {
				ln.Close()
				return nil, errs.Wrap(errs.Usage, err, "cannot load the TLS certificate").WithHint("check --tls-cert and --tls-key (PEM files)")
			}
			ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
		}
		lns = append(lns, ln)
	}
	if socket != "" {
		ln, err := listenSocket(socket, mode, group)
		if err != nil {
			closeAll()
			return nil, err
		}
		lns = append(lns, ln)
	}
	if len(lns) == 0 {
		return nil, errs.Usagef("--listen none leaves nothing to serve").WithHint("add --socket PATH, or give --listen an address")
	}
	return lns, nil
}

// listenSocket creates the Unix socket, replacing a stale one left by a
// server that died, and sets its mode and group.
func listenSocket(path, mode, group string) (net.Listener, error) {
	perm, err := strconv.ParseUint(mode, 8, 32)
	if err != nil || perm > 0o777 {
		return nil, errs.Usagef("--socket-mode %q is not an octal mode", mode).WithHint("e.g. 0660 (owner and group) or 0600 (owner only)")
	}
	fail := func(err error) error {
		return errs.Wrap(errs.Usage, err, "cannot serve on socket %s", path).WithHint("check the directory (e.g. /run/deskctl) exists and is writable")
	}
	if st, err := os.Lstat(path); err == nil {
		if st.Mode()&os.ModeSocket == 0 {
			return nil, errs.Usagef("%s exists and is not a socket", path).WithHint("choose another --socket path")
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, errs.Conflictf("another server is listening on %s", path).WithHint("stop it first, or choose another --socket")
		}
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fail(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			ln.Close()
			return nil, errs.Wrap(errs.Usage, err, "no group %s", group).WithHint("create it, or leave --socket-group out")
		}
		gid, _ := strconv.Atoi(g.Gid)
		if err := os.Chown(path, -1, gid); err != nil {
			ln.Close()
			return nil, fail(err)
		}
	}
	if err := os.Chmod(path, os.FileMode(perm)); err != nil {
		ln.Close()
		return nil, fail(err)
	}
	return ln, nil
}

func describeListener(ln net.Listener, tlsOn bool) string {
	a := ln.Addr()
	switch {
	case a.Network() == "unix":
		return "unix://" + a.String()
	case tlsOn:
		return "https://" + a.String()
	}
	return "http://" + a.String()
}
