// Package config reads onbehalf's configuration from the environment (and an
// optional .env file) and reports every problem at once.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
	"github.com/onbehalf/onbehalf/internal/events"
	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokens"
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
	// AtRiskWindow is how long before a bot is due its connection is
	// checked: a bot due within it whose connection cannot refresh or
	// lacks a scope makes connection.at_risk (AT_RISK_WINDOW, default 2h;
	// the keep-alive's watcher of bots due soon).
	AtRiskWindow time.Duration

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

// Getenv looks up an environment variable; os.Getenv fits.
type Getenv func(string) string

// LoadDotEnv returns a Getenv that reads the real environment first and then
// the .env file at path, if it exists, and reads every secret variable
// from NAME_FILE when that is set (SecretVars). A missing file is not an
// error.
func LoadDotEnv(path string, getenv Getenv) (Getenv, error) {
	vals, err := godotenv.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		vals = nil
	} else if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	both := func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return vals[k]
	}
	// Problems of NAME_FILE are Load's to report, with all the others.
	withFiles, _ := withSecretFiles(both)
	return withFiles, nil
}

// Load parses the configuration. The returned error lists every problem,
// one per line.
func Load(getenv Getenv) (Config, error) {
	getenv, errs := withSecretFiles(getenv)
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		ZoomClientID:      get("ZOOM_CLIENT_ID", ""),
		ZoomClientSecret:  get("ZOOM_CLIENT_SECRET", ""),
		OBFCallbackSecret: get("OBF_CALLBACK_SECRET", ""),
		SessionSecret:     get("SESSION_SECRET", ""),
		DBPath:            get("DB_PATH", "./data/onbehalf.db"),
		LogLevel:          strings.ToLower(get("LOG_LEVEL", "info")),
		LogFormat:         strings.ToLower(get("LOG_FORMAT", "text")),
	}

	port, err := strconv.Atoi(get("PORT", "8080"))
	if err != nil || port < 0 || port > 65535 {
		errs = append(errs, fmt.Errorf("PORT=%q: must be a number from 0 to 65535", getenv("PORT")))
	}
	c.Port = port
	c.ListenAddr = get("LISTEN_ADDR", ":"+strconv.Itoa(port))
	if _, p, err := net.SplitHostPort(c.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("LISTEN_ADDR=%q: must be host:port, e.g. 127.0.0.1:8080 or :8080", c.ListenAddr))
	} else if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
		errs = append(errs, fmt.Errorf("LISTEN_ADDR=%q: the port must be a number from 0 to 65535", c.ListenAddr))
	}

	if v := get("BASE_URL", ""); v != "" {
		u, err := parseHTTPURL("BASE_URL", v)
		if err != nil {
			errs = append(errs, err)
		} else if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("BASE_URL=%q: must be scheme://host[:port] with no path or query (e.g. https://abc.ngrok-free.app)", v))
		} else {
			c.BaseURL = strings.TrimRight(v, "/")
		}
	}
	if v := get("ZOOM_REDIRECT_URI", ""); v != "" {
		if _, err := parseHTTPURL("ZOOM_REDIRECT_URI", v); err != nil {
			errs = append(errs, err)
		}
		c.ZoomRedirectURI = v
	}

	c.ZoomOAuthURL = get("ZOOM_OAUTH_URL", "https://zoom.us")
	if _, err := parseHTTPURL("ZOOM_OAUTH_URL", c.ZoomOAuthURL); err != nil {
		errs = append(errs, err)
	}
	c.ZoomOAuthURL = strings.TrimRight(c.ZoomOAuthURL, "/")
	c.ZoomAPIURL = get("ZOOM_API_URL", "https://api.zoom.us/v2")
	if _, err := parseHTTPURL("ZOOM_API_URL", c.ZoomAPIURL); err != nil {
		errs = append(errs, err)
	}
	c.ZoomAPIURL = strings.TrimRight(c.ZoomAPIURL, "/")

	if (c.ZoomClientID == "") != (c.ZoomClientSecret == "") {
		errs = append(errs, errors.New("ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET: set both or neither (Zoom Marketplace → your General app → App Credentials)"))
	}
	if v := c.OBFCallbackSecret; v != "" && len(v) < 16 {
		errs = append(errs, errors.New("OBF_CALLBACK_SECRET: must be at least 16 characters (or unset it to have one generated)"))
	}
	if v := c.SessionSecret; v != "" && len(v) < 32 {
		errs = append(errs, errors.New("SESSION_SECRET: must be at least 32 characters (or unset it to have one generated)"))
	}
	if c.DBPath == "" {
		errs = append(errs, errors.New("DB_PATH: must not be empty"))
	}
	c.ZoomTimeout = parseDuration(&errs, "ZOOM_TIMEOUT", get("ZOOM_TIMEOUT", "10s"))
	c.ZoomRefreshTimeout = parseDuration(&errs, "ZOOM_REFRESH_TIMEOUT", get("ZOOM_REFRESH_TIMEOUT", "60s"))
	c.ZoomWebhookSecretToken = get("ZOOM_WEBHOOK_SECRET_TOKEN", "")
	if v := get("TOKEN_ENCRYPTION_KEY", ""); v != "" {
		keys, err := ParseTokenKeys("TOKEN_ENCRYPTION_KEY", v)
		if err != nil {
			errs = append(errs, err)
		}
		c.TokenEncryptionKeys = keys
	}
	c.AllowZAK = parseBool(&errs, "ALLOW_ZAK", get("ALLOW_ZAK", "false"))
	c.KeepAlive = parseBool(&errs, "KEEPALIVE", get("KEEPALIVE", "true"))
	c.KeepAliveMargin = parseDuration(&errs, "KEEPALIVE_MARGIN", get("KEEPALIVE_MARGIN", "15m"))
	c.KeepAliveConcurrency = parseInt(&errs, "KEEPALIVE_CONCURRENCY", get("KEEPALIVE_CONCURRENCY", "4"), 1, 256)
	c.KeepAliveRate = float64(parseInt(&errs, "KEEPALIVE_RATE", get("KEEPALIVE_RATE", "10"), 1, 1000))
	c.KeepAliveIdle = parseDuration(&errs, "KEEPALIVE_IDLE", get("KEEPALIVE_IDLE", "24h"))
	if v := c.KeepAliveIdle; v > 0 && (v < keepalive.MinIdle || v > keepalive.MaxIdle) {
		errs = append(errs, fmt.Errorf("KEEPALIVE_IDLE=%s: must be from %s to %s (30 days): Zoom's refresh tokens die when unused for about 90 days",
			v, keepalive.MinIdle, keepalive.MaxIdle))
	}
	c.ZoomFailureCooldown = parseCooldown(&errs, get("ZOOM_FAILURE_COOLDOWN", "30s"))
	// AT_RISK_WINDOW: from a minute (the watcher looks once a minute) to
	// the watcher's lookback (bots are remembered that long).
	c.AtRiskWindow = parseDuration(&errs, "AT_RISK_WINDOW", get("AT_RISK_WINDOW", keepalive.DefaultAtRiskWindow.String()))
	if v := c.AtRiskWindow; v > 0 && (v < keepalive.DefaultWatchEvery || v > keepalive.DefaultLookback) {
		errs = append(errs, fmt.Errorf("AT_RISK_WINDOW=%s: must be from %s to %s (30 days)", v, keepalive.DefaultWatchEvery, keepalive.DefaultLookback))
	}
	c.ZoomClientSecrets = parseClientSecrets(&errs, c.ZoomClientSecret)
	c.TokenURLTTL = parseDuration(&errs, "TOKEN_URL_TTL", get("TOKEN_URL_TTL", "168h"))
	switch v := strings.ToLower(get("ALLOW_SECRET_URLS", "true")); v {
	case "true", "1", "obf":
		c.SecretURLKinds = []onbehalf.TokenKind{onbehalf.KindOBF}
	case "zak":
		c.SecretURLKinds = []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindZAK}
	case "false", "0":
	default:
		errs = append(errs, fmt.Errorf("ALLOW_SECRET_URLS=%q: must be true (OBF only), zak (OBF and ZAK) or false", v))
	}
	if v := get("TRUSTED_PROXIES", ""); v != "" {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
				errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %q is neither an IP nor a CIDR", p))
				continue
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	c.RateLimitPerConnection = parseInt(&errs, "RATE_LIMIT_PER_CONNECTION", get("RATE_LIMIT_PER_CONNECTION", "0"), 0, 1_000_000)
	c.RateLimitPerIP = parseInt(&errs, "RATE_LIMIT_PER_IP", get("RATE_LIMIT_PER_IP", "0"), 0, 1_000_000)

	c.APIKeys = list(get("API_KEYS", ""))
	for i, k := range c.APIKeys {
		if len(k) < 24 {
			errs = append(errs, fmt.Errorf("API_KEYS: key %d is shorter than 24 characters (make one with `onbehalf apikey create --name NAME`, or openssl rand -base64 32)", i+1))
		}
	}
	for _, o := range list(get("API_RETURN_ORIGINS", "")) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("API_RETURN_ORIGINS: %q is not an origin (scheme://host[:port])", o))
			continue
		}
		c.APIReturnOrigins = append(c.APIReturnOrigins, u.Scheme+"://"+u.Host)
	}
	c.RateLimitPerAPIKey = parseInt(&errs, "RATE_LIMIT_PER_API_KEY", get("RATE_LIMIT_PER_API_KEY", "600"), 0, 1_000_000)
	c.AllowedZoomAccounts = list(get("ALLOWED_ZOOM_ACCOUNTS", ""))
	for _, d := range list(get("ALLOWED_EMAIL_DOMAINS", "")) {
		d = strings.ToLower(strings.TrimPrefix(d, "@"))
		if strings.ContainsAny(d, "@/ ") || !strings.Contains(d, ".") {
			errs = append(errs, fmt.Errorf("ALLOWED_EMAIL_DOMAINS: %q is not an email domain (like example.com)", d))
			continue
		}
		c.AllowedEmailDomains = append(c.AllowedEmailDomains, d)
	}
	if v := get("WEBHOOK_URL", ""); v != "" {
		if _, err := parseHTTPURL("WEBHOOK_URL", v); err != nil {
			errs = append(errs, err)
		}
		c.WebhookURL = v
	}
	c.WebhookSecret = get("WEBHOOK_SECRET", "")
	if v := c.WebhookSecret; v != "" && !validWhsec(v) {
		errs = append(errs, errors.New("WEBHOOK_SECRET: must be whsec_ followed by base64 (make one with `onbehalf webhook-secret`)"))
	}
	c.ZoomAccountID = get("ZOOM_ACCOUNT_ID", "")
	c.ZoomS2SClientID = get("ZOOM_S2S_CLIENT_ID", "")
	c.ZoomS2SClientSecret = get("ZOOM_S2S_CLIENT_SECRET", "")
	if n := countSet(c.ZoomAccountID, c.ZoomS2SClientID, c.ZoomS2SClientSecret); n != 0 && n != 3 {
		errs = append(errs, errors.New("ZOOM_ACCOUNT_ID, ZOOM_S2S_CLIENT_ID and ZOOM_S2S_CLIENT_SECRET: set all three or none (Zoom Marketplace → your Server-to-Server OAuth app → App Credentials)"))
	}
	c.Metrics = parseBool(&errs, "METRICS", get("METRICS", "false"))
	if v := get("METRICS_ADDR", ""); v != "" {
		if _, _, err := net.SplitHostPort(v); err != nil {
			errs = append(errs, fmt.Errorf("METRICS_ADDR=%q: must be host:port, e.g. 127.0.0.1:9090", v))
		}
		c.MetricsAddr = v
	}
	c.DatabaseURL = get("DATABASE_URL", "")
	if v := c.DatabaseURL; v != "" && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
		errs = append(errs, errors.New("DATABASE_URL: must start with postgres:// (unset it to use the bbolt file at DB_PATH)"))
	} else if v != "" && len(c.TokenEncryptionKeys) == 0 {
		errs = append(errs, ErrNoTokenKey)
	}
	c.ShutdownDrain = parseWait(&errs, "SHUTDOWN_DRAIN", get("SHUTDOWN_DRAIN", "5s"))
	loadTracing(&c, &errs, get)
	c.Pages = parseBool(&errs, "PAGES", get("PAGES", "true"))
	c.BotsPerHour = parseInt(&errs, "BOTS_PER_HOUR", get("BOTS_PER_HOUR", "20"), 0, 100_000)
	c.StreamsPerSession = parseInt(&errs, "STREAMS_PER_SESSION", get("STREAMS_PER_SESSION", strconv.Itoa(events.DefaultMaxStreamsPerKey)), 1, 1000)
	c.StreamsMax = parseInt(&errs, "STREAMS_MAX", get("STREAMS_MAX", strconv.Itoa(events.DefaultMaxStreams)), 1, 1_000_000)
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("LOG_FORMAT=%q: must be text or json", c.LogFormat))
	}

	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL=%q: must be debug, info, warn or error", c.LogLevel))
	}

	if len(errs) > 0 {
		return c, &Error{Problems: errs}
	}
	return c, nil
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

