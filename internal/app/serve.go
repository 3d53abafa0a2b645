// Package app wires onbehalf together: configuration, store, Zoom client,
// token manager, bot platforms, launch service, events, metrics and the
// web layer, behind an http.Server that shuts down gracefully; and the
// command line around it.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/buildinfo"
	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/connect"
	"github.com/onbehalf/onbehalf/internal/events"
	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/logging"
	"github.com/onbehalf/onbehalf/internal/metrics"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
	"github.com/onbehalf/onbehalf/internal/tracing"
	"github.com/onbehalf/onbehalf/internal/web"
	"github.com/onbehalf/onbehalf/internal/zoom"
)

// Options tell Start how to run, beyond the configuration.
type Options struct {
	// Getenv reads the environment (a .env file in the working directory
	// is read as well; the environment wins).
	Getenv func(string) string
	// LogOut receives the log.
	LogOut io.Writer
	// Demo marks every page as a demo (`onbehalf demo`).
	Demo bool
	// Listener, when set, is where the server serves instead of
	// LISTEN_ADDR: the demo holds its port open from the moment it picks
	// it, so that nothing else (its own fakes included) takes it meanwhile.
	// The server closes it.
	Listener net.Listener
	// Platforms replaces the list of platforms (tests); nil means
	// Platforms.
	Platforms []platform.Spec
	// SpanExporter turns tracing on with this exporter instead of OTLP
	// (tests); nil: OTEL_EXPORTER_OTLP_ENDPOINT decides.
	SpanExporter sdktrace.SpanExporter
}

// App is a started server.
type App struct {
	Config config.Config
	Store  Store
	// Tokens is the token manager; Bots the launch service.
	Tokens *tokens.Manager
	Bots   *bots.Service

	log     *slog.Logger
	web     *web.Server
	srv     *http.Server
	ln      net.Listener
	metrics *http.Server
	// backups serves hot copies of the bbolt file on its socket (backup.go).
	backups *http.Server
	// tracing is nil when traces are off.
	tracing *tracing.Tracing
	baseURL string
	ctx     context.Context
	served  chan error
	// loops are the background loops, stopped in reverse order.
	loops []func()
}

// Store is a store the app can run on.
type Store interface {
	onbehalf.Store
	CountConnections(ctx context.Context) (map[onbehalf.ConnState]int, error)
}

// Start loads the configuration, opens the store and starts serving. The
// server stops when ctx is done; Wait waits for that.
func Start(ctx context.Context, o Options) (*App, error) {
	specs := o.Platforms
	if specs == nil {
		specs = Platforms
	}
	secrets := platform.SecretVars(specs)
	getenv, err := o.Getenv, error(nil)
	if !o.Demo { // the demo's configuration is all its own
		if getenv, err = config.LoadDotEnv(".env", o.Getenv, secrets...); err != nil {
			return nil, err
		}
	}
	cfg, cerr := config.Load(getenv, secrets...)
	a := &App{Config: cfg, ctx: ctx, served: make(chan error, 1)}
	a.log = logging.New(o.LogOut, cfg.LogFormat, cfg.LogLevel)
	if cerr == nil {
		if a.tracing, err = startTracing(ctx, cfg, o.SpanExporter); err != nil {
			return nil, err
		}
	}
	platforms, platformHints, problems := loadPlatforms(specs, getenv, platformDeps(a))
	if cerr != nil || len(problems) > 0 {
		_ = a.tracing.Shutdown(context.Background())
		return nil, mergeProblems(cerr, problems)
	}
	logging.CaptureStdlog(a.log)
	if a.Store, err = openStore(cfg, a.log); err != nil {
		_ = a.tracing.Shutdown(context.Background())
		return nil, err
	}
	if err := a.start(o, getenv, platforms, platformHints); err != nil {
		a.Store.Close()
		_ = a.tracing.Shutdown(context.Background())
		return nil, err
	}
	return a, nil
}

// startTracing starts traces when the configuration (or a test's
// exporter) asks for them; nil otherwise.
func startTracing(ctx context.Context, cfg config.Config, exp sdktrace.SpanExporter) (*tracing.Tracing, error) {
	bi := buildinfo.Get()
	t, err := tracing.New(ctx, tracing.Options{Endpoint: cfg.TracesEndpoint, Headers: cfg.OTLPHeaders,
		ServiceName: cfg.ServiceName, Version: bi.Version, Commit: bi.Commit, Exporter: exp})
	if err != nil {
		return nil, fmt.Errorf("traces (OTEL_EXPORTER_OTLP_ENDPOINT): %w", err)
	}
	return t, nil
}

