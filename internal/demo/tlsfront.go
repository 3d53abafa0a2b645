package demo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

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
func (f *tlsFront) load(load func(*platform.Env, platform.Deps) (onbehalf.Platform, error), base string) func(*platform.Env, platform.Deps) (onbehalf.Platform, error) {
	return func(env *platform.Env, deps platform.Deps) (onbehalf.Platform, error) {
		p, err := load(env, deps)
		if p == nil || err != nil {
			return p, err
		}
		h := &httpsPlatform{Platform: p, base: base, front: f.url}
		if r, ok := p.(onbehalf.StatusReceiver); ok {
			return &httpsReceiver{httpsPlatform: h, StatusReceiver: r}, nil
		}
		return h, nil
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

// rebase returns u with the front's URL in place of the server's.
func (p *httpsPlatform) rebase(u string) string {
	if rest, ok := strings.CutPrefix(u, p.base); ok {
		return p.front + rest
	}
	return u
}

// httpsReceiver is an httpsPlatform that also receives status webhooks.
type httpsReceiver struct {
	*httpsPlatform
	onbehalf.StatusReceiver
}
