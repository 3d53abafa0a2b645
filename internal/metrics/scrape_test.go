package metrics_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/metrics"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokens"
)

// newClock returns the tests' clock, at a fixed time.
func newClock() *clocktest.Clock { return clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) }

// fakeStore counts connections and deliveries, and lists due connections.
type fakeStore struct {
	mu      sync.Mutex
	counts  map[onbehalf.ConnState]int
	pending int
	due     []onbehalf.Due // soonest first
	err     error
	delay   time.Duration

	countCalls, pendingCalls, dueCalls int
	dueBefore                          time.Time
}

func (f *fakeStore) CountConnections(ctx context.Context) (map[onbehalf.ConnState]int, error) {
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.countCalls++
	if f.err != nil {
		return nil, f.err
	}
	out := map[onbehalf.ConnState]int{}
	for k, v := range f.counts {
		out[k] = v
	}
	return out, nil
}

func (f *fakeStore) PendingDeliveries(ctx context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pendingCalls++
	return f.pending, f.err
}

func (f *fakeStore) DueBefore(ctx context.Context, before time.Time, limit int) ([]onbehalf.Due, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dueCalls++
	f.dueBefore = before
	if f.err != nil {
		return nil, f.err
	}
	var out []onbehalf.Due
	for _, d := range f.due {
		if d.Expiry.Before(before) && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *fakeStore) set(fn func(f *fakeStore)) { f.mu.Lock(); fn(f); f.mu.Unlock() }

func TestTokenManagerStats(t *testing.T) {
	st := tokens.Stats{
		Refreshes:      map[string]int64{"ok": 7, "failed": 2, "disconnected": 1, "novel": 3},
		NoRefreshToken: 4, LostAfterUncertain: 1, Pending: 2,
	}
	m := metrics.New(metrics.Options{Stats: func() tokens.Stats { return st }})
	const want = `
# HELP onbehalf_connections_lost_after_uncertain_refresh_total Connections Zoom declared dead right after a refresh whose answer never arrived.
# TYPE onbehalf_connections_lost_after_uncertain_refresh_total counter
onbehalf_connections_lost_after_uncertain_refresh_total 1
# HELP onbehalf_refresh_no_refresh_token_total Zoom refresh answers that carried no new refresh token.
# TYPE onbehalf_refresh_no_refresh_token_total counter
onbehalf_refresh_no_refresh_token_total 4
# HELP onbehalf_uncommitted_pairs Rotated token pairs the store could not save yet, held only in this process's memory.
# TYPE onbehalf_uncommitted_pairs gauge
onbehalf_uncommitted_pairs 2
`
	names := []string{"onbehalf_connections_lost_after_uncertain_refresh_total", "onbehalf_refresh_no_refresh_token_total", "onbehalf_uncommitted_pairs"}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	wantLines(t, scrape(t, m),
		`onbehalf_refreshes_total{result="ok"} 7`,
		`onbehalf_refreshes_total{result="stale"} 0`,
		`onbehalf_refreshes_total{result="disconnected"} 1`,
		`onbehalf_refreshes_total{result="failed"} 2`,
		`onbehalf_refreshes_total{result="uncommitted"} 0`,
		`onbehalf_refreshes_total{result="novel"} 3`,
	)
	// Read at every scrape: no cache.
	st.Refreshes = map[string]int64{"ok": 8}
	st.Pending = 0
	wantLines(t, scrape(t, m), `onbehalf_refreshes_total{result="ok"} 8`, `onbehalf_uncommitted_pairs 0`)
}

func TestStoreCountsCached(t *testing.T) {
	clk := newClock()
	fs := &fakeStore{counts: map[onbehalf.ConnState]int{onbehalf.StateConnected: 5}, pending: 3}
	m := metrics.New(metrics.Options{Store: fs, Now: clk.Now})
	wantLines(t, scrape(t, m),
		`onbehalf_connections{state="connected"} 5`,
		`onbehalf_connections{state="disconnected"} 0`,
		`onbehalf_outbox_pending 3`,
		`onbehalf_metrics_scrape_errors_total{source="connections"} 0`,
		`onbehalf_metrics_scrape_errors_total{source="outbox"} 0`,
	)
	fs.set(func(f *fakeStore) {
		f.counts = map[onbehalf.ConnState]int{onbehalf.StateConnected: 6, onbehalf.StateDisconnected: 2}
		f.pending = 9
	})
	clk.Advance(metrics.DefaultStoreCacheFor - time.Second)
	text := scrape(t, m)
	wantLines(t, text, `onbehalf_connections{state="connected"} 5`, `onbehalf_outbox_pending 3`)
	if fs.countCalls != 1 || fs.pendingCalls != 1 {
		t.Fatalf("store queried %d+%d times within the cache period, want once each", fs.countCalls, fs.pendingCalls)
	}
	clk.Advance(time.Second)
	wantLines(t, scrape(t, m),
		`onbehalf_connections{state="connected"} 6`,
		`onbehalf_connections{state="disconnected"} 2`,
		`onbehalf_outbox_pending 9`,
	)
	if fs.countCalls != 2 || fs.pendingCalls != 2 {
		t.Fatalf("store queried %d+%d times, want twice each", fs.countCalls, fs.pendingCalls)
	}
	noLines(t, text, "onbehalf_keepalive_lag_seconds ")
}

func TestStoreErrorsCountedNeverFatal(t *testing.T) {
	clk := newClock()
	fs := &fakeStore{err: errors.New("database is locked")}
	m := metrics.New(metrics.Options{Store: fs, Due: fs, Now: clk.Now, StoreCacheFor: 10 * time.Second,
		Logger: slog.New(slog.DiscardHandler)})

	// Never a good value yet: the series are left out, the scrape works.
	text := scrape(t, m)
	noLines(t, text, "onbehalf_connections{", "onbehalf_outbox_pending ", "onbehalf_keepalive_lag_seconds ")
	wantLines(t, text,
		`onbehalf_metrics_scrape_errors_total{source="connections"} 1`,
		`onbehalf_metrics_scrape_errors_total{source="outbox"} 1`,
		`onbehalf_metrics_scrape_errors_total{source="keepalive"} 1`,
	)
	// A failing store is not queried harder: the failure is cached too.
	scrape(t, m)
	if fs.countCalls != 1 {
		t.Fatalf("failing store queried %d times within the cache period, want once", fs.countCalls)
	}

	clk.Advance(10 * time.Second)
	fs.set(func(f *fakeStore) {
		f.err, f.counts, f.pending = nil, map[onbehalf.ConnState]int{onbehalf.StateConnected: 1}, 4
	})
	wantLines(t, scrape(t, m), `onbehalf_connections{state="connected"} 1`, `onbehalf_outbox_pending 4`, `onbehalf_keepalive_lag_seconds 0`)

	// Failing again: the last good value stays.
	clk.Advance(10 * time.Second)
	fs.set(func(f *fakeStore) { f.err = errors.New("gone") })
	wantLines(t, scrape(t, m),
		`onbehalf_connections{state="connected"} 1`,
		`onbehalf_outbox_pending 4`,
		`onbehalf_keepalive_lag_seconds 0`,
		`onbehalf_metrics_scrape_errors_total{source="connections"} 2`,
		`onbehalf_metrics_scrape_errors_total{source="outbox"} 2`,
	)
}

func TestKeepAliveLag(t *testing.T) {
	clk := newClock()
	fs := &fakeStore{}
	margin := 15 * time.Minute
	m := metrics.New(metrics.Options{Due: fs, KeepAliveMargin: margin, Now: clk.Now})

	// None due: 0. The query looks past the cache period.
	wantLines(t, scrape(t, m), `onbehalf_keepalive_lag_seconds 0`)
	if want := clk.Now().Add(margin + metrics.DefaultLagCacheFor); !fs.dueBefore.Equal(want) {
		t.Fatalf("DueBefore(%s), want %s", fs.dueBefore, want)
	}

	// Expires in 10 minutes: due since 5 minutes.
	clk.Advance(metrics.DefaultLagCacheFor)
	fs.set(func(f *fakeStore) {
		f.due = []onbehalf.Due{{ConnID: "c1", Expiry: clk.Now().Add(10 * time.Minute)}, {ConnID: "c2", Expiry: clk.Now().Add(12 * time.Minute)}}
	})
	wantLines(t, scrape(t, m), `onbehalf_keepalive_lag_seconds 300`)

	// Cached, but the lag grows with the clock.
	clk.Advance(2 * time.Second)
	wantLines(t, scrape(t, m), `onbehalf_keepalive_lag_seconds 302`)
	if fs.dueCalls != 2 {
		t.Fatalf("DueBefore called %d times, want 2", fs.dueCalls)
	}

	// Already expired a minute ago: margin + 1m.
	clk.Advance(metrics.DefaultLagCacheFor)
	fs.set(func(f *fakeStore) { f.due = []onbehalf.Due{{ConnID: "c3", Expiry: clk.Now().Add(-time.Minute)}} })
	wantLines(t, scrape(t, m), `onbehalf_keepalive_lag_seconds 960`)

	// Due within the cache period but not yet: 0, then it shows without a
	// new query.
	clk.Advance(metrics.DefaultLagCacheFor)
	fs.set(func(f *fakeStore) {
		f.due = []onbehalf.Due{{ConnID: "c4", Expiry: clk.Now().Add(margin + 3*time.Second)}}
	})
	wantLines(t, scrape(t, m), `onbehalf_keepalive_lag_seconds 0`)
	clk.Advance(4 * time.Second)
	wantLines(t, scrape(t, m), `onbehalf_keepalive_lag_seconds 1`)
	if fs.dueCalls != 4 {
		t.Fatalf("DueBefore called %d times, want 4", fs.dueCalls)
	}
}

func TestConcurrentScrapesQueryOnce(t *testing.T) {
	fs := &fakeStore{counts: map[onbehalf.ConnState]int{onbehalf.StateConnected: 1}, delay: 50 * time.Millisecond}
	m := metrics.New(metrics.Options{Store: fs, Due: fs, Stats: func() tokens.Stats { return tokens.Stats{} }})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { scrape(t, m) })
	}
	wg.Wait()
	if fs.countCalls != 1 || fs.pendingCalls != 1 || fs.dueCalls != 1 {
		t.Fatalf("store queried %d/%d/%d times by 10 concurrent scrapes, want once each", fs.countCalls, fs.pendingCalls, fs.dueCalls)
	}
}

