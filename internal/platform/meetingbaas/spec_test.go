package meetingbaas_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas/meetingbaasfake"
)

// load runs Spec.Load on env.
func load(env map[string]string) (onbehalf.Platform, error) {
	e := platform.NewConfigReader(func(k string) string { return env[k] })
	return meetingbaas.Spec.Load(e, platform.Deps{HTTP: &http.Client{}, Now: time.Now})
}

func TestSpecLoad(t *testing.T) {
	p, err := load(map[string]string{meetingbaas.VarAPIURL: "::bad", meetingbaas.VarWebhookSecret: "bad"})
	if p != nil || err != nil {
		t.Errorf("no API key: %v, %v; want nil, nil (not configured)", p, err)
	}

	_, err = load(map[string]string{
		meetingbaas.VarAPIKey:        testKey,
		meetingbaas.VarAPIURL:        "ftp://x",
		meetingbaas.VarTimeout:       "soon",
		meetingbaas.VarWebhookSecret: "secret",
	})
	for _, v := range []string{meetingbaas.VarAPIURL, meetingbaas.VarTimeout, meetingbaas.VarWebhookSecret} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("problems %v: want one naming %s (every problem at once)", err, v)
		}
	}
	if err != nil && strings.Contains(err.Error(), testKey) {
		t.Errorf("problems %v name the API key", err)
	}

	f := newFake(t, meetingbaasfake.Options{})
	p, err = load(map[string]string{
		meetingbaas.VarAPIKey:        " " + testKey + " ",
		meetingbaas.VarAPIURL:        f.URL() + "/",
		meetingbaas.VarTimeout:       "3s",
		meetingbaas.VarWebhookSecret: webhookSecret,
	})
	if err != nil || p == nil || p.Name() != "meetingbaas" || p.Title() != "Meeting BaaS" {
		t.Fatalf("configured: %v, %v", p, err)
	}
	if _, ok := p.(onbehalf.StatusReceiver); !ok {
		t.Error("the platform does not receive status webhooks")
	}
	a := p.(*meetingbaas.Adapter)
	if _, err := a.CreateBot(context.Background(), botRequest(t, a, onbehalf.KindOBF)); err != nil {
		t.Errorf("create bot with the loaded configuration: %v", err)
	}
}

func TestSpecDescribes(t *testing.T) {
	s := meetingbaas.Spec
	var names []string
	for _, v := range s.Vars {
		names = append(names, v.Name)
		if v.Meaning == "" {
			t.Errorf("%s has no meaning", v.Name)
		}
		if secret := v.Name == meetingbaas.VarAPIKey || v.Name == meetingbaas.VarWebhookSecret; v.Secret != secret {
			t.Errorf("%s: Secret %v", v.Name, v.Secret)
		}
	}
	if got := strings.Join(names, " "); got != "MEETINGBAAS_API_KEY MEETINGBAAS_API_URL MEETINGBAAS_TIMEOUT MEETINGBAAS_WEBHOOK_SECRET" {
		t.Errorf("vars %s", got)
	}
	if s.Name != "meetingbaas" || s.Hint.Var != meetingbaas.VarAPIKey || s.Hint.Where == "" {
		t.Errorf("spec %+v", s)
	}
	pastes := s.Setup("https://obo.example.com")
	if len(pastes) != 1 || pastes[0].Value != "https://obo.example.com/webhooks/meetingbaas" ||
		!strings.Contains(pastes[0].What, meetingbaas.VarWebhookSecret) {
		t.Errorf("setup %+v", pastes)
	}
}
