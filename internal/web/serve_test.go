package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/deskctl/deskctl/internal/errs"
)

func TestServeWaitsForRunningRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	started := make(chan struct{})
	release := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- ServeListener(ctx, ln, slow, slog.New(slog.DiscardHandler)) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-started
	cancel()

	// Shutdown closes the listener first; once new connections fail, Serve
	// must still be waiting, because the request above has not finished.
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v while a request was still running", err)
	default:
	}

	close(release)
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Fatalf("the running request was cut off: %q, %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve after a graceful shutdown: %v", err)
	}
}

func TestServeReportsABusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = Serve(context.Background(), ln.Addr().String(), http.NotFoundHandler(), nil)
	if err == nil || errs.KindOf(err) != errs.Usage || !strings.Contains(errs.HintOf(err), "--listen") {
		t.Fatalf("Serve on a taken address: %v (hint %q), want a usage error naming --listen", err, errs.HintOf(err))
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("the listen error is not kept: %v", err)
	}
}

func TestServeServesTheHandler(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	h := New(Options{Approvals: newFake(), PublicURL: mustURL(t, "http://"+ln.Addr().String())})
	go func() { served <- ServeListener(ctx, ln, h, nil) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(b) != "ok\n" {
		t.Errorf("healthz through Serve: %d %q", resp.StatusCode, b)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
}
