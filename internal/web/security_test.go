package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/web"
)

var (
	styleRE       = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
	scriptRE      = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	inlineHandler = regexp.MustCompile(`\son[a-z]+=`)
)

// allowed reports whether the CSP allows the inline element's content by
// its hash, in the directive named.
func allowed(csp, directive, content string) bool {
	sum := sha256.Sum256([]byte(content))
	h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 && f[0] == directive && strings.Contains(d, h) {
			return true
		}
	}
	return false
}

func TestBadTrustedProxyRefused(t *testing.T) {
	if _, err := web.New(web.Options{TrustedProxies: []string{"not-an-ip"}}); err == nil || !strings.Contains(err.Error(), "TRUSTED_PROXIES") {
		t.Fatalf("got %v", err)
	}
}

func TestSecurityHeadersAndCSP(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := browser(t)
	home := get(t, b, e.srv.URL+"/")
	page := body(home)
	csp := home.Header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	// Every inline <style> of the page is allowed by its hash, and
	// nothing else is inline.
	styles := styleRE.FindAllStringSubmatch(page, -1)
	if len(styles) == 0 {
		t.Fatal("no <style> on the page")
	}
	for _, s := range styles {
		if !allowed(csp, "style-src", s[1]) {
			t.Errorf("CSP %q does not allow the page's <style>", csp)
		}
	}
	if !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP %q: the live status needs connect-src 'self' and nothing more", csp)
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Error("CSP allows unsafe-inline")
	}
	if home.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over http")
	}
	// The headers are on every reply: pages, errors, token callbacks.
	e.connect(t, b)
	for _, u := range []string{"/", "/launch", "/launch/bots", "/zoom/oauth-callback?error=x", "/obf-callback", "/nope"} {
		resp := get(t, b, e.srv.URL+u)
		got := body(resp)
		for k, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
			"X-Content-Type-Options": "nosniff", "Content-Security-Policy": csp, "Cache-Control": "no-store"} {
			if v := resp.Header.Values(k); len(v) != 1 || v[0] != want {
				t.Errorf("%s: %s = %q, want %q", u, k, v, want)
			}
		}
		for _, sc := range scriptRE.FindAllStringSubmatch(got, -1) {
			if !allowed(csp, "script-src", sc[1]) {
				t.Errorf("%s: an inline <script> is not allowed by the CSP's hashes", u)
			}
		}
		if strings.Count(got, "<script") != len(scriptRE.FindAllString(got, -1)) || strings.Contains(got, " style=") || inlineHandler.MatchString(got) {
			t.Errorf("%s: a script with attributes, a style attribute or an event handler would be blocked by the CSP", u)
		}
	}
}

func TestHSTSWhenBaseURLIsHTTPS(t *testing.T) {
	e := newEnv(t, envOpts{opts: func(o *web.Options) { o.BaseURL = "https://onbehalf.example" }})
	resp := get(t, http.DefaultClient, e.srv.URL+"/")
	if v := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(v, "max-age=") {
		t.Fatalf("HSTS %q", v)
	}
}

// TestEveryBrowserPostIsCSRFProtected walks the engine's routes: every
// POST except the signed server-to-server webhook refuses a cross-site
// form post.
func TestEveryBrowserPostIsCSRFProtected(t *testing.T) {
	w, err := web.New(web.Options{BaseURL: "http://localhost:8080", SessionSecret: strings.Repeat("s", 32)})
	if err != nil {
		t.Fatal(err)
	}
	h := w.Engine()
	// Signed server-to-server webhooks carry no cookies.
	exempt := map[string]bool{"/zoom/webhook": true, "/webhooks/:platform": true}
	checked := map[string]bool{}
	for _, r := range h.Routes() {
		if r.Method != http.MethodPost || exempt[r.Path] {
			continue
		}
		checked[r.Path] = true
		req := httptest.NewRequest(http.MethodPost, r.Path, strings.NewReader("x=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusForbidden {
			t.Errorf("POST %s cross-site: %d, want 403", r.Path, w.Code)
		}
	}
	if !checked["/launch"] || !checked["/zoom/disconnect"] {
		t.Fatalf("checked %v", checked)
	}
}

func TestSessionLifetime(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOpts{now: clk.Now})
	onLaunch := func(b *http.Client) bool {
		resp := get(t, b, e.srv.URL+"/launch")
		return resp.StatusCode == 200 && resp.Request.URL.Path == "/launch"
	}

	// Used every 23 h: alive until 7 days after connecting.
	b := browser(t)
	e.connect(t, b)
	for i := 0; i < 7; i++ {
		clk.Advance(23 * time.Hour)
		if !onLaunch(b) {
			t.Fatalf("session ended after %d h of regular use", 23*(i+1))
		}
	}
	clk.Advance(23 * time.Hour) // 184 h > 7 days
	if onLaunch(b) {
		t.Fatal("session older than 7 days still accepted")
	}
	if onLaunch(b) {
		t.Fatal("expired session came back")
	}
	if !strings.Contains(e.logs.String(), "session expired") {
		t.Error("expiry not logged")
	}

	// Idle for more than 24 h: ended; just under: kept.
	b = browser(t)
	e.connect(t, b)
	clk.Advance(24*time.Hour - time.Minute)
	if !onLaunch(b) {
		t.Fatal("session idle for 23:59 ended")
	}
	clk.Advance(24*time.Hour + time.Minute)
	if onLaunch(b) {
		t.Fatal("session idle for 24:01 accepted")
	}
	// Connecting again starts a new session.
	e.connect(t, b)
	if !onLaunch(b) {
		t.Fatal("reconnected session refused")
	}
}

// TestRequestID: a proxy's request ID is kept; a missing or unusable one
// is replaced by a new ID, unlike the one before.
func TestRequestID(t *testing.T) {
	e := newEnv(t, envOpts{})
	id := func(sent string) string {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/healthz", nil)
		if sent != "" {
			req.Header.Set("X-Request-ID", sent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Request-ID")
	}
	if got := id("proxy-42.a_b"); got != "proxy-42.a_b" {
		t.Errorf("kept ID: %q", got)
	}
	a, b, c := id(""), id("bad id <script>"), id(strings.Repeat("x", 65))
	for _, got := range []string{a, b, c} {
		if len(got) != 16 || strings.Trim(got, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Errorf("new ID %q: want 16 base-32 characters", got)
		}
	}
	if a == b || b == c {
		t.Errorf("new IDs repeat: %q %q %q", a, b, c)
	}
}
