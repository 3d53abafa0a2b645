// Package recall is the Recall.ai adapter: it creates bots on Recall's
// regional API with token URLs of this server (zoom.obf_token_url,
// zoom.zak_url, zoom.join_token_url), serves the GETs Recall's bots make to
// those URLs (the bare token as text/plain, each request signed the
// Standard Webhooks way once the workspace has a verification secret), and
// reads Recall's bot status webhooks.
//
// It is also the one place that lists Recall's regions (Regions).
package recall

import (
	"cmp"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recalldemo"
	"github.com/onbehalf/onbehalf/internal/platform/swh"
)

// Name and Title of the platform.
const (
	Name  = "recall"
	Title = "Recall.ai"
)

// Configuration variables.
const (
	VarAPIKey             = "RECALL_API_KEY"
	VarRegion             = "RECALL_REGION"
	VarAPIURL             = "RECALL_API_URL"
	VarTimeout            = "RECALL_TIMEOUT"
	VarVerificationSecret = "RECALL_VERIFICATION_SECRET"
	VarWebhookSecret      = "RECALL_WEBHOOK_SECRET"
)

// DefaultRegion is the region used when RECALL_REGION is not set (also
// what api.recall.ai serves).
const DefaultRegion = "us-east-1"

// DefaultTimeout bounds a create-bot call (RECALL_TIMEOUT's default).
const DefaultTimeout = 15 * time.Second

// regions are Recall's regions, in the order its docs list them: separate
// deployments, each with its own API keys.
var regions = []string{"us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1"}

// Regions returns Recall's regions: the one list every other package (the
// configuration check, the doctor, pages) uses.
func Regions() []string { return append([]string(nil), regions...) }

// BaseURL returns the API base URL of a region, https://{region}.recall.ai
// (case and surrounding blanks ignored). An unknown region is EINVALID and
// lists the known ones.
func BaseURL(region string) (string, error) {
	r := strings.ToLower(strings.TrimSpace(region))
	for _, known := range regions {
		if r == known {
			return "https://" + known + ".recall.ai", nil
		}
	}
	return "", onbehalf.FieldError(VarRegion, "Unknown Recall.ai region %q: use one of %s.", region, strings.Join(regions, ", "))
}

// Spec describes the adapter to the app.
var Spec = platform.Spec{
	Name:  Name,
	Title: Title,
	Vars: []platform.Var{
		{Name: VarAPIKey, Meaning: "Recall.ai API key (dashboard → API Keys); setting it turns Recall.ai on", Secret: true},
		{Name: VarRegion, Default: DefaultRegion, Meaning: "region of the Recall.ai workspace, one of " + strings.Join(regions, ", ") + " → https://{region}.recall.ai (a key works only in its own region)"},
		{Name: VarAPIURL, Meaning: "full API base URL instead of the region's (tests, proxies)"},
		{Name: VarTimeout, Default: DefaultTimeout.String(), Meaning: "how long a create-bot call to Recall.ai may take"},
		{Name: VarVerificationSecret, Meaning: "workspace verification secret (whsec_…, dashboard → API Keys): when set, every token request must carry Recall's valid Standard Webhooks signature; it also verifies bot status webhooks", Secret: true},
		{Name: VarWebhookSecret, Meaning: "legacy workspaces only: the signing secret (whsec_…) of the webhook endpoint in the dashboard, for status webhooks that Svix signs with svix-* headers", Secret: true},
	},
	Load: Load,
	Hint: onbehalf.Hint{
		Var:   VarAPIKey,
		Why:   "to send bots with Recall.ai",
		Where: "Recall.ai dashboard → API Keys, in your workspace's region (set " + VarRegion + " when it is not " + DefaultRegion + ")",
	},
	Setup: func(baseURL string) []platform.Paste {
		return []platform.Paste{{
			What:  "Recall.ai dashboard → Webhooks → Add endpoint (bot.* events), for live bot status",
			Value: strings.TrimRight(baseURL, "/") + "/webhooks/" + Name,
		}}
	},
	Demo:  startDemo,
	Probe: probe,
}

// Config is the adapter's configuration, as Load reads it.
type Config struct {
	// APIKey is RECALL_API_KEY.
	APIKey string
	// BaseURL is the API base URL (RECALL_API_URL, or the region's).
	BaseURL string
	// Timeout bounds a create-bot call; zero means DefaultTimeout.
	Timeout time.Duration
	// VerificationSecret (whsec_…) turns on signature checks of token
	// requests and verifies status webhooks.
	VerificationSecret string
	// WebhookSecret (whsec_…) verifies legacy workspaces' status webhooks.
	WebhookSecret string
}

