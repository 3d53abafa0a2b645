package meetstream

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/platform"
)

// env returns a platform.ConfigReader reading vars.
func env(vars map[string]string) *platform.ConfigReader {
	return platform.NewConfigReader(func(k string) string { return vars[k] })
}

func TestLoadUnset(t *testing.T) {
	// Without a key MeetStream is off, whatever else is set.
	p, err := Load(env(map[string]string{VarAPIURL: "not a url", VarTimeout: "x"}), platform.Deps{})
	if p != nil || err != nil {
		t.Errorf("Load without a key = %v, %v; want nil, nil", p, err)
	}
}

func TestLoadDefaults(t *testing.T) {
	p, err := Load(env(map[string]string{VarAPIKey: " " + testKey + " "}), platform.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	a := p.(*Adapter)
	if a.apiKey != testKey || a.baseURL != DefaultAPIURL || a.hc.Timeout != 15*time.Second || a.webhookSum != nil || a.signingKey != nil {
		t.Errorf("adapter %+v", a)
	}
	if p.Name() != "meetstream" || p.Title() != "MeetStream" {
		t.Errorf("name %q, title %q", p.Name(), p.Title())
	}
}

func TestLoadEverything(t *testing.T) {
	var logs bytes.Buffer
	p, err := Load(env(map[string]string{
		VarAPIKey: testKey, VarAPIURL: "http://127.0.0.1:9999/", VarTimeout: "3s",
		VarWebhookSecret: testSecret, VarSigningSecret: testSigning,
	}), platform.Deps{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	a := p.(*Adapter)
	if a.baseURL != "http://127.0.0.1:9999" || a.hc.Timeout != 3*time.Second || a.webhookSum == nil || string(a.signingKey) != testSigning {
		t.Errorf("adapter %+v", a)
	}
	// The operator is told that MeetStream may never send the secret.
	if !strings.Contains(logs.String(), VarWebhookSecret) || strings.Contains(logs.String(), testSecret) {
		t.Errorf("logs %q: want a warning naming %s, without the secret", logs.String(), VarWebhookSecret)
	}
}

func TestLoadProblems(t *testing.T) {
	e := env(map[string]string{VarAPIKey: "two words", VarAPIURL: "ftp://x", VarTimeout: "-1s"})
	e.Problemf("OTHER_PLATFORM_VAR: unrelated")
	p, err := Load(e, platform.Deps{})
	if p != nil || err == nil {
		t.Fatalf("Load = %v, %v; want every problem", p, err)
	}
	msg := err.Error()
	for _, v := range []string{VarAPIKey, VarAPIURL, VarTimeout} {
		if !strings.Contains(msg, v) {
			t.Errorf("%q does not name %s", msg, v)
		}
	}
	if strings.Contains(msg, "two words") || strings.Contains(msg, "OTHER_PLATFORM_VAR") {
		t.Errorf("%q: leaks the key or reports another block's problem", msg)
	}
}

func TestSpec(t *testing.T) {
	if Spec.Name != Name || Spec.Title != Title || Spec.Load == nil || Spec.Hint.Var != VarAPIKey || Spec.Hint.Where == "" {
		t.Errorf("spec %+v", Spec)
	}
	want := map[string]bool{VarAPIKey: true, VarAPIURL: false, VarTimeout: false, VarWebhookSecret: true, VarSigningSecret: true}
	for _, v := range Spec.Vars {
		secret, ok := want[v.Name]
		if !ok || v.Secret != secret || v.Meaning == "" {
			t.Errorf("var %+v", v)
		}
		delete(want, v.Name)
	}
	if len(want) != 0 {
		t.Errorf("vars missing: %v", want)
	}
	found := false
	for _, p := range Spec.Setup("https://abc.ngrok.app/") {
		if p.Value == "https://abc.ngrok.app/webhooks/meetstream" && strings.Contains(p.What, VarSigningSecret) {
			found = true
		}
	}
	if !found {
		t.Errorf("setup %v: want the status webhook URL", Spec.Setup("https://abc.ngrok.app/"))
	}
}

func TestNewNeedsKey(t *testing.T) {
	if _, err := New(Config{APIKey: " "}, platform.Deps{}); err == nil {
		t.Error("New without a key succeeded")
	}
}
