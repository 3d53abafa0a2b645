package metrics

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Sources of scrape-time store queries (the source label of
// onbehalf_metrics_scrape_errors_total).
const (
	sourceConnections = "connections"
	sourceOutbox      = "outbox"
	sourceKeepAlive   = "keepalive"
)

// refreshResults are the token manager's refresh results, exported even
// before the first refresh so that rates start at zero.
var refreshResults = []string{"ok", "stale", "disconnected", "failed", "uncommitted"}

// registerScraped registers the series read when Prometheus scrapes, for
// each source that is set.
func (m *Metrics) registerScraped() {
	m.scrapeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onbehalf_metrics_scrape_errors_total",
		Help: "Store queries made for a scrape that failed (the last good value was served), by source.",
	}, []string{"source"})
	if m.o.Stats != nil {
		m.reg.MustRegister(m.statsCollector())
	}
	var parts []*funcCollector
	if m.o.Store != nil {
		m.scrapeErrors.WithLabelValues(sourceConnections)
		m.scrapeErrors.WithLabelValues(sourceOutbox)
		parts = append(parts, m.connectionsCollector(), m.outboxCollector())
	}
	if m.o.Due != nil {
		m.scrapeErrors.WithLabelValues(sourceKeepAlive)
		parts = append(parts, m.lagCollector())
	}
	if len(parts) > 0 {
		m.reg.MustRegister(&storeCollector{parts: parts, errors: m.scrapeErrors})
	}
}

// storeCollector runs the store's collectors concurrently (a scrape waits
// for the slowest query, not for their sum), then exports the scrape
// errors, so that a scrape's errors are counted in that same scrape.
type storeCollector struct {
	parts  []*funcCollector
	errors *prometheus.CounterVec
}

// Describe implements prometheus.Collector.
func (s *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, p := range s.parts {
		p.Describe(ch)
	}
	s.errors.Describe(ch)
}

// Collect implements prometheus.Collector.
func (s *storeCollector) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, p := range s.parts {
		wg.Go(func() { p.Collect(ch) })
	}
	wg.Wait()
	s.errors.Collect(ch)
}