// list splits a comma-separated value, dropping blanks.
func list(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// countSet counts the non-empty values.
func countSet(vs ...string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}

// validWhsec reports whether v is whsec_ followed by base64.
func validWhsec(v string) bool {
	rest, ok := strings.CutPrefix(v, "whsec_")
	if !ok || rest == "" {
		return false
	}
	if _, err := base64.StdEncoding.DecodeString(rest); err == nil {
		return true
	}
	_, err := base64.RawStdEncoding.DecodeString(rest)
	return err == nil
}

func parseHTTPURL(name, v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s=%q: must be an absolute http(s) URL", name, v)
	}
	return u, nil
}

func parseBool(errs *[]error, name, v string) bool {
	b, err := strconv.ParseBool(v)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s=%q: must be true or false", name, v))
	}
	return b
}

func parseInt(errs *[]error, name, v string, lo, hi int) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		*errs = append(*errs, fmt.Errorf("%s=%q: must be a whole number from %d to %d", name, v, lo, hi))
	}
	return n
}

// parseWait is parseDuration that also accepts 0 (no wait).
func parseWait(errs *[]error, name, v string) time.Duration {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		*errs = append(*errs, fmt.Errorf("%s=%q: must be a duration such as 5s, or 0", name, v))
	}
	return d
}

