// Package attendee is the Attendee adapter (github.com/attendee-labs/attendee,
// hosted at app.attendee.dev, often self-hosted): it creates bots with
// POST /api/v1/bots and callback_settings.zoom_tokens_url pointing at this
// server, serves the one POST each Attendee bot makes to that URL (a JSON
// body signed with the project's webhook secret over Python's canonical
// JSON; the reply is JSON with onbehalf_token, zak_token and
// app_privilege_token), and reads Attendee's bot.state_change webhooks,
// signed the same way.
package attendee

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/attendee/attendeedemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// Name and Title of the platform.
const (
	Name  = "attendee"
	Title = "Attendee"
)

// Configuration variables.
const (
	VarAPIKey        = "ATTENDEE_API_KEY"
	VarAPIURL        = "ATTENDEE_API_URL"
	VarTimeout       = "ATTENDEE_TIMEOUT"
	VarWebhookSecret = "ATTENDEE_WEBHOOK_SECRET"
)

// DefaultAPIURL is Attendee's hosted service.
const DefaultAPIURL = "https://app.attendee.dev"

// DefaultTimeout bounds a create-bot call (ATTENDEE_TIMEOUT's default).
const DefaultTimeout = 15 * time.Second

// TokenPath is where Attendee's bots fetch their tokens: one URL for every
// kind, because Attendee calls zoom_tokens_url once per bot.
const TokenPath = "/attendee/zoom-tokens"

// Spec describes the adapter to the app.
var Spec = platform.Spec{
	Name:  Name,
	Title: Title,
	Vars: []platform.Var{
		{Name: VarAPIKey, Meaning: "Attendee API key (Attendee → Settings → API Keys), sent as Authorization: Token …; setting it turns Attendee on", Secret: true},
		{Name: VarAPIURL, Default: DefaultAPIURL, Meaning: "base URL of the Attendee server (self-hosted Attendee: its own URL)"},
		{Name: VarTimeout, Default: DefaultTimeout.String(), Meaning: "how long a create-bot call to Attendee may take"},
		{Name: VarWebhookSecret, Meaning: "the Attendee project's webhook secret (Settings → Webhooks, base64 of 32 bytes): when set, every token request must carry Attendee's valid X-Webhook-Signature; it also verifies bot status webhooks", Secret: true},
	},
	Load: Load,
	Hint: onbehalf.Hint{
		Var:   VarAPIKey,
		Why:   "to send bots with Attendee",
		Where: "Attendee → Settings → API Keys (and set " + VarWebhookSecret + " from Settings → Webhooks, " + VarAPIURL + " for a self-hosted Attendee)",
	},
	Setup: func(baseURL string) []platform.Paste {
		base := strings.TrimRight(baseURL, "/")
		return []platform.Paste{{
			What: "Attendee → Settings → Webhooks → Create webhook, trigger bot.state_change: live status of bots created outside this server " +
				"(bots this server creates get their own webhook; Attendee then sends them no project webhooks). Attendee takes https URLs only.",
			Value: base + "/webhooks/" + Name,
		}}
	},
	Demo:  startDemo,
	Probe: probe,
}

// Config is the adapter's configuration, as Load reads it.
type Config struct {
	// APIKey is ATTENDEE_API_KEY.
	APIKey string
	// BaseURL is ATTENDEE_API_URL.
	BaseURL string
	// Timeout bounds a create-bot call; zero means DefaultTimeout.
	Timeout time.Duration
	// WebhookSecret is ATTENDEE_WEBHOOK_SECRET (base64 of 32 bytes): it
	// turns on signature checks of token requests and verifies status
	// webhooks.
	WebhookSecret string
}

// Load reads Attendee's configuration block: nil and no error when
// ATTENDEE_API_KEY is unset, else the adapter or every problem of the
// block.
func Load(env *platform.ConfigReader, deps platform.Deps) (onbehalf.Platform, error) {
	b, ok := env.Block(VarAPIKey)
	if !ok {
		return nil, nil
	}
	c := Config{APIKey: b.APIKey}
	c.BaseURL, c.Timeout = b.API(VarAPIURL, DefaultAPIURL, VarTimeout, DefaultTimeout)
	if c.WebhookSecret = env.Get(VarWebhookSecret, ""); c.WebhookSecret != "" {
		if _, err := ParseSecret(c.WebhookSecret); err != nil {
			env.Problemf("%s: %v", VarWebhookSecret, err) // never the value
		}
	}
	if err := b.Err(); err != nil {
		return nil, err
	}
	return New(c, deps)
}

// Adapter is the Attendee platform: it implements onbehalf.Platform and
// onbehalf.StatusReceiver. Its methods are safe for concurrent use.
type Adapter struct {
	apiKey, baseURL string
	hc              *http.Client
	now             func() time.Time
	// key is the webhook secret's key (nil: not configured).
	key []byte
	// served remembers the signed token requests served (auth.go).
	served *ledger
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
	a := &Adapter{apiKey: strings.TrimSpace(c.APIKey), baseURL: strings.TrimRight(c.BaseURL, "/"),
		hc: platform.Client(deps, c.Timeout), now: deps.Clock(), served: newLedger()}
	if c.WebhookSecret != "" {
		key, err := ParseSecret(c.WebhookSecret)
		if err != nil {
			return nil, errors.New(VarWebhookSecret + ": " + err.Error())
		}
		a.key = key
	}
	return a, nil
}

// Name implements onbehalf.Platform.
func (a *Adapter) Name() string { return Name }

// Title implements onbehalf.Platform.
func (a *Adapter) Title() string { return Title }

// startDemo starts the fake Attendee of `onbehalf demo`, with its webhook
// secret, and points the server at it. Attendee takes only https URLs of
// the server: its bots and webhooks reach the server through the demo's
// TLS front.
func startDemo(s platformdemo.Server) (*platformdemo.Platform, error) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	key, sec := platformdemo.Secret(24), base64.StdEncoding.EncodeToString(raw)
	f := attendeedemo.New(attendeedemo.Options{APIKey: key, WebhookSecret: sec, WebhookURL: s.HTTPSURL + "/webhooks/" + Name, Client: s.Client})
	s.Set(VarAPIKey, key)
	s.Set(VarAPIURL, f.URL())
	s.Set(VarWebhookSecret, sec)
	return &platformdemo.Platform{Fake: f, Left: "auto_leave_only_participant_in_meeting", HTTPSOnly: true}, nil
}

// probe is Get Bot, GET /api/v1/bots/{id}: documented 401 for an invalid
// key, 404 for an unknown bot.
var probe = platform.Probe{
	URL: func(get func(string) string) string {
		return platform.ConfiguredURL(get, VarAPIURL, DefaultAPIURL) + "/api/v1/bots/bot_" + strings.ReplaceAll(platform.NoBot, "-", "")[:16]
	},
	Auth: platform.TokenAuth, Documented: true,
	Hint: "check " + VarAPIURL + " for a self-hosted Attendee",
}
