package attendee_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/attendee/attendeedemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// captured is a request as a server received it.
type captured struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// captureServer records the requests it gets and answers 200 {}.
func captureServer(t *testing.T) (*httptest.Server, func() []captured) {
	var mu sync.Mutex
	var got []captured
	ts := platformdemo.ServeTLS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, captured{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(ts.Close)
	return ts, func() []captured {
		mu.Lock()
		defer mu.Unlock()
		return append([]captured(nil), got...)
	}
}

// botWithCapture creates a bot whose token URL is a capture server, with
// metadata that the two encodings write differently, and has it fetch.
func botWithCapture(t *testing.T) (*setup, captured, string) {
	t.Helper()
	s := newSetup(t, attendeedemo.Options{WebhookSecret: secret}, attendee.Config{WebhookSecret: secret})
	ts, got := captureServer(t)
	req := botRequest()
	req.StatusURL = ""
	req.TokenURLs[0].URL = ts.URL + attendee.TokenPath + "?user_id=conn_1&meeting_id=85012345678&kinds=obf%2Cjoin&exp=1900000000&sig=x"
	req.Options = json.RawMessage(`{"metadata": {"owner": "Zoë <zoe@example.com> & 日本 🎉", "a_much_longer_key": "\u0001\"\\"}}`)
	created, err := s.a.CreateBot(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	s.fake.Fetch(context.Background(), created.PlatformBotID, onbehalf.KindOBF, platformdemo.Tamper{})
	reqs := got()
	if len(reqs) != 1 {
		t.Fatalf("the bot made %d requests, want 1", len(reqs))
	}
	return s, reqs[0], created.PlatformBotID
}

// asRequest rebuilds a captured request for the adapter.
func asRequest(c captured, body []byte) *http.Request {
	r := httptest.NewRequest(c.method, c.path+"?"+c.query, bytes.NewReader(body))
	r.Header = c.header.Clone()
	return r
}

// TestTokenRequestIsAttendees checks the fake bot's request byte for byte
// (Python's default encoding, signed over the canonical one) and that the
// adapter verifies and reads it.
func TestTokenRequestIsAttendees(t *testing.T) {
	s, c, botID := botWithCapture(t)
	if c.method != http.MethodPost || c.header.Get("User-Agent") != "Attendee-Callback/1.0" ||
		c.header.Get("Content-Type") != "application/json" || c.header.Get(attendee.SignatureHeader) == "" {
		t.Fatalf("request %s %v", c.method, c.header)
	}
	wantBody := `{"bot_id": "` + botID + `", "bot_metadata": {"owner": "Zo\u00eb <zoe@example.com> & \u65e5\u672c \ud83c\udf89", ` +
		`"onbehalf_bot_id": "bot_1", "a_much_longer_key": "\u0001\"\\"}, "callback_type": "zoom_tokens", "meeting_url": "https://us02web.zoom.us/j/85012345678?pwd=abc.1"}`
	if string(c.body) != wantBody {
		t.Fatalf("body\n got %s\nwant %s", c.body, wantBody)
	}
	canonical, err := attendee.Canonical(c.body)
	if err != nil || bytes.Equal(canonical, c.body) {
		t.Fatalf("canonical %s, %v: want another text than the posted one", canonical, err)
	}
	finish, err := s.a.AuthenticateToken(asRequest(c, c.body), c.body)
	if err != nil || finish == nil {
		t.Fatalf("AuthenticateToken: %v", err)
	}
	finish(false)
	claims, err := s.a.ReadTokenClaims(asRequest(c, c.body), c.body)
	if err != nil || claims.PlatformBotID != botID || claims.MeetingID != "85012345678" {
		t.Fatalf("claims %+v, %v", claims, err)
	}
}

func TestAuthenticateToken(t *testing.T) {
	s, c, _ := botWithCapture(t)
	sig := c.header.Get(attendee.SignatureHeader)
	var parsed map[string]any
	_ = json.Unmarshal(c.body, &parsed)
	reencoded, _ := json.Marshal(parsed) // Go's order and escapes (\u003c…): the same values
	for _, tc := range []struct {
		name  string
		sig   string
		body  []byte
		wants string // "" = accepted
	}{
		{"as sent", sig, c.body, ""},
		{"re-encoded", sig, reencoded, ""},
		{"no signature", "", c.body, "Missing Attendee signature"},
		{"not base64", "%%%", c.body, "not the base64"},
		{"short", "AAAA", c.body, "not the base64"},
		{"other key", attendeedemo.Sign(make([]byte, 32), attendeedemo.Object{}), c.body, "does not match"},
		{"changed body", sig, bytes.Replace(c.body, []byte("85012345678"), []byte("85012345679"), 1), "does not match"},
		{"duplicate key", sig, append(bytes.Clone(bytes.TrimSuffix(c.body, []byte("}"))), []byte(`, "bot_id": "bot_other"}`)...), "same key twice"},
		{"not JSON", sig, []byte("bot_id=x"), "not JSON that Attendee signs"},
	} {
		r := asRequest(c, tc.body)
		r.Header.Set(attendee.SignatureHeader, tc.sig)
		finish, err := s.a.AuthenticateToken(r, tc.body)
		if tc.wants == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			} else {
				finish(false)
			}
			continue
		}
		msg := onbehalf.ErrorMessage(err)
		if onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED || !strings.Contains(msg, tc.wants) || (sig != "" && strings.Contains(msg, sig)) {
			t.Errorf("%s: %v, want EUNAUTHORIZED saying %q", tc.name, err, tc.wants)
		}
	}
	// Without a secret, the URL is the only credential.
	open := newSetup(t, attendeedemo.Options{}, attendee.Config{})
	if finish, err := open.a.AuthenticateToken(asRequest(c, c.body), c.body); finish != nil || err != nil {
		t.Errorf("no secret: finish %v, %v", finish != nil, err)
	}
}

