package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/logtest"

	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recalldemo"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
	"github.com/onbehalf/onbehalf/internal/web"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

const (
	secret  = "test-obf-secret-0123456789"
	meeting = "85012345678"
)

// testEnv is the web layer over a real store, token manager and clients,
// talking to fake Zoom and Recall.
type testEnv struct {
	srv    *httptest.Server
	zoom   *zoomdemo.Server
	recall *recalldemo.Fake
	store  *bolt.Store
	mgr    *tokens.Manager
	bots   *bots.Service
	signer *tokenurl.Signer
	logs   *logtest.Buffer
	// web is the server under test (Drain).
	web *web.Server
}

type envOpts struct {
	// zakOff runs with ALLOW_ZAK off (the server's default); the tests
	// that mint ZAKs run with it on.
	zakOff           bool
	noZoom, noRecall bool
	webhookSecret    string
	now              func() time.Time
	zoomTimeout      time.Duration
	// plainKinds are the kinds plain auth_token URLs serve; nil means OBF.
	plainKinds []onbehalf.TokenKind
	// recallSecret turns on Recall's request signatures (whsec_…).
	recallSecret string
	// tokens edits the token handler's options before it is built.
	tokens func(*tokenserve.Options)
	// opts edits the web options before the server is built.
	opts func(*web.Options)
}

// newClock returns a clock that starts at the real time and then moves
// only when told; pass its Now as envOpts.now.
func newClock() *clocktest.Clock { return clocktest.New(time.Now()) }

func newEnv(t *testing.T, o envOpts) *testEnv {
	t.Helper()
	if o.zoomTimeout == 0 {
		o.zoomTimeout = 5 * time.Second
	}
	if o.now == nil {
		o.now = time.Now
	}
	e := &testEnv{zoom: zoomdemo.New("cid", "csecret"), logs: &logtest.Buffer{}}
	t.Cleanup(e.zoom.Close)
	st, err := bolt.Open(filepath.Join(t.TempDir(), "w.db"), bolt.Options{ReserveBytes: bolt.NoReserve, Now: o.now})
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	e.recall = recalldemo.New(recalldemo.Options{APIKey: "rkey", VerificationSecret: o.recallSecret, WebhookURL: e.srv.URL + "/webhooks/recall", Now: o.now})
	t.Cleanup(e.recall.Close)
	zc := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", RedirectURI: e.srv.URL + "/zoom/oauth-callback",
		OAuthURL: e.zoom.URL, APIURL: e.zoom.APIURL(), Timeout: o.zoomTimeout})
	e.mgr = &tokens.Manager{Store: st, Zoom: zc, Revoker: zc, Logger: log, Now: o.now, Wait: o.zoomTimeout}
	t.Cleanup(func() { e.mgr.Close(); st.Close() })
	e.signer = &tokenurl.Signer{Key: []byte("0123456789abcdef0123456789abcdef"), LegacyKeys: [][]byte{tokenurl.DeriveKey(secret)}, Now: o.now}
	var platforms []onbehalf.Platform
	if !o.noRecall {
		env := platform.NewConfigReader(func(k string) string {
			return map[string]string{"RECALL_API_KEY": "rkey", "RECALL_API_URL": e.recall.URL(), "RECALL_VERIFICATION_SECRET": o.recallSecret}[k]
		})
		p, err := recall.Spec.Load(env, platform.Deps{HTTP: &http.Client{Timeout: 10 * time.Second}, Now: o.now, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		platforms = append(platforms, p)
	}
	e.bots = &bots.Service{Store: st, Platforms: platforms, Signer: e.signer, BaseURL: e.srv.URL, AllowZAK: !o.zakOff, Now: o.now, Logger: log}
	e.bots.Start()
	ctx, cancel := context.WithCancel(context.Background())
	recorded := make(chan struct{})
	go func() { e.bots.Run(ctx); close(recorded) }()
	t.Cleanup(func() { cancel(); <-recorded })
	plain := o.plainKinds
	if plain == nil {
		plain = []onbehalf.TokenKind{onbehalf.KindOBF}
	}
	to := tokenserve.Options{Signer: e.signer, Minter: e.mgr, Secret: secret, PlainKinds: plain, BaseURL: e.srv.URL,
		Recorder: e.bots, Logger: log, Now: o.now, AllowZAK: !o.zakOff}
	if o.tokens != nil {
		o.tokens(&to)
	}
	opts := web.Options{
		BaseURL:       e.srv.URL,
		RedirectURI:   e.srv.URL + "/zoom/oauth-callback",
		SessionSecret: "session-secret-0123456789-0123456789",
		PlainURLs:     len(plain) > 0,
		Store:         st,
		Connector:     e.mgr,
		Tokens:        tokenserve.New(to),
		Platforms:     platforms,
		Bots:          e.bots,
		Signer:        e.signer,
		AllowZAK:      !o.zakOff,
		Logger:        log,
		Now:           o.now,
	}
	if !o.noZoom {
		opts.OAuth = zc
		opts.ZoomClientID = "cid"
	}
	opts.ZoomWebhookSecret = o.webhookSecret
	if o.opts != nil {
		o.opts(&opts)
	}
	w, err := web.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h, e.web = w.Engine(), w
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
// OBF token URL the fake Recall received.
func (e *testEnv) tokenURL(t *testing.T) string {
	t.Helper()
	return e.tokenURLs(t, false)[onbehalf.KindOBF]
}

// tokenURLs connects a browser, launches a bot (asking for a ZAK when zak
// is set) and returns the token URLs the fake Recall received.
func (e *testEnv) tokenURLs(t *testing.T, zak bool) map[onbehalf.TokenKind]string {
	t.Helper()
	b := browser(t)
	e.connect(t, b)
	form := url.Values{"meeting_url": {"https://us02web.zoom.us/j/" + meeting + "?pwd=abc"}, "bot_name": {"Notes"}}
	if zak {
		form.Set("use_zak", "1")
	}
	resp, page := e.launchForm(t, b, form, nil)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/launch" || resp.Request.URL.Query().Get("created") == "" {
		t.Fatalf("launch: %d at %s: %s", resp.StatusCode, resp.Request.URL, page)
	}
	bots := e.recall.Bots()
	if len(bots) == 0 {
		t.Fatal("recall got no bot")
	}
	return bots[len(bots)-1].TokenURLs
}

// connID returns the ID of the fake's default user's connection.
func (e *testEnv) connID(t *testing.T) string {
	t.Helper()
	c, err := e.store.ConnectionByZoomUser(context.Background(), zoomdemo.DefaultUserID)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// plainURL is the plain token URL (user_id, meeting_id,
// auth_token) for the connection and path of a signed URL, on the legacy
// path of its kind.
func plainURL(signed string) string {
	p, _ := url.Parse(signed)
	q := url.Values{"user_id": {p.Query().Get("user_id")}, "auth_token": {secret}}
	kind := p.Query().Get("kinds")
	if kind == "" && strings.Contains(p.Path, "obf") || kind == "obf" {
		q.Set("meeting_id", meeting)
		p.Path = "/obf-callback"
	} else {
		p.Path = "/" + kind + "-callback"
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
