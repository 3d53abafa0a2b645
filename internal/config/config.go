// Package config reads onbehalf's configuration from the environment (and an
// optional .env file) and reports every problem at once. Every core
// variable is one line of one table (table, below the Config it fills):
// name, group, default, doc line, secret or not, parser. Load parses from
// it, `onbehalf doctor` lists from it, and tests check .env.example and
// docs/configuration.md against it.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/events"
	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
	"github.com/onbehalf/onbehalf/internal/zoom"
)

// Config is the parsed configuration. Secrets that are empty here
// (OBFCallbackSecret, SessionSecret) are generated and kept in the database
// by the app.
type Config struct {
	ZoomClientID     string
	ZoomClientSecret string

	// Port is the listen port; 0 picks a free one (tests).
	Port int
	// ListenAddr is the address to listen on (LISTEN_ADDR, default
	// ":$PORT": all interfaces).
	ListenAddr string
	// BaseURL is the public URL of the server, without a trailing slash.
	// Empty when BASE_URL is not set: the app then uses
	// http://localhost:<actual port>.
	BaseURL string
	// ZoomRedirectURI is empty when ZOOM_REDIRECT_URI is not set: the app
	// then uses BaseURL + "/zoom/oauth-callback".
	ZoomRedirectURI string

	OBFCallbackSecret string
	SessionSecret     string

	ZoomOAuthURL string
	ZoomAPIURL   string

	DBPath string

	// ZoomTimeout bounds every call to Zoom, and how long a caller waits
	// for a refresh; ZoomRefreshTimeout bounds a refresh itself, which
	// runs detached from its callers.
	ZoomTimeout        time.Duration
	ZoomRefreshTimeout time.Duration

	// LogLevel is debug, info, warn or error; LogFormat text or json.
	LogLevel  string
	LogFormat string

	// ZoomWebhookSecretToken enables POST /zoom/webhook (deauthorization,
	// URL validation). Empty: the route answers 404.
	ZoomWebhookSecretToken string
	// TokenEncryptionKeys seal tokens at rest: the first is used to seal,
	// all are tried to open (rotation). Empty: a key file beside the
	// database is used, generated on first start.
	TokenEncryptionKeys [][]byte
	// KeepAlive enables the background refresher; KeepAliveMargin is
	// still read but no longer used (KeepAliveIdle), KeepAliveConcurrency how many
	// refreshes run at once and KeepAliveRate how many start per second.
	KeepAlive            bool
	KeepAliveMargin      time.Duration
	KeepAliveConcurrency int
	KeepAliveRate        float64
	// KeepAliveIdle is how long a connection nobody fetched a token for
	// waits for its keep-alive refresh (KEEPALIVE_IDLE); it replaces
	// KeepAliveMargin, which is still read (an old .env keeps working)
	// but no longer used by the scheduler.
	KeepAliveIdle time.Duration
	// ZoomClientSecrets is ZOOM_CLIENT_SECRET split at commas: one
	// secret, or two (the new one first) while Zoom's secret rotation is
	// under way.
	ZoomClientSecrets []string
	// ZoomFailureCooldown is how long token requests for a connection fail
	// fast after a refresh failed for a reason other than a dead grant
	// (ZOOM_FAILURE_COOLDOWN; 0 turns it off).
	ZoomFailureCooldown time.Duration

	// TokenURLTTL is the lifetime of signed token URLs.
	TokenURLTTL time.Duration
	// AllowZAK lets this server hand out ZAKs (ALLOW_ZAK, default false):
	// Zoom allows them only for meetings in the app's own account.
	AllowZAK bool
	// SecretURLKinds are the kinds plain auth_token URLs may serve
	// (ALLOW_SECRET_URLS: true = OBF only, zak = OBF and ZAK, false =
	// none).
	SecretURLKinds []onbehalf.TokenKind
	// TrustedProxies are CIDRs or IPs whose X-Forwarded-For is believed.
	TrustedProxies []string
	// RateLimitPerConnection and RateLimitPerIP are callback requests per
	// minute (0 disables).
	RateLimitPerConnection int
	RateLimitPerIP         int

	// APIKeys are integration API keys given in the environment
	// (API_KEYS); more are created with `onbehalf apikey create`.
	APIKeys []string
	// APIReturnOrigins are the origins a connect link may send the
	// browser back to.
	APIReturnOrigins []string
	// RateLimitPerAPIKey is API requests per minute per key (0: off).
	RateLimitPerAPIKey int

	// AllowedZoomAccounts and AllowedEmailDomains limit who may connect
	// through the pages (ALLOWED_ZOOM_ACCOUNTS, ALLOWED_EMAIL_DOMAINS,
	// lower-cased); empty: everyone. Connect links are not limited.
	AllowedZoomAccounts, AllowedEmailDomains []string

	// WebhookURL receives the outgoing events, signed with WebhookSecret
	// (whsec_…).
	WebhookURL, WebhookSecret string

	// Account mode: a Server-to-Server OAuth app of one Zoom account.
	ZoomAccountID, ZoomS2SClientID, ZoomS2SClientSecret string

	// Metrics serves GET /metrics, on MetricsAddr when set.
	Metrics     bool
	MetricsAddr string

	// DatabaseURL selects PostgreSQL (postgres://…); empty keeps bbolt.
	DatabaseURL string

	// ShutdownDrain is how long the server keeps serving after SIGTERM
	// with /readyz answering 503, so that load balancers stop sending it
	// requests before it stops accepting them (SHUTDOWN_DRAIN, 0: none).
	ShutdownDrain time.Duration

	// Tracing (OpenTelemetry, OTLP over HTTP): TracesEndpoint is the URL
	// spans are posted to; empty turns tracing off. OTLPHeaders are sent
	// with them (authentication); ServiceName names this service.
	TracesEndpoint string
	OTLPHeaders    map[string]string
	ServiceName    string
	// Pages serves the browser pages (PAGES, default true): home, launch,
	// the person's page, /zoom/oauth without a connect link. False leaves
	// the API, connect links, token URLs, webhooks and probes.
	Pages bool
	// BotsPerHour bounds the bots one person (one connection) sends from
	// the pages in a rolling hour (BOTS_PER_HOUR, default 20; 0: no
	// limit). Bots created through the API are not limited by it.
	BotsPerHour int
	// StreamsPerSession and StreamsMax bound the launch page's live-status
	// streams: per browser session (one connection) and in all.
	StreamsPerSession int
	StreamsMax        int
}

