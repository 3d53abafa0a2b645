// Package api is the integration API under /api/v1: what a product's
// backend calls to connect its users' Zoom accounts (connect links, code
// exchange), list and delete connections, get signed token URLs, mint
// tokens now (one, or a meeting's host and participants at once), send
// bots and follow events. JSON in and out; every error is
// {"error": {"code", "message", "field"}} with the status that
// onbehalf.HTTPStatus gives its code. Every route but the OpenAPI
// description and its reference page needs an API key (Authorization:
// Bearer); those two answer even while no key is configured.
//
// Handlers are thin: they check their input, call the token manager, the
// account minter, the launch service or the store, and render what these
// return. Connections are never rendered with their tokens.
package api

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// Store is what the API reads and writes in the store.
type Store interface {
	Connection(ctx context.Context, id string) (*onbehalf.Connection, error)
	ConnectionByZoomUser(ctx context.Context, zoomUserID string) (*onbehalf.Connection, error)
	ListConnections(ctx context.Context, f onbehalf.ConnectionFilter) ([]*onbehalf.Connection, string, error)
	CreateConnectLink(ctx context.Context, l onbehalf.ConnectLink) error
	ConnectLinkByID(ctx context.Context, id string) (*onbehalf.ConnectLink, error)
	RevokeConnectLink(ctx context.Context, id string, now time.Time) (*onbehalf.ConnectLink, error)
	Bot(ctx context.Context, id string) (*onbehalf.Bot, error)
	ListBots(ctx context.Context, f onbehalf.BotFilter) ([]*onbehalf.Bot, string, error)
	APIKeyByHash(ctx context.Context, hash []byte) (*onbehalf.APIKey, error)
	APIKeys(ctx context.Context) ([]onbehalf.APIKey, error)
	UpdateConnection(ctx context.Context, id string, p onbehalf.ConnectionPatch) (*onbehalf.Connection, error)
	CreateAPIKey(ctx context.Context, k onbehalf.APIKey) error
	RevokeAPIKey(ctx context.Context, id string) error
	NoteAPIKeyUsed(ctx context.Context, id string, at time.Time) error
	onbehalf.IdempotencyStore
}

// Connector stores and deletes grants: the token manager, which
// serializes that with refreshes.
type Connector interface {
	Connect(ctx context.Context, a onbehalf.Authorization) (*onbehalf.Connection, bool, error)
	Disconnect(ctx context.Context, id string) (c *onbehalf.Connection, revokeErr, err error)
}

// OAuth is what the code exchange needs from the Zoom client.
type OAuth interface {
	ExchangeRedirect(ctx context.Context, code, redirectURI string) (onbehalf.Token, error)
	Me(ctx context.Context, accessToken string) (onbehalf.ZoomUser, error)
	// Revoke gives back a grant that could not be stored.
	Revoke(ctx context.Context, token string) error
}

// AccountMinter mints tokens for the users of a Zoom account without a
// connection (account mode: tokens.Account).
type AccountMinter interface {
	Mint(ctx context.Context, userOrEmail string, kind onbehalf.TokenKind, meetingID string) (string, error)
}

// Bots launches bots and signs token URLs: the launch service.
type Bots interface {
	Launch(ctx context.Context, req bots.LaunchRequest) (*onbehalf.Bot, error)
	TokenURLs(ctx context.Context, req bots.TokenURLRequest) ([]onbehalf.TokenURL, error)
	// Remove makes a bot leave its meeting; by says who asked.
	Remove(ctx context.Context, id, by string) (*onbehalf.Bot, error)
}

// Recorder notes the tokens minted through the API (the connection's last
// mint); it must not block. bots.Service is one.
type Recorder interface {
	Record(f onbehalf.TokenFetch)
}

// Options configure the API. Store, Connector, Minter and Bots are
// required; a nil OAuth, Account or Stream turns its routes into errors
// that say what to configure.
type Options struct {
	// AllowZAK lets /tokens mint ZAKs for connections (ALLOW_ZAK); account
	// mode is unaffected (its users are of the operator's own account).
	AllowZAK bool
	// BaseURL is the public URL (connect links start with it), no
	// trailing slash.
	BaseURL string
	// Platforms are the names of the configured bot platforms, in the
	// launch form's order: the enum of every "platform" field of the
	// OpenAPI description as served.
	Platforms []string
	// Keys are the keys given in API_KEYS; more are in the store.
	Keys []string
	// ReturnOrigins are the origins a connect link may send the browser
	// back to (API_RETURN_ORIGINS).
	ReturnOrigins []string
	// RateLimitPerKey is requests per minute per API key
	// (RATE_LIMIT_PER_API_KEY); 0 turns it off. A batch counts one per
	// token it mints.
	RateLimitPerKey int
	// PerConnection, when set, is the per-connection table of the token
	// callbacks (RATE_LIMIT_PER_CONNECTION): tokens minted through the
	// API take from the same budget.
	PerConnection *ratelimit.Table
	// Failures bounds failed key checks per client IP (past it, 429);
	// nil means a budget like the token callbacks'.
	Failures *ratelimit.Table
	// TokenURLTTL is the longest lifetime a caller may ask of token URLs
	// (TOKEN_URL_TTL); default tokenurl.DefaultTTL.
	TokenURLTTL time.Duration
	// BatchConcurrency bounds the mints of one batch running at once;
	// default DefaultBatchConcurrency.
	BatchConcurrency int

	Store     Store
	Connector Connector
	Minter    onbehalf.TokenMinter
	Bots      Bots
	// OAuth is nil when the Zoom app is not configured.
	OAuth OAuth
	// Account is nil unless account mode is configured.
	Account AccountMinter
	// Stream is nil when there is no event stream.
	Stream Stream
	// Recorder may be nil.
	Recorder Recorder
	Logger   *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Observer, when set, hears of every request the API's routes
	// answered (the metrics).
	Observer Observer
}

