// Package web is the HTTP layer: a Gin engine with the browser pages (home,
// Zoom OAuth, launch) and the token callbacks that bot platforms call. It
// depends only on the small interfaces below and on the domain package.
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
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Store is what the handlers need from the connection store.
type Store interface {
	Connection(ctx context.Context, id string) (*onbehalf.Connection, error)
	UpsertConnection(ctx context.Context, u onbehalf.ZoomUser, tok onbehalf.Token) (*onbehalf.Connection, error)
	DeleteConnection(ctx context.Context, id string) (*onbehalf.Connection, error)
	DeleteByZoomUser(ctx context.Context, zoomUserID string) (string, error)
	Ping(ctx context.Context) error
}

// Revoker revokes a Zoom grant (POST /oauth/revoke).
type Revoker interface {
	Revoke(ctx context.Context, token string) error
}

// OAuth is what the handlers need from the Zoom client for the browser flow.
type OAuth interface {
	AuthCodeURL(state, verifier string) string
	Exchange(ctx context.Context, code, verifier string) (onbehalf.Token, error)
	Me(ctx context.Context, accessToken string) (onbehalf.ZoomUser, error)
}

// Hint tells a person which variable to set, why, and where to find it.
type Hint struct {
	Var, Why, Where string
}

// Options configure the web layer.
type Options struct {
	// BaseURL is the public URL, no trailing slash.
	BaseURL string
	// RedirectURI is the OAuth redirect URI registered in the Zoom app.
	RedirectURI string
	// OBFSecret authorizes token URLs (auth_token).
	OBFSecret string
	// SessionSecret keys the session cookie.
	SessionSecret string
	// Hints are shown on pages: configuration still missing.
	Hints []Hint

	// TokenURLTTL is the lifetime of signed token URLs; zero means 168h.
	TokenURLTTL time.Duration
	// DisableSecretURLs refuses plain auth_token URLs
	// (ALLOW_SECRET_URLS=false); signed URLs keep working.
	DisableSecretURLs bool
	// RecallVerificationSecret (whsec_…), when set, makes every token
	// callback require a valid Standard Webhooks signature from Recall.
	RecallVerificationSecret string
	// TrustedProxies are the IPs and CIDRs whose X-Forwarded-For is
	// believed for the client IP; none by default.
	TrustedProxies []string
	// RateLimitPerConnection and RateLimitPerIP are token callback
	// requests per minute; 0 turns a limit off.
	RateLimitPerConnection, RateLimitPerIP int

	Store  Store
	OAuth  OAuth // nil when Zoom credentials are not set
	Minter onbehalf.TokenMinter
	Bots   onbehalf.BotLauncher // nil when no bot platform is configured
	Logger *slog.Logger

	// Revoker revokes grants when a person disconnects; nil skips it.
	Revoker Revoker
	// ZoomWebhookSecret enables POST /zoom/webhook; ZoomClientID is
	// checked against deauthorization events.
	ZoomWebhookSecret string
	ZoomClientID      string
	// Now is the clock (webhook timestamps, signed token URLs, Recall
	// signatures, rate limits, session lifetime); default time.Now.
	Now func() time.Time
}

// Server holds the handlers' dependencies.
type Server struct {
	opts      Options
	log       *slog.Logger
	pages     pages
	cop       *http.CrossOriginProtection
	secretSum [sha256.Size]byte
	secure    bool
	sec       *security
}

// New returns the HTTP handler of the whole server.
func New(o Options) (http.Handler, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:      o,
		log:       o.Logger,
		pages:     p,
		cop:       http.NewCrossOriginProtection(),
		secretSum: sha256.Sum256([]byte(o.OBFSecret)),
		secure:    strings.HasPrefix(o.BaseURL, "https://"),
	}
	if s.sec, err = newSecurity(o, s.now); err != nil {
		return nil, err
	}
	if u, err := url.Parse(o.BaseURL); err == nil && u.Host != "" {
		// Behind a proxy that rewrites Host, the public origin is still ours.
		_ = s.cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	return s.engine()
}

