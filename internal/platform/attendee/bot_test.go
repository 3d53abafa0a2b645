package attendee_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/attendee/attendeedemo"
)

const (
	tokenURL  = "https://onbehalf.example.com/attendee/zoom-tokens?user_id=conn_1&meeting_id=85012345678&kinds=obf%2Cjoin&bot=bot_1&exp=1900000000&sig=c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
	statusURL = "https://onbehalf.example.com/webhooks/attendee?bot=bot_1&sig=c3RhdHVzLXNpZ25hdHVyZQ"
)

func botRequest() onbehalf.BotRequest {
	return onbehalf.BotRequest{
		BotID:     "bot_1",
		Meeting:   onbehalf.Meeting{ID: "85012345678", URL: "https://us02web.zoom.us/j/85012345678?pwd=abc.1", Password: "abc.1"},
		BotName:   "Notetaker",
		TokenURLs: []onbehalf.TokenURL{{Kinds: []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindJoin}, URL: tokenURL}},
		StatusURL: statusURL,
	}
}

func TestCreateBotRequest(t *testing.T) {
	s := newSetup(t, attendeedemo.Options{}, attendee.Config{})
	req := botRequest()
	req.Options = json.RawMessage(`{"automatic_leave_settings": {"authorized_user_not_in_meeting_timeout_seconds": 1200},
		"metadata": {"team": "sales"},
		"webhooks": [{"url": "https://product.example.com/attendee", "triggers": ["transcript.update"]}]}`)
	created, err := s.a.CreateBot(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	bots := s.fake.Created()
	if len(bots) != 1 || bots[0].ID != created.PlatformBotID || !strings.HasPrefix(created.PlatformBotID, "bot_") {
		t.Fatalf("created %+v, fake has %+v", created, bots)
	}
	b := bots[0]
	if got := b.Header.Get("Authorization"); got != "Token "+apiKey {
		t.Errorf("Authorization %q", got)
	}
	if got := b.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
	var body map[string]any
	if err := json.Unmarshal(b.Raw, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"meeting_url":              "https://us02web.zoom.us/j/85012345678?pwd=abc.1",
		"bot_name":                 "Notetaker",
		"callback_settings":        map[string]any{"zoom_tokens_url": tokenURL},
		"metadata":                 map[string]any{"onbehalf_bot_id": "bot_1", "team": "sales"},
		"automatic_leave_settings": map[string]any{"authorized_user_not_in_meeting_timeout_seconds": 1200.0},
		"webhooks": []any{
			map[string]any{"url": "https://product.example.com/attendee", "triggers": []any{"transcript.update"}},
			map[string]any{"url": statusURL, "triggers": []any{"bot.state_change"}},
		},
	}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("body\n got %v\nwant %v", body, want)
	}
	if strings.Contains(string(b.Raw), `\u0026`) {
		t.Errorf("the token URL's & is HTML-escaped: %s", b.Raw)
	}
	if b.TokenURL != tokenURL || len(b.Webhooks) != 2 {
		t.Errorf("the fake read token URL %q, webhooks %+v", b.TokenURL, b.Webhooks)
	}

	// Without BotID, StatusURL or options: only the required fields.
	req = botRequest()
	req.BotID, req.StatusURL = "", ""
	if _, err := s.a.CreateBot(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	b = s.fake.Created()[1]
	if _, ok := b.Body["metadata"]; ok {
		t.Errorf("metadata sent without a bot ID: %s", b.Raw)
	}
	if _, ok := b.Body["webhooks"]; ok {
		t.Errorf("webhooks sent without a status URL: %s", b.Raw)
	}
}

func TestCreateBotProtectsItsFields(t *testing.T) {
	s := newSetup(t, attendeedemo.Options{}, attendee.Config{})
	for _, opts := range []string{
		`{"meeting_url": "https://zoom.us/j/123456789"}`,
		`{"bot_name": "x"}`,
		`{"callback_settings": {"zoom_tokens_url": "https://evil.example"}}`,
		`{"callback_settings": "none"}`,
		`{"metadata": {"onbehalf_bot_id": "other"}}`,
		`{"webhooks": {"url": "https://x.example"}}`,
		`[1]`,
	} {
		req := botRequest()
		req.Options = json.RawMessage(opts)
		_, err := s.a.CreateBot(context.Background(), req)
		if onbehalf.ErrorCode(err) != onbehalf.EINVALID || onbehalf.ErrorField(err) != "platform_options" {
			t.Errorf("options %s: %v, want EINVALID on platform_options", opts, err)
		}
	}
	if n := len(s.fake.Created()); n != 0 {
		t.Errorf("%d bots created", n)
	}
}

// TestCreateBotHTTPSOnly: Attendee refuses http:// URLs; the adapter says
// so before asking.
func TestCreateBotHTTPSOnly(t *testing.T) {
	s := newSetup(t, attendeedemo.Options{}, attendee.Config{})
	req := botRequest()
	req.TokenURLs[0].URL = strings.Replace(tokenURL, "https://onbehalf.example.com", "http://localhost:8080", 1)
	_, err := s.a.CreateBot(context.Background(), req)
	msg := onbehalf.ErrorMessage(err)
	if onbehalf.ErrorCode(err) != onbehalf.EINVALID || !strings.Contains(msg, "only accepts https token URLs") ||
		!strings.Contains(msg, "BASE_URL") || strings.Contains(msg, "sig=") {
		t.Errorf("http token URL: %v", err)
	}
	req = botRequest()
	req.StatusURL = "http://localhost:8080/webhooks/attendee?sig=x"
	if _, err := s.a.CreateBot(context.Background(), req); onbehalf.ErrorCode(err) != onbehalf.EINVALID ||
		!strings.Contains(onbehalf.ErrorMessage(err), "status webhook URL") {
		t.Errorf("http status URL: %v", err)
	}
	if n := len(s.fake.Created()); n != 0 {
		t.Errorf("%d bots created", n)
	}

	// Attendee's own 400 for such a URL reaches the person with the URL
	// redacted.
	req = botRequest()
	s.fake.FailCreate(http.StatusBadRequest, `{"callback_settings": ["'`+req.TokenURLs[0].URL+`' does not match '^https://.*'"]}`)
	_, err = s.a.CreateBot(context.Background(), req)
	msg = onbehalf.ErrorMessage(err)
	if onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM || !strings.Contains(msg, "Attendee answered 400") ||
		!strings.Contains(msg, "callback_settings") || !strings.Contains(msg, "does not match '^https://.*'") ||
		strings.Contains(msg, "onbehalf.example.com") || strings.Contains(msg, "sig=") {
		t.Errorf("Attendee's refusal: %v", err)
	}
}

func TestCreateBotErrors(t *testing.T) {
	s := newSetup(t, attendeedemo.Options{APIKey: "another-key"}, attendee.Config{})
	_, err := s.a.CreateBot(context.Background(), botRequest())
	msg := onbehalf.ErrorMessage(err)
	if onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM || !strings.Contains(msg, "401") ||
		!strings.Contains(msg, "Invalid or disabled API key") || !strings.Contains(msg, attendee.VarAPIKey) || strings.Contains(msg, apiKey) {
		t.Errorf("wrong key: %v", err)
	}

	s = newSetup(t, attendeedemo.Options{}, attendee.Config{})
	s404 := newSetup(t, attendeedemo.Options{}, attendee.Config{BaseURL: s.fake.URL() + "/attendee"})
	if _, err := s404.a.CreateBot(context.Background(), botRequest()); !strings.Contains(onbehalf.ErrorMessage(err), "404") ||
		!strings.Contains(onbehalf.ErrorMessage(err), attendee.VarAPIURL) {
		t.Errorf("wrong base URL: %v", err)
	}
	s.fake.FailCreate(http.StatusCreated, `{"state": "joining"}`)
	if _, err := s.a.CreateBot(context.Background(), botRequest()); onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM ||
		!strings.Contains(onbehalf.ErrorMessage(err), "bot ID") {
		t.Errorf("201 without id: %v", err)
	}
	// Two webhooks of the caller's plus the status one: Attendee takes two.
	req := botRequest()
	req.Options = json.RawMessage(`{"webhooks": [{"url": "https://a.example", "triggers": ["transcript.update"]},
		{"url": "https://b.example", "triggers": ["chat_messages.update"]}]}`)
	if _, err := s.a.CreateBot(context.Background(), req); !strings.Contains(onbehalf.ErrorMessage(err), "maximum number of webhooks") {
		t.Errorf("three webhooks: %v", err)
	}

	for name, change := range map[string]func(*onbehalf.BotRequest){
		"no meeting":   func(r *onbehalf.BotRequest) { r.Meeting.URL = "" },
		"no name":      func(r *onbehalf.BotRequest) { r.BotName = " " },
		"emoji name":   func(r *onbehalf.BotRequest) { r.BotName = "Notes 🎉" },
		"no token URL": func(r *onbehalf.BotRequest) { r.TokenURLs = nil },
	} {
		req := botRequest()
		change(&req)
		if _, err := s.a.CreateBot(context.Background(), req); onbehalf.ErrorCode(err) != onbehalf.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	req = botRequest()
	req.TokenURLs = append(req.TokenURLs, onbehalf.TokenURL{Kinds: []onbehalf.TokenKind{onbehalf.KindZAK}, URL: tokenURL + "x"})
	if _, err := s.a.CreateBot(context.Background(), req); onbehalf.ErrorCode(err) != onbehalf.EINTERNAL {
		t.Errorf("two token URLs: %v", err)
	}
	if n := len(s.fake.Created()); n != 0 {
		t.Errorf("%d bots created", n)
	}
}

// TestCreateBotTimeout: ATTENDEE_TIMEOUT bounds the call.
func TestCreateBotTimeout(t *testing.T) {
	release := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer stuck.Close()
	defer close(release)
	a, err := attendee.New(attendee.Config{APIKey: apiKey, BaseURL: stuck.URL, Timeout: 50 * time.Millisecond}, deps())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateBot(context.Background(), botRequest()); onbehalf.ErrorCode(err) != onbehalf.ETIMEOUT {
		t.Errorf("stuck Attendee: %v, want ETIMEOUT", err)
	}
}

func TestPlanTokenURLs(t *testing.T) {
	s := newSetup(t, attendeedemo.Options{}, attendee.Config{})
	plans, err := s.a.PlanTokenURLs([]onbehalf.TokenKind{onbehalf.KindJoin, onbehalf.KindOBF})
	if err != nil || len(plans) != 1 || plans[0].Path != attendee.TokenPath ||
		onbehalf.KindsString(plans[0].Kinds) != "obf,join" || plans[0].Kinds[0] != onbehalf.KindOBF {
		t.Errorf("plans %+v, %v", plans, err)
	}
	routes := s.a.TokenRoutes()
	if len(routes) != 1 || routes[0].Path != "/attendee/zoom-tokens" || routes[0].Default != "" ||
		!reflect.DeepEqual(routes[0].Methods, []string{http.MethodPost}) || len(routes[0].Kinds) != 3 {
		t.Errorf("routes %+v", routes)
	}
}
