package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/web"
)

// call GETs u with extra headers and returns status, Retry-After and body.
func call(t *testing.T, u string, hdr http.Header) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After"), body(resp)
}

func xff(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }

func TestRateLimitPerIP(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOpts{now: clk.Now,
		tokens: func(o *tokenserve.Options) { o.PerIP = ratelimit.PerMinute(3, 100) }, // one every 20 s, burst 3
		opts:   func(o *web.Options) { o.TrustedProxies = []string{"127.0.0.1"} }})
	u := e.tokenURL(t)
	for i := 0; i < 3; i++ {
		if code, _, got := call(t, u, xff("203.0.113.7")); code != 200 {
			t.Fatalf("request %d: %d %s", i, code, got)
		}
	}
	code, retry, got := call(t, u, xff("203.0.113.7"))
	if code != 429 || retry != "20" || !strings.Contains(got, "RATE_LIMIT_PER_IP") {
		t.Fatalf("4th: %d Retry-After=%q %q", code, retry, got)
	}
	// Another client behind the same trusted proxy has its own budget.
	if code, _, _ := call(t, u, xff("203.0.113.8")); code != 200 {
		t.Fatalf("other client: %d", code)
	}
	clk.Advance(20 * time.Second)
	if code, _, _ := call(t, u, xff("203.0.113.7")); code != 200 {
		t.Fatalf("after Retry-After: %d", code)
	}
	// The access log names the client, not the proxy.
	if !strings.Contains(e.logs.String(), "ip=203.0.113.7") {
		t.Fatal("access log lacks the forwarded client IP")
	}
}

func TestRateLimitPerConnection(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOpts{now: clk.Now, tokens: func(o *tokenserve.Options) { o.PerConn = ratelimit.PerMinute(2, 100) }})
	u := e.tokenURL(t)
	// Made-up requests for the connection do not spend its budget.
	for i := 0; i < 5; i++ {
		if code, _, _ := call(t, with(u, "sig", strings.Repeat("A", 43)), nil); code != 401 {
			t.Fatalf("forged: %d", code)
		}
	}
	for i := 0; i < 2; i++ {
		if code, _, got := call(t, u, nil); code != 200 {
			t.Fatalf("request %d: %d %s", i, code, got)
		}
	}
	code, retry, got := call(t, u, nil)
	if code != 429 || retry != "30" || !strings.Contains(got, "RATE_LIMIT_PER_CONNECTION") {
		t.Fatalf("3rd: %d Retry-After=%q %q", code, retry, got)
	}
	// Both modes count against the same connection.
	if code, _, _ := call(t, plainURL(u), nil); code != 429 {
		t.Fatalf("plain URL: %d", code)
	}
	clk.Advance(30 * time.Second)
	if code, _, _ := call(t, plainURL(u), nil); code != 200 {
		t.Fatalf("after Retry-After: %d", code)
	}
}

func TestRateLimitsOffByDefault(t *testing.T) {
	e := newEnv(t, envOpts{})
	u := e.tokenURL(t)
	for i := 0; i < 100; i++ {
		if code, _, got := call(t, u, nil); code != 200 {
			t.Fatalf("request %d: %d %s", i, code, got)
		}
	}
}

func TestFailedAuthorizationsGet429(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOpts{now: clk.Now})
	u := e.tokenURL(t)
	bad := []string{with(u, "sig", strings.Repeat("A", 43)), with(plainURL(u), "auth_token", "guess"), with(u, "meeting_id", "123456789")}
	for i := 0; i < 30; i++ {
		if code, _, _ := call(t, bad[i%len(bad)], nil); code != 401 {
			t.Fatalf("failure %d: %d, want 401", i, code)
		}
	}
	code, retry, got := call(t, bad[0], nil)
	if code != 429 || retry != "1" || strings.Contains(got, "signature") {
		t.Fatalf("31st failure: %d Retry-After=%q %q", code, retry, got)
	}
	// Valid requests from the same address are never blocked by it.
	for i := 0; i < 5; i++ {
		if code, _, _ := call(t, u, nil); code != 200 {
			t.Fatalf("valid request while failing: %d", code)
		}
	}
	// Refill: one more 401 per second.
	clk.Advance(time.Second)
	if code, _, _ := call(t, bad[1], nil); code != 401 {
		t.Fatalf("after 1 s: %d", code)
	}
	if code, _, _ := call(t, bad[1], nil); code != 429 {
		t.Fatalf("again: %d", code)
	}
}

