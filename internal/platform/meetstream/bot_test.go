package meetstream

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
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream/meetstreamdemo"
)

const (
	obfURL    = "https://onbehalf.example/meetstream/token?user_id=conn_1&meeting_id=85012345678&kinds=obf&bot=bot_1&exp=1900000000&sig=c2lnbmF0dXJlX29iZg"
	zakURL    = "https://onbehalf.example/meetstream/token?user_id=conn_1&meeting_id=85012345678&kinds=zak&bot=bot_1&exp=1900000000&sig=c2lnbmF0dXJlX3phaw"
	statusURL = "https://onbehalf.example/webhooks/meetstream?bot=bot_1&exp=1900000000&sig=c3RhdHVzX3NpZ25hdHVyZQ"
)

// request is a create-bot request for one token URL of kind.
func request(kind onbehalf.TokenKind, u string) onbehalf.BotRequest {
	return onbehalf.BotRequest{
		BotID:     "bot_1",
		Meeting:   onbehalf.Meeting{ID: "85012345678", URL: "https://zoom.us/j/85012345678?pwd=abc", Password: "abc"},
		BotName:   "Notetaker",
		TokenURLs: []onbehalf.TokenURL{{Kinds: []onbehalf.TokenKind{kind}, URL: u}},
	}
}

// only returns the one bot of the fake.
func only(t *testing.T, fake *meetstreamdemo.Fake) map[string]any {
	t.Helper()
	bots := fake.Bots()
	if len(bots) != 1 {
		t.Fatalf("the fake has %d bots, want 1", len(bots))
	}
	// Compare as plain JSON values.
	raw, _ := json.Marshal(bots[0].Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	return body
}

func TestCreateBotBody(t *testing.T) {
	a, fake := newPair(t, false)
	req := request(onbehalf.KindOBF, obfURL)
	req.StatusURL = statusURL
	req.Options = json.RawMessage(`{"video_required": false, "automatic_leave": {"waiting_room_timeout": 900}, "custom_attributes": {"team": "sales"}}`)
	created, err := a.CreateBot(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"meeting_link":      "https://zoom.us/j/85012345678?pwd=abc",
		"bot_name":          "Notetaker",
		"zoom":              map[string]any{"obf_url": obfURL},
		"callback_url":      statusURL,
		"custom_attributes": map[string]any{"onbehalf_bot_id": "bot_1", "team": "sales"},
		"video_required":    false,
		"automatic_leave":   map[string]any{"waiting_room_timeout": 900.0},
	}
	if got := only(t, fake); !reflect.DeepEqual(got, want) {
		t.Errorf("create-bot body\n got %v\nwant %v", got, want)
	}
	if fake.Bots()[0].ID != created.PlatformBotID {
		t.Errorf("platform bot ID %q, the fake made %q", created.PlatformBotID, fake.Bots()[0].ID)
	}
}

func TestCreateBotZAK(t *testing.T) {
	a, fake := newPair(t, false)
	if _, err := a.CreateBot(context.Background(), request(onbehalf.KindZAK, zakURL)); err != nil {
		t.Fatal(err)
	}
	body := only(t, fake)
	if !reflect.DeepEqual(body["zoom"], map[string]any{"zak_url": zakURL}) {
		t.Errorf("zoom %v, want zak_url only", body["zoom"])
	}
	// Without a status URL and a bot ID, neither field is sent.
	if _, ok := body["callback_url"]; ok {
		t.Error("callback_url sent without a status URL")
	}
}

func TestCreateBotRefused(t *testing.T) {
	both := request(onbehalf.KindOBF, obfURL)
	both.TokenURLs = append(both.TokenURLs, onbehalf.TokenURL{Kinds: []onbehalf.TokenKind{onbehalf.KindZAK}, URL: zakURL})
	twoKinds := request(onbehalf.KindOBF, obfURL)
	twoKinds.TokenURLs[0].Kinds = []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindZAK}
	withMeeting := request(onbehalf.KindOBF, obfURL+"&meeting_number=85012345678")
	noMeeting := request(onbehalf.KindOBF, obfURL)
	noMeeting.Meeting.URL = ""
	withOptions := func(status, opts string) onbehalf.BotRequest {
		r := request(onbehalf.KindOBF, obfURL)
		r.StatusURL = status
		r.Options = json.RawMessage(opts)
		return r
	}
	for name, tc := range map[string]struct {
		req  onbehalf.BotRequest
		code string
		says string
	}{
		"obf and zak URLs":          {both, onbehalf.EINVALID, "one token URL"},
		"one URL for two kinds":     {twoKinds, onbehalf.EINVALID, "one token URL"},
		"join":                      {request(onbehalf.KindJoin, obfURL), onbehalf.EINVALID, "no host join token"},
		"no token URL":              {onbehalf.BotRequest{Meeting: noMeeting.Meeting}, onbehalf.EINVALID, "one token URL"},
		"meeting_number in the URL": {withMeeting, onbehalf.EINTERNAL, "appends it"},
		"no meeting URL":            {noMeeting, onbehalf.EINVALID, "meeting link"},
		"options add zak_url":       {withOptions("", `{"zoom": {"zak_url": "https://x"}}`), onbehalf.EINVALID, "zoom.zak_url"},
		"options replace zoom":      {withOptions("", `{"zoom": null}`), onbehalf.EINVALID, "zoom"},
		"options set meeting_link":  {withOptions("", `{"meeting_link": "https://x"}`), onbehalf.EINVALID, "meeting_link"},
		"options set callback_url":  {withOptions(statusURL, `{"callback_url": "https://x"}`), onbehalf.EINVALID, "callback_url"},
		"options set our attribute": {withOptions("", `{"custom_attributes": {"onbehalf_bot_id": "x"}}`), onbehalf.EINVALID, "onbehalf_bot_id"},
		"options not an object":     {withOptions("", `[1]`), onbehalf.EINVALID, "JSON object"},
	} {
		t.Run(name, func(t *testing.T) {
			a, fake := newPair(t, false)
			_, err := a.CreateBot(context.Background(), tc.req)
			if onbehalf.ErrorCode(err) != tc.code || !strings.Contains(onbehalf.ErrorMessage(err), tc.says) {
				t.Errorf("error %v: want %s saying %q", err, tc.code, tc.says)
			}
			if n := len(fake.Bots()); n != 0 {
				t.Errorf("MeetStream was asked anyway (%d bots)", n)
			}
		})
	}
}

