package demo

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// env is the server's whole configuration in a demo: nothing comes from
// the process environment or a .env file, so that a developer's real
// settings (a database URL, real API keys) never mix with the fakes. The
// one exception is WEBHOOK_URL (and WEBHOOK_SECRET), which Run reads so
// that the demo's own receiver forwards to it.
type env struct {
	mu   sync.Mutex
	vals map[string]string
}

// Demo credentials of the fake Zoom app; the secret is new every run.
const (
	zoomClientID = "onbehalf-demo"
	demoUserName = "Demo User"
)

// newEnv returns the base configuration: a database in dir, the server on
// 127.0.0.1:port, and the fake Zoom app's credentials. The fakes add
// theirs.
func newEnv(dir string, port int, logLevel string) *env {
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	return &env{vals: map[string]string{
		"PORT":               strconv.Itoa(port),
		"LISTEN_ADDR":        "127.0.0.1:" + strconv.Itoa(port),
		"BASE_URL":           base,
		"DB_PATH":            filepath.Join(dir, "onbehalf.db"),
		"ZOOM_CLIENT_ID":     zoomClientID,
		"ZOOM_CLIENT_SECRET": platformdemo.Secret(24),
		"LOG_LEVEL":          logLevel,
		// Signed token URLs only: the demo shows what production should do.
		"ALLOW_SECRET_URLS": "false",
	}}
}

// get is the server's Getenv.
func (e *env) get(k string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.vals[k]
}

// set sets a variable.
func (e *env) set(k, v string) {
	e.mu.Lock()
	e.vals[k] = v
	e.mu.Unlock()
}

// newZoom starts the fake Zoom with the demo's app and user.
func newZoom(e *env) *zoomdemo.Server {
	z := zoomdemo.New(e.get("ZOOM_CLIENT_ID"), e.get("ZOOM_CLIENT_SECRET"))
	z.AllowedRedirect = e.get("BASE_URL") + "/zoom/oauth-callback"
	z.AddUser(zoomdemo.User{
		ID: zoomdemo.DefaultUserID, AccountID: demoAccount, Email: "demo.user@example.com",
		FirstName: "Demo", LastName: "User", DisplayName: demoUserName,
	})
	return z
}

// platformFake is one fake platform of the demo.
type platformFake struct {
	// name is the platform's key on the server; title its name for people.
	name, title string
	*platformdemo.Platform
	// spec is the platform as the server runs it against the fake.
	spec platform.Spec
}

// startFakes starts the fake of every platform of specs (Spec.Demo), each
// pointed at the server at base (and at front, its TLS front, for the
// https-only ones), and puts their settings in e. It says which platforms
// have no fake.
func startFakes(specs []platform.Spec, base string, front *tlsFront, e *env) (out []*platformFake, missing []string, err error) {
	defer func() {
		if err != nil {
			for _, f := range out {
				f.Fake.Close()
			}
		}
	}()
	for _, s := range specs {
		if s.Demo == nil {
			missing = append(missing, s.Title)
			continue
		}
		p, err := s.Demo(platformdemo.Server{URL: base, HTTPSURL: front.url, Client: front.client, Set: e.set})
		if err != nil {
			return out, nil, fmt.Errorf("starting the fake %s: %w", s.Title, err)
		}
		if p.HTTPSOnly {
			s.Load = front.load(s.Load, base)
		}
		out = append(out, &platformFake{name: s.Name, title: s.Title, Platform: p, spec: s})
	}
	return out, missing, nil
}

// tlsFront is the demo's https entrance to the server, what a public
// https URL (an ngrok tunnel) is to a deployment: a platform that takes
// only https URLs of the server (platformdemo.Platform.HTTPSOnly) gets
// them through it, and its fake's bots reach the server there with client,
// which trusts the front's self-signed loopback certificate. People keep
// the plain http URL.
type tlsFront struct {
	url    string
	client *http.Client
	srv    *httptest.Server
}

// startTLSFront serves the server at base over https on a free port.
func startTLSFront(base string) (*tlsFront, error) {
	target, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }}
	srv := platformdemo.ServeTLS(proxy)
	return &tlsFront{url: srv.URL, client: platformdemo.TLSClient(), srv: srv}, nil
}

// close stops the front.
func (f *tlsFront) close() { f.srv.Close() }

// load wraps a platform's Load so that the URLs of the server it hands
// the platform (token URLs, status webhook URL), which start with base,
// start with the front's https URL instead. Their signatures do not cover
// the host, so the server takes them as it made them.
func (f *tlsFront) load(load func(*platform.ConfigReader, platform.Deps) (onbehalf.Platform, error), base string) func(*platform.ConfigReader, platform.Deps) (onbehalf.Platform, error) {
	return func(env *platform.ConfigReader, deps platform.Deps) (onbehalf.Platform, error) {
		p, err := load(env, deps)
		if p == nil || err != nil {
			return p, err
		}
		return &httpsPlatform{Platform: p, base: base, front: f.url}, nil
	}
}

// httpsPlatform is a platform handed the server's URLs through the front.
type httpsPlatform struct {
	onbehalf.Platform
	base, front string
}

// CreateBot creates the bot with the server's URLs through the front.
func (p *httpsPlatform) CreateBot(ctx context.Context, req onbehalf.BotRequest) (*onbehalf.CreatedBot, error) {
	req.TokenURLs = append([]onbehalf.TokenURL(nil), req.TokenURLs...)
	for i := range req.TokenURLs {
		req.TokenURLs[i].URL = p.rebase(req.TokenURLs[i].URL)
	}
	req.StatusURL = p.rebase(req.StatusURL)
	return p.Platform.CreateBot(ctx, req)
}

// Unwrap returns the adapter: the server finds its optional interfaces
// (status webhooks, join_at, token lists, URL checks) through
// onbehalf.AsPlatform. The adapter's CheckTokenURLs sees the server's own
// http URLs that the API hands a developer, and refuses them as Attendee
// would with an http BASE_URL; the bots the demo sends get the front's.
func (p *httpsPlatform) Unwrap() onbehalf.Platform { return p.Platform }

// rebase returns u with the front's URL in place of the server's.
func (p *httpsPlatform) rebase(u string) string {
	if rest, ok := strings.CutPrefix(u, p.base+"/"); ok {
		return p.front + "/" + rest
	}
	return u
}