// start wires and starts everything on an open store.
func (a *App) start(o Options, getenv func(string) string, platforms []onbehalf.Platform, platformHints []onbehalf.Hint) error {
	cfg := &a.Config
	sec, err := loadSecrets(a.ctx, *cfg, a.Store, a.log)
	if err != nil {
		return err
	}
	if a.ln = o.Listener; a.ln == nil {
		if a.ln, err = net.Listen("tcp", cfg.ListenAddr); err != nil {
			return fmt.Errorf("listening on %s (LISTEN_ADDR): %w", cfg.ListenAddr, err)
		}
	}
	port := a.ln.Addr().(*net.TCPAddr).Port
	cfg.BaseURL = cmp.Or(cfg.BaseURL, "http://localhost:"+strconv.Itoa(port))
	cfg.ZoomRedirectURI = cmp.Or(cfg.ZoomRedirectURI, cfg.BaseURL+"/zoom/oauth-callback")
	a.baseURL = cfg.BaseURL

	zc := zoom.New(zoom.Options{
		ClientID:        cfg.ZoomClientID,
		ClientSecret:    cfg.ZoomClientSecret,
		ClientSecrets:   cfg.ZoomClientSecrets,
		RedirectURI:     cfg.ZoomRedirectURI,
		OAuthURL:        cfg.ZoomOAuthURL,
		APIURL:          cfg.ZoomAPIURL,
		Timeout:         cfg.ZoomTimeout,
		RefreshTimeout:  cfg.ZoomRefreshTimeout,
		AccountID:       cfg.ZoomAccountID,
		S2SClientID:     cfg.ZoomS2SClientID,
		S2SClientSecret: cfg.ZoomS2SClientSecret,
		Transport:       zoomTransport(a.tracing),
	})
	a.Tokens = &tokens.Manager{Store: a.Store, Zoom: zc, Revoker: zc, Logger: a.log,
		Wait: cfg.ZoomTimeout, RefreshTimeout: cfg.ZoomRefreshTimeout,
		Cooldown: cmp.Or(cfg.ZoomFailureCooldown, -1)} // 0 turns it off
	var m *metrics.Metrics
	if cfg.Metrics {
		m = metrics.New(metrics.Options{Store: a.Store, Due: a.Store, Stats: a.Tokens.Stats, KeepAliveIdle: cfg.KeepAliveIdle, Logger: a.log})
		a.Tokens.Zoom = m.InstrumentZoom(zc)
	}
	signer := &tokenurl.Signer{Key: sec.URLKey, LegacyKeys: sec.LegacyURLKeys, TTL: cfg.TokenURLTTL}
	// The web layer bounds the launch page's streams (STREAMS_*); the
	// broker's own bounds must not be tighter.
	broker := events.NewBroker(a.Store, events.BrokerOptions{Logger: a.log,
		MaxStreams: cfg.StreamsMax, MaxPerKey: cfg.StreamsPerSession})
	var deliverer *events.Deliverer
	if cfg.WebhookURL != "" {
		do := events.DeliveryOptions{Logger: a.log}
		if m != nil {
			do.Observer = m
		}
		if deliverer, err = events.NewDeliverer(a.Store, cfg.WebhookURL, sec.Webhook, do); err != nil {
			a.ln.Close()
			return err
		}
	}
	notify := func() {
		broker.Notify()
		if deliverer != nil {
			deliverer.Notify()
		}
	}
	// Every commit of this process that wrote events wakes both at once;
	// other instances' events are found by their polls.
	a.Store.WatchEvents(notify)
	a.Tokens.Notify = notify // connection.recovered
	a.Bots = &bots.Service{Store: a.Store, Platforms: platforms, Unconfigured: platformHints, Signer: signer, BaseURL: cfg.BaseURL, AllowZAK: cfg.AllowZAK, Logger: a.log, Notify: notify}
	a.Bots.Ahead = a.Tokens // a bot's connection refreshed ahead of its join (bots/ahead.go)
	if m != nil {
		a.Bots.ObserveCreateBot = m.ObserveCreateBot
	}
	a.Bots.Start()
	// One per-connection budget and one failed-authorization budget for
	// the token URLs and the API alike.
	perConn := ratelimit.PerMinute(cfg.RateLimitPerConnection, maxLimiterKeys)
	failures := ratelimit.New(tokenserve.FailRate, tokenserve.FailBurst, maxLimiterKeys)
	ts := tokenserve.Options{
		Signer: signer, Minter: a.Tokens, Secret: sec.OBF, PlainKinds: cfg.SecretURLKinds, AllowZAK: cfg.AllowZAK,
		Bots:    a.Store,
		PerIP:   ratelimit.PerMinute(cfg.RateLimitPerIP, maxLimiterKeys),
		PerConn: perConn, Failures: failures,
		BaseURL: cfg.BaseURL, Recorder: a.Bots, Logger: a.log,
		Presence:  a.Tokens, // orders the candidates of a URL of several connections
		Teammates: a.Bots,   // a teammate's consent, checked at each fetch
	}
	if m != nil {
		ts.Observer = m
	}
	wo := web.Options{
		BaseURL:             cfg.BaseURL,
		RedirectURI:         cfg.ZoomRedirectURI,
		SessionSecret:       sec.Session,
		Hints:               append(hints(*cfg), platformHints...),
		TrustedProxies:      cfg.TrustedProxies,
		Demo:                o.Demo,
		PlainURLs:           len(cfg.SecretURLKinds) > 0,
		PagesOff:            !cfg.Pages,
		AllowZAK:            cfg.AllowZAK,
		BotsPerHour:         cfg.BotsPerHour,
		Store:               a.Store,
		Connector:           a.Tokens,
		Tokens:              tokenserve.New(ts),
		Refreshes:           a.Tokens,
		Platforms:           platforms,
		Bots:                a.Bots,
		Signer:              signer,
		Stream:              sseStream{broker},
		APINotFound:         api.NotFound,
		APIMethodNotAllowed: api.MethodNotAllowed,
		ZoomWebhookSecret:   cfg.ZoomWebhookSecretToken,
		ZoomClientID:        cfg.ZoomClientID,
		ConnectPolicy:       connect.Policy{Accounts: cfg.AllowedZoomAccounts, Domains: cfg.AllowedEmailDomains},
		Replay:              a.Store,
		Logger:              a.log,
		Traced:              a.tracing != nil,
	}
	if cfg.ZoomConfigured() {
		wo.OAuth = zc
	}
	if m != nil && cfg.MetricsAddr == "" {
		wo.Metrics = m.Handler()
	}
	w, err := web.New(wo)
	if err != nil {
		a.ln.Close()
		return err
	}
	ao := api.Options{
		BaseURL: cfg.BaseURL, Platforms: platformNames(platforms), Keys: cfg.APIKeys, ReturnOrigins: cfg.APIReturnOrigins, RateLimitPerKey: cfg.RateLimitPerAPIKey, AllowZAK: cfg.AllowZAK,
		PerConnection: perConn, Failures: failures, TokenURLTTL: cfg.TokenURLTTL,
		Store: a.Store, Connector: a.Tokens, Minter: a.Tokens, Bots: a.Bots, Recorder: a.Bots, Logger: a.log,
		Stream: api.StreamFunc(func(w http.ResponseWriter, r *http.Request, key, conn string) error {
			return broker.ServeSSE(w, r, key, events.Filter{ConnectionID: conn})
		}),
	}
	if cfg.ZoomConfigured() {
		ao.OAuth = zc
	}
	if cfg.AccountMode() {
		ao.Account = &tokens.Account{Zoom: zc, Logger: a.log}
	}
	if m != nil {
		ao.Observer = m
	}
	api.Mount(w.Engine().Group("/api/v1"), ao)
	a.web = w
	a.srv = NewHTTPServer(a.tracing.Handler(w.Engine()), DefaultServerLimits(*cfg), a.log)
	// Event streams never end on their own: shutting down ends them.
	a.srv.RegisterOnShutdown(broker.Close)
	a.loop(func(ctx context.Context) { a.Bots.Run(ctx) })
	a.loop(func(ctx context.Context) { _ = broker.Run(ctx) })
	a.loop(func(ctx context.Context) { _ = (&events.Pruner{Store: a.Store, Logger: a.log}).Run(ctx) })
	if deliverer != nil {
		a.loop(func(ctx context.Context) { _ = deliverer.Run(ctx) })
	}
	a.loops = append(a.loops, startKeepAlive(*cfg, a.Store, a.Tokens, a.log))
	if cfg.KeepAlive && cfg.ZoomConfigured() {
		// Bots due soon: refreshed ahead, connection.at_risk (keepalive/atrisk.go).
		w := &keepalive.Watcher{Store: a.Store, Refresher: a.Tokens, Window: cfg.AtRiskWindow, Notify: notify, Logger: a.log}
		a.loop(func(ctx context.Context) { _ = w.Run(ctx) })
	}
	if m != nil && cfg.MetricsAddr != "" {
		if err := a.serveMetrics(cfg.MetricsAddr, m.Handler()); err != nil {
			a.stopLoops()
			a.ln.Close()
			return err
		}
	}
	a.serveBackups()
	go func() { a.served <- a.srv.Serve(a.ln) }()
	for _, h := range wo.Hints {
		a.log.Warn("configuration incomplete", "set", h.Var, "why", h.Why)
	}
	bi := buildinfo.Get()
	a.log.Info("onbehalf started", "version", bi.Version, "commit", bi.Commit, "go", bi.GoVersion, "traces", a.tracing != nil,
		"addr", a.ln.Addr().String(), "base_url", cfg.BaseURL, "store", storeName(*cfg),
		"platforms", len(platforms), "demo", o.Demo)
	return nil
}