// Var is one configuration variable of the core (each platform's are in
// its platform.Spec). The table below is the one place a variable is
// declared: Load parses from it, `onbehalf doctor` lists from it, and a
// test checks .env.example and docs/configuration.md against it.
type Var struct {
	// Name is the environment variable.
	Name string
	// Group is the section of the documentation and of doctor's report.
	Group string
	// Default is the value used when the variable is unset, parsed like a
	// set value; "" when there is none (see Unset).
	Default string
	// Unset says what leaving the variable unset means when there is no
	// Default: a value computed from others, or a feature left off.
	Unset string
	// Doc is one line on what the variable is for.
	Doc string
	// Secret values are never printed, and also read from NAME_FILE.
	Secret bool
	// List values are comma-separated; problems name the item, not the
	// whole value.
	List bool

	// parse reads a value (trimmed, never empty) into the Config the
	// table was made for; its errors say what is wrong with the value
	// and never repeat it.
	parse func(v string) error
}

// Groups of the table, in the order documents show them.
const (
	GroupZoom    = "Zoom app"
	GroupServer  = "Server"
	GroupStorage = "Storage"
	GroupKeep    = "Keep-alive"
	GroupTokens  = "Token URLs, sessions and rate limits"
	GroupPages   = "Who may use the pages"
	GroupAPI     = "Integration API and outgoing webhooks"
	GroupAccount = "Account mode"
)

// generated is what an unset generated secret means.
const generated = "generated once and kept in the database"

// Vars returns the table of core variables (for documents and doctor;
// Load uses its own copy).
func Vars() []Var { return table(new(Config)) }

