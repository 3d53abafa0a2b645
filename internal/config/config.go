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
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
)

// Recall regions and the default one.
var recallRegions = []string{"us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1"}

// Config is the parsed configuration. Secrets that are empty here
// (OBFCallbackSecret, SessionSecret) are generated and kept in the database
// by the app.
type Config struct {
	ZoomClientID     string
	ZoomClientSecret string

	// Port is the listen port; 0 picks a free one (tests).
	Port int
	// BaseURL is the public URL of the server, without a trailing slash.
	// Empty when BASE_URL is not set: the app then uses
	// http://localhost:<actual port>.
	BaseURL string
	// ZoomRedirectURI is empty when ZOOM_REDIRECT_URI is not set: the app
	// then uses BaseURL + "/zoom/oauth-callback".
	ZoomRedirectURI string

	OBFCallbackSecret string
	SessionSecret     string

	RecallAPIKey string
	RecallRegion string
	RecallAPIURL string

	ZoomOAuthURL string
	ZoomAPIURL   string

	DBPath string

	// ZoomTimeout bounds every call to Zoom; RecallTimeout every call to
	// Recall.
	ZoomTimeout   time.Duration
	RecallTimeout time.Duration

	// LogLevel is debug, info, warn or error.
	LogLevel string

	// ZoomWebhookSecretToken enables POST /zoom/webhook (deauthorization,
	// URL validation). Empty: the route answers 404.
	ZoomWebhookSecretToken string
	// TokenEncryptionKeys seal tokens at rest: the first is used to seal,
	// all are tried to open (rotation). Empty: a key file beside the
	// database is used, generated on first start.
	TokenEncryptionKeys [][]byte
	// KeepAlive enables the background refresher; KeepAliveMargin is how
	// long before expiry it refreshes, KeepAliveConcurrency how many
	// refreshes run at once and KeepAliveRate how many start per second.
	KeepAlive            bool
	KeepAliveMargin      time.Duration
	KeepAliveConcurrency int
	KeepAliveRate        float64

	// TokenURLTTL is the lifetime of signed token URLs.
	TokenURLTTL time.Duration
	// AllowSecretURLs keeps plain auth_token URLs working.
	AllowSecretURLs bool
	// RecallVerificationSecret (whsec_...) makes every token callback
	// require a valid Standard Webhooks signature.
	RecallVerificationSecret string
	// TrustedProxies are CIDRs or IPs whose X-Forwarded-For is believed.
	TrustedProxies []string
	// RateLimitPerConnection and RateLimitPerIP are callback requests per
	// minute (0 disables).
	RateLimitPerConnection int
	RateLimitPerIP         int
}

// Getenv looks up an environment variable; os.Getenv fits.
type Getenv func(string) string

// LoadDotEnv returns a Getenv that reads the real environment first and then
// the .env file at path, if it exists. A missing file is not an error.
func LoadDotEnv(path string, getenv Getenv) (Getenv, error) {
	vals, err := godotenv.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return getenv, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return vals[k]
	}, nil
}

// Load parses the configuration. The returned error lists every problem,
// one per line.
func Load(getenv Getenv) (Config, error) {
	var errs []error
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
		RecallAPIKey:      get("RECALL_API_KEY", ""),
		RecallRegion:      get("RECALL_REGION", "us-east-1"),
		DBPath:            get("DB_PATH", "./data/onbehalf.db"),
		LogLevel:          strings.ToLower(get("LOG_LEVEL", "info")),
	}

	port, err := strconv.Atoi(get("PORT", "8080"))
	if err != nil || port < 0 || port > 65535 {
		errs = append(errs, fmt.Errorf("PORT=%q: must be a number from 0 to 65535", getenv("PORT")))
	}
	c.Port = port

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

	if v := get("RECALL_API_URL", ""); v != "" {
		if _, err := parseHTTPURL("RECALL_API_URL", v); err != nil {
			errs = append(errs, err)
		}
		c.RecallAPIURL = strings.TrimRight(v, "/")
	} else if !validRegion(c.RecallRegion) {
		errs = append(errs, fmt.Errorf("RECALL_REGION=%q: must be one of %s", c.RecallRegion, strings.Join(recallRegions, ", ")))
	} else {
		c.RecallAPIURL = "https://" + c.RecallRegion + ".recall.ai"
	}

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
	c.RecallTimeout = parseDuration(&errs, "RECALL_TIMEOUT", get("RECALL_TIMEOUT", "15s"))
	c.ZoomWebhookSecretToken = get("ZOOM_WEBHOOK_SECRET_TOKEN", "")
	if v := get("TOKEN_ENCRYPTION_KEY", ""); v != "" {
		for i, part := range strings.Split(v, ",") {
			k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(part))
			if err != nil || len(k) != 32 {
				errs = append(errs, fmt.Errorf("TOKEN_ENCRYPTION_KEY: key %d is not 32 bytes of base64 (make one with: openssl rand -base64 32)", i+1))
				continue
			}
			c.TokenEncryptionKeys = append(c.TokenEncryptionKeys, k)
		}
	}
	c.KeepAlive = parseBool(&errs, "KEEPALIVE", get("KEEPALIVE", "true"))
	c.KeepAliveMargin = parseDuration(&errs, "KEEPALIVE_MARGIN", get("KEEPALIVE_MARGIN", "15m"))
	c.KeepAliveConcurrency = parseInt(&errs, "KEEPALIVE_CONCURRENCY", get("KEEPALIVE_CONCURRENCY", "4"), 1, 256)
	c.KeepAliveRate = float64(parseInt(&errs, "KEEPALIVE_RATE", get("KEEPALIVE_RATE", "10"), 1, 1000))
	c.TokenURLTTL = parseDuration(&errs, "TOKEN_URL_TTL", get("TOKEN_URL_TTL", "168h"))
	c.AllowSecretURLs = parseBool(&errs, "ALLOW_SECRET_URLS", get("ALLOW_SECRET_URLS", "true"))
	c.RecallVerificationSecret = get("RECALL_VERIFICATION_SECRET", "")
	if v := c.RecallVerificationSecret; v != "" {
		rest, ok := strings.CutPrefix(v, "whsec_")
		_, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			_, err = base64.RawStdEncoding.DecodeString(rest)
		}
		if !ok || err != nil || rest == "" {
			errs = append(errs, errors.New("RECALL_VERIFICATION_SECRET: must be whsec_ followed by base64, as Recall.ai shows it (dashboard → Webhooks / verification secret)"))
		}
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

// RecallConfigured reports whether a Recall API key is set.
func (c Config) RecallConfigured() bool { return c.RecallAPIKey != "" }

// Secure reports whether the public URL is https (cookies get Secure).
func (c Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

func validRegion(r string) bool {
	for _, x := range recallRegions {
		if r == x {
			return true
		}
	}
	return false
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

func parseDuration(errs *[]error, name, v string) time.Duration {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		*errs = append(*errs, fmt.Errorf("%s=%q: must be a positive duration such as 10s", name, v))
	}
	return d
}
