// Package app wires onbehalf together: configuration, store, Zoom client,
// token manager, bot platform client and web layer, behind an http.Server
// that shuts down gracefully.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/recall"
	"github.com/onbehalf/onbehalf/internal/store"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/web"
	"github.com/onbehalf/onbehalf/internal/zoom"
)

// Run runs the server until ctx is done or SIGINT/SIGTERM arrives, and
// returns the process exit code. getenv reads the environment (a .env file
// in the working directory is read as well; the environment wins).
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, "usage: onbehalf\n\nConfiguration comes from the environment and ./.env; see .env.example and README.md.")
		return 0
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	a, err := Start(ctx, getenv, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "onbehalf: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "onbehalf listening on %s (open %s in a browser)\n", a.Addr(), a.BaseURL())
	if err := a.Wait(); err != nil {
		fmt.Fprintf(stderr, "onbehalf: %v\n", err)
		return 1
	}
	return 0
}

// App is a started server.
type App struct {
	Store   *store.Store
	Config  config.Config
	log     *slog.Logger
	srv     *http.Server
	ln      net.Listener
	baseURL string
	ctx     context.Context
	served  chan error
	// stopKeepAlive stops the keep-alive scheduler and waits for it.
	stopKeepAlive func()
	mgr           *tokens.Manager
}