// table is the table of core variables, its parsers writing into c. Order
// matters only where a parser reads a field set before it (LISTEN_ADDR
// after PORT is done by Load; the traces endpoint variables are ordered
// so that the specific one wins).
func table(c *Config) []Var {
	return []Var{
		{Name: "ZOOM_CLIENT_ID", Group: GroupZoom, Unset: "the pages say what to set",
			Doc: "the Zoom General app's Client ID", parse: text(&c.ZoomClientID)},
		{Name: "ZOOM_CLIENT_SECRET", Group: GroupZoom, Secret: true, Unset: "the pages say what to set",
			Doc: "the Zoom General app's Client Secret; NEW,OLD while Zoom rotates it", parse: clientSecrets(c)},
		{Name: "ZOOM_REDIRECT_URI", Group: GroupZoom, Unset: "$BASE_URL/zoom/oauth-callback",
			Doc: "OAuth redirect URI, equal byte for byte to the Zoom app's", parse: httpURL(&c.ZoomRedirectURI, false)},
		{Name: "ZOOM_OAUTH_URL", Group: GroupZoom, Default: "https://zoom.us",
			Doc: "base of Zoom's /oauth endpoints (Zoom for Government: https://zoomgov.com)", parse: httpURL(&c.ZoomOAuthURL, true)},
		{Name: "ZOOM_API_URL", Group: GroupZoom, Default: "https://api.zoom.us/v2",
			Doc: "base of the Zoom REST API (Zoom for Government: https://api.zoomgov.com/v2)", parse: httpURL(&c.ZoomAPIURL, true)},
		{Name: "ZOOM_TIMEOUT", Group: GroupZoom, Default: Duration(zoom.DefaultTimeout),
			Doc: "limit of each call to Zoom and of a token request's wait for a refresh", parse: duration(&c.ZoomTimeout, positive, 0)},
		{Name: "ZOOM_REFRESH_TIMEOUT", Group: GroupZoom, Default: Duration(zoom.DefaultRefreshTimeout),
			Doc: "limit of a token refresh itself", parse: duration(&c.ZoomRefreshTimeout, positive, 0)},
		{Name: "ZOOM_FAILURE_COOLDOWN", Group: GroupZoom, Default: Duration(tokens.DefaultCooldown),
			Doc: "how long token requests fail fast after a refresh failed (0: off)", parse: duration(&c.ZoomFailureCooldown, 0, tokens.MaxCooldown)},
		{Name: "ZOOM_WEBHOOK_SECRET_TOKEN", Group: GroupZoom, Secret: true, Unset: "POST /zoom/webhook answers 404",
			Doc: "the Zoom app's Secret Token, for POST /zoom/webhook", parse: text(&c.ZoomWebhookSecretToken)},

		{Name: "PORT", Group: GroupServer, Default: "8080",
			Doc: "listen port", parse: integer(&c.Port, 0, 65535)},
		{Name: "LISTEN_ADDR", Group: GroupServer, Unset: ":$PORT (all interfaces)",
			Doc: "host:port to listen on", parse: hostPort(&c.ListenAddr)},
		{Name: "BASE_URL", Group: GroupServer, Unset: "http://localhost:$PORT",
			Doc: "public URL of this server, scheme://host[:port]", parse: origin(&c.BaseURL)},
		{Name: "TRUSTED_PROXIES", Group: GroupServer, List: true, Unset: "X-Forwarded-For is not believed",
			Doc: "IPs or CIDRs of the reverse proxies whose X-Forwarded-For is believed", parse: list(&c.TrustedProxies, ipOrCIDR)},
		{Name: "LOG_LEVEL", Group: GroupServer, Default: "info",
			Doc: "debug, info, warn or error", parse: oneOf(&c.LogLevel, "debug", "info", "warn", "error")},
		{Name: "LOG_FORMAT", Group: GroupServer, Default: "text",
			Doc: "text or json", parse: oneOf(&c.LogFormat, "text", "json")},
		{Name: "METRICS", Group: GroupServer, Default: "false",
			Doc: "serve Prometheus metrics at GET /metrics", parse: boolean(&c.Metrics)},
		{Name: "METRICS_ADDR", Group: GroupServer, Unset: "/metrics (when METRICS=true) is served on the main listener",
			Doc: "host:port to serve /metrics on instead", parse: hostPort(&c.MetricsAddr)},
		{Name: "SHUTDOWN_DRAIN", Group: GroupServer, Default: "5s",
			Doc: "how long /readyz answers 503 after SIGTERM before the server stops accepting (0: none)", parse: duration(&c.ShutdownDrain, 0, 0)},
		{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Group: GroupServer, Unset: "no traces",
			Doc: "OpenTelemetry collector's base URL: spans go to its /v1/traces", parse: tracesBase(&c.TracesEndpoint)},
		{Name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", Group: GroupServer, Unset: "from OTEL_EXPORTER_OTLP_ENDPOINT",
			Doc: "the full URL spans are posted to", parse: httpURL(&c.TracesEndpoint, false)},
		{Name: "OTEL_EXPORTER_OTLP_HEADERS", Group: GroupServer, Secret: true, List: true, Unset: "no headers are sent with the spans",
			Doc: "key=value,… sent with the spans (authentication)", parse: otlpHeaders(&c.OTLPHeaders)},
		{Name: "OTEL_SERVICE_NAME", Group: GroupServer, Default: DefaultServiceName,
			Doc: "the service's name in traces", parse: text(&c.ServiceName)},

		{Name: "DB_PATH", Group: GroupStorage, Default: "./data/onbehalf.db",
			Doc: "the bbolt file; its folder is created", parse: text(&c.DBPath)},
		{Name: "DATABASE_URL", Group: GroupStorage, Secret: true, Unset: "the bbolt file at DB_PATH is used",
			Doc: "postgres://… to use PostgreSQL instead of bbolt", parse: postgresURL(&c.DatabaseURL)},
		{Name: "TOKEN_ENCRYPTION_KEY", Group: GroupStorage, Secret: true, List: true,
			Unset: "tokens are sealed with the key file beside the bbolt database (DB_PATH.key), generated on first start",
			Doc:   "base64 of 32 bytes sealing tokens at rest; new,old to rotate", parse: tokenKeys(&c.TokenEncryptionKeys)},

		{Name: "KEEPALIVE", Group: GroupKeep, Default: "true",
			Doc: "refresh idle connections so that their grant never dies of disuse", parse: boolean(&c.KeepAlive)},
		{Name: "KEEPALIVE_IDLE", Group: GroupKeep, Default: Duration(keepalive.DefaultIdle),
			Doc:   "how often a connection nobody fetched a token for is refreshed",
			parse: because(duration(&c.KeepAliveIdle, keepalive.MinIdle, keepalive.MaxIdle), "Zoom's refresh tokens die when unused for about 90 days")},
		{Name: "KEEPALIVE_MARGIN", Group: GroupKeep, Default: "15m",
			Doc: "no longer used (still accepted)", parse: duration(&c.KeepAliveMargin, positive, 0)},
		{Name: "KEEPALIVE_CONCURRENCY", Group: GroupKeep, Default: strconv.Itoa(keepalive.DefaultConcurrency),
			Doc: "refreshes in flight at once", parse: integer(&c.KeepAliveConcurrency, 1, 256)},
		{Name: "KEEPALIVE_RATE", Group: GroupKeep, Default: strconv.Itoa(keepalive.DefaultRate),
			Doc: "refreshes started per second", parse: rate(&c.KeepAliveRate, 1, 1000)},

		{Name: "TOKEN_URL_TTL", Group: GroupTokens, Default: Duration(tokenurl.DefaultTTL),
			Doc: "lifetime of the signed token URLs", parse: duration(&c.TokenURLTTL, positive, 0)},
		{Name: "OBF_CALLBACK_SECRET", Group: GroupTokens, Secret: true, Unset: generated,
			Doc: "auth_token of plain token URLs", parse: secret(&c.OBFCallbackSecret, 16)},
		{Name: "ALLOW_ZAK", Group: GroupTokens, Default: "false",
			Doc: "hand out ZAKs (only for meetings of your own Zoom account)", parse: boolean(&c.AllowZAK)},
		{Name: "ALLOW_SECRET_URLS", Group: GroupTokens, Default: "true",
			Doc: "what plain auth_token URLs serve: true (OBF), zak (OBF and ZAK) or false", parse: secretURLKinds(&c.SecretURLKinds)},
		{Name: "SESSION_SECRET", Group: GroupTokens, Secret: true, Unset: generated,
			Doc: "key of the session cookie", parse: secret(&c.SessionSecret, 32)},
		{Name: "RATE_LIMIT_PER_CONNECTION", Group: GroupTokens, Default: "0",
			Doc: "token requests per minute per connection (0: off)", parse: integer(&c.RateLimitPerConnection, 0, 1_000_000)},
		{Name: "RATE_LIMIT_PER_IP", Group: GroupTokens, Default: "0",
			Doc: "token requests per minute per client IP (0: off)", parse: integer(&c.RateLimitPerIP, 0, 1_000_000)},

		{Name: "PAGES", Group: GroupPages, Default: "true",
			Doc: "serve the browser pages (false: API, connect links, token URLs, webhooks and probes only)", parse: boolean(&c.Pages)},
		{Name: "ALLOWED_ZOOM_ACCOUNTS", Group: GroupPages, List: true, Unset: "any Zoom account may connect through the pages",
			Doc: "Zoom account IDs whose users may connect through the pages", parse: list(&c.AllowedZoomAccounts, nil)},
		{Name: "ALLOWED_EMAIL_DOMAINS", Group: GroupPages, List: true, Unset: "any email domain may connect through the pages",
			Doc: "email domains whose Zoom users may connect through the pages", parse: list(&c.AllowedEmailDomains, emailDomain)},
		{Name: "BOTS_PER_HOUR", Group: GroupPages, Default: "20",
			Doc: "bots one person sends from the pages per rolling hour (0: no limit)", parse: integer(&c.BotsPerHour, 0, 100_000)},
		{Name: "STREAMS_PER_SESSION", Group: GroupPages, Default: strconv.Itoa(events.DefaultMaxStreamsPerKey),
			Doc: "event streams per browser session and per API key", parse: integer(&c.StreamsPerSession, 1, 1000)},
		{Name: "STREAMS_MAX", Group: GroupPages, Default: strconv.Itoa(events.DefaultMaxStreams),
			Doc: "event streams in all", parse: integer(&c.StreamsMax, 1, 1_000_000)},

		{Name: "API_KEYS", Group: GroupAPI, Secret: true, List: true, Unset: "only keys made with `onbehalf apikey create`",
			Doc: "integration API keys, each at least 24 characters", parse: list(&c.APIKeys, apiKey)},
		{Name: "API_RETURN_ORIGINS", Group: GroupAPI, List: true, Unset: "connect links send the browser to /launch",
			Doc: "origins a connect link may send the browser back to", parse: list(&c.APIReturnOrigins, returnOrigin)},
		{Name: "RATE_LIMIT_PER_API_KEY", Group: GroupAPI, Default: "600",
			Doc: "API requests per minute per key (0: off)", parse: integer(&c.RateLimitPerAPIKey, 0, 1_000_000)},
		{Name: events.VarWebhookURL, Group: GroupAPI, Unset: "no events are POSTed (GET /api/v1/events still streams them)",
			Doc: "your webhook receiver: every event is POSTed there, signed", parse: httpURL(&c.WebhookURL, false)},
		{Name: events.VarWebhookSecret, Group: GroupAPI, Secret: true, Unset: generated + " (`onbehalf webhook-secret` prints it)",
			Doc: "whsec_… secret outgoing webhooks are signed with", parse: webhookSecret(&c.WebhookSecret)},

		{Name: "ZOOM_ACCOUNT_ID", Group: GroupAccount, Unset: "account mode is off",
			Doc: "account ID of a Server-to-Server OAuth app", parse: text(&c.ZoomAccountID)},
		{Name: "ZOOM_S2S_CLIENT_ID", Group: GroupAccount, Unset: "account mode is off",
			Doc: "its Client ID", parse: text(&c.ZoomS2SClientID)},
		{Name: "ZOOM_S2S_CLIENT_SECRET", Group: GroupAccount, Secret: true, Unset: "account mode is off",
			Doc: "its Client Secret", parse: text(&c.ZoomS2SClientSecret)},
	}
}

