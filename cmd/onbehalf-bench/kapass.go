package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
)

// timePasses times keep-alive passes over a database (the scale run's big
// one), with the store opened in this process and the scheduler's default
// settings (KEEPALIVE_IDLE 24h, rate 10/s, batch 500) on a fake clock, so
// that the wall time is what a pass costs the server and the store, and
// the fake time how long the pass takes by design (its rate limit). The
// refresher does what the token manager does with the store for a
// refresh (lease, read, compare-and-swap, release) and counts the call it
// would make to Zoom. Two passes: right after the connections were made
// (nothing is due: the steady state, where each connection falls due once
// a day), and a day later, when every connection is due at once (the worst
// case: a restore, or a keep-alive that was off for a day).
func timePasses(db *database) error {
	clk := storetest.NewClock()
	clk.Set(time.Now().UTC())
	st, err := db.open(clk.Now)
	if err != nil {
		return err
	}
	defer st.Close()
	ref := &storeRefresher{st: st, now: clk.Now}
	s := &keepalive.Scheduler{Claimer: st, Refresher: ref, Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sleep:  func(ctx context.Context, d time.Duration) error { clk.Advance(d); return ctx.Err() }}
	ctx := context.Background()
	pass := func(what string) error {
		calls0, sim0, t0 := ref.calls.Load(), clk.Now(), time.Now()
		stats, err := s.Pass(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("  %-42s %9s wall, %8s by the rate limit; listed %d, Zoom calls %d, refreshed %d, waiting %d, more %v\n",
			what, round(time.Since(t0)), clk.Now().Sub(sim0).Round(time.Millisecond), stats.Listed,
			ref.calls.Load()-calls0, stats.Refreshed, stats.Waiting, stats.More)
		return nil
	}
	n, err := st.CountConnections(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("\nkeep-alive passes over %d connections (default settings: KEEPALIVE_IDLE %s, rate %d/s, batch %d; fake clock):\n",
		n[onbehalf.StateConnected], keepalive.DefaultIdle, keepalive.DefaultRate, keepalive.DefaultBatch)
	for i := range 2 {
		if err := pass(fmt.Sprintf("nothing due (pass %d)", i+1)); err != nil {
			return err
		}
	}
	t0 := time.Now()
	if _, err := st.DueBefore(ctx, clk.Now().Add(-keepalive.Lead(0)), 1); err != nil {
		return err
	}
	fmt.Printf("  %-42s %9s\n", "DueBefore(limit 1) (the lag metric's query)", round(time.Since(t0)))
	clk.Advance(keepalive.DefaultIdle + time.Hour)
	for i := range 2 {
		if err := pass(fmt.Sprintf("a day later, everything due (pass %d)", i+1)); err != nil {
			return err
		}
	}
	return nil
}

// storeRefresher refreshes a connection as the token manager does with
// the store, without Zoom: it takes the refresh lease, reads the
// connection, and when its token expires before the bound, saves a new
// pair (compare-and-swap) and counts the Zoom call that would have made
// it.
type storeRefresher struct {
	st    onbehalf.Store
	now   func() time.Time
	calls atomic.Int64
}

// RefreshIfExpiring implements onbehalf.Refresher.
func (r *storeRefresher) RefreshIfExpiring(ctx context.Context, id string, before time.Time) (bool, error) {
	const owner = "bench"
	l, err := r.st.LockRefresh(ctx, id, owner, 10*time.Second)
	if err != nil || !l.Held {
		return false, err
	}
	defer r.st.UnlockRefresh(context.WithoutCancel(ctx), id, owner)
	c, err := r.st.Connection(ctx, id)
	if err != nil || !c.Token.Expiry.Before(before) {
		return false, err
	}
	r.calls.Add(1)
	tok := onbehalf.Token{AccessToken: "zat_" + rand.Text(), RefreshToken: "zrt_" + rand.Text(),
		Expiry: r.now().Add(keepalive.AccessTokenLifetime).UTC(), Scope: c.Token.Scope}
	if _, err := r.st.SaveToken(ctx, id, c.Token.RefreshToken, tok); err != nil {
		return false, err
	}
	return true, nil
}
