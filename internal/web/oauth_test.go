package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// noFollow is a browser that stops at every redirect.
func noFollow(b *http.Client) *http.Client {
	c := *b
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func TestOAuthStartRedirect(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := noFollow(browser(t))
	resp := get(t, b, e.srv.URL+"/zoom/oauth")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if !strings.HasPrefix(loc.String(), e.zoom.URL+"/oauth/authorize?") || q.Get("response_type") != "code" || q.Get("client_id") != "cid" ||
		q.Get("redirect_uri") != e.srv.URL+"/zoom/oauth-callback" || len(q.Get("state")) < 32 ||
		q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
		t.Fatalf("authorize URL %s", loc)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "onbehalf" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure {
		t.Fatalf("session cookie %+v", cookie)
	}
	// Two starts give two different states.
	resp2 := get(t, b, e.srv.URL+"/zoom/oauth")
	loc2, _ := url.Parse(resp2.Header.Get("Location"))
	if loc2.Query().Get("state") == q.Get("state") {
		t.Fatal("state reused")
	}
}

func TestOAuthCallbackFailuresStoreNothing(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := browser(t)
	nf := noFollow(b)
	// Start a real flow to get a valid state and code, without following.
	resp := get(t, nf, e.srv.URL+"/zoom/oauth")
	authz, _ := url.Parse(resp.Header.Get("Location"))
	state := authz.Query().Get("state")
	cb := e.srv.URL + "/zoom/oauth-callback?"
	rows := []struct {
		name   string
		url    string
		status int
		want   string
	}{
		{"zoom error", cb + "error=access_denied&error_description=The+user+denied&state=" + state, 400, "access_denied"},
		{"no state in session", cb + "code=abc&state=" + state, 400, "state"},
	}
	for _, r := range rows {
		resp := get(t, b, r.url)
		page := body(resp)
		if resp.StatusCode != r.status || !strings.Contains(page, r.want) || !strings.Contains(page, `href="/zoom/oauth"`) {
			t.Errorf("%s: %d\n%s", r.name, resp.StatusCode, page)
		}
	}
	// Wrong state for this session.
	get(t, nf, e.srv.URL+"/zoom/oauth")
	if resp := get(t, b, cb+"code=abc&state=forged"); resp.StatusCode != 400 {
		t.Errorf("forged state: %d", resp.StatusCode)
	}
	// Right state, missing code.
	resp = get(t, nf, e.srv.URL+"/zoom/oauth")
	authz, _ = url.Parse(resp.Header.Get("Location"))
	if resp := get(t, b, cb+"state="+url.QueryEscape(authz.Query().Get("state"))); resp.StatusCode != 400 {
		t.Errorf("missing code: %d", resp.StatusCode)
	}
	// Right state, code Zoom rejects: an upstream error page.
	resp = get(t, nf, e.srv.URL+"/zoom/oauth")
	authz, _ = url.Parse(resp.Header.Get("Location"))
	resp = get(t, b, cb+"code=not-a-code&state="+url.QueryEscape(authz.Query().Get("state")))
	page := body(resp)
	if resp.StatusCode != 502 || !strings.Contains(page, "invalid_grant") || strings.Contains(page, "not-a-code") {
		t.Errorf("rejected code: %d\n%s", resp.StatusCode, page)
	}
	// A state is single-use: replaying a completed flow's callback fails,
	// even with the cookie the browser had before it (the state is burnt
	// on the server, before the code exchange).
	resp = get(t, nf, e.srv.URL+"/zoom/oauth")
	authz, _ = url.Parse(resp.Header.Get("Location"))
	resp = get(t, nf, authz.String()) // fake Zoom approves
	callback := resp.Header.Get("Location")
	cu, _ := url.Parse(e.srv.URL)
	oldCookies := b.Jar.Cookies(cu)
	if r := get(t, b, callback); r.StatusCode != 200 {
		t.Fatalf("good callback: %d", r.StatusCode)
	}
	n, _ := e.store.CountConnections(context.Background())
	if r := get(t, b, callback); r.StatusCode != 400 {
		t.Errorf("replayed callback: %d", r.StatusCode)
	}
	replay := browser(t)
	replay.Jar.SetCookies(cu, oldCookies)
	exchanges := e.zoom.AuthCodeExchanges()
	if r := get(t, replay, callback); r.StatusCode != 400 || e.zoom.AuthCodeExchanges() != exchanges {
		t.Errorf("replayed callback with the old cookie: %d, exchanges %d→%d", r.StatusCode, exchanges, e.zoom.AuthCodeExchanges())
	}
	if n[onbehalf.StateConnected] != 1 {
		t.Fatalf("connections stored: %v, want 1 (only the good flow)", n)
	}
}

func TestNotConfiguredPagesSayWhatToSet(t *testing.T) {
	e := newEnv(t, envOpts{noZoom: true, noRecall: true})
	resp := get(t, http.DefaultClient, e.srv.URL+"/zoom/oauth")
	page := body(resp)
	if resp.StatusCode != 503 || !strings.Contains(page, "not configured") {
		t.Fatalf("%d\n%s", resp.StatusCode, page)
	}
	if resp := get(t, http.DefaultClient, e.srv.URL+"/healthz"); resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
}