// Start loads the configuration, opens the store and starts serving. The
// server stops when ctx is done; Wait waits for that.
func Start(ctx context.Context, getenv func(string) string, logOut io.Writer) (*App, error) {
	getenv, err := config.LoadDotEnv(".env", getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	log := newLogger(logOut, cfg.LogLevel)

	st, err := store.Open(cfg.DBPath, store.Options{Keys: cfg.TokenEncryptionKeys})
	if err != nil {
		return nil, err
	}
	a, err := start(ctx, cfg, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

func start(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger) (*App, error) {
	generate := func() (string, error) { return store.RandomString(32) }
	if cfg.OBFCallbackSecret == "" {
		s, err := st.Secret("obf_callback_secret", generate)
		if err != nil {
			return nil, fmt.Errorf("generating OBF_CALLBACK_SECRET: %w", err)
		}
		cfg.OBFCallbackSecret = s
	}
	if cfg.SessionSecret == "" {
		s, err := st.Secret("session_secret", generate)
		if err != nil {
			return nil, fmt.Errorf("generating SESSION_SECRET: %w", err)
		}
		cfg.SessionSecret = s
	}

	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		return nil, fmt.Errorf("listening on port %d: %w", cfg.Port, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://localhost:" + strconv.Itoa(port)
	}
	if cfg.ZoomRedirectURI == "" {
		cfg.ZoomRedirectURI = cfg.BaseURL + "/zoom/oauth-callback"
	}

	zc := zoom.New(zoom.Options{
		ClientID:     cfg.ZoomClientID,
		ClientSecret: cfg.ZoomClientSecret,
		RedirectURI:  cfg.ZoomRedirectURI,
		OAuthURL:     cfg.ZoomOAuthURL,
		APIURL:       cfg.ZoomAPIURL,
		Timeout:      cfg.ZoomTimeout,
	})
	mgr := &tokens.Manager{Store: st, Zoom: zc, Logger: log}
	opts := web.Options{
		BaseURL:       cfg.BaseURL,
		RedirectURI:   cfg.ZoomRedirectURI,
		OBFSecret:     cfg.OBFCallbackSecret,
		SessionSecret: cfg.SessionSecret,
		Hints:         hints(cfg),
		Store:         st,
		Minter:        mgr,
		Logger:        log,

		ZoomWebhookSecret: cfg.ZoomWebhookSecretToken,
		ZoomClientID:      cfg.ZoomClientID,

		TokenURLTTL:              cfg.TokenURLTTL,
		DisableSecretURLs:        !cfg.AllowSecretURLs,
		RecallVerificationSecret: cfg.RecallVerificationSecret,
		TrustedProxies:           cfg.TrustedProxies,
		RateLimitPerConnection:   cfg.RateLimitPerConnection,
		RateLimitPerIP:           cfg.RateLimitPerIP,
	}
	if cfg.ZoomConfigured() {
		opts.OAuth = zc
		opts.Revoker = zc
	}
	if cfg.RecallConfigured() {
		opts.Bots = &recall.Client{BaseURL: cfg.RecallAPIURL, APIKey: cfg.RecallAPIKey,
			HTTP: &http.Client{Timeout: cfg.RecallTimeout}}
	}
	h, err := web.New(opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := NewHTTPServer(h, DefaultServerLimits(cfg), log)
	a := &App{Store: st, Config: cfg, log: log, srv: srv, ln: ln, baseURL: cfg.BaseURL, ctx: ctx, served: make(chan error, 1), mgr: mgr}
	a.stopKeepAlive = startKeepAlive(cfg, st, mgr, log)
	go func() { a.served <- srv.Serve(ln) }()
	for _, h := range opts.Hints {
		log.Warn("configuration incomplete", "set", h.Var, "why", h.Why)
	}
	log.Info("onbehalf started", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "db", cfg.DBPath)
	return a, nil
}

// Addr returns the address the server listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// BaseURL returns the public URL in use.
func (a *App) BaseURL() string { return a.baseURL }

// Wait serves until the context given to Start is done, then shuts down
// gracefully: in-flight requests finish (up to 20s), then the database is
// closed.
func (a *App) Wait() error {
	var serveErr error
	select {
	case <-a.ctx.Done():
	case serveErr = <-a.served:
	}
	a.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	shutErr := a.srv.Shutdown(sctx)
	if serveErr == nil {
		if err := <-a.served; !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	} else if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	a.stopKeepAlive()
	a.mgr.Close() // refreshes still in flight are committed before the store closes
	closeErr := a.Store.Close()
	a.log.Info("stopped")
	return errors.Join(serveErr, shutErr, closeErr)
}

// startKeepAlive starts the scheduler that refreshes every connection
// before its access token expires, and returns what stops it.
func startKeepAlive(cfg config.Config, st *store.Store, mgr *tokens.Manager, log *slog.Logger) func() {
	if !cfg.KeepAlive || !cfg.ZoomConfigured() {
		return func() {}
	}
	s := &keepalive.Scheduler{
		Lister:      st,
		Refresher:   mgr,
		Margin:      cfg.KeepAliveMargin,
		Concurrency: cfg.KeepAliveConcurrency,
		Rate:        cfg.KeepAliveRate,
		Logger:      log,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Run(ctx); err != nil {
			log.Error("keep-alive scheduler stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done }
}

// hints lists the configuration a person still has to set.
func hints(cfg config.Config) []web.Hint {
	var h []web.Hint
	if !cfg.ZoomConfigured() {
		where := "Zoom App Marketplace (marketplace.zoom.us) → Develop → Build App → General app → App Credentials. Use " +
			cfg.ZoomRedirectURI + " as the OAuth redirect URL and add it to the OAuth allow list."
		h = append(h,
			web.Hint{Var: "ZOOM_CLIENT_ID", Why: "Without it nobody can connect Zoom.", Where: where},
			web.Hint{Var: "ZOOM_CLIENT_SECRET", Why: "Without it nobody can connect Zoom.", Where: "Same page as the Client ID."})
	}
	if !cfg.RecallConfigured() {
		h = append(h, web.Hint{Var: "RECALL_API_KEY", Why: "Without it /launch cannot send bots.",
			Where: "Recall.ai dashboard → API Keys; also set RECALL_REGION to your workspace's region."})
	}
	if u := cfg.BaseURL; len(u) >= 16 && u[:16] == "http://localhost" {
		h = append(h, web.Hint{Var: "BASE_URL", Why: "Zoom redirects browsers here and bot platforms fetch tokens here, so it must be reachable from the internet.",
			Where: "Run `ngrok http " + strconv.Itoa(cfg.Port) + "` and set BASE_URL to the https URL it prints (then restart)."})
	}
	return h
}

// newLogger returns the process logger: text lines on w.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// ServerLimits are the http.Server's defenses against slow or stuck
// clients (Slowloris and the like) and oversized headers.
type ServerLimits struct {
	// ReadHeaderTimeout bounds reading a request's headers: a client that
	// drips them is disconnected.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the end
	// of the reply, so it must cover the slowest handler.
	WriteTimeout time.Duration
	// IdleTimeout bounds waiting for the next request on a keep-alive
	// connection.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int
}

// DefaultServerLimits returns the limits for cfg. The slowest handler is a
// token callback that refreshes, mints, is told the new token is bad,
// refreshes and mints again: four Zoom calls of up to ZOOM_TIMEOUT each;
// POST /launch makes one Recall call of up to RECALL_TIMEOUT.
func DefaultServerLimits(cfg config.Config) ServerLimits {
	return ServerLimits{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      max(4*cfg.ZoomTimeout, cfg.RecallTimeout) + 10*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// NewHTTPServer returns the http.Server that serves h with the limits l and
// logs its connection errors at debug level.
func NewHTTPServer(h http.Handler, l ServerLimits, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}
