package recall_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recallfake"
)

const apiKey = "rk_test_0123456789abcdef"

// Workspace secrets as Recall's dashboard shows them.
var (
	verificationSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("verification-secret-0123456789ab"))
	webhookSecret      = "whsec_" + base64.StdEncoding.EncodeToString([]byte("legacy-endpoint-secret-012345678"))
)

// setup starts a fake Recall.ai with o (its API key set) and returns an
// adapter configured against it with c (key and base URL set).
func setup(t *testing.T, o recallfake.Options, c recall.Config) (*recall.Adapter, *recallfake.Fake) {
	t.Helper()
	o.APIKey = apiKey
	fake := recallfake.New(o)
	t.Cleanup(fake.Close)
	if c.APIKey == "" {
		c.APIKey = apiKey
	}
	if c.BaseURL == "" {
		c.BaseURL = fake.URL()
	}
	a, err := recall.New(c, platform.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return a, fake
}

// secured returns the fake's and the adapter's configuration with the
// verification secret on both sides, or neither.
func secured(on bool) (recallfake.Options, recall.Config) {
	if !on {
		return recallfake.Options{}, recall.Config{}
	}
	return recallfake.Options{VerificationSecret: verificationSecret}, recall.Config{VerificationSecret: verificationSecret}
}

func TestConformance(t *testing.T) {
	platformtest.Run(t, platformtest.Harness{
		New: func(t *testing.T, on bool) (onbehalf.Platform, platformtest.Fake) {
			o, c := secured(on)
			return setup(t, o, c)
		},
		Kinds:   onbehalf.Kinds,
		Refused: [][]onbehalf.TokenKind{nil, {"bogus"}, {onbehalf.KindOBF, onbehalf.KindOBF}},
		Claims:  false, // Recall appends nothing to a token URL
		Secured: true,
		APIKey:  apiKey,
	})
}

func TestRegions(t *testing.T) {
	got := recall.Regions()
	if strings.Join(got, " ") != "us-east-1 us-west-2 eu-central-1 ap-northeast-1" {
		t.Fatalf("Regions() = %v", got)
	}
	got[0] = "changed"
	if recall.Regions()[0] != "us-east-1" {
		t.Fatal("Regions() shares its slice")
	}
	for _, r := range recall.Regions() {
		if u, err := recall.BaseURL(r); err != nil || u != "https://"+r+".recall.ai" {
			t.Errorf("BaseURL(%q) = %q, %v", r, u, err)
		}
	}
	if u, _ := recall.BaseURL(" EU-Central-1 "); u != "https://eu-central-1.recall.ai" {
		t.Errorf("lenient region: %q", u)
	}
	_, err := recall.BaseURL("us-east-9")
	if onbehalf.ErrorCode(err) != onbehalf.EINVALID || !strings.Contains(onbehalf.ErrorMessage(err), "ap-northeast-1") {
		t.Errorf("unknown region: %v", err)
	}
}

// load runs Spec.Load on the given variables.
func load(vars map[string]string) (onbehalf.Platform, error) {
	env := platform.NewConfigReader(func(k string) string { return vars[k] })
	return recall.Spec.Load(env, platform.Deps{})
}

func TestLoad(t *testing.T) {
	if p, err := load(map[string]string{"RECALL_REGION": "nowhere"}); p != nil || err != nil {
		t.Fatalf("no API key: %v, %v; want nil, nil", p, err)
	}
	p, err := load(map[string]string{"RECALL_API_KEY": apiKey})
	if err != nil || p == nil || p.Name() != "recall" || p.Title() != "Recall.ai" {
		t.Fatalf("defaults: %v, %v", p, err)
	}
	for _, vars := range []map[string]string{
		{"RECALL_API_KEY": apiKey, "RECALL_REGION": "ap-northeast-1", "RECALL_TIMEOUT": "3s"},
		{"RECALL_API_KEY": apiKey, "RECALL_API_URL": "http://127.0.0.1:9/", "RECALL_VERIFICATION_SECRET": verificationSecret, "RECALL_WEBHOOK_SECRET": webhookSecret},
	} {
		if p, err := load(vars); err != nil || p == nil {
			t.Errorf("%v: %v, %v", vars, p, err)
		}
	}

	// Every problem at once, and never a secret's value.
	_, err = load(map[string]string{
		"RECALL_API_KEY":             apiKey,
		"RECALL_REGION":              "us-east-9",
		"RECALL_API_URL":             "ftp://example.com",
		"RECALL_TIMEOUT":             "soon",
		"RECALL_VERIFICATION_SECRET": "not-a-whsec-secret-value",
		"RECALL_WEBHOOK_SECRET":      "whsec_%%%secret%%%",
	})
	if err == nil {
		t.Fatal("bad block loaded")
	}
	msg := err.Error()
	for _, want := range []string{"RECALL_REGION", "us-west-2", "RECALL_API_URL", "RECALL_TIMEOUT", "RECALL_VERIFICATION_SECRET", "RECALL_WEBHOOK_SECRET"} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems %q do not name %s", msg, want)
		}
	}
	for _, secret := range []string{"not-a-whsec-secret-value", "%%%secret%%%", apiKey} {
		if strings.Contains(msg, secret) {
			t.Errorf("problems %q show the secret %q", msg, secret)
		}
	}
}

func TestSpec(t *testing.T) {
	s := recall.Spec
	if s.Name != "recall" || s.Title != "Recall.ai" || s.Load == nil || s.Hint.Var != "RECALL_API_KEY" || s.Hint.Where == "" {
		t.Fatalf("spec %+v", s)
	}
	want := map[string]string{
		"RECALL_API_KEY": "", "RECALL_REGION": "us-east-1", "RECALL_API_URL": "", "RECALL_TIMEOUT": "15s",
		"RECALL_VERIFICATION_SECRET": "", "RECALL_WEBHOOK_SECRET": "",
	}
	secret := map[string]bool{"RECALL_API_KEY": true, "RECALL_VERIFICATION_SECRET": true, "RECALL_WEBHOOK_SECRET": true}
	for _, v := range s.Vars {
		def, ok := want[v.Name]
		if !ok || v.Default != def || v.Meaning == "" || v.Secret != secret[v.Name] {
			t.Errorf("var %+v", v)
		}
		delete(want, v.Name)
	}
	if len(want) > 0 {
		t.Errorf("vars missing: %v", want)
	}
	pastes := s.Setup("https://abc.ngrok.app/")
	if len(pastes) != 1 || pastes[0].Value != "https://abc.ngrok.app/webhooks/recall" || pastes[0].What == "" {
		t.Errorf("setup %+v", pastes)
	}
	if recall.DefaultTimeout != 15*time.Second {
		t.Errorf("default timeout %v", recall.DefaultTimeout)
	}
}
