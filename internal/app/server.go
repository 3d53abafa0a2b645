package app

import (
	"context"
	stdlog "log"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokens"
)

// startKeepAlive starts the scheduler that refreshes the connections
// nobody fetched a token for in KEEPALIVE_IDLE, and returns what stops it.
func startKeepAlive(cfg config.Config, st onbehalf.DueClaimer, mgr *tokens.Manager, log *slog.Logger) func() {
	if !cfg.KeepAlive || !cfg.ZoomConfigured() {
		return func() {}
	}
	s := &keepalive.Scheduler{
		Claimer:     st,
		Refresher:   mgr,
		Idle:        cfg.KeepAliveIdle,
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

// hints lists the core configuration a person still has to set (each
// platform says its own).
func hints(cfg config.Config) []onbehalf.Hint {
	var h []onbehalf.Hint
	if !cfg.ZoomConfigured() {
		where := "Zoom App Marketplace (marketplace.zoom.us) → Develop → Build App → General app → App Credentials. Use `" +
			cfg.ZoomRedirectURI + "` as the OAuth redirect URL and add it to the OAuth allow list."
		h = append(h,
			onbehalf.Hint{Var: "ZOOM_CLIENT_ID", Why: "Without it nobody can connect Zoom.", Where: where},
			onbehalf.Hint{Var: "ZOOM_CLIENT_SECRET", Why: "Without it nobody can connect Zoom.", Where: "Same page as the Client ID."})
	}
	if u := cfg.BaseURL; strings.HasPrefix(u, "http://localhost") {
		// The port of the local BASE_URL is the one the server listens on
		// (cfg.Port may not be: LISTEN_ADDR, PORT=0).
		port := strconv.Itoa(cfg.Port)
		if pu, err := url.Parse(u); err == nil && pu.Port() != "" {
			port = pu.Port()
		}
		h = append(h, onbehalf.Hint{Var: "BASE_URL", Why: "Zoom redirects browsers here and bot platforms fetch tokens here, so it must be reachable from the internet.",
			Where: "Run `ngrok http " + port + "` and set BASE_URL to the https URL it prints (then restart)."})
	}
	return h
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
// token callback that waits for a refresh, mints, is told the new token is
// bad, waits for a refresh and mints again: four waits of up to
// ZOOM_TIMEOUT each; POST /launch makes one platform call of up to its
// timeout (60 s at most here). Event streams clear their own deadline.
func DefaultServerLimits(cfg config.Config) ServerLimits {
	return ServerLimits{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      max(4*cfg.ZoomTimeout, time.Minute) + 10*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// NewHTTPServer returns the http.Server that serves h with the limits l. Its
// error log goes to log: accept errors (out of file descriptors: EMFILE,
// ENFILE) at error level, since then nobody can connect, token URLs
// included; the rest (TLS handshakes, bad requests: any client's noise)
// at debug.
func NewHTTPServer(h http.Handler, l ServerLimits, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          stdlog.New(serverErrorLog{log}, "", 0),
	}
}

// serverErrorLog sorts the http.Server's error lines by level.
type serverErrorLog struct{ log *slog.Logger }

// acceptError starts the line net/http logs when Accept fails and it
// retries ("http: Accept error: …; retrying in 5ms").
const acceptError = "http: Accept error:"

// Write logs one line of the http.Server's error log.
func (l serverErrorLog) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	if strings.HasPrefix(msg, acceptError) {
		hint := "the server cannot accept connections"
		if strings.Contains(msg, "too many open files") {
			hint = "out of file descriptors: raise the open-file limit (ulimit -n, systemd LimitNOFILE) or lower STREAMS_MAX"
		}
		l.log.Error("http server: "+hint, "err", strings.TrimSpace(strings.TrimPrefix(msg, acceptError)))
		return len(p), nil
	}
	l.log.Debug(msg)
	return len(p), nil
}