// Observer hears of each request a route answered: the route's pattern
// ("/api/v1/bots/:id"), the method, the status and how long it took. It
// must not block.
type Observer interface {
	ObserveAPIRequest(route, method string, status int, took time.Duration)
}

// DefaultBatchConcurrency bounds the concurrent mints of one batch: 100
// participants take four rounds of Zoom's latency.
const DefaultBatchConcurrency = 32

// server holds the handlers' dependencies.
type server struct {
	o   Options
	log *slog.Logger
	// base is the group's path ("/api/v1"), for Location headers.
	base   string
	keys   *keyring
	perKey *ratelimit.Table
	// doc is the description as served: its server is BaseURL's, its
	// platform enums Options.Platforms.
	doc []byte
	// referencePage is doc's page, rendered once, when first asked for.
	referencePage func() ([]byte, error)
}

// handler is an API handler: it writes its reply, or returns the error
// to answer.
type handler func(c *gin.Context) error

// route is one route of the API, relative to the group it is mounted on.
type route struct {
	method, path string
	h            handler
	// public routes need no API key.
	public bool
	// always routes answer even while the API is off (no key configured):
	// the description and its reference page.
	always bool
	// secret marks a POST whose reply carries a secret that must not be
	// kept, even sealed (a token, a signed URL, an API key): never kept
	// for Idempotency-Key replays.
	secret bool
}

// Mount adds the API's routes to g (the web engine's /api/v1 group, whose
// middleware adds request IDs, the access log, security headers and body
// limits).
func Mount(g *gin.RouterGroup, o Options) {
	s := newServer(o)
	s.base = g.BasePath()
	for _, rt := range s.routes() {
		chain := []gin.HandlerFunc{s.auth}
		switch {
		case rt.always:
			chain = nil
		case rt.public:
			chain = []gin.HandlerFunc{s.enabled}
		case rt.method == http.MethodPost:
			chain = append(chain, s.idempotent(rt.secret))
		}
		if o.Observer != nil {
			chain = append([]gin.HandlerFunc{s.observe}, chain...)
		}
		g.Handle(rt.method, rt.path, append(chain, s.wrap(rt.h))...)
	}
}

// observe tells the Observer how the rest of the chain answered.
func (s *server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.o.Observer.ObserveAPIRequest(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
}

// newServer fills o's defaults.
func newServer(o Options) *server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Failures == nil {
		o.Failures = ratelimit.New(failRate, failBurst, maxLimiterKeys)
	}
	if o.TokenURLTTL <= 0 {
		o.TokenURLTTL = tokenurl.DefaultTTL
	}
	if o.BatchConcurrency <= 0 {
		o.BatchConcurrency = DefaultBatchConcurrency
	}
	doc := OpenAPIFor(o.BaseURL, o.Platforms)
	return &server{
		o:             o,
		log:           o.Logger,
		keys:          newKeyring(o.Keys, o.Store, o.Now),
		perKey:        ratelimit.PerMinute(o.RateLimitPerKey, maxLimiterKeys),
		doc:           doc,
		referencePage: sync.OnceValues(func() ([]byte, error) { return renderReference(doc) }),
	}
}

