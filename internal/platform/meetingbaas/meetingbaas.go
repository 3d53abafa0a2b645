// Package meetingbaas is the Meeting BaaS adapter (API v2,
// https://docs.meetingbaas.com/docs/api-v2). It creates bots with
// POST /v2/bots whose zoom_config points at this server's token URLs,
// serves those URLs the way Meeting BaaS bots fetch them (GET with bot_id
// or bot_uuid and extra appended, a bare text/plain token within 15 s),
// and reads Meeting BaaS's status webhooks: the account webhook's Svix
// deliveries (bot.status_change, bot.failed, bot.completed) and the
// per-bot callbacks (bot.completed, bot.failed) it sends to the bot's
// signed status URL.
package meetingbaas

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas/meetingbaasdemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/platform/swh"
)

// Name and Title of the platform.
const (
	Name  = "meetingbaas"
	Title = "Meeting BaaS"
)

// Configuration variables.
const (
	VarAPIKey        = "MEETINGBAAS_API_KEY"
	VarAPIURL        = "MEETINGBAAS_API_URL"
	VarTimeout       = "MEETINGBAAS_TIMEOUT"
	VarWebhookSecret = "MEETINGBAAS_WEBHOOK_SECRET"
)

// Defaults of the configuration.
const (
	DefaultAPIURL  = "https://api.meetingbaas.com"
	DefaultTimeout = 15 * time.Second
)

// APIKeyHeader carries the API key on every API request.
const APIKeyHeader = "x-meeting-baas-api-key"

// Paths of this server that Meeting BaaS calls.
const (
	// PathToken serves obf_token_url and zak_token_url: one path, each URL
	// signing the one kind it serves.
	PathToken = "/" + Name + "/token"
	// PathWebhook receives the account webhook (Svix) and the per-bot
	// callbacks.
	PathWebhook = "/webhooks/" + Name
)

// Spec describes the platform to the app.
var Spec = platform.Spec{
	Name:  Name,
	Title: Title,
	Vars: []platform.Var{
		{Name: VarAPIKey, Meaning: "Meeting BaaS API key (sent as the x-meeting-baas-api-key header); unset turns Meeting BaaS off", Secret: true},
		{Name: VarAPIURL, Default: DefaultAPIURL, Meaning: "Meeting BaaS API base URL"},
		{Name: VarTimeout, Default: DefaultTimeout.String(), Meaning: "how long a create-bot call to Meeting BaaS may take"},
		{Name: VarWebhookSecret, Meaning: "signing secret (whsec_…) of your Meeting BaaS webhook endpoint, to accept its bot status webhooks at " + PathWebhook, Secret: true},
	},
	Load: load,
	Hint: onbehalf.Hint{
		Var:   VarAPIKey,
		Why:   "to send bots with Meeting BaaS",
		Where: "the API keys page of the Meeting BaaS dashboard (a key with Full or Sending access)",
	},
	Setup: func(baseURL string) []platform.Paste {
		return []platform.Paste{{
			What:  "Meeting BaaS dashboard → Webhooks: endpoint URL (then set " + VarWebhookSecret + " to the endpoint's signing secret, whsec_…)",
			Value: baseURL + PathWebhook,
		}}
	},
	Demo:  startDemo,
	Probe: probe,
}

// load reads the MEETINGBAAS_* block: nil without an API key, every
// problem of the block at once otherwise.
func load(env *platform.ConfigReader, deps platform.Deps) (onbehalf.Platform, error) {
	b, ok := env.Block(VarAPIKey)
	if !ok {
		return nil, nil
	}
	c := Config{APIKey: b.APIKey}
	c.BaseURL, c.Timeout = b.API(VarAPIURL, DefaultAPIURL, VarTimeout, DefaultTimeout)
	c.WebhookSecret = env.Get(VarWebhookSecret, "")
	if c.WebhookSecret != "" {
		if _, err := onbehalf.ParseWebhookSecret(c.WebhookSecret); err != nil {
			env.Problemf("%s: %v", VarWebhookSecret, err)
		}
	}
	if err := b.Err(); err != nil {
		return nil, err
	}
	a, err := New(c, deps)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Config configures an Adapter.
type Config struct {
	// APIKey is MEETINGBAAS_API_KEY.
	APIKey string
	// BaseURL is MEETINGBAAS_API_URL, without a trailing slash.
	BaseURL string
	// Timeout bounds a create-bot call (MEETINGBAAS_TIMEOUT; zero:
	// DefaultTimeout).
	Timeout time.Duration
	// WebhookSecret is MEETINGBAAS_WEBHOOK_SECRET; "" leaves the account
	// webhook unverifiable (refused).
	WebhookSecret string
}

// Adapter is the Meeting BaaS platform: it implements onbehalf.Platform
// and onbehalf.StatusReceiver.
type Adapter struct {
	apiKey, baseURL string
	hc              *http.Client
	// verifier checks the account webhook; nil without a secret.
	verifier *swh.Verifier
	now      func() time.Time
	log      *slog.Logger
}

var (
	_ onbehalf.Platform       = (*Adapter)(nil)
	_ onbehalf.StatusReceiver = (*Adapter)(nil)
)

// New returns an adapter for c, calling the API with deps.HTTP's transport
// (platform.Client) and checking webhook signatures on deps' clock.
func New(c Config, deps platform.Deps) (*Adapter, error) {
	if c.APIKey == "" {
		return nil, errors.New(VarAPIKey + " is not set")
	}
	c.BaseURL = cmp.Or(c.BaseURL, DefaultAPIURL)
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	a := &Adapter{
		apiKey:  c.APIKey,
		baseURL: strings.TrimRight(c.BaseURL, "/"),
		hc:      platform.Client(deps, c.Timeout),
		now:     deps.Clock(),
		log:     deps.Log(),
	}
	if c.WebhookSecret != "" {
		v, err := swh.New(Title, VarWebhookSecret, c.WebhookSecret)
		if err != nil {
			return nil, err
		}
		a.verifier = v
	}
	return a, nil
}

// Name implements onbehalf.Platform.
func (a *Adapter) Name() string { return Name }

// Title implements onbehalf.Platform.
func (a *Adapter) Title() string { return Title }

// startDemo starts the fake Meeting BaaS of `onbehalf demo`, with its
// webhook secret, and points the server at it.
func startDemo(s platformdemo.Server) (*platformdemo.Platform, error) {
	key, sec := platformdemo.Secret(24), platformdemo.WebhookSecret()
	f, err := meetingbaasdemo.New(meetingbaasdemo.Options{APIKey: key, WebhookSecret: sec, WebhookURL: s.URL + "/webhooks/" + Name, AllowHTTP: true})
	if err != nil {
		return nil, err
	}
	s.Set(VarAPIKey, key)
	s.Set(VarAPIURL, f.URL())
	s.Set(VarWebhookSecret, sec)
	return &platformdemo.Platform{Fake: f, Refused: "ZOOM_OBF_TOKEN_ERROR"}, nil
}

// probe: none; Meeting BaaS's v2 docs show no read-only endpoint whose
// answer is known to tell the keys apart.
var probe = platform.Probe{None: "its API has no documented read-only call that tells a wrong key from a right one"}
