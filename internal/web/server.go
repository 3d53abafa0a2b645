// Package web is the HTTP layer: a Gin engine with the browser pages (home,
// Zoom OAuth, launch with live bot status), the token routes of every
// platform (served by tokenserve), the status webhooks, Zoom's webhook and
// the health check. Handlers are thin: they read their input, call the
// token manager, the launch service or the store, and render.
package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/connect"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// Store is what the handlers read from the store.
type Store interface {
	Connection(ctx context.Context, id string) (*onbehalf.Connection, error)
	ListBots(ctx context.Context, f onbehalf.BotFilter) ([]*onbehalf.Bot, string, error)
	Bot(ctx context.Context, id string) (*onbehalf.Bot, error)
	ConnectLink(ctx context.Context, secret string) (*onbehalf.ConnectLink, error)
	UseConnectLink(ctx context.Context, secret string, now time.Time) (*onbehalf.ConnectLink, error)
	LinkConnectLink(ctx context.Context, secret, connectionID string) error
	BindConnectLink(ctx context.Context, secret string, browser []byte, now time.Time) (*onbehalf.ConnectLink, error)
	Ping(ctx context.Context) error
	Health(ctx context.Context) error
}

// Connector changes connections: the token manager, which serializes it
// with refreshes.
type Connector interface {
	Connect(ctx context.Context, a onbehalf.Authorization) (*onbehalf.Connection, bool, error)
	Disconnect(ctx context.Context, id string) (c *onbehalf.Connection, revokeErr, err error)
	Deauthorize(ctx context.Context, zoomUserID string, at time.Time) (*onbehalf.Connection, error)
}

// OAuth is what the handlers need from the Zoom client for the browser flow.
type OAuth interface {
	AuthCodeURL(state, verifier string) string
	Exchange(ctx context.Context, code, verifier string) (onbehalf.Token, error)
	Me(ctx context.Context, accessToken string) (onbehalf.ZoomUser, error)
	// Revoke gives back a grant that is not kept (package connect).
	Revoke(ctx context.Context, token string) error
}

// Stream serves live events to a browser (Server-Sent Events) for one
// connection; key bounds the streams of one session.
type Stream interface {
	Serve(w http.ResponseWriter, r *http.Request, key, connID string)
}

// Options configure the web layer.
type Options struct {
	// BaseURL is the public URL, no trailing slash.
	BaseURL string
	// RedirectURI is the OAuth redirect URI registered in the Zoom app.
	RedirectURI string
	// SessionSecret keys the session cookie.
	SessionSecret string
	// Hints are shown on pages: configuration still missing.
	Hints []onbehalf.Hint
	// TrustedProxies are the IPs and CIDRs whose X-Forwarded-For is
	// believed for the client IP; none by default.
	TrustedProxies []string
	// Demo marks every page as a demo.
	Demo bool
	// PlainURLs says whether plain auth_token URLs are served (the home
	// page shows their template then).
	PlainURLs bool
	// PagesOff (PAGES=false) serves no page for people: home, launch, the
	// person's page, disconnect, and no /zoom/oauth without a connect
	// link, all 404. Connect links with their OAuth callback and result
	// pages, token URLs, webhooks, probes and the API keep working.
	PagesOff bool
	// AllowZAK offers the "signs in as me (ZAK)" box on the launch form
	// (ALLOW_ZAK); the launch service refuses ZAKs either way when off.
	AllowZAK bool
	// BotsPerHour bounds the bots one connection sends from the launch
	// page in a rolling hour (counted in the store, so across instances);
	// 0: no limit. The API is not limited by it.
	BotsPerHour int

	Store     Store
	Connector Connector
	// OAuth is nil when Zoom credentials are not set.
	OAuth OAuth
	// ConnectPolicy limits who may connect through the pages
	// (ALLOWED_ZOOM_ACCOUNTS, ALLOWED_EMAIL_DOMAINS); connect links are
	// not limited by it.
	ConnectPolicy connect.Policy
	// Tokens serves the platforms' token routes.
	Tokens *tokenserve.Server
	// Refreshes tells what this instance knows of a connection's recent
	// Zoom refreshes (failing, recovered), for the person's page; nil:
	// not shown.
	Refreshes interface {
		RefreshState(connID string) onbehalf.RefreshState
	}
	// Platforms are the configured bot platforms.
	Platforms []onbehalf.Platform
	// Bots launches bots and takes status webhooks.
	Bots *bots.Service
	// Signer verifies per-bot status URLs.
	Signer *tokenurl.Signer
	// Stream serves the launch page's live status; nil: none.
	Stream Stream
	// ZoomWebhookSecret enables POST /zoom/webhook; ZoomClientID is the
	// app whose deauthorizations are acted on.
	ZoomWebhookSecret string
	ZoomClientID      string
	// Replay remembers the Zoom webhooks acted on, for every instance;
	// default: Store, when it is one (every real store is).
	Replay onbehalf.ReplayStore
	// Metrics, when set, is served at GET /metrics.
	Metrics http.Handler
	// Traced names each request's trace span after its route (the handler
	// is wrapped by internal/tracing); false adds nothing to a request.
	Traced bool
	// APINotFound and APIMethodNotAllowed answer unknown paths and methods
	// under /api/ in the JSON API's format; nil: plain text.
	APINotFound, APIMethodNotAllowed gin.HandlerFunc
	Logger                           *slog.Logger
	// Now is the clock (webhook timestamps, session lifetime, connect
	// links); default time.Now.
	Now func() time.Time
}