// statsCollector exports the token manager's counters, read at each scrape
// (they are atomics: no cache).
func (m *Metrics) statsCollector() prometheus.Collector {
	refreshes := prometheus.NewDesc(NameRefreshes,
		"Token pair refreshes by result: ok, stale (dropped, the connection changed meanwhile), disconnected (Zoom rejected the grant), failed (Zoom or the network failed; kept), uncommitted (rotated but the store could not write).",
		[]string{"result"}, nil)
	noRefresh := prometheus.NewDesc("onbehalf_refresh_no_refresh_token_total",
		"Zoom refresh answers that carried no new refresh token.", nil, nil)
	lost := prometheus.NewDesc("onbehalf_connections_lost_after_uncertain_refresh_total",
		"Connections Zoom declared dead right after a refresh whose answer never arrived.", nil, nil)
	pending := prometheus.NewDesc("onbehalf_uncommitted_pairs",
		"Rotated token pairs the store could not save yet, held only in this process's memory.", nil, nil)
	rejected := prometheus.NewDesc("onbehalf_refresh_cooldown_rejections_total",
		"Token refreshes refused with a fast 503, without calling Zoom, because the connection's last refresh failed moments ago (ZOOM_FAILURE_COOLDOWN, or a 429's Retry-After).", nil, nil)
	cooling := prometheus.NewDesc("onbehalf_refresh_cooldowns",
		"Connections in a refresh cool-down in this process now.", nil, nil)
	recovered := prometheus.NewDesc("onbehalf_connection_recoveries_total",
		"Connections whose refreshes were failing (not a dead grant) and refreshed again (connection.recovered).", nil, nil)
	early := prometheus.NewDesc(NameEarlyRefreshes,
		"Refreshes that came less than half of the replaced access token's lifetime after it was issued: more often than the token's lifetime needs.", nil, nil)
	ahead := prometheus.NewDesc(NameAheadRefreshes,
		"Refreshes made ahead of a bot's join, because its access token would not last until the bot asks.", nil, nil)
	leases := prometheus.NewDesc("onbehalf_refresh_leases_taken_total",
		"Refresh leases this instance took to call Zoom (one per refresh it made; taken over ones included).", nil, nil)
	renewals := prometheus.NewDesc("onbehalf_refresh_lease_renewals_total",
		"Renewals of refresh leases held while Zoom answered slowly.", nil, nil)
	abandoned := prometheus.NewDesc("onbehalf_refresh_leases_abandoned_total",
		"Refresh leases taken over from an instance that stopped in the middle of a refresh (its lease ran out without being given back).", nil, nil)
	return &funcCollector{
		descs: []*prometheus.Desc{refreshes, noRefresh, lost, pending, rejected, cooling, recovered, early, ahead, leases, renewals, abandoned},
		collect: func(ch chan<- prometheus.Metric) {
			s := m.o.Stats()
			for _, r := range refreshResults {
				ch <- prometheus.MustNewConstMetric(refreshes, prometheus.CounterValue, float64(s.Refreshes[r]), r)
			}
			for _, r := range sortedKeys(s.Refreshes) {
				if !slices.Contains(refreshResults, r) {
					ch <- prometheus.MustNewConstMetric(refreshes, prometheus.CounterValue, float64(s.Refreshes[r]), r)
				}
			}
			ch <- prometheus.MustNewConstMetric(noRefresh, prometheus.CounterValue, float64(s.NoRefreshToken))
			ch <- prometheus.MustNewConstMetric(lost, prometheus.CounterValue, float64(s.LostAfterUncertain))
			ch <- prometheus.MustNewConstMetric(pending, prometheus.GaugeValue, float64(s.Pending))
			ch <- prometheus.MustNewConstMetric(rejected, prometheus.CounterValue, float64(s.CooldownRejections))
			ch <- prometheus.MustNewConstMetric(cooling, prometheus.GaugeValue, float64(s.Cooling))
			ch <- prometheus.MustNewConstMetric(recovered, prometheus.CounterValue, float64(s.Recoveries))
			ch <- prometheus.MustNewConstMetric(early, prometheus.CounterValue, float64(s.EarlyRefreshes))
			ch <- prometheus.MustNewConstMetric(ahead, prometheus.CounterValue, float64(s.AheadRefreshes))
			ch <- prometheus.MustNewConstMetric(leases, prometheus.CounterValue, float64(s.LeasesTaken))
			ch <- prometheus.MustNewConstMetric(renewals, prometheus.CounterValue, float64(s.LeaseRenewals))
			ch <- prometheus.MustNewConstMetric(abandoned, prometheus.CounterValue, float64(s.AbandonedLeases))
		},
	}
}

// connectionsCollector exports connections by state, cached.
func (m *Metrics) connectionsCollector() *funcCollector {
	desc := prometheus.NewDesc("onbehalf_connections",
		"Zoom connections by state (the whole store: the same on every instance).", []string{"state"}, nil)
	c := &cache[map[onbehalf.ConnState]int]{ttl: m.o.StoreCacheFor}
	return &funcCollector{
		descs: []*prometheus.Desc{desc},
		collect: func(ch chan<- prometheus.Metric) {
			counts, ok := cached(m, c, sourceConnections, func(ctx context.Context) (map[onbehalf.ConnState]int, error) {
				return m.o.Store.CountConnections(ctx)
			})
			if !ok {
				return
			}
			for _, s := range []onbehalf.ConnState{onbehalf.StateConnected, onbehalf.StateDisconnected} {
				ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(counts[s]), string(s))
			}
			for _, s := range sortedKeys(counts) {
				if s != onbehalf.StateConnected && s != onbehalf.StateDisconnected {
					ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(counts[s]), string(s))
				}
			}
		},
	}
}

