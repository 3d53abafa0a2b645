package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoom"
)

// runIdleDay counts the Zoom refreshes of connections nobody fetches a
// token for, over a simulated stretch of time (-idle-day-span, a day by
// default) with a short KEEPALIVE_IDLE (-idle-day-idle): -idle-day
// connections, imported with grants issued at the fake, are kept alive by
// the real scheduler, token manager and store on a fake clock that the
// scheduler's sleeps move forward. Every refresh is counted at the fake
// Zoom and its fake time recorded; no connection may be refreshed more
// than once per Idle. From the refreshes per connection per Idle it gives
// the rate a million connections put on Zoom with the default Idle.
func runIdleDay(o options, work string) error {
	f := newFakes()
	defer f.Close()
	clk := storetest.NewClock()
	clk.Set(time.Now().UTC().Truncate(time.Second))
	f.zoom.SetClock(clk.Now)
	n, idle, span := o.idleDay, o.idleDayIdle, o.idleDaySpan
	db, err := newDatabase(o, filepath.Join(work, "idle"), "idle")
	if err != nil {
		return err
	}
	defer db.dropUnless(o.keep)
	// Granted just now: access tokens expire in an hour.
	conns, err := importConns(db, f, "zu_idle_", n, func(int) time.Time { return clk.Now().Add(keepalive.AccessTokenLifetime) }, clk.Now)
	if err != nil {
		return err
	}
	st, err := db.open(clk.Now)
	if err != nil {
		return err
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	zc := zoom.New(zoom.Options{ClientID: zoomClientID, ClientSecret: zoomClientSecret, OAuthURL: f.zoom.URL, APIURL: f.zoom.APIURL(), Timeout: 30 * time.Second})
	mgr := &tokens.Manager{Store: st, Zoom: simZoom{zc, clk.Now}, Now: clk.Now, Logger: log}
	defer mgr.Close()
	rec := &refreshLog{Refresher: mgr, now: clk.Now, at: map[string][]time.Time{}}
	start := clk.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &keepalive.Scheduler{Claimer: st, Refresher: rec, Idle: idle, Now: clk.Now, Logger: log,
		Sleep: func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			clk.Advance(d)
			if !clk.Now().Before(start.Add(span)) {
				cancel()
			}
			return ctx.Err()
		}}
	fmt.Printf("\nidle connections: %d on %s, KEEPALIVE_IDLE %s (jitter %s), simulated %s\n", n, db.describe(), idle, s.EffectiveJitter(), span)
	t0, rc0 := time.Now(), f.zoom.RefreshCalls()
	if err := s.Run(ctx); err != nil {
		return err
	}
	wall := time.Since(t0)
	calls := f.zoom.RefreshCalls() - rc0

	// Per connection: refreshes, and the shortest gap between two.
	counts := make([]int, 0, n)
	var gaps []time.Duration
	total := 0
	for _, c := range conns {
		at := rec.at[c.id]
		counts = append(counts, len(at))
		total += len(at)
		for i := 1; i < len(at); i++ {
			gaps = append(gaps, at[i].Sub(at[i-1]))
		}
	}
	slices.Sort(counts)
	slices.Sort(gaps)
	minGap, medGap := time.Duration(-1), time.Duration(0)
	if len(gaps) > 0 {
		minGap, medGap = gaps[0], gaps[len(gaps)/2]
	}
	perIdle := float64(total) / float64(n) / (float64(span) / float64(idle))
	fmt.Printf("simulated %s in %s: %d refresh calls at the fake Zoom (%d reused refresh tokens), %d by the scheduler\n",
		span, round(wall), calls, f.zoom.ReusedRefreshTokens(), total)
	fmt.Printf("  refreshes per connection: min %d, median %d, max %d (at most %d fit: one per Idle)\n",
		counts[0], counts[len(counts)/2], counts[len(counts)-1], int(span/idle))
	if minGap >= 0 {
		fmt.Printf("  time between two refreshes of one connection: shortest %s, median %s (Idle %s)\n", minGap.Round(time.Second), medGap.Round(time.Second), idle)
	}
	fmt.Printf("  refreshes per connection per Idle over the whole span (the first comes Idle after the grant): %.3f\n", perIdle)
	if medGap > 0 {
		// In steady state a connection is refreshed once per median gap;
		// scaled to the default Idle.
		period := time.Duration(float64(keepalive.DefaultIdle) * float64(medGap) / float64(idle))
		perSec := 1e6 / period.Seconds()
		fmt.Printf("  at 1,000,000 idle connections with the default KEEPALIVE_IDLE %s: one refresh per connection every %s, %.1f refreshes/s (%.0f a day) against Zoom; one instance at the default KEEPALIVE_RATE does %d/s\n",
			keepalive.DefaultIdle, period.Round(time.Second), perSec, perSec*86400, keepalive.DefaultRate)
	}
	fmt.Println("\ntargets:")
	maxFit := int(span / idle)
	ok := counts[len(counts)-1] <= maxFit && (minGap < 0 || minGap >= idle-keepalive.DefaultMaxPoll) && calls == total
	check("≤ 1 refresh per connection per KEEPALIVE_IDLE", ok,
		fmt.Sprintf("max %d in %s with Idle %s, shortest gap %s, %d calls at Zoom for %d refreshes", counts[len(counts)-1], span, idle, minGap.Round(time.Second), calls, total))
	check("every idle connection kept alive (at least one refresh per Idle after the first)", counts[0] >= maxFit-1,
		fmt.Sprintf("min %d", counts[0]))
	if !ok || f.zoom.ReusedRefreshTokens() != 0 {
		return errors.New("idle connections were refreshed more than once per KEEPALIVE_IDLE")
	}
	return nil
}

// simZoom moves the expiry of refreshed tokens onto the fake clock: the
// Zoom client computes it from the real time.
type simZoom struct {
	*zoom.Client
	now func() time.Time
}

// Refresh implements the token manager's Zoom.
func (z simZoom) Refresh(ctx context.Context, refreshToken string) (onbehalf.Token, error) {
	tok, err := z.Client.Refresh(ctx, refreshToken)
	if err == nil {
		tok.Expiry = z.now().Add(time.Until(tok.Expiry)).UTC()
	}
	return tok, err
}

// refreshLog records the fake time at which each refresh the scheduler
// made started.
type refreshLog struct {
	onbehalf.Refresher
	now func() time.Time

	mu sync.Mutex
	at map[string][]time.Time
}

// RefreshIfExpiring implements onbehalf.Refresher.
func (r *refreshLog) RefreshIfExpiring(ctx context.Context, id string, before time.Time) (bool, error) {
	start := r.now() // not after: other refreshes' rate-limit sleeps move the clock meanwhile
	ok, err := r.Refresher.RefreshIfExpiring(ctx, id, before)
	if ok {
		r.mu.Lock()
		r.at[id] = append(r.at[id], start)
		r.mu.Unlock()
	}
	return ok, err
}
