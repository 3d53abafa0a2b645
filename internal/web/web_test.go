package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/logtest"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/recall"
	"github.com/onbehalf/onbehalf/internal/recalltest"
	"github.com/onbehalf/onbehalf/internal/store"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/web"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomtest"
)

const (
	secret  = "test-obf-secret-0123456789"
	meeting = "85012345678"
)

// testEnv is the web layer over a real store, token manager and clients,
// talking to fake Zoom and Recall.
type testEnv struct {
	srv    *httptest.Server
	zoom   *zoomtest.Server
	recall *recalltest.Server
	store  *store.Store
	logs   *logtest.Buffer
}

type envOpts struct {
	noZoom, noRecall bool
	webhookSecret    string
	now              func() time.Time
	zoomTimeout      time.Duration
	// opts edits the web options before the server is built.
	opts func(*web.Options)
}

// fakeClock is a settable clock, safe for concurrent use; pass its Now as
// envOpts.now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Now()} }

// Now returns the clock's time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock forward.
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newEnv(t *testing.T, o envOpts) *testEnv {
	t.Helper()
	if o.zoomTimeout == 0 {
		o.zoomTimeout = 5 * time.Second
	}
	e := &testEnv{zoom: zoomtest.New("cid", "csecret"), recall: recalltest.New("rkey"), logs: &logtest.Buffer{}}
	t.Cleanup(e.zoom.Close)
	t.Cleanup(e.recall.Close)
	st, err := store.Open(filepath.Join(t.TempDir(), "w.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st

	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	zc := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", RedirectURI: e.srv.URL + "/zoom/oauth-callback",
		OAuthURL: e.zoom.URL, APIURL: e.zoom.APIURL(), Timeout: o.zoomTimeout})
	opts := web.Options{
		BaseURL:       e.srv.URL,
		RedirectURI:   e.srv.URL + "/zoom/oauth-callback",
		OBFSecret:     secret,
		SessionSecret: "session-secret-0123456789-0123456789",
		Store:         st,
		Minter:        &tokens.Manager{Store: st, Zoom: zc},
		Logger:        slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if !o.noZoom {
		opts.OAuth = zc
		opts.Revoker = zc
		opts.ZoomClientID = "cid"
	}
	opts.ZoomWebhookSecret, opts.Now = o.webhookSecret, o.now
	if !o.noRecall {
		opts.Bots = &recall.Client{BaseURL: e.recall.URL, APIKey: "rkey"}
	}
	if o.opts != nil {
		o.opts(&opts)
	}
	h, err = web.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// browser returns a client with a cookie jar that follows redirects.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// connect walks the OAuth flow as a browser and lands on /launch.
func (e *testEnv) connect(t *testing.T, b *http.Client) {
	t.Helper()
	resp := get(t, b, e.srv.URL+"/zoom/oauth")
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/launch" {
		t.Fatalf("oauth flow ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, body(resp))
	}
}

// launch posts the launch form and returns the response and its body.
func (e *testEnv) launch(t *testing.T, b *http.Client, meetingURL string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	return e.launchForm(t, b, url.Values{"meeting_url": {meetingURL}, "bot_name": {"Notes"}}, hdr)
}

// launchForm posts a launch form and returns the response and its body.
func (e *testEnv) launchForm(t *testing.T, b *http.Client, form url.Values, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/launch", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp, body(resp)
}

// tokenURL connects a browser, launches a bot and returns the (signed)
// token URL the fake Recall received.
func (e *testEnv) tokenURL(t *testing.T) string {
	t.Helper()
	return e.tokenURLs(t, false).OBFTokenURL
}

// tokenURLs connects a browser, launches a bot (asking for a ZAK when zak
// is set) and returns the token URLs the fake Recall received.
func (e *testEnv) tokenURLs(t *testing.T, zak bool) recalltest.Zoom {
	t.Helper()
	b := browser(t)
	e.connect(t, b)
	form := url.Values{"meeting_url": {"https://us02web.zoom.us/j/" + meeting + "?pwd=abc"}, "bot_name": {"Notes"}}
	if zak {
		form.Set("use_zak", "1")
	}
	resp, page := e.launchForm(t, b, form, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("launch: %d %s", resp.StatusCode, page)
	}
	bots := e.recall.Bots()
	if len(bots) == 0 {
		t.Fatal("recall got no bot")
	}
	return bots[len(bots)-1].Zoom
}

// plainURL is the contract's plain token URL (user_id, meeting_id,
// auth_token) for the connection and path of a signed URL.
func plainURL(signed string) string {
	p, _ := url.Parse(signed)
	q := url.Values{"user_id": {p.Query().Get("user_id")}, "auth_token": {secret}}
	if strings.Contains(p.Path, "obf") {
		q.Set("meeting_id", meeting)
	}
	p.RawQuery = q.Encode()
	return p.String()
}

func get(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func body(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// with returns u with query parameter k set to v (deleted when v is "-").
func with(u, k, v string) string {
	p, _ := url.Parse(u)
	q := p.Query()
	if v == "-" {
		q.Del(k)
	} else {
		q.Set(k, v)
	}
	p.RawQuery = q.Encode()
	return p.String()
}

var _ = onbehalf.KindOBF
