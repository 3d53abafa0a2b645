// Package metrics exports onbehalf's Prometheus metrics (GET /metrics when
// METRICS=true, on METRICS_ADDR if set). It keeps its own registry: nothing
// registers into the global one, so tests and several servers in one
// process never collide.
//
// Counters and histograms are fed as things happen: token requests through
// the tokenserve.Observer a Metrics is, Zoom calls through the decorator
// InstrumentZoom returns. Everything else is read when Prometheus scrapes:
// the token manager's counters from Options.Stats (atomics, cheap), and the
// store's numbers (connections by state, outbox backlog, the soonest
// expiring connection) through queries whose results are cached, so that
// scrapes never hammer the store. A failed query is logged and counted
// (onbehalf_metrics_scrape_errors_total) and the last good value is kept:
// a scrape never fails because the store did.
//
// # Metrics
//
// Fed as things happen (per instance: sum across instances):
//
//	onbehalf_token_requests_total{platform,kind,status}              counter
//	onbehalf_token_request_duration_seconds{platform,kind,status_class} histogram
//	onbehalf_zoom_refresh_duration_seconds{result}                   histogram
//	onbehalf_zoom_mint_duration_seconds{kind,result}                 histogram
//
// kind is the request's kinds, joined in canonical order ("obf",
// "obf,join"; "none" when the request never got as far as saying), so one
// request is one observation; status is the HTTP status answered ("200",
// "401"), status_class its class ("2xx", "4xx", "5xx"); result is "ok" or
// the error code of the project's vocabulary ("disconnected", "upstream",
// "timeout", …).
//
// Read from the token manager at scrape (per instance: sum):
//
//	onbehalf_refreshes_total{result}             counter (ok, stale, disconnected, failed, uncommitted)
//	onbehalf_refresh_no_refresh_token_total      counter
//	onbehalf_connections_lost_after_uncertain_refresh_total counter
//	onbehalf_uncommitted_pairs                   gauge
//	onbehalf_refresh_cooldown_rejections_total   counter (fast 503s of the cool-down, no Zoom call)
//	onbehalf_refreshes_early_total               counter (sooner than half a token's lifetime)
//	onbehalf_refreshes_ahead_total               counter (ahead of a bot's join)
//	onbehalf_refresh_leases_taken_total          counter
//	onbehalf_refresh_lease_renewals_total        counter
//	onbehalf_refresh_leases_abandoned_total      counter
//
// Read from the store at scrape, cached (the same value on every instance:
// take max, not sum):
//
//	onbehalf_connections{state}                  gauge (connected, disconnected)
//	onbehalf_outbox_pending                      gauge
//	onbehalf_keepalive_lag_seconds               gauge
//	onbehalf_metrics_scrape_errors_total{source} counter (connections, outbox, keepalive)
//
// Which build runs (internal/buildinfo), always 1:
//
//	onbehalf_build_info{version,commit,goversion} gauge
//
// The integration API, the bot platforms' create-bot calls and the
// outgoing webhooks have series of their own: see api.go and webhooks.go.
//
// Plus the Go runtime (go_*), the process (process_*) and the handler's own
// promhttp_metric_handler_* series.
//
// # What to alert on
//
// Token requests failing on the server's side: bots cannot join.
//
//	sum(rate(onbehalf_token_requests_total{status=~"5.."}[5m]))
//	  / sum(rate(onbehalf_token_requests_total[5m])) > 0.05
//
// 502 and 504 are Zoom failing or slow (see
// onbehalf_zoom_mint_duration_seconds by result), 503 a store that cannot
// write, 507 a full disk. A rise of 409 is connections whose grant died:
// their people must reconnect.
//
// Keep-alive falling behind. onbehalf_keepalive_lag_seconds is how long ago
// the most overdue connection became due (its access token expires within
// the keep-alive margin); 0 when none is overdue. A healthy scheduler keeps
// it under its jitter plus a poll (about 5 minutes with the defaults). Warn
// when it stays above margin − 5m (10 minutes with the default 15m margin:
// callbacks now refresh inline, on a bot's time); page when it exceeds the
// margin: an access token expired without a refresh (Zoom failing, or the
// scheduler stuck). With the default 15m margin:
//
//	max(onbehalf_keepalive_lag_seconds) > 600   for 10m   (warn)
//	max(onbehalf_keepalive_lag_seconds) > 900             (page)
//
// Pairs Zoom rotated that the store could not save: they live only in this
// process's memory and are lost with it. Page at once, fix the store.
//
//	max(onbehalf_uncommitted_pairs) > 0
//
// The outbox not draining: the product stops hearing about connections and
// bots (its webhook endpoint is down or refusing).
//
//	min_over_time(max(onbehalf_outbox_pending)[30m:]) > 100
//	deriv(max(onbehalf_outbox_pending)[30m:]) > 0
//
// Connections dying: Zoom rejected grants, people must reconnect.
//
//	delta(max(onbehalf_connections{state="disconnected"})[1h:]) > 10
//	increase(onbehalf_connections_lost_after_uncertain_refresh_total[1h]) > 0
//
// The metrics themselves failing to read the store:
//
//	increase(onbehalf_metrics_scrape_errors_total[15m]) > 0
//
// # Wiring
//
// The token manager wants the instrumented Zoom and the metrics want the
// manager's counters; build the manager first, then:
//
//	mgr := &tokens.Manager{Store: st, Logger: log}
//	m := metrics.New(metrics.Options{Store: st, Due: st, Stats: mgr.Stats, KeepAliveIdle: cfg.KeepAliveIdle})
//	mgr.Zoom = m.InstrumentZoom(zc)
//	// tokenserve.Options{Observer: m}, and serve m.Handler() at /metrics.
//
// Leave Due nil when keep-alive is off: without a scheduler the lag only
// grows.
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/onbehalf/onbehalf/internal/buildinfo"
	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokens"
)

