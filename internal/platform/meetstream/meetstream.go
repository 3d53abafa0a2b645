// Package meetstream is the MeetStream adapter: it creates bots on
// MeetStream's API with one token URL of this server (zoom.obf_url or
// zoom.zak_url, never both), serves the requests MeetStream's bots make to
// that URL (a GET with meeting_number appended for OBF and an X-Bot-Id
// header, falling back to a POST with a JSON body when the GET answer is a
// 405 or unusable), and reads MeetStream's bot status webhooks.
//
// What it relies on comes from MeetStream's own template of such a token
// server (github.com/meetstream-ai/labs, zoom-authenticated-joins: README
// "The mint contract", src/create-bot.js, src/mint.js) and its webhook
// guides; the package's tests hold a fake that behaves the same way
// (meetstreamdemo).
package meetstream

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream/meetstreamdemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/platform/swh"
)

// Name and Title of the platform.
const (
	Name  = "meetstream"
	Title = "MeetStream"
)

// Configuration variables.
const (
	VarAPIKey        = "MEETSTREAM_API_KEY"
	VarAPIURL        = "MEETSTREAM_API_URL"
	VarTimeout       = "MEETSTREAM_TIMEOUT"
	VarWebhookSecret = "MEETSTREAM_WEBHOOK_SECRET"
	VarSigningSecret = "MEETSTREAM_SIGNING_SECRET"
)

// DefaultAPIURL is MeetStream's API base URL (MEETSTREAM_API_URL's
// default).
const DefaultAPIURL = "https://api.meetstream.ai"

// DefaultTimeout bounds a create-bot call (MEETSTREAM_TIMEOUT's default).
const DefaultTimeout = 15 * time.Second

// Spec describes the adapter to the app.
var Spec = platform.Spec{
	Name:  Name,
	Title: Title,
	Vars: []platform.Var{
		{Name: VarAPIKey, Meaning: "MeetStream API key (app.meetstream.ai → API keys), sent as Authorization: Token …; setting it turns MeetStream on", Secret: true},
		{Name: VarAPIURL, Default: DefaultAPIURL, Meaning: "MeetStream API base URL (tests, proxies)"},
		{Name: VarTimeout, Default: DefaultTimeout.String(), Meaning: "how long a create-bot call to MeetStream may take"},
		{Name: VarWebhookSecret, Meaning: "when set, MeetStream's token requests must carry it in X-Webhook-Secret (or webhook_secret in the POST body); MeetStream documents no way to give its bots this secret, so set it only if your workspace sends it", Secret: true},
		{Name: VarSigningSecret, Meaning: "signing secret of a MeetStream workspace webhook endpoint pointed at /webhooks/meetstream (X-MeetStream-Signature); not needed for the per-bot callback URL this server gives every bot", Secret: true},
	},
	Load: Load,
	Hint: onbehalf.Hint{
		Var:   VarAPIKey,
		Why:   "to send bots with MeetStream",
		Where: "MeetStream dashboard (app.meetstream.ai) → API keys; MeetStream's bots also need your Zoom app under Integrations → Zoom",
	},
	Setup: func(baseURL string) []platform.Paste {
		return []platform.Paste{
			{
				What:  "MeetStream dashboard → Integrations → Zoom: the Zoom app this server uses (its bots join with it)",
				Value: "the Client ID and Client Secret of ZOOM_CLIENT_ID / ZOOM_CLIENT_SECRET",
			},
			{
				What:  "MeetStream dashboard → Webhooks (optional: every bot already gets its own callback URL); put the endpoint's signing secret in " + VarSigningSecret,
				Value: strings.TrimRight(baseURL, "/") + "/webhooks/" + Name,
			},
		}
	},
	Demo:  startDemo,
	Probe: probe,
}

// Config is the adapter's configuration, as Load reads it.
type Config struct {
	// APIKey is MEETSTREAM_API_KEY.
	APIKey string
	// BaseURL is MEETSTREAM_API_URL; "" means DefaultAPIURL.
	BaseURL string
	// Timeout bounds a create-bot call; zero means DefaultTimeout.
	Timeout time.Duration
	// WebhookSecret (MEETSTREAM_WEBHOOK_SECRET), when set, must come with
	// every token request.
	WebhookSecret string
	// SigningSecret (MEETSTREAM_SIGNING_SECRET) verifies status webhooks
	// of a workspace endpoint.
	SigningSecret string
}

