package attendee_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/attendee/attendeedemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

const apiKey = "attendee-test-key-0123456789abcdef"

// secret is a project webhook secret as Attendee's dashboard shows it.
const secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// setup is an adapter configured against a fake Attendee.
type setup struct {
	a     *attendee.Adapter
	fake  *attendeedemo.Fake
	clock *clocktest.Clock
}

// newSetup starts a fake with o and an adapter for it with c (its API
// key, base URL and clock filled in when empty). The fake's bots trust
// the https servers of platformdemo.ServeTLS: Attendee takes only https
// URLs of the server.
func newSetup(t *testing.T, o attendeedemo.Options, c attendee.Config) *setup {
	t.Helper()
	if o.APIKey == "" {
		o.APIKey = apiKey
	}
	if o.Client == nil {
		o.Client = platformdemo.TLSClient()
	}
	fake := attendeedemo.New(o)
	t.Cleanup(fake.Close)
	if c.APIKey == "" {
		c.APIKey = apiKey
	}
	if c.BaseURL == "" {
		c.BaseURL = fake.URL()
	}
	clk := clocktest.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	a, err := attendee.New(c, platform.Deps{HTTP: &http.Client{}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &setup{a: a, fake: fake, clock: clk}
}

// TestConformance runs the suite twice, so that every kind and reply
// field is covered: the suite's "kinds widened" tamper widens a URL to
// obf,zak,join, which changes nothing for a URL that already serves all
// three (one Attendee URL serves every kind), so no run asks for all three
// at once; TestEveryKindOverHTTPS does.
func TestConformance(t *testing.T) {
	for name, kinds := range map[string][]onbehalf.TokenKind{
		"obf+join": {onbehalf.KindOBF, onbehalf.KindJoin},
		"zak":      {onbehalf.KindZAK},
	} {
		t.Run(name, func(t *testing.T) {
			platformtest.Run(t, platformtest.Harness{
				New: func(t *testing.T, secured bool) (onbehalf.Platform, platformdemo.Fake) {
					// Attendee signs every request; secured turns the check on here.
					c := attendee.Config{}
					if secured {
						c.WebhookSecret = secret
					}
					s := newSetup(t, attendeedemo.Options{WebhookSecret: secret}, c)
					return s.a, s.fake
				},
				Kinds:   kinds,
				Refused: [][]onbehalf.TokenKind{{}, {"bogus"}, {onbehalf.KindOBF, onbehalf.KindOBF}},
				Claims:  true,
				Secured: true,
				APIKey:  apiKey,
				HTTPS:   true,
			})
		})
	}
}

func TestLoad(t *testing.T) {
	load := func(env map[string]string) (onbehalf.Platform, error) {
		return attendee.Spec.Load(platform.NewConfigReader(func(k string) string { return env[k] }), platform.Deps{})
	}
	if p, err := load(map[string]string{attendee.VarWebhookSecret: "junk"}); p != nil || err != nil {
		t.Fatalf("no API key: %v, %v; want nil, nil", p, err)
	}
	p, err := load(map[string]string{attendee.VarAPIKey: apiKey})
	if err != nil || p == nil || p.Name() != "attendee" || p.Title() != "Attendee" {
		t.Fatalf("defaults: %v, %v", p, err)
	}
	p, err = load(map[string]string{attendee.VarAPIKey: apiKey, attendee.VarAPIURL: "https://attendee.example.com/",
		attendee.VarTimeout: "30s", attendee.VarWebhookSecret: secret})
	if err != nil || p == nil {
		t.Fatalf("full block: %v", err)
	}
	// Every problem at once, never a secret's value.
	bad := "c2hvcnQ=" // base64 of 5 bytes
	_, err = load(map[string]string{attendee.VarAPIKey: apiKey, attendee.VarAPIURL: "ftp://x",
		attendee.VarTimeout: "soon", attendee.VarWebhookSecret: bad})
	if err == nil {
		t.Fatal("bad block accepted")
	}
	for _, want := range []string{attendee.VarAPIURL, attendee.VarTimeout, attendee.VarWebhookSecret, "Settings → Webhooks"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), bad) {
		t.Errorf("error %q shows the secret", err)
	}
	if _, err := attendee.New(attendee.Config{}, platform.Deps{}); err == nil {
		t.Error("New without an API key succeeded")
	}
}

func TestSpec(t *testing.T) {
	s := attendee.Spec
	if s.Name != "attendee" || s.Title != "Attendee" || s.Hint.Var != attendee.VarAPIKey || s.Hint.Where == "" {
		t.Errorf("spec %+v", s)
	}
	want := map[string]string{attendee.VarAPIKey: "", attendee.VarAPIURL: "https://app.attendee.dev",
		attendee.VarTimeout: "15s", attendee.VarWebhookSecret: ""}
	for _, v := range s.Vars {
		def, ok := want[v.Name]
		if !ok || v.Default != def || v.Meaning == "" {
			t.Errorf("var %+v", v)
		}
		if secretVar := v.Name == attendee.VarAPIKey || v.Name == attendee.VarWebhookSecret; v.Secret != secretVar {
			t.Errorf("%s: Secret=%v", v.Name, v.Secret)
		}
		delete(want, v.Name)
	}
	if len(want) > 0 {
		t.Errorf("vars missing: %v", want)
	}
	pastes := s.Setup("https://onbehalf.example.com/")
	if len(pastes) != 1 || pastes[0].Value != "https://onbehalf.example.com/webhooks/attendee" ||
		!strings.Contains(pastes[0].What, "bot.state_change") {
		t.Errorf("setup %+v", pastes)
	}
}

// TestFakeSignsAlways: Attendee signs whether or not this server checks.
func TestFakeSignsAlways(t *testing.T) {
	fake := attendeedemo.New(attendeedemo.Options{APIKey: apiKey})
	defer fake.Close()
	if _, err := attendee.ParseSecret(fake.Secret()); err != nil {
		t.Fatalf("generated secret: %v", err)
	}
	ctx := context.Background()
	if got := fake.Fetch(ctx, "bot_missing", onbehalf.KindOBF, platformdemo.Tamper{}); got.Status != 0 || len(got.Tokens) != 0 {
		t.Errorf("fetch of an unknown bot: %+v", got)
	}
}

// deps are the adapter's dependencies in tests that need no clock.
func deps() platform.Deps { return platform.Deps{HTTP: &http.Client{}} }