// Defaults of Options.
const (
	// DefaultStoreCacheFor is how long connection counts and the outbox
	// backlog are reused between store queries.
	DefaultStoreCacheFor = 15 * time.Second
	// DefaultLagCacheFor is how long the soonest expiry is reused.
	DefaultLagCacheFor = 5 * time.Second
	// DefaultKeepAliveMargin is the lead used when neither KeepAliveIdle
	// nor KeepAliveMargin is set (the schedule before KEEPALIVE_IDLE).
	DefaultKeepAliveMargin = 15 * time.Minute
	// DefaultQueryTimeout bounds one store query made for a scrape.
	DefaultQueryTimeout = 5 * time.Second
)

// StoreCounts is what the metrics read from the store at scrape time;
// onbehalf.Store has both methods.
type StoreCounts interface {
	// CountConnections counts connections by state.
	CountConnections(ctx context.Context) (map[onbehalf.ConnState]int, error)
	// PendingDeliveries counts the events not yet delivered.
	PendingDeliveries(ctx context.Context) (int, error)
}

// Options configure Metrics. Every field is optional: a nil source exports
// none of its series.
type Options struct {
	// Store gives connections by state and the outbox backlog.
	Store StoreCounts
	// Due gives the soonest-expiring connection, for the keep-alive lag.
	// Leave it nil when keep-alive is off.
	Due onbehalf.DueLister
	// Stats gives the token manager's counters (tokens.Manager.Stats).
	Stats func() tokens.Stats
	// KeepAliveMargin is how long before its access token's expiry a
	// connection falls due (the scheduler's lead). Default
	// DefaultKeepAliveMargin. KeepAliveIdle, when set, replaces it: the
	// scheduler's KEEPALIVE_IDLE, whose lead (keepalive.Lead) is negative
	// when connections fall due after their token expired.
	KeepAliveMargin time.Duration
	KeepAliveIdle   time.Duration
	// StoreCacheFor and LagCacheFor bound how often a scrape queries the
	// store; defaults DefaultStoreCacheFor and DefaultLagCacheFor.
	StoreCacheFor, LagCacheFor time.Duration
	// QueryTimeout bounds one store query; default DefaultQueryTimeout.
	QueryTimeout time.Duration
	// Now is the clock of the keep-alive lag and of the caches; default
	// time.Now. Durations of requests and Zoom calls use the real clock.
	Now func() time.Time
	// Logger gets scrape errors; default slog.Default().
	Logger *slog.Logger
}

// Metrics holds onbehalf's metrics and their registry. Its methods are safe
// for concurrent use.
type Metrics struct {
	o   Options
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	refreshDuration *prometheus.HistogramVec
	mintDuration    *prometheus.HistogramVec
	scrapeErrors    *prometheus.CounterVec
	api             apiSeries     // api.go
	webhooks        webhookSeries // webhooks.go
}

// Compile-time check: Metrics is the token server's observer.
var _ interface {
	ObserveTokenRequest(platform string, kinds []onbehalf.TokenKind, status int, took time.Duration)
} = (*Metrics)(nil)

// New returns Metrics registered in a new private registry, with the Go
// runtime and process collectors.
func New(o Options) *Metrics {
	if o.KeepAliveIdle > 0 {
		o.KeepAliveMargin = keepalive.Lead(o.KeepAliveIdle)
	} else if o.KeepAliveMargin <= 0 {
		o.KeepAliveMargin = DefaultKeepAliveMargin
	}
	if o.StoreCacheFor <= 0 {
		o.StoreCacheFor = DefaultStoreCacheFor
	}
	if o.LagCacheFor <= 0 {
		o.LagCacheFor = DefaultLagCacheFor
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultQueryTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	m := &Metrics{o: o, reg: prometheus.NewRegistry()}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.registerEvents()
	m.registerAPI()
	m.registerWebhooks()
	m.registerScraped()
	m.registerBuildInfo(buildinfo.Get())
	return m
}

// Registry returns the private registry, for collectors other packages
// want to add.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format (or whatever
// the scraper negotiates). A collector failing leaves its series out and
// serves the rest.
func (m *Metrics) Handler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slogPrinter{m.o.Logger},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
	})
	return promhttp.InstrumentMetricHandler(m.reg, h)
}

// slogPrinter lets promhttp log through slog.
type slogPrinter struct{ l *slog.Logger }

// Println implements promhttp.Logger.
func (p slogPrinter) Println(v ...any) {
	p.l.Warn("metrics handler", "err", fmt.Sprint(v...))
}
