package meetstreamdemo

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

const key = "ms_key_123"

// create posts a create-bot request to f and returns the status and the
// decoded answer.
func create(t *testing.T, f *Fake, auth, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.URL()+"/api/v1/bots/create_bot", strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// zoomBody is a create-bot body with the given zoom object.
func zoomBody(zoom string) string {
	return `{"meeting_link": "https://zoom.us/j/85012345678?pwd=x", "bot_name": "Notes", "zoom": ` + zoom + `}`
}

func TestCreateBot(t *testing.T) {
	f := New(Options{APIKey: key})
	defer f.Close()
	long := "https://t.example/x?q=" + strings.Repeat("a", 4096)
	for name, tc := range map[string]struct {
		auth, body string
		status     int
		says       string
	}{
		"no key":            {"", zoomBody(`{}`), 401, "Authentication credentials were not provided."},
		"wrong key":         {"Token nope", zoomBody(`{}`), 401, "Invalid token."},
		"bearer":            {"Bearer " + key, zoomBody(`{}`), 401, "Invalid token."},
		"not JSON":          {"Token " + key, `meeting_link=x`, 400, "JSON object"},
		"no meeting_link":   {"Token " + key, `{"bot_name": "x"}`, 400, "meeting_link is required"},
		"both URLs":         {"Token " + key, zoomBody(`{"obf_url": "https://t.example/o", "zak_url": "https://t.example/z"}`), 400, "Pass only one of zoom.zak_url or zoom.obf_url"},
		"http":              {"Token " + key, zoomBody(`{"obf_url": "http://t.example/o"}`), 400, "zoom.obf_url must use https."},
		"no host":           {"Token " + key, zoomBody(`{"zak_url": "https:///o"}`), 400, "zoom.zak_url must include a host."},
		"not a string":      {"Token " + key, zoomBody(`{"zak_url": 3}`), 400, "zoom.zak_url must be a valid URL."},
		"too long":          {"Token " + key, zoomBody(`{"obf_url": "` + long + `"}`), 400, "at most 4096"},
		"meeting_number":    {"Token " + key, zoomBody(`{"obf_url": "https://t.example/o?meeting_number=1"}`), 400, "MeetStream appends it"},
		"use_zoom_obf":      {"Token " + key, zoomBody(`{"use_zoom_obf": true}`), 400, "use_zoom_obf is no longer supported"},
		"hosted connection": {"Token " + key, zoomBody(`{"zoom_oauth_connection_user_id": "u"}`), 400, "no longer supported"},
		"zoom not object":   {"Token " + key, zoomBody(`"x"`), 400, "zoom must be an object"},
		"bad callback":      {"Token " + key, `{"meeting_link": "https://zoom.us/j/85012345678", "callback_url": "/relative"}`, 400, "callback_url"},
		"bad attributes":    {"Token " + key, `{"meeting_link": "https://zoom.us/j/85012345678", "custom_attributes": []}`, 400, "custom_attributes"},
	} {
		t.Run(name, func(t *testing.T) {
			status, out := create(t, f, tc.auth, tc.body)
			msg, _ := out["message"].(string)
			if d, ok := out["detail"].(string); ok {
				msg = d
			}
			if status != tc.status || !strings.Contains(msg, tc.says) {
				t.Errorf("got %d %v, want %d saying %q", status, out, tc.status, tc.says)
			}
		})
	}
	if n := len(f.Bots()); n != 0 {
		t.Errorf("refused requests created %d bots", n)
	}
	status, out := create(t, f, "token "+key, zoomBody(`{"obf_url": "https://t.example/o?user_id=u"}`))
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if status != 201 || !uuid.MatchString(out["bot_id"].(string)) || out["status"] != "Active" || out["meeting_url"] != "https://zoom.us/j/85012345678?pwd=x" {
		t.Errorf("success: %d %v", status, out)
	}
	bots := f.Bots()
	if len(bots) != 1 || bots[0].ID != out["bot_id"] || bots[0].BotName != "Notes" || bots[0].TokenURLs[onbehalf.KindOBF] != "https://t.example/o?user_id=u" {
		t.Errorf("bots %+v", bots)
	}
	resp, err := http.Get(f.URL() + "/api/v1/bots/create_bot")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET create_bot: %d", resp.StatusCode)
	}
}

func TestFailCreateOnce(t *testing.T) {
	f := New(Options{APIKey: key})
	defer f.Close()
	f.FailCreate(507, `{"bot_id": "replayed"}`)
	if status, out := create(t, f, "Token "+key, zoomBody(`{}`)); status != 507 || out["bot_id"] != "replayed" {
		t.Errorf("first: %d %v", status, out)
	}
	if status, _ := create(t, f, "Token "+key, zoomBody(`{}`)); status != 201 {
		t.Errorf("second: %d", status)
	}
}

// seen is a token request as the token server got it.
type seen struct {
	method, query, botID, secret string
	body                         map[string]any
}

