// Package demotest runs `onbehalf demo` in tests: the real app behind the
// demo's fakes (Start, StartApp), and a Person, a cookie-keeping HTTP
// client that clicks through it the way a browser would, without one.
package demotest

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/app"
	"github.com/onbehalf/onbehalf/internal/demo"
	"github.com/onbehalf/onbehalf/internal/logtest"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// StartApp is the demo's StartFunc for the real app, as `onbehalf demo`
// runs it.
func StartApp(ctx context.Context, c demo.Config) (demo.Server, error) {
	return app.Start(ctx, app.Options{Getenv: c.Getenv, LogOut: c.LogOut, Demo: true, Platforms: c.Platforms, Listener: c.Listener})
}

// Start starts a demo of the real app with specs (nil: the app's list)
// on a free port, its fake bots taking pace for each step; it stops at
// the end of the test, and the test shows the server's log when it
// failed.
func Start(t testing.TB, specs []platform.Spec, pace time.Duration) *demo.Demo {
	t.Helper()
	return StartOptions(t, demo.Options{Platforms: specs, Pace: pace})
}

// StartOptions starts a demo of the real app as o says (its Start,
// LogOut and LogLevel are the tests'; nil Platforms: the app's list), as
// Start does.
func StartOptions(t testing.TB, o demo.Options) *demo.Demo {
	t.Helper()
	if o.Platforms == nil {
		o.Platforms = app.Platforms
	}
	logs := &logtest.Buffer{}
	o.Start, o.LogOut, o.LogLevel = StartApp, logs, "info"
	ctx, cancel := context.WithCancel(context.Background())
	d, err := demo.New(ctx, o)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := d.Wait(); err != nil {
			t.Errorf("the demo stopped with %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	return d
}

// Person clicks through a demo with plain HTTP requests and a cookie jar.
type Person struct {
	// T is the test a failure stops (subtests may change it).
	T    testing.TB
	demo *demo.Demo
	c    *http.Client
}

// NewPerson returns a person with no cookie yet.
func NewPerson(t testing.TB, d *demo.Demo) *Person {
	jar, _ := cookiejar.New(nil)
	return &Person{T: t, demo: d, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// Get loads u, following redirects, and returns the last answer and its
// page.
func (p *Person) Get(u string) (*http.Response, string) {
	p.T.Helper()
	return p.do(http.MethodGet, u, nil)
}

// Post posts a form to u, following redirects, and returns the last
// answer and its page.
func (p *Person) Post(u string, form url.Values) (*http.Response, string) {
	p.T.Helper()
	return p.do(http.MethodPost, u, form)
}

func (p *Person) do(method, u string, form url.Values) (*http.Response, string) {
	p.T.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = p.c.PostForm(u, form)
	} else {
		resp, err = p.c.Get(u)
	}
	if err != nil {
		p.T.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// WaitBots reloads the launch page's bots (GET /launch/bots) until their
// text holds want, and returns it.
func (p *Person) WaitBots(want string) string {
	p.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var page string
	for time.Now().Before(deadline) {
		_, page = p.Get(p.demo.URL + "/launch/bots")
		if strings.Contains(html.UnescapeString(page), want) {
			return page
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.T.Fatalf("the bots never showed %q; last:\n%s", want, page)
	return ""
}

// requestField is the authorization request the consent page carries.
var requestField = regexp.MustCompile(`name="request" value="([^"]*)"`)

// Consent starts connecting Zoom and answers the fake consent page with
// decision ("allow" or "decline"); it returns where the browser landed.
func (p *Person) Consent(decision string) (*http.Response, string) {
	p.T.Helper()
	resp, page := p.Get(p.demo.URL + "/zoom/oauth")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), p.demo.ZoomURL+"/oauth/authorize") ||
		!strings.Contains(page, "DEMO") || !strings.Contains(page, "onbehalf (demo) wants to access your Zoom account") {
		p.T.Fatalf("no fake consent page: %s %d\n%s", resp.Request.URL, resp.StatusCode, page)
	}
	m := requestField.FindStringSubmatch(page)
	if m == nil {
		p.T.Fatalf("no authorization request on the consent page:\n%s", page)
	}
	return p.Post(p.demo.ZoomURL+"/oauth/authorize", url.Values{"request": {html.UnescapeString(m[1])}, "decision": {decision}})
}

// Connect connects Zoom: approves on the consent page and lands on the
// launch page.
func (p *Person) Connect() {
	p.T.Helper()
	resp, page := p.Consent("allow")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/launch" || !strings.Contains(page, "Demo User") {
		p.T.Fatalf("after consent: %s %d\n%s", resp.Request.URL, resp.StatusCode, page)
	}
}
