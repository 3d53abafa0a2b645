package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/platform"
)

// platformTimeout bounds each platform API call.
const platformTimeout = 10 * time.Second

// checkPlatformKeys checks each configured platform's API key with its
// harmless call, online.
func (d *doctor) checkPlatformKeys(ctx context.Context) {
	configured := false
	for _, lp := range d.platforms {
		configured = configured || lp.configured
	}
	if !configured {
		return
	}
	d.r.section("Bot platform API keys")
	for _, lp := range d.platforms {
		s := lp.spec
		switch {
		case !lp.configured:
			continue
		case !lp.ok():
			d.r.info("%s: not checked, its settings have problems (above).", s.Title)
		case s.Probe.URL == nil:
			d.r.info("%s: key not checked: no harmless call (%s).", s.Title, s.Probe.None)
		case d.o.Offline:
			d.r.info("%s: key not checked (--offline).", s.Title)
		default:
			d.probePlatform(ctx, lp, s.Probe)
		}
	}
}

// probePlatform makes a platform's harmless call and reads the answer.
// The API key is the variable the platform's hint names.
func (d *doctor) probePlatform(ctx context.Context, lp loadedPlatform, p platform.Probe) {
	title, key := lp.spec.Title, d.get(lp.spec.Hint.Var)
	u := p.URL(d.getenv)
	base := u
	if pu, err := url.Parse(u); err == nil {
		base = pu.Scheme + "://" + pu.Host
	}
	ctx, cancel := context.WithTimeout(ctx, platformTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		d.r.fail("%s: cannot build the request: %v", title, err)
		return
	}
	p.Auth(req.Header, key)
	req.Header.Set("Accept", "application/json")
	resp, err := d.o.HTTP.Do(req)
	if err != nil {
		d.r.fail("%s: could not reach %s: %v", title, base, unwrapURLError(err))
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	what := fmt.Sprintf("GET %s of a bot that does not exist: read-only", strings.TrimPrefix(u, base))
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		msg := fmt.Sprintf("%s refused the API key (HTTP %d%s)", title, code, detail(body))
		if p.Hint != "" {
			msg += ": " + p.Hint
		}
		d.r.fail("%s.", msg)
	case code == http.StatusNotFound || code/100 == 2:
		if p.Documented {
			d.r.ok("%s accepted the API key at %s (HTTP %d to %s).", title, base, code, what)
		} else {
			d.r.ok("%s did not refuse the API key at %s (HTTP %d to %s; its docs do not say whether an unknown bot is checked before the key).", title, base, code, what)
		}
	default:
		d.r.warn("%s answered HTTP %d%s to %s: cannot tell whether the API key is right.", title, code, detail(body), what)
	}
}

// detail returns the platform's message from a JSON error body
// ({"detail": …}, {"error": …}, {"message": …}), as ", message".
func detail(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	for _, k := range []string{"detail", "error", "message"} {
		if s, ok := m[k].(string); ok && s != "" {
			return ": " + clip(s, 120)
		}
	}
	return ""
}
