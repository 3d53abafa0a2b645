package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/zoomtest"
)

func TestCallbackStatusTable(t *testing.T) {
	e := newEnv(t, envOpts{zoomTimeout: 300 * time.Millisecond})
	good := e.tokenURL(t)
	if !strings.HasPrefix(good, e.srv.URL+"/obf-callback?") || !strings.Contains(good, "meeting_id="+meeting) {
		t.Fatalf("token URL %q", good)
	}
	c := &http.Client{Timeout: 5 * time.Second}

	rows := []struct {
		name   string
		url    string
		setup  func()
		status int
		want   string // substring of the body
	}{
		{"missing auth_token", with(good, "auth_token", "-"), nil, 401, "auth_token"},
		{"wrong auth_token", with(good, "auth_token", "nope"), nil, 401, "auth_token"},
		{"wrong auth_token same length", with(good, "auth_token", strings.Repeat("x", len(secret))), nil, 401, "auth_token"},
		{"missing user_id", with(good, "user_id", "-"), nil, 400, "user_id"},
		{"missing meeting_id", with(good, "meeting_id", "-"), nil, 400, "meeting_id"},
		{"non-numeric meeting_id", with(good, "meeting_id", "85O12345678"), nil, 400, "meeting_id"},
		{"short meeting_id", with(good, "meeting_id", "12345"), nil, 400, "meeting_id"},
		{"unknown user_id", with(good, "user_id", "AAAAAAAAAAAAAAAAAAAAAA"), nil, 404, "/zoom/oauth"},
		{"zoom error", good, func() { e.zoom.FailMintEvery(1) }, 502, "Zoom error 500"},
		{"zoom timeout", good, func() { e.zoom.FailMintEvery(0); e.zoom.SetMintDelay(2 * time.Second) }, 504, "did not answer"},
		{"dead connection", good, func() { e.zoom.SetMintDelay(0); e.zoom.RevokeGrant(zoomtest.DefaultUserID) }, 409, "reconnect at " + e.srv.URL + "/zoom/oauth"},
	}
	// Success first, on both paths.
	for _, u := range []string{good, strings.Replace(good, "/obf-callback", "/recall/obf-callback", 1)} {
		resp := get(t, c, u)
		got := body(resp)
		minted := e.zoom.Minted()
		if resp.StatusCode != 200 || got != minted[len(minted)-1] {
			t.Fatalf("%s: %d %q, want 200 and the minted token", u, resp.StatusCode, got)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Fatalf("content type %q", ct)
		}
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if r.setup != nil {
				r.setup()
			}
			mints := e.zoom.MintCalls()
			resp := get(t, c, r.url)
			got := body(resp)
			if resp.StatusCode != r.status || !strings.Contains(got, r.want) {
				t.Fatalf("got %d %q, want %d containing %q", resp.StatusCode, got, r.status, r.want)
			}
			if strings.Contains(got, secret) {
				t.Fatal("body holds the secret")
			}
			if r.status < 404 && e.zoom.MintCalls() != mints {
				t.Fatal("a rejected request reached Zoom")
			}
		})
	}
	// The logs never hold the secret or a callback query string.
	logs := e.logs.String()
	for _, bad := range []string{secret, "auth_token=", "meeting_id="} {
		if strings.Contains(logs, bad) {
			t.Errorf("logs contain %q", bad)
		}
	}
	for _, tok := range e.zoom.Minted() {
		if strings.Contains(logs, tok) {
			t.Errorf("logs contain a minted token")
		}
	}
}

func TestCallbackConcurrentAfterInvalidationOneRefresh(t *testing.T) {
	e := newEnv(t, envOpts{})
	u := e.tokenURL(t)
	e.zoom.InvalidateAccess(zoomtest.DefaultUserID)
	const n = 50
	type result struct {
		status int
		body   string
	}
	out := make(chan result, n)
	for i := 0; i < n; i++ {
		go func() {
			resp, err := http.Get(u)
			if err != nil {
				out <- result{0, err.Error()}
				return
			}
			defer resp.Body.Close()
			out <- result{resp.StatusCode, body(resp)}
		}()
	}
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		r := <-out
		if r.status != 200 || r.body == "" || seen[r.body] {
			t.Fatalf("callback %d: %d %q", i, r.status, r.body)
		}
		seen[r.body] = true
	}
	if e.zoom.RefreshCalls() != 1 || e.zoom.ReusedRefreshTokens() != 0 {
		t.Fatalf("refreshes=%d reused=%d, want 1 and 0", e.zoom.RefreshCalls(), e.zoom.ReusedRefreshTokens())
	}
}

func TestMalformedRequestsNever5xx(t *testing.T) {
	e := newEnv(t, envOpts{})
	good := e.tokenURL(t)
	paths := []string{
		"/obf-callback", "/obf-callback?user_id=&meeting_id=&auth_token=", "/obf-callback?%zz",
		"/obf-callback?user_id=" + strings.Repeat("a", 5000) + "&meeting_id=123456789&auth_token=" + secret,
		"/obf-callback?user_id=..%2f..%2f&meeting_id=123456789&auth_token=" + secret,
		"/obf-callback?user_id=%00&meeting_id=123456789&auth_token=" + secret,
		"/obf-callback?user_id=x&meeting_id=-123456789&auth_token=" + secret,
		"/obf-callback?user_id=x&meeting_id=1234567890123&auth_token=" + secret,
		"/obf-callback?user_id=x&user_id=y&meeting_id=123456789&auth_token=" + secret,
		"/zoom/oauth-callback", "/zoom/oauth-callback?code=x&state=y", "/zoom/oauth-callback?error=access_denied",
		"/launch", "/nope", "/%2e%2e/etc/passwd", "/healthz?x=1",
	}
	for _, p := range paths {
		resp := get(t, http.DefaultClient, e.srv.URL+p)
		if resp.StatusCode >= 500 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		req, _ := http.NewRequest(m, good, strings.NewReader("junk"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s callback: %d", m, resp.StatusCode)
		}
	}
}
