package app_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHundredsOfMalformedRequests throws random junk at the real server:
// no reply is a 5xx, the server stays healthy, and a real token URL still
// answers its token afterwards.
func TestHundredsOfMalformedRequests(t *testing.T) {
	f := newFakes(t)
	a, _ := startApp(t, f, io.Discard)
	base := a.BaseURL()
	tokenURL := walk(t, base, f)
	u, _ := url.Parse(tokenURL)
	q := u.Query()

	rng := rand.New(rand.NewPCG(1, 2))
	paths := []string{"/", "/obf-callback", "/recall/obf-callback", "/zak-callback", "/zoom/oauth", "/zoom/oauth-callback",
		"/launch", "/zoom/disconnect", "/zoom/webhook", "/healthz", "/nope", "/obf-callback/", "//obf-callback", "/%2e%2e/",
		"/recall/join-callback", "/recall/zak-callback", "/webhooks/recall", "/webhooks/nope", "/connect/x", "/launch/bots",
		"/api/v1/tokens", "/api/v1/connections", "/api/v1/openapi.json", "/api/v1/nope"}
	junk := []string{"", "%", "%zz", "\x00", "😀", strings.Repeat("A", 3000), "' OR 1=1 --", "<script>", "../../etc/passwd",
		"123456789", "85012345678", q.Get("user_id"), q.Get("sig"), q.Get("exp"), "-1", "99999999999999999999", " "}
	params := []string{"user_id", "meeting_id", "auth_token", "exp", "sig", "code", "state", "error", "meeting_url", "x", "kinds", "bot", "meeting_number"}
	methods := []string{"GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	statuses := map[int]int{}
	const n = 400
	for i := 0; i < n; i++ {
		vals := url.Values{}
		for j := rng.IntN(5); j > 0; j-- {
			vals.Add(pick(params), pick(junk))
		}
		target := base + pick(paths) + "?" + vals.Encode()
		if rng.IntN(4) == 0 {
			target = base + pick(paths) + "?" + pick(junk) // raw, unencoded junk
		}
		var body io.Reader
		if rng.IntN(3) == 0 {
			body = strings.NewReader(pick(junk) + `{"event":` + pick(junk))
		}
		req, err := http.NewRequest(pick(methods), target, body)
		if err != nil {
			continue // not even a URL Go will send
		}
		if rng.IntN(3) == 0 {
			req.Header.Set("Content-Type", pick([]string{"application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data"}))
		}
		if rng.IntN(4) == 0 {
			req.Header.Set("webhook-signature", "v1,"+pick(junk))
			req.Header.Set("x-zm-signature", "v0="+pick(junk))
			req.Header.Set("x-zm-request-timestamp", pick(junk))
		}
		resp, err := client.Do(req)
		if err != nil && strings.Contains(err.Error(), "invalid header field") {
			continue // Go's client refuses to send it
		} else if err != nil {
			t.Fatalf("request %d (%s): %v", i, req.Method, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses[resp.StatusCode]++
		if resp.StatusCode >= 500 {
			t.Errorf("request %d: %s %s → %d", i, req.Method, req.URL.Path, resp.StatusCode)
		}
	}
	// Raw garbage on the socket, too.
	for _, raw := range []string{"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /" + strings.Repeat("a", 70000) + " HTTP/1.1\r\nHost: x\r\n\r\n", "\x16\x03\x01\x00"} {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprint(c, raw)
		io.Copy(io.Discard, c)
		c.Close()
	}
	t.Logf("%d junk requests, statuses: %v", n, statuses)
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("unhealthy after junk: %v", err)
	}
	fetch(t, base, tokenURL, f)
}