// maxLimiterKeys bounds each rate-limit table.
const maxLimiterKeys = 10_000

// loop runs f in the background until Wait stops it.
func (a *App) loop(f func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f(ctx) }()
	a.loops = append(a.loops, func() { cancel(); <-done })
}

// stopLoops stops the background loops, newest first.
func (a *App) stopLoops() {
	for i := len(a.loops) - 1; i >= 0; i-- {
		a.loops[i]()
	}
	a.loops = nil
}

// serveMetrics serves the metrics on their own address.
func (a *App) serveMetrics(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s (METRICS_ADDR): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	a.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.metrics.Serve(ln) }()
	return nil
}

// Addr returns the address the server listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Handler returns what the server serves: the router, wrapped only when
// tracing is on.
func (a *App) Handler() http.Handler { return a.srv.Handler }

// BaseURL returns the public URL in use.
func (a *App) BaseURL() string { return a.baseURL }

// Wait serves until the context given to Start is done, then shuts down
// gracefully: in-flight requests finish (up to shutdownTimeout), background work
// stops, refreshes in flight are committed, then the store is closed.
func (a *App) Wait() error {
	var serveErr error
	select {
	case <-a.ctx.Done():
	case serveErr = <-a.served:
	}
	a.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	shutErr := a.srv.Shutdown(sctx)
	if a.metrics != nil {
		_ = a.metrics.Shutdown(sctx)
	}
	if a.backups != nil {
		_ = a.backups.Shutdown(sctx) // a backup in flight finishes first
	}
	if serveErr == nil {
		if err := <-a.served; !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	} else if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	a.stopLoops()
	a.Tokens.Close() // refreshes still in flight are committed before the store closes
	closeErr := a.Store.Close()
	if err := a.tracing.Shutdown(context.Background()); err != nil {
		a.log.Warn("traces not all sent", "err", err)
	}
	a.log.Info("stopped")
	return errors.Join(serveErr, shutErr, closeErr)
}

// mergeProblems reports the configuration's and the platforms' problems
// as one error.
func mergeProblems(cerr error, problems []error) error {
	return &config.Error{Problems: append(config.Problems(cerr), problems...)}
}

// sseStream serves the launch page's live status from the event broker.
type sseStream struct{ b *events.Broker }

// Serve implements web.Stream: a refusal (too many streams, shutting down)
// is answered as plain text.
func (s sseStream) Serve(w http.ResponseWriter, r *http.Request, key, connID string) {
	if err := s.b.ServeSSE(w, r, key, events.Filter{ConnectionID: connID}); err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if onbehalf.ErrorCode(err) == onbehalf.ETOOMANY {
			w.Header().Set("Retry-After", "60") // a stream slot frees when a page closes
		}
		w.WriteHeader(onbehalf.HTTPStatus(err))
		_, _ = w.Write([]byte(onbehalf.ErrorMessage(err)))
	}
}
