package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/web"
)

// TestPagesOff: with PAGES=false the pages for people are 404, as an
// unknown path is, while connect links (with their OAuth callback and
// result page), token URLs, webhooks and probes keep working; with the
// pages on, the same routes answer as they always did.
func TestPagesOff(t *testing.T) {
	type route struct {
		method, path string
		// on is the status with the pages on (for a fresh browser).
		on int
	}
	pages := []route{
		{"GET", "/", 200},
		{"GET", "/launch", 200}, // 303 to / then 200
		{"POST", "/launch", 200},
		{"GET", "/launch/events", 404}, // no live status without a connection
		{"GET", "/launch/bots", 404},   // "not connected"
		{"POST", "/zoom/disconnect", 200},
		{"GET", "/zoom/oauth", 200}, // all the way to /launch
		{"GET", "/zoom/oauth-callback?state=x&code=y", 400},
	}
	for _, off := range []bool{false, true} {
		e := newEnv(t, envOpts{opts: func(o *web.Options) { o.PagesOff = off }})
		for _, r := range pages {
			b := browser(t)
			req, _ := http.NewRequest(r.method, e.srv.URL+r.path, nil)
			if r.method == "POST" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp, err := b.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got := body(resp)
			resp.Body.Close()
			want := r.on
			if off {
				want = 404
			}
			if resp.StatusCode != want || off && got != "404 page not found" {
				t.Errorf("PagesOff=%v: %s %s = %d %q, want %d", off, r.method, r.path, resp.StatusCode, clip(got), want)
			}
		}
		// What keeps working either way.
		for path, want := range map[string]int{"/healthz": 200, "/nowhere": 404} {
			if resp := get(t, browser(t), e.srv.URL+path); resp.StatusCode != want {
				t.Errorf("PagesOff=%v: GET %s = %d", off, path, resp.StatusCode)
			}
		}
		resp, err := http.Post(e.srv.URL+"/webhooks/recall", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("PagesOff=%v: unsigned status webhook = %d, want 401", off, resp.StatusCode)
		}

		// A connect link connects Zoom; its result page is served.
		b := browser(t)
		link := e.connectLink(t, "")
		resp = postForm(t, b, e.srv.URL+"/connect/"+link) // the consent page's Continue
		page := body(resp)
		if resp.StatusCode != 200 || resp.Request.URL.Path != web.PathConnected {
			t.Fatalf("PagesOff=%v: connect link ended at %s with %d: %s", off, resp.Request.URL, resp.StatusCode, clip(page))
		}
		// Neutral, pages on or off: it worked, close the tab; nothing of
		// this server's own pages.
		if !strings.Contains(page, "Connected — you can close this tab") || strings.Contains(page, "<form") || strings.Contains(page, `href="/launch"`) {
			t.Errorf("PagesOff=%v: the connect link's result page: %s", off, clip(page))
		}
		if off {
			// Where such links ended before: still the result page.
			if resp := get(t, b, e.srv.URL+"/launch"); resp.StatusCode != 200 || !strings.Contains(body(resp), "you can close this tab") {
				t.Errorf("PagesOff: GET /launch when connected = %d", resp.StatusCode)
			}
		}
		// Still no launch for this connected session, and its token URL
		// (from a bot the API's launch service made) answers.
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/launch", strings.NewReader(url.Values{"meeting_url": {"https://zoom.us/j/" + meeting}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, err := b.Do(req); err != nil {
			t.Fatal(err)
		} else if resp.Body.Close(); off && resp.StatusCode != 404 {
			t.Errorf("PagesOff=%v: POST /launch when connected = %d", off, resp.StatusCode)
		}
		if _, err := e.bots.Launch(context.Background(), bots.LaunchRequest{ConnectionID: e.connID(t), MeetingURL: "https://zoom.us/j/" + meeting}); err != nil {
			t.Fatal(err)
		}
		urls := e.recall.Bots()[len(e.recall.Bots())-1].TokenURLs
		if code, _, got := call(t, urls[onbehalf.KindOBF], nil); code != 200 {
			t.Errorf("PagesOff=%v: token URL = %d %s", off, code, got)
		}
		// A session that carries a connect link may start OAuth again at
		// /zoom/oauth (and ends on the result page); the callback too.
		b = browser(t)
		link = e.connectLink(t, "")
		resp = postForm(t, noRedirect(b), e.srv.URL+"/connect/"+link)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("PagesOff=%v: /connect/… = %d", off, resp.StatusCode)
		}
		resp = get(t, b, e.srv.URL+"/zoom/oauth")
		if want := map[bool]string{true: web.PathConnected, false: "/launch"}[off]; resp.StatusCode != 200 || resp.Request.URL.Path != want {
			t.Errorf("PagesOff=%v: /zoom/oauth with a connect link ended at %s with %d", off, resp.Request.URL, resp.StatusCode)
		}
	}
}

// connectLink stores a fresh connect link and returns its secret (the
// last part of its URL).
func (e *testEnv) connectLink(t *testing.T, returnTo string) string {
	t.Helper()
	return e.newLink(t, returnTo).Secret
}

// newLink stores a fresh connect link and returns it.
func (e *testEnv) newLink(t *testing.T, returnTo string) onbehalf.ConnectLink {
	t.Helper()
	stamp := strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", "")
	l := onbehalf.ConnectLink{ID: "cl_" + stamp, Secret: stamp + "-link-0123456789abcdef", ExternalUserID: "user-1", ReturnTo: returnTo,
		ExpiresAt: time.Now().Add(time.Hour)}
	if err := e.store.CreateConnectLink(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	return l
}

// noRedirect returns a client that shares b's cookies but follows no
// redirect.
func noRedirect(b *http.Client) *http.Client {
	return &http.Client{Jar: b.Jar, Timeout: b.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// clip shortens a body for a failure message.
func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// postForm posts an empty form to u, as the consent page's Continue does.
func postForm(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