// signedRequest is a token request of botID signed with the test secret.
func signedRequest(botID string, exp time.Time) (*http.Request, []byte) {
	payload := attendeedemo.Object{{Key: "bot_id", Value: botID}, {Key: "bot_metadata", Value: nil},
		{Key: "callback_type", Value: "zoom_tokens"}, {Key: "meeting_url", Value: "https://zoom.us/j/85012345678"}}
	body := attendeedemo.Dumps(payload)
	key, _ := attendee.ParseSecret(secret)
	r := httptest.NewRequest(http.MethodPost, attendee.TokenPath+"?exp="+strconv.FormatInt(exp.Unix(), 10), bytes.NewReader(body))
	r.Header.Set(attendee.SignatureHeader, attendeedemo.Sign(key, payload))
	return r, body
}

// TestReplayBound: an identical signed request is served at most 5 times
// and only within 30 minutes of its first serve; requests not served do
// not count; other bots are not affected.
func TestReplayBound(t *testing.T) {
	s := newSetup(t, attendeedemo.Options{}, attendee.Config{WebhookSecret: secret})
	exp := s.clock.Now().Add(7 * 24 * time.Hour)
	try := func(botID string, served bool) error {
		r, body := signedRequest(botID, exp)
		finish, err := s.a.AuthenticateToken(r, body)
		if err == nil {
			finish(served)
		}
		return err
	}
	for i := range 3 {
		if err := try("bot_a", false); err != nil {
			t.Fatalf("unserved try %d: %v", i, err)
		}
	}
	for i := range 5 {
		if err := try("bot_a", true); err != nil {
			t.Fatalf("serve %d: %v", i+1, err)
		}
		s.clock.Advance(time.Minute) // a pod restart takes at least a minute
	}
	err := try("bot_a", true)
	if onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED || !strings.Contains(onbehalf.ErrorMessage(err), "already served 5 times") {
		t.Fatalf("6th serve: %v", err)
	}
	// The same signature written otherwise (base64 ignores line breaks).
	r, body := signedRequest("bot_a", exp)
	sig := r.Header.Get(attendee.SignatureHeader)
	r.Header.Set(attendee.SignatureHeader, sig[:10]+"\r\n"+sig[10:])
	if _, err := s.a.AuthenticateToken(r, body); !strings.Contains(onbehalf.ErrorMessage(err), "Replayed") {
		t.Fatalf("6th serve, signature rewritten: %v", err)
	}
	if err := try("bot_b", true); err != nil {
		t.Fatalf("another bot: %v", err)
	}
	s.clock.Advance(31 * time.Minute)
	if err := try("bot_b", true); onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED || !strings.Contains(onbehalf.ErrorMessage(err), "first served") {
		t.Fatalf("after the window: %v", err)
	}
	if err := try("bot_c", true); err != nil {
		t.Fatalf("a new bot after the window: %v", err)
	}
	// Requests under way count: five at once leave no room for a sixth.
	var finishes []func(bool)
	for i := range 6 {
		r, body := signedRequest("bot_d", exp)
		finish, err := s.a.AuthenticateToken(r, body)
		if (i < 5) != (err == nil) {
			t.Fatalf("concurrent %d: %v", i, err)
		}
		if finish != nil {
			finishes = append(finishes, finish)
		}
	}
	for _, f := range finishes {
		f(false)
		f(true) // a second call changes nothing
	}
}

