package web_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

const webhookSecret = "zoom-webhook-secret-token"

func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

func postWebhook(t *testing.T, e *testEnv, payload []byte, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/zoom/webhook", bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, body(resp)
}

// signed returns the headers of a webhook Zoom signed at now.
func signed(now time.Time, body []byte) map[string]string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return map[string]string{"x-zm-request-timestamp": ts, "x-zm-signature": sign(webhookSecret, ts, body)}
}

func TestZoomWebhookURLValidation(t *testing.T) {
	now := time.Now()
	e := newEnv(t, envOpts{webhookSecret: webhookSecret, now: func() time.Time { return now }})
	ev := []byte(`{"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680}`)
	code, got := postWebhook(t, e, ev, signed(now, ev))
	var out map[string]string
	if code != 200 || json.Unmarshal([]byte(got), &out) != nil {
		t.Fatalf("%d %s", code, got)
	}
	m := hmac.New(sha256.New, []byte(webhookSecret))
	m.Write([]byte("qgg8vlvZRS6UYooatFL8Aw"))
	if out["plainToken"] != "qgg8vlvZRS6UYooatFL8Aw" || out["encryptedToken"] != hex.EncodeToString(m.Sum(nil)) {
		t.Fatalf("answer %v", out)
	}
	// Unsigned, badly signed or stale validations are refused: nothing is
	// signed for a caller who does not hold the secret.
	ts := strconv.FormatInt(now.Unix(), 10)
	old := strconv.FormatInt(now.Add(-10*time.Minute).Unix(), 10)
	for name, hdr := range map[string]map[string]string{
		"unsigned":     nil,
		"wrong secret": {"x-zm-request-timestamp": ts, "x-zm-signature": sign("other", ts, ev)},
		"stale":        {"x-zm-request-timestamp": old, "x-zm-signature": sign(webhookSecret, old, ev)},
		"no timestamp": {"x-zm-signature": sign(webhookSecret, ts, ev)},
	} {
		code, got := postWebhook(t, e, ev, hdr)
		if code != 401 || strings.Contains(got, "encryptedToken") {
			t.Fatalf("%s validation: %d %s", name, code, got)
		}
	}
	empty := []byte(`{"event":"endpoint.url_validation","payload":{}}`)
	if code, _ := postWebhook(t, e, empty, signed(now, empty)); code != 400 {
		t.Fatalf("no plainToken: %d", code)
	}
}

// TestZoomWebhookSigningOracle is the signing-oracle attack, end to end: an
// unsigned url_validation whose plainToken is "v0:<now>:<forged event>"
// must not get the signature of that event back.
func TestZoomWebhookSigningOracle(t *testing.T) {
	now := time.Now()
	e := newEnv(t, envOpts{webhookSecret: webhookSecret, now: func() time.Time { return now }})
	tokenURL := e.tokenURL(t)
	ts := strconv.FormatInt(now.Unix(), 10)
	forged := `{"event":"app_deauthorized","payload":{"account_id":"acct_1","user_id":"` + zoomdemo.DefaultUserID + `"}}`
	step1, _ := json.Marshal(map[string]any{"event": "endpoint.url_validation", "payload": map[string]string{"plainToken": "v0:" + ts + ":" + forged}})
	code, got := postWebhook(t, e, step1, nil)
	if code != 401 || strings.Contains(got, "encryptedToken") {
		t.Fatalf("step 1 (unsigned validation): %d %s", code, got)
	}
	// Had step 1 answered, this would be the forgery; it is refused, and
	// even a validly signed deauthorization without our client_id would
	// change nothing.
	m := hmac.New(sha256.New, []byte(webhookSecret))
	m.Write([]byte("v0:" + ts + ":" + forged))
	if code, _ := postWebhook(t, e, []byte(forged), map[string]string{"x-zm-request-timestamp": ts, "x-zm-signature": "v0=" + hex.EncodeToString(m.Sum(nil))}); code != 200 {
		t.Fatalf("a validly signed event without client_id: %d, want 200 (ignored)", code)
	}
	if resp := get(t, http.DefaultClient, tokenURL); resp.StatusCode != 200 {
		t.Fatalf("the token URL no longer works: %d", resp.StatusCode)
	}
}

func TestZoomWebhookDisabledWithoutSecret(t *testing.T) {
	e := newEnv(t, envOpts{})
	if code, got := postWebhook(t, e, []byte(`{"event":"endpoint.url_validation","payload":{"plainToken":"x"}}`), nil); code != 404 || !strings.Contains(got, "ZOOM_WEBHOOK_SECRET_TOKEN") {
		t.Fatalf("%d %s", code, got)
	}
}