// engine builds the Gin engine and its routes.
func (s *Server) engine() (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// Unless TRUSTED_PROXIES lists the peer, the client IP is the peer
	// address, never a header a client can forge.
	if err := r.SetTrustedProxies(s.opts.TrustedProxies); err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	r.Use(s.accessLog, s.recover, s.securityHeaders, s.limitRequest)

	store := cookie.NewStore(sessionKeys(s.opts.SessionSecret)...)
	store.Options(sessions.Options{
		Path:     "/",
		MaxAge:   int((7 * 24 * time.Hour).Seconds()),
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	})
	browser := r.Group("/", sessions.Sessions(sessionCookie, store), s.sessionLifetime)
	browser.GET("/", s.handleHome)
	browser.GET("/zoom/oauth", s.handleOAuthStart)
	browser.GET("/zoom/oauth-callback", s.handleOAuthCallback)
	browser.GET("/launch", s.handleLaunchForm)
	browser.POST("/launch", s.csrf, s.handleLaunch)
	browser.POST("/zoom/disconnect", s.csrf, s.handleDisconnect)
	r.POST("/zoom/webhook", s.handleZoomWebhook)

	for _, rt := range callbackRoutes {
		r.Handle(rt.method, rt.path, s.tokenCallback(rt))
	}
	r.GET("/healthz", s.handleHealthz)
	r.NoRoute(func(c *gin.Context) { plain(c, http.StatusNotFound, "404 page not found") })
	r.NoMethod(func(c *gin.Context) { plain(c, http.StatusMethodNotAllowed, "405 method not allowed") })
	return r, nil
}

// handleHealthz handles "GET /healthz".
func (s *Server) handleHealthz(c *gin.Context) {
	if err := s.opts.Store.Ping(c.Request.Context()); err != nil {
		s.log.Error("health check failed", "err", err)
		plain(c, http.StatusServiceUnavailable, "database unavailable")
		return
	}
	plain(c, http.StatusOK, "ok")
}

// statusOf maps the error vocabulary to HTTP statuses: the one place where
// that happens.
func statusOf(err error) int {
	switch onbehalf.ErrorCode(err) {
	case onbehalf.EINVALID:
		return http.StatusBadRequest
	case onbehalf.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case onbehalf.ENOTFOUND:
		return http.StatusNotFound
	case onbehalf.ECONFLICT:
		return http.StatusConflict
	case onbehalf.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case onbehalf.EUPSTREAM:
		return http.StatusBadGateway
	case onbehalf.ETIMEOUT:
		return http.StatusGatewayTimeout
	case onbehalf.ETOOMANY:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// logError logs err with its details when it is worth an operator's look.
func (s *Server) logError(c *gin.Context, msg string, err error) {
	level := slog.LevelInfo
	if statusOf(err) >= 500 {
		level = slog.LevelWarn
	}
	if onbehalf.ErrorCode(err) == onbehalf.EINTERNAL {
		level = slog.LevelError
	}
	s.log.Log(c.Request.Context(), level, msg, "path", c.Request.URL.Path, "code", onbehalf.ErrorCode(err), "err", err)
}

// accessLog logs every request: method, path (never the query: token URLs
// carry secrets), status and duration. Successful token callbacks are
// logged at debug level only.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	if status < 400 && (c.FullPath() == "/healthz" || isCallbackPath(c.FullPath())) {
		level = slog.LevelDebug
	}
	if !s.log.Enabled(c.Request.Context(), level) {
		return
	}
	s.log.LogAttrs(c.Request.Context(), level, "http",
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", status),
		slog.Duration("took", time.Since(start)),
		slog.String("ip", c.ClientIP()))
}

// recover turns a panic into a plain 500 and a log line.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving request", "path", c.Request.URL.Path, "panic", v)
			c.Abort()
			plain(c, http.StatusInternalServerError, "internal error")
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
