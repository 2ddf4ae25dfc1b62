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
	}
	logger.Info("serving approval pages", "address", ln.Addr().String())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return errs.Wrap(errs.Internal, err, "serving approval pages stopped")
	case <-ctx.Done():
	}

	logger.Info("shutting down; waiting for running requests")
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return errs.Wrap(errs.Internal, serr, "serving approval pages stopped")
	}
	if err != nil {
		srv.Close()
		return errs.Wrap(errs.Internal, err, "requests still running after %s were cut off", ShutdownGrace)
	}
	logger.Info("stopped")
	return nil
}