func TestZoomDeauthorization(t *testing.T) {
	now := time.Now()
	e := newEnv(t, envOpts{webhookSecret: webhookSecret, now: func() time.Time { return now }})
	tokenURL := e.tokenURL(t)
	ev := deauthEvent(now.Add(time.Second))
	ts := strconv.FormatInt(now.Unix(), 10)
	stale := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	future := strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10)
	bad := []struct {
		name string
		hdr  map[string]string
		body []byte
	}{
		{"unsigned", nil, ev},
		{"wrong secret", map[string]string{"x-zm-request-timestamp": ts, "x-zm-signature": sign("other", ts, ev)}, ev},
		{"stale", map[string]string{"x-zm-request-timestamp": stale, "x-zm-signature": sign(webhookSecret, stale, ev)}, ev},
		{"future", map[string]string{"x-zm-request-timestamp": future, "x-zm-signature": sign(webhookSecret, future, ev)}, ev},
		{"body changed", map[string]string{"x-zm-request-timestamp": ts, "x-zm-signature": sign(webhookSecret, ts, ev)}, bytes.Replace(ev, []byte("acct_1"), []byte("acct_2"), 1)},
		{"timestamp changed", map[string]string{"x-zm-request-timestamp": strconv.FormatInt(now.Unix()-1, 10), "x-zm-signature": sign(webhookSecret, ts, ev)}, ev},
	}
	for _, b := range bad {
		if code, _ := postWebhook(t, e, b.body, b.hdr); code != 401 {
			t.Fatalf("%s: %d, want 401", b.name, code)
		}
		if resp := get(t, http.DefaultClient, tokenURL); resp.StatusCode != 200 {
			t.Fatalf("after %s the connection no longer works: %d", b.name, resp.StatusCode)
		}
	}
	// Another app's deauthorization, or one naming no app, changes nothing.
	for _, other := range [][]byte{
		bytes.Replace(ev, []byte(`"client_id":"cid"`), []byte(`"client_id":"other"`), 1),
		bytes.Replace(ev, []byte(`,"client_id":"cid"`), nil, 1),
	} {
		if code, _ := postWebhook(t, e, other, map[string]string{"x-zm-request-timestamp": ts, "x-zm-signature": sign(webhookSecret, ts, other)}); code != 200 {
			t.Fatalf("other app: %d", code)
		}
		if resp := get(t, http.DefaultClient, tokenURL); resp.StatusCode != 200 {
			t.Fatal("another app's event deleted the connection")
		}
	}
	// A correctly signed one deletes at once.
	code, _ := postWebhook(t, e, ev, map[string]string{"x-zm-request-timestamp": ts, "x-zm-signature": sign(webhookSecret, ts, ev)})
	if code != 200 {
		t.Fatalf("signed: %d", code)
	}
	resp := get(t, http.DefaultClient, tokenURL)
	if resp.StatusCode != 404 {
		t.Fatalf("callback after deauthorization: %d", resp.StatusCode)
	}
	u, _ := url.Parse(tokenURL)
	if _, err := e.store.Connection(context.Background(), u.Query().Get("user_id")); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("connection still readable: %v", err)
	}
	// Unknown events are acknowledged and ignored; oversized bodies refused.
	unknown := []byte(`{"event":"meeting.started","payload":{}}`)
	if code, _ := postWebhook(t, e, unknown, map[string]string{"x-zm-request-timestamp": ts, "x-zm-signature": sign(webhookSecret, ts, unknown)}); code != 200 {
		t.Fatalf("unknown event: %d", code)
	}
	if code, _ := postWebhook(t, e, bytes.Repeat([]byte("x"), 100<<10), nil); code != 413 {
		t.Fatalf("huge body: %d", code)
	}
}

func TestDeadGrantThenReconnectRevivesSameURL(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := browser(t)
	e.connect(t, b)
	e.launch(t, b, "https://zoom.us/j/"+meeting, nil)
	tokenURL := e.recall.Bots()[0].TokenURLs[onbehalf.KindOBF]
	e.zoom.RevokeGrant(zoomdemo.DefaultUserID)
	resp := get(t, http.DefaultClient, tokenURL)
	if got := body(resp); resp.StatusCode != 409 || !strings.Contains(got, "/zoom/oauth") {
		t.Fatalf("dead grant: %d %q", resp.StatusCode, got)
	}
	home := body(get(t, b, e.srv.URL+"/"))
	if !strings.Contains(home, "Reconnect Zoom") || !strings.Contains(home, "What happened: Zoom no longer accepts this connection") ||
		!strings.Contains(home, `id="details">Details: `) || !strings.Contains(home, "invalid_grant") || strings.Contains(home, "Connected to Zoom as") {
		t.Fatalf("home does not offer reconnecting with the reason:\n%s", home)
	}
	e.connect(t, b) // same Zoom user authorizes again
	resp = get(t, http.DefaultClient, tokenURL)
	if got := body(resp); resp.StatusCode != 200 || got == "" {
		t.Fatalf("revived token URL: %d %q", resp.StatusCode, got)
	}
}

func TestUserDisconnect(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := browser(t)
	e.connect(t, b)
	e.launch(t, b, "https://zoom.us/j/"+meeting, nil)
	tokenURL := e.recall.Bots()[0].TokenURLs[onbehalf.KindOBF]

	// Cross-origin POST refused, nothing changes.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/zoom/disconnect", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || get(t, http.DefaultClient, tokenURL).StatusCode != 200 {
		t.Fatalf("cross-origin disconnect: %d", resp.StatusCode)
	}

	resp, err = b.PostForm(e.srv.URL+"/zoom/disconnect", nil)
	if err != nil {
		t.Fatal(err)
	}
	page := body(resp)
	if resp.StatusCode != 200 || !strings.Contains(page, "Zoom disconnected") || !strings.Contains(page, "Connect Zoom") {
		t.Fatalf("after disconnect: %d\n%s", resp.StatusCode, page)
	}
	if e.zoom.Revocations() != 1 {
		t.Fatalf("revocations = %d", e.zoom.Revocations())
	}
	if resp := get(t, http.DefaultClient, tokenURL); resp.StatusCode != 404 {
		t.Fatalf("callback after disconnect: %d", resp.StatusCode)
	}
	if resp := get(t, b, e.srv.URL+"/launch"); resp.Request.URL.Path != "/" {
		t.Fatal("session not cleared")
	}
}