// routes is the one route table: Mount registers it and the OpenAPI test
// checks the description against what the engine registered.
func (s *server) routes() []route {
	return []route{
		{method: http.MethodGet, path: "/openapi.json", h: s.openAPI, public: true, always: true},
		{method: http.MethodGet, path: "/reference", h: s.reference, public: true, always: true},
		// A connect link's answer is kept for retries (sealed at rest, as
		// tokens are): a retry must not make a second link.
		{method: http.MethodPost, path: "/connect-links", h: s.createConnectLink},
		{method: http.MethodGet, path: "/connect-links/:id", h: s.getConnectLink},
		{method: http.MethodDelete, path: "/connect-links/:id", h: s.revokeConnectLink},
		{method: http.MethodPost, path: "/connections", h: s.createConnection},
		{method: http.MethodGet, path: "/connections", h: s.listConnections},
		{method: http.MethodGet, path: "/connections/:id", h: s.getConnection},
		{method: http.MethodPatch, path: "/connections/:id", h: s.patchConnection},
		{method: http.MethodDelete, path: "/connections/:id", h: s.deleteConnection},
		{method: http.MethodPost, path: "/connections/:id/token-urls", h: s.createTokenURLs, secret: true},
		{method: http.MethodPost, path: "/tokens", h: s.mintToken, secret: true},
		{method: http.MethodPost, path: "/tokens/batch", h: s.mintBatch, secret: true},
		{method: http.MethodPost, path: "/bots", h: s.createBot},
		{method: http.MethodGet, path: "/bots", h: s.listBots},
		{method: http.MethodGet, path: "/bots/:id", h: s.getBot},
		{method: http.MethodDelete, path: "/bots/:id", h: s.removeBot},
		{method: http.MethodGet, path: "/events", h: s.streamEvents},
		{method: http.MethodPost, path: "/admin/api-keys", h: s.createAPIKey, secret: true},
		{method: http.MethodGet, path: "/admin/api-keys", h: s.listAPIKeys},
		{method: http.MethodDelete, path: "/admin/api-keys/:id", h: s.revokeAPIKey},
	}
}

// wrap turns a handler into a Gin handler that answers its error as JSON.
func (s *server) wrap(h handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.fail(c, err)
		}
	}
}

// NotFound answers an unknown path under /api/v1 the API's way (the web
// engine's NoRoute may call it for such paths: a group cannot have its
// own).
func NotFound(c *gin.Context) {
	writeError(c, onbehalf.Errorf(onbehalf.ENOTFOUND, "No such API route: see GET /api/v1/openapi.json."))
}

// MethodNotAllowed answers a known path with a method it does not serve,
// the API's way: 405, code method_not_allowed, and Allow naming the
// methods the path serves.
func MethodNotAllowed(c *gin.Context) {
	allowed := allowedMethods(c.Request.URL.Path)
	if len(allowed) > 0 {
		c.Header("Allow", strings.Join(allowed, ", "))
	}
	writeError(c, onbehalf.Errorf(onbehalf.EMETHOD, "This route does not take %s; it takes %s: see GET /api/v1/openapi.json.",
		onbehalf.Clip(c.Request.Method, 20), strings.Join(allowed, ", ")))
}

// allowedMethods returns the methods the route table serves at path (a
// request path under /api/v1), in the table's order.
func allowedMethods(path string) []string {
	rel := strings.TrimSuffix(strings.TrimPrefix(path, "/api/v1"), "/")
	var out []string
	for _, rt := range (&server{}).routes() {
		if matchPath(rt.path, rel) && !slices.Contains(out, rt.method) {
			out = append(out, rt.method)
		}
	}
	return out
}

// matchPath reports whether a route's path (":id" segments) matches rel.
func matchPath(pattern, rel string) bool {
	ps, rs := strings.Split(pattern, "/"), strings.Split(rel, "/")
	if len(ps) != len(rs) {
		return false
	}
	for i, p := range ps {
		if !strings.HasPrefix(p, ":") && p != rs[i] || strings.HasPrefix(p, ":") && rs[i] == "" {
			return false
		}
	}
	return true
}

// openAPIJSON is the OpenAPI 3.1 description of every route, written by
// hand next to the route table; a test checks that the two agree. It
// names no platform: each "platform" field has platformEnum where the
// served description has its enum.
//
//go:embed openapi.json
var openAPIJSON []byte

// OpenAPI returns the OpenAPI 3.1 description of the API, its server
// relative ("/api/v1") and its platform fields without an enum.
func OpenAPI() []byte { return append([]byte(nil), openAPIJSON...) }

// platformEnum marks, in the embedded description, where a "platform"
// field's enum goes; OpenAPIFor puts it there.
const platformEnum = `"x-onbehalf-enum": "platforms"`

// relativeServer is the server URL of the embedded description, which
// OpenAPIFor makes absolute.
const relativeServer = `"url": "/api/v1"`

// OpenAPIFor returns the description as a server at baseURL (BASE_URL)
// with the given platforms serves it: its server URL absolute, so that
// clients generated from the document, and tools given the document
// alone, call this server, and the enum of each "platform" field the
// platforms it has, so that a new platform needs no edit here. An empty
// baseURL leaves the server relative; no platform leaves the fields
// without an enum (the bot calls then answer 503).
func OpenAPIFor(baseURL string, platforms []string) []byte {
	doc := OpenAPI()
	if baseURL != "" {
		abs, _ := json.Marshal(strings.TrimSuffix(baseURL, "/") + "/api/v1")
		doc = bytes.Replace(doc, []byte(relativeServer), []byte(`"url": `+string(abs)), 1)
	}
	if len(platforms) > 0 {
		enum, _ := json.Marshal(platforms)
		doc = bytes.ReplaceAll(doc, []byte(platformEnum), []byte(`"enum": `+string(enum)))
	}
	return doc
}

// openAPI handles GET /openapi.json (no key needed, served even while
// the API is off).
func (s *server) openAPI(c *gin.Context) error {
	if _, err := query(c); err != nil {
		return err
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", s.doc)
	return nil
}