// Error lists every configuration problem found.
type Error struct {
	Problems []error
}

// Error implements the error interface: one problem per line.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "configuration has %d problem(s):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// ZoomConfigured reports whether Zoom app credentials are set.
func (c Config) ZoomConfigured() bool {
	return c.ZoomClientID != "" && c.ZoomClientSecret != ""
}

// AccountMode reports whether a Server-to-Server app is configured.
func (c Config) AccountMode() bool { return c.ZoomAccountID != "" }

// Secure reports whether the public URL is https (cookies get Secure).
func (c Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// ErrNoTokenKey is the error of a PostgreSQL install without
// TOKEN_ENCRYPTION_KEY.
var ErrNoTokenKey = errors.New("TOKEN_ENCRYPTION_KEY is required with DATABASE_URL: every instance must share it, and it must not live in the database (make one with: openssl rand -base64 32; moving from bbolt, use the key in DB_PATH.key)")

// ParseTokenKeys reads sealing keys as TOKEN_ENCRYPTION_KEY and a bbolt
// key file hold them: comma-separated base64 of 32 bytes each. from names
// the source in errors, which never hold a key.
func ParseTokenKeys(from, v string) ([][]byte, error) {
	keys, errs := parseKeys(v)
	for i, err := range errs {
		errs[i] = fmt.Errorf("%s: %w", from, err)
	}
	return keys, errors.Join(errs...)
}

// parseKeys reads comma-separated sealing keys and says which are wrong.
func parseKeys(v string) (keys [][]byte, errs []error) {
	for i, part := range strings.Split(strings.TrimSpace(v), ",") {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(part))
		if err != nil || len(k) != 32 {
			errs = append(errs, fmt.Errorf("key %d is not 32 bytes of base64 (make one with: openssl rand -base64 32)", i+1))
			continue
		}
		keys = append(keys, k)
	}
	return keys, errs
}