// tokenServer answers GETs with get and POSTs with post, recording what
// it got.
type tokenServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newTokenServer(t *testing.T, get, post http.HandlerFunc) *tokenServer {
	s := &tokenServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		sn := seen{method: r.Method, query: r.URL.RawQuery, botID: r.Header.Get("X-Bot-Id"), secret: r.Header.Get("X-Webhook-Secret")}
		_ = json.Unmarshal(raw, &sn.body)
		s.mu.Lock()
		s.reqs = append(s.reqs, sn)
		s.mu.Unlock()
		if r.Method == http.MethodGet {
			get(w, r)
		} else {
			post(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func text(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func jsonAnswer(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}
}

func TestFetch(t *testing.T) {
	long := strings.Repeat("t", 51)
	for name, tc := range map[string]struct {
		kind      onbehalf.TokenKind
		get, post http.HandlerFunc
		tamper    platformdemo.Tamper
		methods   string
		status    int
		token     string
	}{
		"long text token":       {onbehalf.KindOBF, text(200, long+"\n"), nil, platformdemo.Tamper{}, "GET", 200, long},
		"JSON token":            {onbehalf.KindOBF, jsonAnswer(`{"token": "short"}`), nil, platformdemo.Tamper{}, "GET", 200, "short"},
		"JSON zak":              {onbehalf.KindZAK, jsonAnswer(`{"zak": "z"}`), nil, platformdemo.Tamper{}, "GET", 200, "z"},
		"JSON obf":              {onbehalf.KindOBF, jsonAnswer(`{"obf": "o"}`), nil, platformdemo.Tamper{}, "GET", 200, "o"},
		"50 characters of text": {onbehalf.KindOBF, text(200, long[:50]), jsonAnswer(`{"token": "p"}`), platformdemo.Tamper{}, "GET,POST", 200, "p"},
		"405":                   {onbehalf.KindOBF, text(405, "no"), text(200, long), platformdemo.Tamper{}, "GET,POST", 200, long},
		"empty JSON":            {onbehalf.KindOBF, jsonAnswer(`{"token": ""}`), jsonAnswer(`{}`), platformdemo.Tamper{}, "GET,POST", 200, ""},
		"bad JSON":              {onbehalf.KindOBF, jsonAnswer(`{"token":`), jsonAnswer(`{"token": "p"}`), platformdemo.Tamper{}, "GET,POST", 200, "p"},
		"400 is final":          {onbehalf.KindOBF, text(400, "bad"), nil, platformdemo.Tamper{}, "GET", 400, ""},
		"401 fails":             {onbehalf.KindOBF, text(401, "no"), nil, platformdemo.Tamper{}, "GET", 401, ""},
		"502 fails":             {onbehalf.KindOBF, text(502, "zoom"), nil, platformdemo.Tamper{}, "GET", 502, ""},
		"POST fails":            {onbehalf.KindOBF, text(405, ""), text(409, "reconnect"), platformdemo.Tamper{}, "GET,POST", 409, ""},
		"ZAK fallback":          {onbehalf.KindZAK, text(405, ""), jsonAnswer(`{"token": "z"}`), platformdemo.Tamper{}, "GET,POST", 200, "z"},
		"no credentials":        {onbehalf.KindOBF, text(405, ""), jsonAnswer(`{"token": "p"}`), platformdemo.Tamper{NoCredentials: true}, "GET,POST", 200, "p"},
		"other meeting":         {onbehalf.KindOBF, text(405, ""), jsonAnswer(`{"token": "p"}`), platformdemo.Tamper{Meeting: "85099999999"}, "GET,POST", 200, "p"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newTokenServer(t, tc.get, tc.post)
			f := New(Options{APIKey: key, AllowHTTP: true, WebhookSecret: "whs"})
			defer f.Close()
			field := map[onbehalf.TokenKind]string{onbehalf.KindOBF: "obf_url", onbehalf.KindZAK: "zak_url"}[tc.kind]
			tokenURL := srv.URL + "/token?user_id=u&sig=a%2Bb"
			_, out := create(t, f, "Token "+key, zoomBody(`{"`+field+`": "`+tokenURL+`"}`))
			id, _ := out["bot_id"].(string)
			got := f.Fetch(context.Background(), id, tc.kind, tc.tamper)
			if got.Status != tc.status || got.Tokens[tc.kind] != tc.token || (tc.token == "" && got.Tokens != nil) {
				t.Errorf("fetched %+v, want status %d, token %q", got, tc.status, tc.token)
			}
			var methods []string
			meeting, secret := "85012345678", "whs"
			if tc.tamper.Meeting != "" {
				meeting = tc.tamper.Meeting
			}
			if tc.tamper.NoCredentials {
				secret = ""
			}
			for _, r := range srv.reqs {
				methods = append(methods, r.method)
				wantQuery := "user_id=u&sig=a%2Bb"
				if r.method == http.MethodGet && tc.kind == onbehalf.KindOBF {
					wantQuery += "&meeting_number=" + meeting
				}
				if r.query != wantQuery || r.botID != id || r.secret != secret {
					t.Errorf("%s: query %q, X-Bot-Id %q, X-Webhook-Secret %q", r.method, r.query, r.botID, r.secret)
				}
				if r.method == http.MethodPost {
					want := map[string]any{"bot_id": id}
					if tc.kind == onbehalf.KindOBF {
						want["meeting_number"] = json.Number(meeting)
					}
					if secret != "" {
						want["webhook_secret"] = secret
					}
					if b, _ := json.Marshal(r.body); string(b) != mustJSON(want) {
						t.Errorf("POST body %s, want %s", b, mustJSON(want))
					}
				}
			}
			if strings.Join(methods, ",") != tc.methods {
				t.Errorf("requests %v, want %s", methods, tc.methods)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestFetchUnknown(t *testing.T) {
	f := New(Options{APIKey: key, AllowHTTP: true})
	defer f.Close()
	if got := f.Fetch(context.Background(), "nope", onbehalf.KindOBF, platformdemo.Tamper{}); got.Status != 0 || !strings.Contains(got.Body, "no bot") {
		t.Errorf("unknown bot: %+v", got)
	}
	_, out := create(t, f, "Token "+key, zoomBody(`{"zak_url": "https://t.example/z"}`))
	if got := f.Fetch(context.Background(), out["bot_id"].(string), onbehalf.KindOBF, platformdemo.Tamper{}); got.Status != 0 || !strings.Contains(got.Body, "no obf token URL") {
		t.Errorf("other kind: %+v", got)
	}
}

func TestSendStatus(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	status := http.StatusOK
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got, bodies = append(got, r), append(bodies, string(raw))
		w.WriteHeader(status)
	}))
	defer hooks.Close()
	f := New(Options{APIKey: key, WebhookURL: hooks.URL + "/workspace", SigningSecret: "sign"})
	defer f.Close()
	_, out := create(t, f, "Token "+key, `{"meeting_link": "https://zoom.us/j/85012345678", "custom_attributes": {"onbehalf_bot_id": "bot_1"}}`)
	workspace := out["bot_id"].(string)
	_, out = create(t, f, "Token "+key, `{"meeting_link": "https://zoom.us/j/85012345678", "callback_url": "`+hooks.URL+`/per-bot"}`)
	perBot := out["bot_id"].(string)

	if err := f.SendStatus(context.Background(), workspace, onbehalf.BotFailed, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.SendStatus(context.Background(), perBot, onbehalf.BotInCall, "In"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got, bodies = append([]*http.Request(nil), got...), append([]string(nil), bodies...)
	mu.Unlock()
	if len(got) != 2 || got[0].URL.Path != "/workspace" || got[1].URL.Path != "/per-bot" {
		t.Fatalf("deliveries %v", got)
	}
	if sig := got[0].Header.Get("X-MeetStream-Signature"); sig != "sha256="+Sign("sign", []byte(bodies[0])) || got[0].Header.Get("X-MeetStream-Timestamp") == "" {
		t.Errorf("workspace delivery signature %q", sig)
	}
	if got[1].Header.Get("X-MeetStream-Signature") != "" {
		t.Error("per-bot delivery is signed: MeetStream does not sign callback_url deliveries")
	}
	var failed, inCall map[string]any
	_ = json.Unmarshal([]byte(bodies[0]), &failed)
	_ = json.Unmarshal([]byte(bodies[1]), &inCall)
	if failed["event"] != "bot.stopped" || failed["bot_event"] != "bot.notallowed" || failed["bot_status"] != "NotAllowed" ||
		failed["status_code"] != 500.0 || failed["bot_id"] != workspace || mustJSON(failed["custom_attributes"]) != `{"onbehalf_bot_id":"bot_1"}` {
		t.Errorf("failed webhook %v", failed)
	}
	if inCall["bot_event"] != "bot.inmeeting" || inCall["message"] != "In" || inCall["timestamp"] == "" {
		t.Errorf("in-call webhook %v", inCall)
	}

	mu.Lock()
	status = http.StatusInternalServerError
	mu.Unlock()
	if err := f.SendStatus(context.Background(), perBot, onbehalf.BotDone, ""); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("500 answer: %v", err)
	}
	if err := f.SendStatus(context.Background(), "nope", onbehalf.BotDone, ""); err == nil {
		t.Error("unknown bot: no error")
	}
	if err := f.SendStatus(context.Background(), perBot, "lost", ""); err == nil {
		t.Error("unknown status: no error")
	}
	g := New(Options{APIKey: key})
	defer g.Close()
	_, out = create(t, g, "Token "+key, `{"meeting_link": "https://zoom.us/j/85012345678"}`)
	if err := g.SendStatus(context.Background(), out["bot_id"].(string), onbehalf.BotDone, ""); err == nil || !strings.Contains(err.Error(), "WebhookURL") {
		t.Errorf("nowhere to send: %v", err)
	}
}
