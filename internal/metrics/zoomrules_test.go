package metrics_test

import (
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/metrics"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokens"
)

// TestCooldownSeries exports the cool-down and recovery counters.
func TestCooldownSeries(t *testing.T) {
	st := tokens.Stats{CooldownRejections: 5, Cooling: 2, Recoveries: 1}
	m := metrics.New(metrics.Options{Stats: func() tokens.Stats { return st }})
	wantLines(t, scrape(t, m),
		`onbehalf_refresh_cooldown_rejections_total 5`,
		`onbehalf_refresh_cooldowns 2`,
		`onbehalf_connection_recoveries_total 1`,
	)
}

// TestKeepAliveLagWithIdle: with KEEPALIVE_IDLE, a connection whose access
// token expired long ago is not late until Idle after it was issued.
func TestKeepAliveLagWithIdle(t *testing.T) {
	clk := newClock()
	fs := &fakeStore{}
	m := metrics.New(metrics.Options{Due: fs, KeepAliveIdle: 24 * time.Hour, Now: clk.Now})
	// Expired 10 hours ago (issued 11 hours ago): not due.
	fs.set(func(f *fakeStore) { f.due = []onbehalf.Due{{ConnID: "c1", Expiry: clk.Now().Add(-10 * time.Hour)}} })
	wantLines(t, scrape(t, m), `onbehalf_keepalive_lag_seconds 0`)
	// Expired 24 hours ago (issued 25 hours ago): due for an hour.
	clk.Advance(metrics.DefaultLagCacheFor)
	fs.set(func(f *fakeStore) { f.due = []onbehalf.Due{{ConnID: "c1", Expiry: clk.Now().Add(-24 * time.Hour)}} })
	wantLines(t, scrape(t, m), `onbehalf_keepalive_lag_seconds 3600`)
}