// Without a status URL or a bot name, the caller may set its own.
func TestCreateBotOwnFields(t *testing.T) {
	a, fake := newPair(t, false)
	req := request(onbehalf.KindOBF, obfURL)
	req.BotName = ""
	req.Options = json.RawMessage(`{"callback_url": "https://product.example/hooks", "bot_name": "Mine"}`)
	if _, err := a.CreateBot(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if body := only(t, fake); body["callback_url"] != "https://product.example/hooks" || body["bot_name"] != "Mine" {
		t.Errorf("body %v", body)
	}
}

func TestCreateBotAnswers(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		body   string
		id     string
		code   string
		says   []string
	}{
		"507 replay":          {507, `{"bot_id": "8a1f-replayed", "status": "Active"}`, "8a1f-replayed", "", nil},
		"id instead":          {201, `{"id": "b-2"}`, "b-2", "", nil},
		"numeric id":          {201, `{"id": 123}`, "123", "", nil},
		"200 documented":      {200, `{"bot_id": "b-3"}`, "b-3", "", nil},
		"no bot_id":           {201, `{"status": "Active"}`, "", onbehalf.EUPSTREAM, []string{"MeetStream", "bot_id"}},
		"not JSON":            {201, `<html>`, "", onbehalf.EUPSTREAM, []string{"MeetStream answered 201"}},
		"both URLs, as a 400": {400, `{"message": "Pass only one of zoom.zak_url or zoom.obf_url"}`, "", onbehalf.EUPSTREAM, []string{"MeetStream answered 400: Pass only one"}},
		"field errors":        {400, `{"meeting_link": ["Enter a valid URL."]}`, "", onbehalf.EUPSTREAM, []string{"meeting_link: Enter a valid URL."}},
		"wrong key":           {401, `{"detail": "Invalid token."}`, "", onbehalf.EUPSTREAM, []string{"401: Invalid token.", "check MEETSTREAM_API_KEY"}},
		"forbidden":           {403, `{"detail": "nope"}`, "", onbehalf.EUPSTREAM, []string{"check MEETSTREAM_API_KEY"}},
		"wrong URL":           {404, `{"detail": "Not found."}`, "", onbehalf.EUPSTREAM, []string{"check MEETSTREAM_API_URL"}},
		"rate limited":        {429, `{"message": "Too many requests"}`, "", onbehalf.EUPSTREAM, []string{"429: Too many requests"}},
		"echo of secrets":     {400, `{"message": "bad ` + obfURL + ` and ` + statusURL + ` for ` + testKey + `"}`, "", onbehalf.EUPSTREAM, []string{"[redacted]"}},
	} {
		t.Run(name, func(t *testing.T) {
			a, fake := newPair(t, false)
			fake.FailCreate(tc.status, tc.body)
			req := request(onbehalf.KindOBF, obfURL)
			req.StatusURL = statusURL
			created, err := a.CreateBot(context.Background(), req)
			if tc.code == "" {
				if err != nil || created.PlatformBotID != tc.id {
					t.Fatalf("got %+v, %v; want bot %q", created, err, tc.id)
				}
				return
			}
			msg := onbehalf.ErrorMessage(err)
			if onbehalf.ErrorCode(err) != tc.code {
				t.Fatalf("error %v, want %s", err, tc.code)
			}
			for _, s := range tc.says {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not say %q", msg, s)
				}
			}
			for _, secret := range []string{testKey, "c2lnbmF0dXJlX29iZg", "c3RhdHVzX3NpZ25hdHVyZQ"} {
				if strings.Contains(msg, secret) {
					t.Errorf("message %q leaks %q", msg, secret)
				}
			}
		})
	}
}