func TestLint(t *testing.T) {
	fs := &fakeStore{}
	m := metrics.New(metrics.Options{Store: fs, Due: fs, Stats: func() tokens.Stats { return tokens.Stats{} }})
	m.ObserveTokenRequest("recall", nil, 200, time.Millisecond)
	m.InstrumentZoom(sharedZoom{}).Refresh(t.Context(), "r")
	m.InstrumentZoom(sharedZoom{}).MintToken(t.Context(), "a", onbehalf.KindOBF, "1")
	lint(t, m)
}

// lint fails the test for every problem promtool's lint finds in the
// project's series.
func lint(t *testing.T, m *metrics.Metrics) {
	t.Helper()
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "onbehalf_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

// TestLeaseSeries exports the refresh lease counters, each from its own
// field.
func TestLeaseSeries(t *testing.T) {
	st := tokens.Stats{LeasesTaken: 7, LeaseRenewals: 3, AbandonedLeases: 1}
	m := metrics.New(metrics.Options{Stats: func() tokens.Stats { return st }})
	wantLines(t, scrape(t, m),
		`onbehalf_refresh_leases_taken_total 7`,
		`onbehalf_refresh_lease_renewals_total 3`,
		`onbehalf_refresh_leases_abandoned_total 1`,
	)
}
