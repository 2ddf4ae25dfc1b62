package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

// ShutdownGrace is how long Serve lets running requests finish once asked to stop.
const ShutdownGrace = 10 * time.Second

// Serve listens on addr and serves h until ctx is cancelled, then stops
// accepting connections and waits up to ShutdownGrace for running requests.
// It returns nil after a clean shutdown.
func Serve(ctx context.Context, addr string, h http.Handler, logger *slog.Logger) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return errs.Wrap(errs.Usage, err, "cannot listen on %s", addr).
			WithHint("choose a free address with --listen HOST:PORT")
	}
	return ServeListener(ctx, ln, h, logger)
}

// ServeListener is Serve on a listener the caller opened; it closes ln.
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	return ServeListeners(ctx, []net.Listener{ln}, h, logger, nil)
}

// ServeListeners serves h on every listener (TCP, TLS, a Unix socket) until
// ctx is cancelled, like Serve. connContext, when set, sees each accepted
// connection, so a handler can learn who is at the other end of a socket.
func ServeListeners(ctx context.Context, lns []net.Listener, h http.Handler, logger *slog.Logger,
	connContext func(context.Context, net.Conn) context.Context) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// Requests do not inherit ctx: cancelling it starts the shutdown but must
	// not abort a decision that is being recorded.
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ConnContext:       connContext,
	}
	served := make(chan error, len(lns))
	for _, ln := range lns {
		logger.Info("serving approval pages", "address", ln.Addr().String())
		go func() { served <- srv.Serve(ln) }()
	}

	select {
	case err := <-served:
		srv.Close()
		return errs.Wrap(errs.Internal, err, "serving approval pages stopped")
	case <-ctx.Done():
	}

	logger.Info("shutting down; waiting for running requests")
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	for range lns {
		if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			return errs.Wrap(errs.Internal, serr, "serving approval pages stopped")
		}
	}
	if err != nil {
		srv.Close()
		return errs.Wrap(errs.Internal, err, "requests still running after %s were cut off", ShutdownGrace)
	}
	logger.Info("stopped")
	return nil
}
