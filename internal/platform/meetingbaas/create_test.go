package meetingbaas_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas/meetingbaasdemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

const statusURL = "https://onbehalf.test/webhooks/meetingbaas?bot=bot_1&exp=1900000000&sig=c3RhdHVzLXVybC1zaWduYXR1cmU"

// botRequest returns a request for a bot with the given kinds, its token
// URLs signed by a token server of a.
func botRequest(t *testing.T, a *meetingbaas.Adapter, kinds ...onbehalf.TokenKind) onbehalf.BotRequest {
	t.Helper()
	srv := platformtest.NewServer(t, a)
	return onbehalf.BotRequest{
		BotID:     "bot_1",
		Meeting:   onbehalf.Meeting{ID: platformtest.MeetingID, URL: platformtest.MeetingURL, Password: "abc.1"},
		BotName:   "Notes",
		TokenURLs: srv.TokenURLs(t, a, kinds, "bot_1"),
		StatusURL: statusURL,
	}
}

// created returns the body of the only bot the fake created.
func created(t *testing.T, f *meetingbaasdemo.Fake) map[string]any {
	t.Helper()
	bots := f.Bots()
	if len(bots) != 1 {
		t.Fatalf("the fake has %d bots, want 1", len(bots))
	}
	return bots[0].Body
}

