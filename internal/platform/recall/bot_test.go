package recall_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recalldemo"
)

const (
	meetingURL = "https://us02web.zoom.us/j/85012345678?pwd=abc.1"
	obfURL     = "https://onbehalf.test/recall/obf-callback?user_id=c1&meeting_id=85012345678&kinds=obf&exp=1900000000&sig=obfSIGobfSIG"
	zakURL     = "https://onbehalf.test/recall/zak-callback?user_id=c1&kinds=zak&exp=1900000000&sig=zakSIGzakSIG"
	joinURL    = "https://onbehalf.test/recall/join-callback?user_id=c1&meeting_id=85012345678&kinds=join&exp=1900000000&sig=joinSIGjoinSIG"
)

// botRequest asks for a bot with every kind of token URL.
func botRequest() onbehalf.BotRequest {
	return onbehalf.BotRequest{
		BotID:   "bot_123",
		Meeting: onbehalf.Meeting{ID: "85012345678", URL: meetingURL, Password: "abc.1"},
		BotName: "Notetaker <&>",
		TokenURLs: []onbehalf.TokenURL{
			{Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, URL: obfURL},
			{Kinds: []onbehalf.TokenKind{onbehalf.KindZAK}, URL: zakURL},
			{Kinds: []onbehalf.TokenKind{onbehalf.KindJoin}, URL: joinURL},
		},
		StatusURL: "https://onbehalf.test/webhooks/recall?bot=bot_123&sig=x",
	}
}

func TestCreateBotRequest(t *testing.T) {
	a, fake := setup(t, recalldemo.Options{}, recall.Config{})
	created, err := a.CreateBot(context.Background(), botRequest())
	if err != nil {
		t.Fatal(err)
	}
	bots := fake.Created()
	if len(bots) != 1 || bots[0].ID != created.PlatformBotID {
		t.Fatalf("created %+v, the fake has %+v", created, bots)
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
		"meeting_url": meetingURL,
		"bot_name":    "Notetaker <&>",
		"zoom":        map[string]any{"obf_token_url": obfURL, "zak_url": zakURL, "join_token_url": joinURL},
		"metadata":    map[string]any{"onbehalf_bot_id": "bot_123"},
	}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("body %s\nwant %v", b.Raw, want)
	}
	if strings.Contains(string(b.Raw), `\u0026`) {
		t.Errorf("token URLs were HTML-escaped: %s", b.Raw)
	}

	// One kind, no bot ID, no name: only what is given.
	req := botRequest()
	req.BotID, req.BotName, req.TokenURLs = "", "", req.TokenURLs[:1]
	if _, err := a.CreateBot(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var second map[string]any
	_ = json.Unmarshal(fake.Created()[1].Raw, &second)
	if !reflect.DeepEqual(second, map[string]any{"meeting_url": meetingURL, "zoom": map[string]any{"obf_token_url": obfURL}}) {
		t.Errorf("minimal body %v", second)
	}
}