// Load reads MeetStream's configuration block: nil and no error when
// MEETSTREAM_API_KEY is unset, else the adapter or every problem of the
// block at once.
func Load(env *platform.ConfigReader, deps platform.Deps) (onbehalf.Platform, error) {
	b, ok := env.Block(VarAPIKey)
	if !ok {
		return nil, nil
	}
	c := Config{APIKey: b.APIKey}
	if strings.ContainsAny(c.APIKey, " \t\r\n") {
		env.Problemf("%s: must be the key alone, without blanks (this server adds \"Token \")", VarAPIKey) // never the value
	}
	c.BaseURL, c.Timeout = b.API(VarAPIURL, DefaultAPIURL, VarTimeout, DefaultTimeout)
	c.WebhookSecret = env.Get(VarWebhookSecret, "")
	c.SigningSecret = env.Get(VarSigningSecret, "")
	if err := b.Err(); err != nil {
		return nil, err
	}
	a, err := New(c, deps)
	if err != nil {
		return nil, err
	}
	if c.WebhookSecret != "" {
		a.logger.Warn("MEETSTREAM_WEBHOOK_SECRET is set: MeetStream token requests without it in X-Webhook-Secret are refused, " +
			"and MeetStream documents no way to give its bots this secret; unset it if MeetStream bots fail to fetch tokens (401)")
	}
	return a, nil
}

// Adapter is the MeetStream platform: it implements onbehalf.Platform and
// onbehalf.StatusReceiver. Its methods are safe for concurrent use.
type Adapter struct {
	apiKey, baseURL string
	hc              *http.Client
	now             func() time.Time
	logger          *slog.Logger
	// webhookSum is the SHA-256 of WebhookSecret (nil: none configured).
	webhookSum []byte
	// signingKey is SigningSecret's bytes (nil: none configured).
	signingKey []byte
	// seen remembers the signed status webhooks already taken.
	seen *swh.Seen
}

var (
	_ onbehalf.Platform       = (*Adapter)(nil)
	_ onbehalf.StatusReceiver = (*Adapter)(nil)
)

// New returns the adapter for c. Its HTTP client uses deps.HTTP's
// transport with c.Timeout, so that a create-bot call is bounded whatever
// the app's default.
func New(c Config, deps platform.Deps) (*Adapter, error) {
	if strings.TrimSpace(c.APIKey) == "" {
		return nil, errors.New(VarAPIKey + " is not set")
	}
	c.BaseURL = cmp.Or(c.BaseURL, DefaultAPIURL)
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	a := &Adapter{apiKey: c.APIKey, baseURL: strings.TrimRight(c.BaseURL, "/"), hc: platform.Client(deps, c.Timeout),
		now: deps.Clock(), logger: deps.Log(), seen: swh.NewSeen()}
	if c.WebhookSecret != "" {
		a.webhookSum = secretSum(c.WebhookSecret)
	}
	if c.SigningSecret != "" {
		a.signingKey = []byte(c.SigningSecret)
	}
	return a, nil
}

// Name implements onbehalf.Platform.
func (a *Adapter) Name() string { return Name }

// Title implements onbehalf.Platform.
func (a *Adapter) Title() string { return Title }

// startDemo starts the fake MeetStream of `onbehalf demo`, with its
// signing secret, and points the server at it.
func startDemo(s platformdemo.Server) (*platformdemo.Platform, error) {
	key, signing := platformdemo.Secret(24), platformdemo.Secret(24)
	f := meetstreamdemo.New(meetstreamdemo.Options{APIKey: key, SigningSecret: signing, WebhookURL: s.URL + "/webhooks/" + Name, AllowHTTP: true})
	s.Set(VarAPIKey, key)
	s.Set(VarAPIURL, f.URL())
	s.Set(VarSigningSecret, signing)
	return &platformdemo.Platform{Fake: f, Left: "Bot left the meeting: everyone else left"}, nil
}

// probe is Get Bot Details, GET /api/v1/bots/{id}/detail; MeetStream's
// docs say nothing of its answers for a wrong key or an unknown bot.
var probe = platform.Probe{
	URL: func(get func(string) string) string {
		return platform.ConfiguredURL(get, VarAPIURL, DefaultAPIURL) + "/api/v1/bots/" + platform.NoBot + "/detail"
	},
	Auth: platform.TokenAuth,
}