// The fake refuses what MeetStream refuses, and the adapter shows it.
func TestCreateBotHTTPURLRefused(t *testing.T) {
	fake := meetstreamdemo.New(meetstreamdemo.Options{APIKey: testKey})
	defer fake.Close()
	a, err := New(Config{APIKey: testKey, BaseURL: fake.URL()}, platform.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.CreateBot(context.Background(), request(onbehalf.KindOBF, strings.Replace(obfURL, "https:", "http:", 1)))
	if msg := onbehalf.ErrorMessage(err); !strings.Contains(msg, "400: zoom.obf_url must use https") {
		t.Errorf("http token URL: %v", err)
	}
}

func TestCreateBotTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // answers only once the test is over
	}))
	defer srv.Close()
	defer close(release)
	a, err := New(Config{APIKey: testKey, BaseURL: srv.URL, Timeout: 50 * time.Millisecond}, platform.Deps{HTTP: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.CreateBot(context.Background(), request(onbehalf.KindOBF, obfURL))
	if onbehalf.ErrorCode(err) != onbehalf.ETIMEOUT || !strings.Contains(onbehalf.ErrorMessage(err), "MeetStream did not answer in time") {
		t.Errorf("error %v, want ETIMEOUT", err)
	}
}

// The 507 rule applies to create_bot only (under a base URL with a path
// too): another call that gets a 507 fails.
func TestReplayScope(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInsufficientStorage)
		_, _ = w.Write([]byte(`{"bot_id": "8a1f-replayed"}`))
	}))
	defer srv.Close()
	for _, base := range []string{srv.URL, srv.URL + "/prefix"} {
		a, err := New(Config{APIKey: testKey, BaseURL: base}, platform.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		if created, err := a.CreateBot(context.Background(), request(onbehalf.KindOBF, obfURL)); err != nil || created.PlatformBotID != "8a1f-replayed" {
			t.Errorf("create_bot under %s: %+v, %v; want the replayed bot", base, created, err)
		}
	}
	var out createBotResponse
	err := platform.Call{Title: Title, Method: http.MethodPost, URL: srv.URL + "/api/v1/bots/x"}.Do(context.Background(), srv.Client(), &out)
	if onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM || !strings.Contains(onbehalf.ErrorMessage(err), "MeetStream answered 507") {
		t.Errorf("another call answered 507: %v, want EUPSTREAM", err)
	}
}

func TestPlanTokenURLs(t *testing.T) {
	a, _ := newPair(t, false)
	for _, k := range []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindZAK} {
		plans, err := a.PlanTokenURLs([]onbehalf.TokenKind{k})
		want := []onbehalf.TokenURLPlan{{Path: "/meetstream/token", Kinds: []onbehalf.TokenKind{k}}}
		if err != nil || !reflect.DeepEqual(plans, want) {
			t.Errorf("PlanTokenURLs(%s) = %v, %v", k, plans, err)
		}
	}
	_, err := a.PlanTokenURLs([]onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindZAK})
	if msg := onbehalf.ErrorMessage(err); onbehalf.ErrorField(err) != "kinds" || !strings.Contains(msg, "ask for obf or for zak") || !strings.Contains(msg, "no host join token") {
		t.Errorf("obf+zak: %v", err)
	}
}