// Server holds the handlers' dependencies.
type Server struct {
	opts   Options
	log    *slog.Logger
	pages  pages
	cop    *http.CrossOriginProtection
	secure bool
	sec    *security
	quiet  *quietLog
	engine *gin.Engine
	// tokenPaths are the platforms' token route patterns, for the access
	// log (built once: it is asked on every request).
	tokenPaths map[string]bool
	// draining is set once shutdown began: /readyz answers 503 (probes.go).
	draining atomic.Bool
	// connect is the connect flow of the OAuth callback (nil without
	// Zoom credentials).
	connect *connect.Service
	// bots bounds the bots sent from the launch page (BOTS_PER_HOUR).
	bots *botBudget
}

// New returns the web layer. Its Engine is the server's handler; more
// routes (the JSON API) may be added to it before serving.
func New(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Replay == nil {
		o.Replay, _ = o.Store.(onbehalf.ReplayStore)
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:       o,
		log:        o.Logger,
		pages:      p,
		cop:        http.NewCrossOriginProtection(),
		secure:     strings.HasPrefix(o.BaseURL, "https://"),
		quiet:      newQuietLog(o.Logger, o.Now),
		tokenPaths: map[string]bool{},
		bots:       &botBudget{limit: o.BotsPerHour, store: o.Store, now: o.Now, conns: map[string]*budgetEntry{}},
	}
	if o.OAuth != nil {
		s.connect = &connect.Service{Zoom: o.OAuth, Connector: o.Connector, Policy: o.ConnectPolicy, Logger: o.Logger}
	}
	if s.sec, err = newSecurity(o); err != nil {
		return nil, err
	}
	if u, err := url.Parse(o.BaseURL); err == nil && u.Host != "" {
		// Behind a proxy that rewrites Host, the public origin is still ours.
		_ = s.cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	if s.engine, err = s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// Engine returns the Gin engine: the server's http.Handler.
func (s *Server) Engine() *gin.Engine { return s.engine }

// routes builds the Gin engine and its routes.
func (s *Server) routes() (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// No redirect for a trailing slash or a "fixed" path: such redirects
	// honour X-Forwarded-Prefix from anyone and bypass the middleware.
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	// Unless TRUSTED_PROXIES lists the peer, the client IP is the peer
	// address, never a header a client can forge.
	if err := r.SetTrustedProxies(s.opts.TrustedProxies); err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	r.Use(s.requestID, s.accessLog, s.recover, s.securityHeaders, s.limitRequest, s.closeWhenDraining)
	if s.opts.Traced {
		r.Use(s.nameSpan)
	}

	store := cookie.NewStore(sessionKeys(s.opts.SessionSecret)...)
	store.Options(sessions.Options{
		Path:     "/",
		MaxAge:   int(sessionMaxAge.Seconds()),
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	})
	browser := r.Group("/", sessions.Sessions(sessionCookie, store), s.sessionLifetime)
	browser.GET("/zoom/oauth", s.connectLinkFlow, s.handleOAuthStartPaged)
	browser.GET("/zoom/oauth-callback", s.connectLinkFlow, s.handleOAuthCallback)
	browser.GET("/connect/:link", s.handleConnectLink)
	browser.POST("/connect/:link", s.csrf, s.handleConnectContinue)
	browser.GET(PathConnected, s.handleConnected)
	browser.GET("/launch", s.handleLaunchForm) // PAGES=false: handleConnected
	// The pages for people: 404 with PAGES=false. A new page goes here.
	pg := browser.Group("/", s.pagesOn)
	pg.GET("/", s.handleHome)
	pg.POST("/launch", s.csrf, s.handleLaunch)
	pg.GET("/launch/events", s.handleLaunchEvents)
	pg.GET("/launch/bots", s.handleLaunchBots)
	pg.POST("/zoom/disconnect", s.csrf, s.handleDisconnect)
	pg.POST("/teammates", s.csrf, s.handleTeamConsent)
	r.POST("/zoom/webhook", s.handleZoomWebhook)
	r.POST("/webhooks/:platform", s.handleStatusWebhook)
	s.tokenRoutes(r)
	r.GET(PathHealthz, s.handleHealthz)
	r.HEAD(PathHealthz, s.handleHealthz)
	s.probeRoutes(r)
	if s.opts.Metrics != nil {
		r.GET("/metrics", gin.WrapH(s.opts.Metrics))
	}
	r.NoRoute(func(c *gin.Context) {
		if h := s.opts.APINotFound; h != nil && strings.HasPrefix(c.Request.URL.Path, "/api/") {
			h(c)
			return
		}
		s.notFound(c)
	})
	r.NoMethod(func(c *gin.Context) {
		if h := s.opts.APIMethodNotAllowed; h != nil && strings.HasPrefix(c.Request.URL.Path, "/api/") {
			h(c)
			return
		}
		s.statusReply(c, http.StatusMethodNotAllowed)
	})
	return r, nil
}

// tokenRoutes mounts every platform's token routes on the one token
// handler; GET routes answer HEAD too (without minting).
func (s *Server) tokenRoutes(r *gin.Engine) {
	for _, p := range s.opts.Platforms {
		for _, rt := range p.TokenRoutes() {
			s.tokenPaths[rt.Path] = true
			h := func(c *gin.Context) { s.opts.Tokens.Serve(c.Writer, c.Request, p, rt, c.ClientIP()) }
			for _, m := range rt.Methods {
				r.Handle(m, rt.Path, h)
				if m == http.MethodGet {
					r.Handle(http.MethodHead, rt.Path, h)
				}
			}
		}
	}
}

// logError logs err with its details when it is worth an operator's look.
func (s *Server) logError(c *gin.Context, msg string, err error) {
	level := slog.LevelInfo
	if onbehalf.HTTPStatus(err) >= 500 {
		level = slog.LevelWarn
	}
	if onbehalf.ErrorCode(err) == onbehalf.EINTERNAL {
		level = slog.LevelError
	}
	s.log.Log(c.Request.Context(), level, msg, "path", c.Request.URL.Path, "code", onbehalf.ErrorCode(err), "err", err)
}

// recover turns a panic into a 500 (statusReply) and a log line.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(c.Request.Context(), "panic serving request", "path", c.Request.URL.Path, "panic", v)
			s.statusReply(c, http.StatusInternalServerError)
		}
	}()
	c.Next()
}

// plain writes a text/plain reply (securityHeaders has made it no-store).
func plain(c *gin.Context, status int, body string) {
	c.Data(status, "text/plain; charset=utf-8", []byte(body))
}

// sessionKeys derives the cookie's authentication and encryption keys from
// the session secret.
func sessionKeys(secret string) [][]byte {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return [][]byte{derive("onbehalf session authentication"), derive("onbehalf session encryption")}
}

func (s *Server) now() time.Time { return s.opts.Now() }