// outboxCollector exports the outbox backlog, cached.
func (m *Metrics) outboxCollector() *funcCollector {
	desc := prometheus.NewDesc("onbehalf_outbox_pending",
		"Events not yet delivered to the product (the whole store: the same on every instance).", nil, nil)
	c := &cache[int]{ttl: m.o.StoreCacheFor}
	return &funcCollector{
		descs: []*prometheus.Desc{desc},
		collect: func(ch chan<- prometheus.Metric) {
			if n, ok := cached(m, c, sourceOutbox, m.o.Store.PendingDeliveries); ok {
				ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n))
			}
		},
	}
}

// lagCollector exports the keep-alive lag: how long ago the most overdue
// connection became due, max(0, now − (expiry − lead)), 0 when none is
// (the lead is KeepAliveMargin, or keepalive.Lead of KeepAliveIdle).
// The soonest expiry is cached; the lag is computed at each scrape.
func (m *Metrics) lagCollector() *funcCollector {
	desc := prometheus.NewDesc("onbehalf_keepalive_lag_seconds",
		"How long ago the most overdue connection became due for its keep-alive refresh (KEEPALIVE_IDLE after its access token was issued); 0 when none is overdue.",
		nil, nil)
	c := &cache[time.Time]{ttl: m.o.LagCacheFor}
	return &funcCollector{
		descs: []*prometheus.Desc{desc},
		collect: func(ch chan<- prometheus.Metric) {
			soonest, ok := cached(m, c, sourceKeepAlive, m.soonestExpiry)
			if !ok {
				return
			}
			lag := 0.0
			if !soonest.IsZero() {
				lag = max(0, m.o.Now().Sub(soonest.Add(-m.o.KeepAliveMargin)).Seconds())
			}
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, lag)
		},
	}
}

// soonestExpiry returns the expiry of the connection that expires first
// among those due before the cache runs out (zero when none is): a
// connection that becomes due while the answer is cached is not missed.
func (m *Metrics) soonestExpiry(ctx context.Context) (time.Time, error) {
	horizon := m.o.Now().Add(m.o.KeepAliveMargin + m.o.LagCacheFor)
	due, err := m.o.Due.DueBefore(ctx, horizon, 1)
	if err != nil || len(due) == 0 {
		return time.Time{}, err
	}
	return due[0].Expiry, nil
}

// cached returns c's value, loading it first when it is older than its
// ttl; ok is false while no load ever succeeded. A failed load is logged
// and counted, keeps the last good value, and is not retried before the
// ttl ran out: a failing store is not queried harder.
func cached[T any](m *Metrics, c *cache[T], source string, load func(context.Context) (T, error)) (T, bool) {
	return c.get(m.o.Now(), func() (T, error) {
		ctx, cancel := context.WithTimeout(context.Background(), m.o.QueryTimeout)
		defer cancel()
		v, err := load(ctx)
		if err != nil {
			m.scrapeErrors.WithLabelValues(source).Inc()
			m.o.Logger.Warn("metrics: store query failed; serving the last value", "source", source, "err", err)
		}
		return v, err
	})
}

// cache keeps the last good value of a query and when it was last tried.
type cache[T any] struct {
	ttl time.Duration

	mu    sync.Mutex
	tried time.Time
	val   T
	ok    bool
}

// get returns the cached value, calling load first when the last try is
// ttl old (or in the future: the clock went back). Concurrent callers
// wait for one load instead of running their own.
func (c *cache[T]) get(now time.Time, load func() (T, error)) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tried.IsZero() || now.Sub(c.tried) >= c.ttl || now.Before(c.tried) {
		c.tried = now
		if v, err := load(); err == nil {
			c.val, c.ok = v, true
		}
	}
	return c.val, c.ok
}

// funcCollector is a collector of fixed descriptions whose metrics a
// function makes at each scrape.
type funcCollector struct {
	descs   []*prometheus.Desc
	collect func(ch chan<- prometheus.Metric)
}

// Describe implements prometheus.Collector.
func (f *funcCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range f.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (f *funcCollector) Collect(ch chan<- prometheus.Metric) { f.collect(ch) }

// sortedKeys returns a map's keys in order.
func sortedKeys[K ~string, V any](mp map[K]V) []K {
	return slices.Sorted(maps.Keys(mp))
}