func TestCreateBotOptions(t *testing.T) {
	a, fake := setup(t, recalldemo.Options{}, recall.Config{})
	req := botRequest()
	req.Options = json.RawMessage(`{"automatic_leave":{"waiting_room_timeout":1200},"metadata":{"team":"sales"},"zoom":{"user_email":"a@b.test"}}`)
	if _, err := a.CreateBot(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.Unmarshal(fake.Created()[0].Raw, &body)
	zoom, _ := body["zoom"].(map[string]any)
	meta, _ := body["metadata"].(map[string]any)
	leave, _ := body["automatic_leave"].(map[string]any)
	if zoom["user_email"] != "a@b.test" || zoom["obf_token_url"] != obfURL || meta["team"] != "sales" ||
		meta["onbehalf_bot_id"] != "bot_123" || leave["waiting_room_timeout"] != float64(1200) {
		t.Errorf("merged body %v", body)
	}

	for _, opts := range []string{
		`{"meeting_url":"https://zoom.us/j/1"}`,
		`{"bot_name":"x"}`,
		`{"zoom":{"obf_token_url":"https://evil.test/"}}`,
		`{"zoom":{"join_token_url":"https://evil.test/"}}`,
		`{"zoom":"none"}`,
		`{"metadata":{"onbehalf_bot_id":"other"}}`,
		`[1]`,
	} {
		req.Options = json.RawMessage(opts)
		_, err := a.CreateBot(context.Background(), req)
		if onbehalf.ErrorCode(err) != onbehalf.EINVALID || onbehalf.ErrorField(err) != "platform_options" {
			t.Errorf("options %s: %v, want EINVALID on platform_options", opts, err)
		}
	}
	if n := len(fake.Created()); n != 1 {
		t.Errorf("refused options reached Recall.ai: %d bots", n)
	}
}

func TestCreateBotInvalidRequest(t *testing.T) {
	a, fake := setup(t, recalldemo.Options{}, recall.Config{})
	for name, change := range map[string]func(*onbehalf.BotRequest){
		"no meeting URL": func(r *onbehalf.BotRequest) { r.Meeting.URL = "" },
		"no token URL":   func(r *onbehalf.BotRequest) { r.TokenURLs = nil },
		"two kinds": func(r *onbehalf.BotRequest) {
			r.TokenURLs = []onbehalf.TokenURL{{Kinds: []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindJoin}, URL: obfURL}}
		},
		"kind twice": func(r *onbehalf.BotRequest) { r.TokenURLs = append(r.TokenURLs, r.TokenURLs[0]) },
	} {
		req := botRequest()
		change(&req)
		if _, err := a.CreateBot(context.Background(), req); err == nil {
			t.Errorf("%s: accepted", name)
		} else if msg := onbehalf.ErrorMessage(err); strings.Contains(msg, "SIG") {
			t.Errorf("%s: message %q shows a token URL", name, msg)
		}
	}
	if n := len(fake.Created()); n != 0 {
		t.Errorf("%d bad requests reached Recall.ai", n)
	}
}

// hostTransport sends every request to the fake while keeping the Host the
// adapter asked for: the fake answers as that region's deployment.
type hostTransport struct{ to string }

func (h hostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	u, _ := url.Parse(h.to)
	r = r.Clone(r.Context())
	r.Host = r.URL.Host
	r.URL.Scheme, r.URL.Host = u.Scheme, u.Host
	return http.DefaultTransport.RoundTrip(r)
}