// TestEveryKindOverHTTPS runs a bot the way a real deployment does: https
// token URL through a TLS proxy, a signed request, every kind
// from one fetch, and the replay bound seen from the bot.
func TestEveryKindOverHTTPS(t *testing.T) {
	s := newSetup(t, attendeedemo.Options{WebhookSecret: secret}, attendee.Config{WebhookSecret: secret})
	srv := platformtest.NewServer(t, s.a)
	target, _ := url.Parse(srv.URL)
	tlsProxy := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	defer tlsProxy.Close()
	fake := attendeedemo.New(attendeedemo.Options{APIKey: apiKey, WebhookSecret: secret, Client: tlsProxy.Client()})
	defer fake.Close()
	a, err := attendee.New(attendee.Config{APIKey: apiKey, BaseURL: fake.URL(), WebhookSecret: secret}, deps())
	if err != nil {
		t.Fatal(err)
	}
	plans, _ := a.PlanTokenURLs(onbehalf.Kinds)
	u := srv.Signer.URL(tlsProxy.URL, plans[0].Path, tokenurl.Params{Platform: a.Name(), Kinds: plans[0].Kinds, ConnID: platformtest.ConnID, MeetingID: platformtest.MeetingID})
	if !strings.HasPrefix(u, "https://") {
		t.Fatalf("token URL %s", u)
	}
	created, err := a.CreateBot(context.Background(), onbehalf.BotRequest{
		Meeting: onbehalf.Meeting{ID: platformtest.MeetingID, URL: platformtest.MeetingURL}, BotName: "Notes",
		TokenURLs: []onbehalf.TokenURL{{Kinds: plans[0].Kinds, URL: u}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		got := fake.Fetch(context.Background(), created.PlatformBotID, onbehalf.KindOBF, platformdemo.Tamper{})
		if i == 5 {
			if got.Status != http.StatusUnauthorized || len(got.Tokens) != 0 || !strings.Contains(got.Body, "Replayed") {
				t.Fatalf("6th fetch: %+v", got)
			}
			break
		}
		if got.Status != http.StatusOK || len(got.Tokens) != 3 {
			t.Fatalf("fetch %d: %+v", i+1, got)
		}
	}
	if n := len(srv.Minter.Calls()); n != 15 {
		t.Errorf("%d tokens minted, want 15", n)
	}
}

func TestReadTokenClaims(t *testing.T) {
	s := newSetup(t, attendeedemo.Options{}, attendee.Config{})
	r := httptest.NewRequest(http.MethodPost, attendee.TokenPath, nil)
	ok := `{"bot_id": "bot_x", "bot_metadata": null, "callback_type": "zoom_tokens", "meeting_url": "https://acme.zoom.us/j/123456789?pwd=a.1&tk=reg"}`
	c, err := s.a.ReadTokenClaims(r, []byte(ok))
	if err != nil || c.PlatformBotID != "bot_x" || c.MeetingID != "123456789" {
		t.Fatalf("claims %+v, %v", c, err)
	}
	for _, body := range []string{
		`{"bot_id": "bot_x", "callback_type": "something_else", "meeting_url": "https://zoom.us/j/123456789"}`,
		`{"bot_id": "bot_x", "meeting_url": "https://zoom.us/j/123456789"}`,
		`{"callback_type": "zoom_tokens", "meeting_url": "https://zoom.us/j/123456789"}`,
		`{"bot_id": 7, "callback_type": "zoom_tokens", "meeting_url": "https://zoom.us/j/123456789"}`,
		`{"bot_id": "bot_x", "callback_type": "zoom_tokens"}`,
		`{"bot_id": "bot_x", "callback_type": "zoom_tokens", "meeting_url": "https://meet.google.com/abc-defg-hij"}`,
		`{"bot_id": "bot_x", "callback_type": "zoom_tokens", "meeting_url": "https://zoom.us/my/alice"}`,
		`{"bot_id": "a", "bot_id": "b", "callback_type": "zoom_tokens", "meeting_url": "https://zoom.us/j/123456789"}`,
		`["bot_x"]`, `bot_id=x`, ``,
	} {
		if _, err := s.a.ReadTokenClaims(r, []byte(body)); onbehalf.ErrorCode(err) != onbehalf.EINVALID || onbehalf.ErrorMessage(err) == "" {
			t.Errorf("%s: %v, want EINVALID", body, err)
		}
	}
}

func TestTokenReplies(t *testing.T) {
	s := newSetup(t, attendeedemo.Options{}, attendee.Config{})
	r := httptest.NewRequest(http.MethodPost, attendee.TokenPath, nil)
	w := httptest.NewRecorder()
	s.a.WriteTokens(w, r, []onbehalf.MintedToken{{Kind: onbehalf.KindOBF, Token: "o.b.f"}, {Kind: onbehalf.KindJoin, Token: "j&<>"}})
	var got map[string]string
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || json.Unmarshal(w.Body.Bytes(), &got) != nil ||
		len(got) != 2 || got["onbehalf_token"] != "o.b.f" || got["app_privilege_token"] != "j&<>" {
		t.Errorf("WriteTokens: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	s.a.WriteTokens(w, r, []onbehalf.MintedToken{{Kind: onbehalf.KindZAK, Token: "z"}})
	if strings.TrimSpace(w.Body.String()) != `{"zak_token":"z"}` {
		t.Errorf("zak only: %s", w.Body)
	}
	w = httptest.NewRecorder()
	s.a.WriteTokenError(w, r, http.StatusConflict, "Reconnect at https://x/zoom/oauth.")
	if w.Code != http.StatusConflict || json.Unmarshal(w.Body.Bytes(), &got) != nil || got["error"] != "Reconnect at https://x/zoom/oauth." {
		t.Errorf("WriteTokenError: %d %s", w.Code, w.Body)
	}
}