func TestCreateBotBody(t *testing.T) {
	f := newFake(t, meetingbaasdemo.Options{})
	a := newAdapter(t, meetingbaas.Config{BaseURL: f.URL() + "/"})
	req := botRequest(t, a, onbehalf.KindOBF, onbehalf.KindZAK)
	bot, err := a.CreateBot(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	body := created(t, f)
	if f.Bots()[0].ID != bot.PlatformBotID {
		t.Errorf("platform bot ID %q, the fake made %q", bot.PlatformBotID, f.Bots()[0].ID)
	}
	want := map[string]any{
		"meeting_url": platformtest.MeetingURL,
		"bot_name":    "Notes",
		"zoom_config": map[string]any{
			"obf_token_url": onbehalf.URLFor(req.TokenURLs, onbehalf.KindOBF),
			"zak_token_url": onbehalf.URLFor(req.TokenURLs, onbehalf.KindZAK),
		},
		"extra":            map[string]any{"onbehalf_bot_id": "bot_1"},
		"callback_enabled": true,
		"callback_config":  map[string]any{"url": statusURL, "method": "POST"},
	}
	if g, w := jsonText(t, body), jsonText(t, want); g != w {
		t.Errorf("body\n got %s\nwant %s", g, w)
	}
}

func TestCreateBotWithoutExtras(t *testing.T) {
	f := newFake(t, meetingbaasdemo.Options{})
	a := newAdapter(t, meetingbaas.Config{BaseURL: f.URL()})
	req := botRequest(t, a, onbehalf.KindOBF)
	req.BotID, req.StatusURL, req.BotName = "", "", ""
	if _, err := a.CreateBot(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	body := created(t, f)
	for _, k := range []string{"extra", "callback_enabled", "callback_config"} {
		if _, ok := body[k]; ok {
			t.Errorf("body has %s: %v", k, body[k])
		}
	}
	if body["bot_name"] != meetingbaas.DefaultBotName {
		t.Errorf("bot_name %v, want the default %q (Meeting BaaS requires one)", body["bot_name"], meetingbaas.DefaultBotName)
	}
	if zc := body["zoom_config"].(map[string]any); len(zc) != 1 || zc["obf_token_url"] == nil {
		t.Errorf("zoom_config %v, want only obf_token_url", zc)
	}
}

func TestCreateBotOptions(t *testing.T) {
	f := newFake(t, meetingbaasdemo.Options{})
	a := newAdapter(t, meetingbaas.Config{BaseURL: f.URL()})
	req := botRequest(t, a, onbehalf.KindOBF)
	req.Options = json.RawMessage(`{"timeout_config": {"waiting_room_timeout": 1200},
		"zoom_config": {"credential_id": "a1b2c3d4-e5f6-4890-abcd-ef1234567890"}, "extra": {"customer": "c1"}}`)
	if _, err := a.CreateBot(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	body := created(t, f)
	zc := body["zoom_config"].(map[string]any)
	if zc["credential_id"] == nil || zc["obf_token_url"] == nil {
		t.Errorf("zoom_config %v: want the option merged next to obf_token_url", zc)
	}
	if ex := body["extra"].(map[string]any); ex["customer"] != "c1" || ex["onbehalf_bot_id"] != "bot_1" {
		t.Errorf("extra %v", ex)
	}

	for _, opt := range []string{
		`{"meeting_url": "https://zoom.us/j/999999999"}`,
		`{"bot_name": "x"}`,
		`{"zoom_config": {"obf_token_url": "https://evil.test/"}}`,
		`{"zoom_config": {"zak_token_url": "https://evil.test/"}}`,
		`{"zoom_config": null}`,
		`{"extra": {"onbehalf_bot_id": "bot_2"}}`,
		`{"callback_enabled": false}`,
		`{"callback_config": {"method": "PUT"}}`,
		`[1]`,
	} {
		req.Options = json.RawMessage(opt)
		_, err := a.CreateBot(context.Background(), req)
		if onbehalf.ErrorCode(err) != onbehalf.EINVALID || onbehalf.ErrorField(err) != "platform_options" {
			t.Errorf("options %s: %v, want EINVALID on platform_options", opt, err)
		}
	}
	if n := len(f.Bots()); n != 1 {
		t.Errorf("refused options still created bots: %d", n)
	}

	req.Options = json.RawMessage(`{"timeout_config": {"waiting_room_timeout": 60}}`)
	_, err := a.CreateBot(context.Background(), req)
	if want := "Meeting BaaS answered 400: body/timeout_config/waiting_room_timeout must be an integer from 120 to 1800 (FST_ERR_VALIDATION)"; onbehalf.ErrorMessage(err) != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestCreateBotErrors(t *testing.T) {
	f := newFake(t, meetingbaasdemo.Options{})
	a := newAdapter(t, meetingbaas.Config{BaseURL: f.URL()})
	req := botRequest(t, a, onbehalf.KindOBF)
	obfURL := req.TokenURLs[0].URL
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"tokens", 402, `{"success":false,"error":"Insufficient tokens","code":"FST_ERR_INSUFFICIENT_TOKENS","statusCode":402}`,
			"Meeting BaaS answered 402: Insufficient tokens (FST_ERR_INSUFFICIENT_TOKENS) (the Meeting BaaS account has too few tokens left: top it up in the dashboard)"},
		{"rate", 429, `{"success":false,"error":"Rate Limited","code":"FST_ERR_TOO_MANY_REQUESTS","statusCode":429,"message":"Rate limit exceeded. Maximum 5 requests per second allowed. Retry after 1 seconds","retryAfter":1}`,
			"Meeting BaaS answered 429: Rate limit exceeded. Maximum 5 requests per second allowed. Retry after 1 seconds (FST_ERR_TOO_MANY_REQUESTS; retry after 1 s)"},
		{"cap", 429, `{"success":false,"error":"Too Many Requests","message":"Daily bot cap has been reached: 75 bots created within the last 24 hours","code":"FST_ERR_DAILY_BOT_CAP_REACHED","statusCode":429}`,
			"Meeting BaaS answered 429: Daily bot cap has been reached: 75 bots created within the last 24 hours (FST_ERR_DAILY_BOT_CAP_REACHED)"},
		{"duplicate", 409, `{"success":false,"error":"Conflict","code":"FST_ERR_BOT_ALREADY_EXISTS","statusCode":409,"message":null,"details":"A bot already joined this meeting URL"}`,
			"Meeting BaaS answered 409: Conflict: A bot already joined this meeting URL (FST_ERR_BOT_ALREADY_EXISTS)"},
		{"forbidden", 403, `{"success":false,"error":"Forbidden","code":"FST_ERR_FORBIDDEN","statusCode":403,"message":"Forbidden"}`,
			"Meeting BaaS answered 403: Forbidden (FST_ERR_FORBIDDEN) (check MEETINGBAAS_API_KEY: a key with Full or Sending access)"},
		{"echo", 400, `{"success":false,"error":"Bad Request","code":"FST_ERR_VALIDATION","statusCode":400,"message":"bad URL ` + obfURL + ` and ` + statusURL + ` for ` + testKey + `"}`,
			"Meeting BaaS answered 400: bad URL [redacted] and [redacted] for [redacted] (FST_ERR_VALIDATION)"},
		{"other shape", 502, `upstream connect error`, "Meeting BaaS answered 502: upstream connect error"},
	} {
		f.FailCreate(tc.status, tc.body)
		_, err := a.CreateBot(context.Background(), req)
		if onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM || onbehalf.ErrorMessage(err) != tc.want {
			t.Errorf("%s: got %v\nwant %s", tc.name, err, tc.want)
		}
	}

	wrong := newAdapter(t, meetingbaas.Config{BaseURL: f.URL(), APIKey: "wrong-key"})
	_, err := wrong.CreateBot(context.Background(), req)
	if want := "Meeting BaaS answered 401: Invalid or missing API key (FST_ERR_FORBIDDEN) (check MEETINGBAAS_API_KEY: a key with Full or Sending access)"; onbehalf.ErrorMessage(err) != want {
		t.Errorf("wrong key: got %v\nwant %s", err, want)
	}

	for name, change := range map[string]func(*onbehalf.BotRequest){
		"no meeting":   func(r *onbehalf.BotRequest) { r.Meeting.URL = "" },
		"no token URL": func(r *onbehalf.BotRequest) { r.TokenURLs = nil },
		"join URL": func(r *onbehalf.BotRequest) {
			r.TokenURLs = []onbehalf.TokenURL{{Kinds: []onbehalf.TokenKind{onbehalf.KindJoin}, URL: obfURL}}
		},
		"two kinds": func(r *onbehalf.BotRequest) {
			r.TokenURLs[0].Kinds = []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindZAK}
		},
		"two obf fields": func(r *onbehalf.BotRequest) { r.TokenURLs = append(r.TokenURLs, r.TokenURLs[0]) },
	} {
		r := req
		r.TokenURLs = append([]onbehalf.TokenURL(nil), req.TokenURLs...)
		change(&r)
		if _, err := a.CreateBot(context.Background(), r); err == nil || onbehalf.ErrorCode(err) == onbehalf.EUPSTREAM {
			t.Errorf("%s: %v, want a refusal before any call", name, err)
		}
	}
	if n := len(f.Bots()); n != 0 {
		t.Errorf("%d bots created", n)
	}
}

func TestCreateBotAnswers(t *testing.T) {
	var answer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/bots" || r.Header.Get("x-meeting-baas-api-key") != testKey {
			http.Error(w, "wrong request", http.StatusTeapot)
			return
		}
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(answer))
	}))
	defer srv.Close()
	a := newAdapter(t, meetingbaas.Config{BaseURL: srv.URL})
	req := botRequest(t, a, onbehalf.KindOBF)
	for _, tc := range []struct{ answer, want string }{
		{`{"success": true, "data": {}}`, "Meeting BaaS answered without a bot ID (data.bot_id)."},
		{`{"success": true}`, "Meeting BaaS answered without a bot ID (data.bot_id)."},
		{`<html>`, "Meeting BaaS answered 201 with a body that is not the expected JSON."},
	} {
		answer = tc.answer
		_, err := a.CreateBot(context.Background(), req)
		if onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM || onbehalf.ErrorMessage(err) != tc.want {
			t.Errorf("answer %s: got %v, want %s", tc.answer, err, tc.want)
		}
	}
}

func TestCreateBotTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	a := newAdapter(t, meetingbaas.Config{BaseURL: srv.URL, Timeout: 50 * time.Millisecond})
	_, err := a.CreateBot(context.Background(), botRequest(t, a, onbehalf.KindOBF))
	if onbehalf.ErrorCode(err) != onbehalf.ETIMEOUT || !strings.Contains(onbehalf.ErrorMessage(err), "Meeting BaaS") {
		t.Errorf("got %v, want ETIMEOUT naming Meeting BaaS (MEETINGBAAS_TIMEOUT)", err)
	}
}

// jsonText renders v as JSON with sorted keys, for comparisons.
func jsonText(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}
