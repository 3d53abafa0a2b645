package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/web"
)

// TestStatusPages: a browser gets 404 and 405 as pages in the site's
// look; scripts and HTTP libraries keep Gin's plain lines, and with
// PAGES=false a page turned off reads as an unknown one (and offers no
// link to the home page, which is off too).
func TestStatusPages(t *testing.T) {
	for _, off := range []bool{false, true} {
		e := newEnv(t, envOpts{opts: func(o *web.Options) { o.PagesOff = off }})
		do := func(method, path, accept string) (int, string, string) {
			req, _ := http.NewRequest(method, e.srv.URL+path, nil)
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			return resp.StatusCode, resp.Header.Get("Content-Type"), body(resp)
		}
		const html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
		paths := []string{"/nowhere"}
		if off {
			paths = append(paths, "/") // turned off: the same as unknown
		}
		for _, p := range paths {
			if code, _, got := do("GET", p, ""); code != 404 || got != "404 page not found" {
				t.Errorf("PagesOff=%v: plain GET %s = %d %q", off, p, code, got)
			}
			if code, _, got := do("GET", p, "*/*"); code != 404 || got != "404 page not found" {
				t.Errorf("PagesOff=%v: GET %s with */* = %d %q", off, p, code, got)
			}
			code, ct, got := do("GET", p, html)
			if code != 404 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(got, "Page not found") || strings.Contains(got, `href="/">Back to the start`) != !off {
				t.Errorf("PagesOff=%v: browser GET %s = %d %s %s", off, p, code, ct, clip(got))
			}
		}
		if code, _, got := do("PUT", "/healthz", ""); code != 405 || got != "405 method not allowed" {
			t.Errorf("plain PUT /healthz = %d %q", code, got)
		}
		if code, _, got := do("PUT", "/healthz", html); code != 405 || !strings.Contains(got, "This address does not take that request") {
			t.Errorf("browser PUT /healthz = %d %s", code, clip(got))
		}
	}
}

// TestFirstPageLeadsWithZoom: an unconfigured server's first page asks
// for Zoom first, lists the platforms as one optional choice, points to
// the demo, and shows commands as code, never in literal backticks.
func TestFirstPageLeadsWithZoom(t *testing.T) {
	hints := []onbehalf.Hint{
		{Var: "ZOOM_CLIENT_ID", Why: "Without it nobody can connect Zoom.", Where: "Use `http://localhost:9999/zoom/oauth-callback` as the OAuth redirect URL."},
		{Var: "ZOOM_CLIENT_SECRET", Why: "Without it nobody can connect Zoom."},
		{Var: "BASE_URL", Why: "It must be reachable.", Where: "Run `ngrok http 9999` and set BASE_URL."},
		{Var: "RECALL_API_KEY", Why: "to send bots with Recall.ai", Where: "the dashboard", Platform: "Recall.ai"},
		{Var: "ATTENDEE_API_KEY", Why: "to send bots with Attendee", Where: "settings", Platform: "Attendee"},
	}
	e := newEnv(t, envOpts{noZoom: true, opts: func(o *web.Options) { o.Hints = hints }})
	page := body(get(t, browser(t), e.srv.URL+"/"))
	zoom, platforms := strings.Index(page, `id="setup-zoom"`), strings.Index(page, "Pick one bot platform (optional)")
	if zoom < 0 || platforms < zoom || strings.Count(page, `class="card warn`) != 1 || !strings.Contains(page, "<code>onbehalf demo</code>") {
		t.Errorf("first page: zoom at %d, platforms at %d, %d warnings:\n%s", zoom, platforms, strings.Count(page, `class="card warn`), page)
	}
	if strings.Contains(page, "`") || !strings.Contains(page, "<code>ngrok http 9999</code>") || !strings.Contains(page, "<code>http://localhost:9999/zoom/oauth-callback</code>") {
		t.Errorf("first page shows backticks or not the commands as code:\n%s", page)
	}
}
