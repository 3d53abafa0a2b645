package app

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/onbehalf/onbehalf/internal/buildinfo"
)

// How the server stops on SIGTERM (or SIGINT), so that no request is cut
// off behind a load balancer:
//
//  1. Drain: /readyz answers 503 at once and keep-alive connections are
//     closed after their current request, while everything keeps serving,
//     for SHUTDOWN_DRAIN (default 5s): load balancers take the instance
//     out, and clients reconnect to others.
//  2. Stop accepting: the listener closes; requests in flight get
//     shutdownTimeout to finish (Wait).
//  3. Background work stops, refreshes in flight are committed, the store
//     closes, the process exits 0.
//
// A second signal during the drain skips the rest of it.

// shutdownTimeout bounds how long requests in flight may take to finish
// once the server stopped accepting (the deploy files count on it).
const shutdownTimeout = 20 * time.Second

// Drain begins a graceful stop without refusing anything: /readyz answers
// 503 from now on and connections are not kept alive past their current
// request. Cancelling the context given to Start then stops the server.
func (a *App) Drain() {
	a.web.Drain()
	a.log.Info("draining: /readyz answers 503 and connections close after each answer; serving on for SHUTDOWN_DRAIN (a second signal stops at once)", "drain", a.Config.ShutdownDrain)
}

// serve starts the server with o and waits for it: until ctx is done, or
// a SIGTERM or SIGINT has drained it.
func serve(ctx context.Context, env Process, o Options) int {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	TuneGC(env.Getenv)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	a, err := Start(ctx, o)
	if err != nil {
		fmt.Fprintf(env.Stderr, "onbehalf: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.Stdout, "onbehalf %s listening on %s (open %s in a browser)\n", buildinfo.Get().Version, a.Addr(), a.BaseURL())
	go func() {
		select {
		case s := <-signals:
			a.log.Info("signal received: shutting down", "signal", s.String())
			a.Drain()
			drain := time.NewTimer(a.Config.ShutdownDrain)
			defer drain.Stop()
			select {
			case <-drain.C:
			case s := <-signals:
				a.log.Info("second signal: ending the drain now", "signal", s.String())
			case <-ctx.Done():
			}
			stop()
		case <-ctx.Done():
		}
	}()
	if err := a.Wait(); err != nil {
		fmt.Fprintf(env.Stderr, "onbehalf: %v\n", err)
		return 1
	}
	return 0
}
