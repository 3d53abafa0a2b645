package recalldemo_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recalldemo"
	"github.com/onbehalf/onbehalf/internal/platform/swh"
)

const key = "rk_fake_key_0001"

var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("fake-verification-secret-0123456"))

// post sends a create-bot request; host, when set, is the Host header.
func post(t *testing.T, f *recalldemo.Fake, path, auth, host, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.URL()+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestCreateBot(t *testing.T) {
	f := recalldemo.New(recalldemo.Options{APIKey: key})
	defer f.Close()
	body := `{"meeting_url":"https://zoom.us/j/85012345678","bot_name":"Notes","zoom":{"obf_token_url":"https://x.test/obf?a=1&b=2","join_token_url":"http://x.test/join"},"metadata":{"onbehalf_bot_id":"b1"}}`
	status, answer := post(t, f, "/api/v1/bot/", "Token "+key, "", body)
	var m map[string]any
	_ = json.Unmarshal([]byte(answer), &m)
	id, _ := m["id"].(string)
	if status != 201 || len(id) != 36 || strings.Count(id, "-") != 4 || m["bot_name"] != "Notes" {
		t.Fatalf("create: %d %s", status, answer)
	}
	bots := f.Created()
	if len(bots) != 1 || bots[0].ID != id || string(bots[0].Raw) != body || bots[0].Metadata["onbehalf_bot_id"] != "b1" {
		t.Fatalf("created %+v", bots)
	}
	want := map[onbehalf.TokenKind]string{onbehalf.KindOBF: "https://x.test/obf?a=1&b=2", onbehalf.KindJoin: "http://x.test/join"}
	if b := f.Bots()[0]; !reflect.DeepEqual(b.TokenURLs, want) || b.MeetingURL != "https://zoom.us/j/85012345678" {
		t.Errorf("bot %+v", b)
	}
	// Recall's own samples send the bare key.
	if status, answer := post(t, f, "/api/v1/bot/", key, "", body); status != 201 {
		t.Errorf("bare key: %d %s", status, answer)
	}
	if status, _ := post(t, f, "/api/v1/bot/", "Token "+key, "api.recall.ai", body); status != 201 {
		t.Errorf("api.recall.ai is us-east-1: %d", status)
	}
}

func TestCreateBotErrors(t *testing.T) {
	f := recalldemo.New(recalldemo.Options{APIKey: key, Region: "us-west-2"})
	defer f.Close()
	const ok = `{"meeting_url":"https://zoom.us/j/85012345678"}`
	cases := []struct {
		name, path, auth, host, body string
		status                       int
		want                         string
	}{
		{"no auth", "/api/v1/bot/", "", "", ok, 401, `{"detail":"Authentication credentials were not provided."}`},
		{"wrong key", "/api/v1/bot/", "Token nope", "", ok, 401, `{"detail":"Invalid token."}`},
		{"wrong region", "/api/v1/bot/", "Token " + key, "eu-central-1.recall.ai", ok, 401, `{"detail":"Invalid token."}`},
		{"api host is us-east-1", "/api/v1/bot/", "Token " + key, "api.recall.ai", ok, 401, `{"detail":"Invalid token."}`},
		{"no trailing slash", "/api/v1/bot", "Token " + key, "", ok, 404, `{"detail":"Not found."}`},
		{"not JSON", "/api/v1/bot/", "Token " + key, "", `{`, 400, `JSON parse error`},
		{"a list", "/api/v1/bot/", "Token " + key, "", `[]`, 400, `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
		{"no meeting_url", "/api/v1/bot/", "Token " + key, "", `{"bot_name":"x"}`, 400, `{"meeting_url":["This field is required."]}`},
		{"blank meeting_url", "/api/v1/bot/", "Token " + key, "", `{"meeting_url":" "}`, 400, `{"meeting_url":["This field may not be blank."]}`},
		{"bad meeting_url", "/api/v1/bot/", "Token " + key, "", `{"meeting_url":"850 1234 5678"}`, 400, `{"meeting_url":["Enter a valid URL."]}`},
		{"zoom not an object", "/api/v1/bot/", "Token " + key, "", `{"meeting_url":"https://zoom.us/j/1","zoom":"x"}`, 400, `{"zoom":{"non_field_errors":["Invalid data. Expected a dictionary, but got str."]}}`},
		{"bad token URL", "/api/v1/bot/", "Token " + key, "", `{"meeting_url":"https://zoom.us/j/1","zoom":{"zak_url":"localhost/zak"}}`, 400, `{"zoom":{"zak_url":["Enter a valid URL."]}}`},
		{"bad metadata", "/api/v1/bot/", "Token " + key, "", `{"meeting_url":"https://zoom.us/j/1","metadata":[1]}`, 400, `{"metadata":["Expected a dictionary of items but got type \"list\"."]}`},
		{"bad bot_name", "/api/v1/bot/", "Token " + key, "", `{"meeting_url":"https://zoom.us/j/1","bot_name":3}`, 400, `{"bot_name":["Not a valid string."]}`},
	}
	for _, tc := range cases {
		status, body := post(t, f, tc.path, tc.auth, tc.host, tc.body)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.want)
		}
	}
	if status, _ := post(t, f, "/api/v1/bot/", "Token "+key, "us-west-2.recall.ai", ok); status != 201 {
		t.Errorf("own region: %d", status)
	}
	f.FailCreate(507, `{"detail":"out of ad-hoc bots"}`)
	if status, body := post(t, f, "/api/v1/bot/", "", "", "junk"); status != 507 || body != `{"detail":"out of ad-hoc bots"}` {
		t.Errorf("FailCreate: %d %s", status, body)
	}
	if n := len(f.Created()); n != 1 {
		t.Errorf("%d bots created, want 1", n)
	}
}

// tokenServer answers each token path with a canned answer and records the
// requests.
type tokenServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newTokenServer(t *testing.T) *tokenServer {
	s := &tokenServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Clone(context.Background()))
		s.mu.Unlock()
		switch r.URL.Path {
		case "/good":
			_, _ = io.WriteString(w, "eyJhbGciOiJIUzI1NiJ9.tok")
		case "/json":
			_, _ = io.WriteString(w, `{"token":"eyJ"}`)
		case "/empty":
		case "/spaces":
			_, _ = io.WriteString(w, "eyJ tok\n")
		default:
			http.Error(w, "Wrong auth_token", http.StatusUnauthorized)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// launch creates a bot whose obf token URL is path on s.
func launch(t *testing.T, f *recalldemo.Fake, s *tokenServer, path string) string {
	t.Helper()
	body := `{"meeting_url":"https://zoom.us/j/85012345678","zoom":{"obf_token_url":"` + s.URL + path + `?user_id=c1&sig=x"}}`
	status, answer := post(t, f, "/api/v1/bot/", "Token "+key, "", body)
	var m struct{ ID string }
	if err := json.Unmarshal([]byte(answer), &m); status != 201 || err != nil {
		t.Fatalf("create: %d %s", status, answer)
	}
	return m.ID
}

func TestFetch(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	f := recalldemo.New(recalldemo.Options{APIKey: key, VerificationSecret: secret, Now: func() time.Time { return now }})
	defer f.Close()
	s := newTokenServer(t)
	ctx := context.Background()
	cases := []struct {
		path   string
		status int
		token  string
	}{
		{"/good", 200, "eyJhbGciOiJIUzI1NiJ9.tok"},
		{"/json", 200, ""},
		{"/empty", 200, ""},
		{"/spaces", 200, ""},
		{"/refused", 401, ""},
	}
	for _, tc := range cases {
		id := launch(t, f, s, tc.path)
		got := f.Fetch(ctx, id, onbehalf.KindOBF, platformdemo.Tamper{})
		if got.Status != tc.status || got.Tokens[onbehalf.KindOBF] != tc.token {
			t.Errorf("%s: %+v", tc.path, got)
		}
		if got := f.Fetch(ctx, id, onbehalf.KindZAK, platformdemo.Tamper{}); got.Status != 0 || len(got.Tokens) != 0 {
			t.Errorf("%s: fetched a kind the bot has no URL for: %+v", tc.path, got)
		}
	}

	// The request: a GET of the URL as given, signed over an empty body.
	s.mu.Lock()
	r := s.reqs[0]
	s.mu.Unlock()
	if r.Method != http.MethodGet || r.URL.RawQuery != "user_id=c1&sig=x" {
		t.Errorf("request %s %s", r.Method, r.URL)
	}
	v, _ := swh.New("Recall.ai", "TEST", secret)
	if _, err := v.Verify(r.Header, nil, now, "bind"); err != nil {
		t.Errorf("token request signature: %v", err)
	}

	id := launch(t, f, s, "/good")
	got := f.Fetch(ctx, id, onbehalf.KindOBF, platformdemo.Tamper{NoCredentials: true, URL: func(u string) string { return u + "&x=1" }})
	s.mu.Lock()
	r = s.reqs[len(s.reqs)-1]
	s.mu.Unlock()
	if got.Status != 200 || r.Header.Get("webhook-signature") != "" || !strings.HasSuffix(r.URL.RawQuery, "&x=1") {
		t.Errorf("tampered fetch: %+v, %v %v", got, r.URL, r.Header)
	}
	if got := f.Fetch(ctx, "nope", onbehalf.KindOBF, platformdemo.Tamper{}); got.Status != 0 {
		t.Errorf("unknown bot: %+v", got)
	}
}

func TestSendStatus(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 15, 0, time.UTC)
	type delivery struct {
		header http.Header
		body   map[string]any
	}
	var mu sync.Mutex
	var got []delivery
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		got = append(got, delivery{r.Header.Clone(), m})
		mu.Unlock()
		if m["event"] == "bot.fatal" {
			http.Error(w, "nope", http.StatusInternalServerError)
		}
	}))
	defer hook.Close()
	legacy := "whsec_" + base64.StdEncoding.EncodeToString([]byte("legacy-endpoint-secret"))
	for _, o := range []recalldemo.Options{
		{APIKey: key, WebhookURL: hook.URL},
		{APIKey: key, WebhookURL: hook.URL, VerificationSecret: secret},
		{APIKey: key, WebhookURL: hook.URL, VerificationSecret: secret, WebhookSecret: legacy},
	} {
		o.Now = func() time.Time { return now }
		f := recalldemo.New(o)
		status, answer := post(t, f, "/api/v1/bot/", "Token "+key, "", `{"meeting_url":"https://zoom.us/j/85012345678","metadata":{"onbehalf_bot_id":"b9"}}`)
		var m struct{ ID string }
		_ = json.Unmarshal([]byte(answer), &m)
		if status != 201 {
			t.Fatal(answer)
		}
		mu.Lock()
		got = nil
		mu.Unlock()
		if err := f.SendStatus(context.Background(), m.ID, onbehalf.BotCreated, ""); err != nil {
			t.Error(err)
		}
		if err := f.SendStatus(context.Background(), m.ID, onbehalf.BotDone, "call_ended_by_host"); err != nil {
			t.Error(err)
		}
		if err := f.SendStatus(context.Background(), m.ID, onbehalf.BotFailed, ""); err == nil || !strings.Contains(err.Error(), "500") {
			t.Errorf("a failing endpoint: %v", err)
		}
		if err := f.SendStatus(context.Background(), m.ID, "sleeping", ""); err == nil {
			t.Error("unknown status sent")
		}
		f.Close()

		mu.Lock()
		if len(got) != 2 {
			t.Fatalf("%d deliveries, want 2 (none for created)", len(got))
		}
		d := got[0]
		mu.Unlock()
		want := map[string]any{"event": "bot.call_ended", "data": map[string]any{
			"data": map[string]any{"code": "call_ended", "sub_code": "call_ended_by_host", "updated_at": "2026-03-02T09:30:15.000000Z"},
			"bot":  map[string]any{"id": m.ID, "metadata": map[string]any{"onbehalf_bot_id": "b9"}},
		}}
		if !reflect.DeepEqual(d.body, want) {
			t.Errorf("body %v\nwant %v", d.body, want)
		}
		raw, _ := json.Marshal(d.body) // same bytes as sent: Go sorts keys both times
		switch {
		case o.WebhookSecret != "":
			v, _ := swh.New("Recall.ai", "TEST", o.WebhookSecret)
			if d.header.Get("webhook-id") != "" || d.header.Get("svix-id") == "" {
				t.Errorf("legacy workspace headers %v", d.header)
			} else if _, err := v.Verify(d.header, raw, now, "b"); err != nil {
				t.Errorf("legacy signature: %v", err)
			}
		case o.VerificationSecret != "":
			v, _ := swh.New("Recall.ai", "TEST", o.VerificationSecret)
			if _, err := v.Verify(d.header, raw, now, "b"); err != nil || d.header.Get("svix-id") != "" {
				t.Errorf("signature: %v %v", err, d.header)
			}
		default:
			if d.header.Get("webhook-signature") != "" || d.header.Get("svix-signature") != "" {
				t.Errorf("signed without a secret: %v", d.header)
			}
		}
	}
}