func TestForwardedForIgnoredUnlessTrusted(t *testing.T) {
	e := newEnv(t, envOpts{now: newClock().Now})
	u := e.tokenURL(t)
	for i := 0; i < 30; i++ {
		call(t, with(u, "sig", "x"), xff("198.51.100."+strconv.Itoa(i)))
	}
	// Every spoofed address was the peer's: its budget is spent.
	if code, _, _ := call(t, with(u, "sig", "x"), xff("198.51.100.200")); code != 429 {
		t.Fatalf("spoofed X-Forwarded-For escaped the limit: %d", code)
	}
	if strings.Contains(e.logs.String(), "198.51.100.") {
		t.Fatal("access log believed an untrusted X-Forwarded-For")
	}
}

func TestRequestSizeLimits(t *testing.T) {
	e := newEnv(t, envOpts{})
	u := e.tokenURL(t)
	code, _, got := call(t, u+"&pad="+strings.Repeat("x", 8<<10), nil)
	if code != 400 || !strings.Contains(got, "query string is too long") {
		t.Fatalf("long query: %d %q", code, got)
	}
	b := browser(t)
	e.connect(t, b)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/launch", strings.NewReader(strings.Repeat("x", 2<<20)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MiB form: %d", resp.StatusCode)
	}
}

// recallKey is the key of recallSecret.
var (
	recallKey    = []byte("recall-workspace-verification-key")
	recallSecret = "whsec_" + base64.StdEncoding.EncodeToString(recallKey)
)

// recallSigned returns Standard Webhooks headers for a GET at ts.
func recallSigned(id string, ts time.Time) http.Header {
	s := strconv.FormatInt(ts.Unix(), 10)
	m := hmac.New(sha256.New, recallKey)
	m.Write([]byte(id + "." + s + "."))
	return http.Header{
		"Webhook-Id":        {id},
		"Webhook-Timestamp": {s},
		"Webhook-Signature": {"v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))},
	}
}

func TestRecallSignedCallbacks(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOpts{now: clk.Now, recallSecret: recallSecret})
	urls := e.tokenURLs(t, true)
	u := urls[onbehalf.KindOBF]
	now := clk.Now()
	rows := []struct {
		name   string
		url    string
		hdr    http.Header
		status int
		want   string
	}{
		{"unsigned", u, nil, 401, "Missing Recall.ai signature"},
		{"signed", u, recallSigned("msg_1", now), 200, ""},
		{"replayed", u, recallSigned("msg_1", now), 401, "Replayed"},
		{"signed ZAK", urls[onbehalf.KindZAK], recallSigned("msg_2", now), 200, ""},
		{"signed plain URL", plainURL(u), recallSigned("msg_3", now), 200, ""},
		{"stale", u, recallSigned("msg_4", now.Add(-6*time.Minute)), 401, "Stale"},
		{"future", u, recallSigned("msg_5", now.Add(6*time.Minute)), 401, "Stale"},
		{"4 minutes old", u, recallSigned("msg_6", now.Add(-4*time.Minute)), 200, ""},
		{"other key", u, func() http.Header {
			h := recallSigned("msg_7", now)
			h.Set("Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32)))
			return h
		}(), 401, "Bad Recall.ai signature"},
		// A signed request for a tampered token URL fails on the URL; its
		// webhook-id may be retried for that URL only, never to open
		// another (another person's) token URL with the same headers.
		{"signed, bad token URL", with(u, "sig", strings.Repeat("A", 43)), recallSigned("msg_8", now), 401, "bad signature"},
		{"its headers on another URL", u, recallSigned("msg_8", now), 401, "Replayed"},
		{"retried on its URL", with(u, "sig", strings.Repeat("A", 43)), recallSigned("msg_8", now), 401, "bad signature"},
	}
	for _, r := range rows {
		code, _, got := call(t, r.url, r.hdr)
		if code != r.status || !strings.Contains(got, r.want) {
			t.Fatalf("%s: %d %q, want %d containing %q", r.name, code, got, r.status, r.want)
		}
		if strings.Contains(got, recallSecret[6:]) {
			t.Fatalf("%s: body holds the secret", r.name)
		}
	}
	if strings.Contains(e.logs.String(), recallSecret[6:]) {
		t.Fatal("logs hold the Recall secret")
	}
}