// Load reads Recall's configuration block: nil and no error when
// RECALL_API_KEY is unset, else the adapter or every problem of the block.
func Load(env *platform.ConfigReader, deps platform.Deps) (onbehalf.Platform, error) {
	b, ok := env.Block(VarAPIKey)
	if !ok {
		return nil, nil
	}
	c := Config{APIKey: b.APIKey}
	region := env.Get(VarRegion, DefaultRegion)
	base, err := BaseURL(region)
	if err != nil {
		env.Problemf("%s=%q: use one of %s", VarRegion, region, strings.Join(regions, ", "))
	}
	c.BaseURL = base
	if env.Get(VarAPIURL, "") != "" {
		c.BaseURL = env.URL(VarAPIURL, "")
	}
	c.Timeout = env.Duration(VarTimeout, DefaultTimeout.String())
	for _, s := range []struct {
		name string
		dst  *string
	}{{VarVerificationSecret, &c.VerificationSecret}, {VarWebhookSecret, &c.WebhookSecret}} {
		*s.dst = env.Get(s.name, "")
		if *s.dst == "" {
			continue
		}
		if _, err := onbehalf.ParseWebhookSecret(*s.dst); err != nil {
			env.Problemf("%s: %v", s.name, err) // never the value
		}
	}
	if err := b.Err(); err != nil {
		return nil, err
	}
	return New(c, deps)
}

// Adapter is the Recall.ai platform: it implements onbehalf.Platform and
// onbehalf.StatusReceiver. Its methods are safe for concurrent use.
type Adapter struct {
	apiKey, baseURL string
	hc              *http.Client
	now             func() time.Time
	// tokens verifies token requests (nil: no verification secret).
	tokens *swh.Verifier
	// status verifies status webhooks with either secret (nil: none).
	status *swh.Verifier
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
	if c.BaseURL == "" {
		c.BaseURL, _ = BaseURL(DefaultRegion)
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	a := &Adapter{apiKey: c.APIKey, baseURL: strings.TrimRight(c.BaseURL, "/"), hc: platform.Client(deps, c.Timeout), now: deps.Clock()}
	var statusSecrets, statusVars []string
	if c.VerificationSecret != "" {
		v, err := swh.New(Title, VarVerificationSecret, c.VerificationSecret)
		if err != nil {
			return nil, err
		}
		a.tokens = v
		statusSecrets, statusVars = append(statusSecrets, c.VerificationSecret), append(statusVars, VarVerificationSecret)
	}
	if c.WebhookSecret != "" {
		if _, err := onbehalf.ParseWebhookSecret(c.WebhookSecret); err != nil {
			return nil, errors.New(VarWebhookSecret + ": " + err.Error())
		}
		statusSecrets, statusVars = append(statusSecrets, c.WebhookSecret), append(statusVars, VarWebhookSecret)
	}
	if len(statusSecrets) > 0 {
		v, err := swh.New(Title, strings.Join(statusVars, " / "), statusSecrets...)
		if err != nil {
			return nil, err
		}
		a.status = v
	}
	return a, nil
}

// Name implements onbehalf.Platform.
func (a *Adapter) Name() string { return Name }

// Title implements onbehalf.Platform.
func (a *Adapter) Title() string { return Title }

// startDemo starts the fake Recall.ai of `onbehalf demo`, with its
// verification secret, and points the server at it.
func startDemo(s platformdemo.Server) (*platformdemo.Platform, error) {
	key, verify := platformdemo.Secret(24), platformdemo.WebhookSecret()
	f := recalldemo.New(recalldemo.Options{APIKey: key, VerificationSecret: verify, WebhookURL: s.URL + "/webhooks/" + Name})
	s.Set(VarAPIKey, key)
	s.Set(VarAPIURL, f.URL())
	s.Set(VarVerificationSecret, verify)
	return &platformdemo.Platform{Fake: f,
		Left: "timeout_exceeded_everyone_left", Absent: "zoom_obf_user_not_in_meeting", Refused: "zoom_obf_token_invalid",
		// Not in Recall's sub code list: a zoom_obf_… code naming the user
		// who left, as status.go reads one (inferred).
		UserLeft: "zoom_obf_user_left"}, nil
}

// probe is Retrieve Bot, GET /api/v1/bot/{id}/ (docs.recall.ai:
// bot_retrieve). Recall.ai's Django REST Framework API authenticates
// before it looks the bot up: 401 {"detail":"Invalid token."} for a wrong
// key or region. List Bots would work too, but returns real bots and is
// limited to 60 requests a minute per workspace.
var probe = platform.Probe{
	URL: func(get func(string) string) string {
		region := cmp.Or(strings.TrimSpace(get(VarRegion)), DefaultRegion)
		def, _ := BaseURL(region)
		return platform.ConfiguredURL(get, VarAPIURL, def) + "/api/v1/bot/" + platform.NoBot + "/"
	},
	Auth: platform.TokenAuth, Documented: true,
	Hint: "check " + VarRegion + ": a key works only in its own region",
}