func TestCreateBotErrors(t *testing.T) {
	ctx := context.Background()
	a, fake := setup(t, recalldemo.Options{}, recall.Config{})
	check := func(name string, err error, code string, parts ...string) {
		t.Helper()
		if onbehalf.ErrorCode(err) != code {
			t.Errorf("%s: %v, want %s", name, err, code)
			return
		}
		msg := onbehalf.ErrorMessage(err)
		for _, p := range parts {
			if !strings.Contains(msg, p) {
				t.Errorf("%s: message %q lacks %q", name, msg, p)
			}
		}
		for _, secret := range []string{apiKey, "obfSIGobfSIG", "zakSIGzakSIG", "joinSIGjoinSIG"} {
			if strings.Contains(msg, secret) {
				t.Errorf("%s: message %q leaks %q", name, msg, secret)
			}
		}
	}

	req := botRequest()
	req.Meeting.URL = "not a url"
	_, err := a.CreateBot(ctx, req)
	check("DRF field error", err, onbehalf.EUPSTREAM, "Recall.ai answered 400: meeting_url: Enter a valid URL.")

	fake.FailCreate(http.StatusBadRequest, `{"zoom":{"obf_token_url":["`+obfURL+` is not reachable"]},"non_field_errors":["key `+apiKey+`"]}`)
	_, err = a.CreateBot(ctx, botRequest())
	check("echoed secrets", err, onbehalf.EUPSTREAM, "Recall.ai answered 400: key [redacted]; zoom.obf_token_url: [redacted] is not reachable")

	fake.FailCreate(http.StatusCreated, `{"status":"ok"}`)
	_, err = a.CreateBot(ctx, botRequest())
	check("no id", err, onbehalf.EUPSTREAM, "Recall.ai answered without a bot ID")

	fake.FailCreate(http.StatusTooManyRequests, `{"detail":"Request was throttled. Expected available in 3 seconds."}`)
	_, err = a.CreateBot(ctx, botRequest())
	check("throttled", err, onbehalf.EUPSTREAM, "Recall.ai answered 429: Request was throttled.")

	wrongKey, _ := recall.New(recall.Config{APIKey: "rk_wrong_key_0000", BaseURL: fake.URL()}, platform.Deps{})
	_, err = wrongKey.CreateBot(ctx, botRequest())
	check("wrong key", err, onbehalf.EUPSTREAM, "Recall.ai answered 401: Invalid token.", "RECALL_API_KEY", "RECALL_REGION")

	// The key of a us-east-1 workspace used against eu-central-1.
	euURL, _ := recall.BaseURL("eu-central-1")
	wrongRegion, _ := recall.New(recall.Config{APIKey: apiKey, BaseURL: euURL},
		platform.Deps{HTTP: &http.Client{Transport: hostTransport{to: fake.URL()}}})
	_, err = wrongRegion.CreateBot(ctx, botRequest())
	check("wrong region", err, onbehalf.EUPSTREAM, "Recall.ai answered 401: Invalid token.", "RECALL_REGION")
	usURL, _ := recall.BaseURL("us-east-1")
	rightRegion, _ := recall.New(recall.Config{APIKey: apiKey, BaseURL: usURL},
		platform.Deps{HTTP: &http.Client{Transport: hostTransport{to: fake.URL()}}})
	if _, err := rightRegion.CreateBot(ctx, botRequest()); err != nil {
		t.Errorf("right region: %v", err)
	}

	badPath, _ := recall.New(recall.Config{APIKey: apiKey, BaseURL: fake.URL() + "/nope"}, platform.Deps{})
	_, err = badPath.CreateBot(ctx, botRequest())
	check("wrong API URL", err, onbehalf.EUPSTREAM, "Recall.ai answered 404", "RECALL_API_URL")

	slow, _ := recall.New(recall.Config{APIKey: apiKey, BaseURL: fake.URL(), Timeout: 50 * time.Millisecond}, platform.Deps{})
	fake.SetDelay(5 * time.Second)
	_, err = slow.CreateBot(ctx, botRequest())
	fake.SetDelay(0)
	check("RECALL_TIMEOUT", err, onbehalf.ETIMEOUT, "Recall.ai did not answer in time.")

	gone := recalldemo.New(recalldemo.Options{APIKey: apiKey})
	gone.Close()
	down, _ := recall.New(recall.Config{APIKey: apiKey, BaseURL: gone.URL()}, platform.Deps{})
	_, err = down.CreateBot(ctx, botRequest())
	check("unreachable", err, onbehalf.EUPSTREAM, "Could not reach Recall.ai")
}

func TestPlanTokenURLs(t *testing.T) {
	a, _ := setup(t, recalldemo.Options{}, recall.Config{})
	plans, err := a.PlanTokenURLs([]onbehalf.TokenKind{onbehalf.KindJoin, onbehalf.KindOBF})
	if err != nil {
		t.Fatal(err)
	}
	want := []onbehalf.TokenURLPlan{
		{Path: "/recall/obf-callback", Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}},
		{Path: "/recall/join-callback", Kinds: []onbehalf.TokenKind{onbehalf.KindJoin}},
	}
	if !reflect.DeepEqual(plans, want) {
		t.Errorf("plans %+v, want %+v", plans, want)
	}
	plans, _ = a.PlanTokenURLs([]onbehalf.TokenKind{onbehalf.KindZAK})
	if len(plans) != 1 || plans[0].Path != "/recall/zak-callback" {
		t.Errorf("zak plan %+v", plans)
	}
}

func TestNew(t *testing.T) {
	if _, err := recall.New(recall.Config{}, platform.Deps{}); err == nil || !strings.Contains(err.Error(), "RECALL_API_KEY") {
		t.Errorf("no key: %v", err)
	}
	for _, c := range []recall.Config{
		{APIKey: apiKey, VerificationSecret: "whsec_%%%"},
		{APIKey: apiKey, WebhookSecret: "nope"},
	} {
		if _, err := recall.New(c, platform.Deps{}); err == nil || strings.Contains(err.Error(), "%%%") {
			t.Errorf("bad secret %+v: %v", c, err)
		}
	}
}