func parseDuration(errs *[]error, name, v string) time.Duration {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		*errs = append(*errs, fmt.Errorf("%s=%q: must be a positive duration such as 10s", name, v))
	}
	return d
}

// parseCooldown reads ZOOM_FAILURE_COOLDOWN: 0 (off) up to
// tokens.MaxCooldown.
func parseCooldown(errs *[]error, v string) time.Duration {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > tokens.MaxCooldown {
		*errs = append(*errs, fmt.Errorf("ZOOM_FAILURE_COOLDOWN=%q: must be a duration from 0 (off) to %s, such as 30s", v, tokens.MaxCooldown))
	}
	return d
}

// parseClientSecrets splits ZOOM_CLIENT_SECRET: one secret, or two
// separated by a comma (the new one first) during Zoom's secret rotation.
// Errors never hold a secret.
func parseClientSecrets(errs *[]error, v string) []string {
	if v == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		out = append(out, strings.TrimSpace(p))
	}
	switch {
	case len(out) > 2:
		*errs = append(*errs, fmt.Errorf("ZOOM_CLIENT_SECRET: holds %d comma-separated secrets; give one, or two (the new one first) while Zoom's secret rotation is under way", len(out)))
	case slices.Contains(out, ""):
		*errs = append(*errs, errors.New("ZOOM_CLIENT_SECRET: an empty secret around a comma; give one secret, or two separated by a comma (the new one first)"))
	case len(out) == 2 && out[0] == out[1]:
		*errs = append(*errs, errors.New("ZOOM_CLIENT_SECRET: the same secret twice; after the rotation keep only the new one"))
	}
	return out
}

// ErrNoTokenKey is the error of a PostgreSQL install without
// TOKEN_ENCRYPTION_KEY.
var ErrNoTokenKey = errors.New("TOKEN_ENCRYPTION_KEY is required with DATABASE_URL: every instance must share it, and it must not live in the database (make one with: openssl rand -base64 32; moving from bbolt, use the key in DB_PATH.key)")

// ParseTokenKeys reads sealing keys as TOKEN_ENCRYPTION_KEY and a bbolt
// key file hold them: comma-separated base64 of 32 bytes each. from names
// the source in errors, which never hold a key.
func ParseTokenKeys(from, v string) ([][]byte, error) {
	var keys [][]byte
	var errs []error
	for i, part := range strings.Split(strings.TrimSpace(v), ",") {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(part))
		if err != nil || len(k) != 32 {
			errs = append(errs, fmt.Errorf("%s: key %d is not 32 bytes of base64 (make one with: openssl rand -base64 32)", from, i+1))
			continue
		}
		keys = append(keys, k)
	}
	return keys, errors.Join(errs...)
}
