// Package config reads onbehalf's configuration from the environment (and an
// optional .env file) and reports every problem at once.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
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
