package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
)

// platformTimeout bounds each platform API call.
const platformTimeout = 10 * time.Second

// nilBot is the ID of a bot that cannot exist: reading it tells a key the
// platform refuses (401/403) from one it accepts (404), and reads nothing.
const nilBot = "00000000-0000-0000-0000-000000000000"

// keyProbe is a platform's harmless read-only call.
type keyProbe struct {
	// base returns the API base URL the adapter uses.
	base func(get func(string) string) string
	// path is the call, relative to the base.
	path string
	// auth sets the API key on the request.
	auth func(h http.Header, key string)
	// documented is true when the platform documents that a wrong key is
	// 401/403 and an unknown bot 404 on this call; otherwise a 404 only
	// says the key was not refused.
	documented bool
	// hint is added to a refusal.
	hint string
}

// tokenAuth is the Authorization: Token <key> scheme (Django REST
// Framework's) of Recall.ai, MeetStream and Attendee.
func tokenAuth(h http.Header, key string) { h.Set("Authorization", "Token "+key) }

// urlOr returns the value of name, or def.
func urlOr(name, def string) func(get func(string) string) string {
	return func(get func(string) string) string {
		if v := strings.TrimSpace(get(name)); v != "" {
			return strings.TrimRight(v, "/")
		}
		return def
	}
}

// probes are the platforms' harmless calls, by platform name. Each reads a
// bot that does not exist: nothing is created, and no real bot's data is
// fetched.
//   - Recall.ai: Retrieve Bot, GET /api/v1/bot/{id}/ (docs.recall.ai:
//     bot_retrieve). Its Django REST Framework API authenticates before it
//     looks the bot up: 401 {"detail":"Invalid token."} for a wrong key or
//     region. List Bots would work too, but returns real bots and is
//     limited to 60 requests a minute per workspace.
//   - Attendee: Get Bot, GET /api/v1/bots/{id}: documented 401 for an
//     invalid key, 404 for an unknown bot.
//   - MeetStream: Get Bot Details, GET /api/v1/bots/{id}/detail; its docs
//     say nothing of the answers for a wrong key or an unknown bot.
//   - Meeting BaaS: no call; its v2 docs show no read-only endpoint whose
//     answer is known to tell the keys apart.
var probes = map[string]keyProbe{
	recall.Name: {
		base: func(get func(string) string) string {
			if v := strings.TrimSpace(get(recall.VarAPIURL)); v != "" {
				return strings.TrimRight(v, "/")
			}
			region := strings.TrimSpace(get(recall.VarRegion))
			if region == "" {
				region = recall.DefaultRegion
			}
			u, _ := recall.BaseURL(region)
			return u
		},
		path: "/api/v1/bot/" + nilBot + "/", auth: tokenAuth, documented: true,
		hint: "check " + recall.VarRegion + ": a key works only in its own region",
	},
	attendee.Name: {
		base: urlOr(attendee.VarAPIURL, attendee.DefaultAPIURL),
		path: "/api/v1/bots/bot_" + strings.ReplaceAll(nilBot, "-", "")[:16], auth: tokenAuth, documented: true,
		hint: "check " + attendee.VarAPIURL + " for a self-hosted Attendee",
	},
	meetstream.Name: {
		base: urlOr(meetstream.VarAPIURL, meetstream.DefaultAPIURL),
		path: "/api/v1/bots/" + nilBot + "/detail", auth: tokenAuth,
	},
}

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
		p, known := probes[s.Name]
		switch {
		case !lp.configured:
			continue
		case !lp.ok():
			d.r.info("%s: not checked, its settings have problems (above).", s.Title)
		case !known:
			d.r.info("%s: key not checked: no harmless call (its API has no documented read-only call that tells a wrong key from a right one).", s.Title)
		case d.o.Offline:
			d.r.info("%s: key not checked (--offline).", s.Title)
		default:
			d.probePlatform(ctx, lp, p)
		}
	}
}

// probePlatform makes a platform's harmless call and reads the answer.
// The API key is the variable the platform's hint names.
func (d *doctor) probePlatform(ctx context.Context, lp loadedPlatform, p keyProbe) {
	title, key := lp.spec.Title, d.get(lp.spec.Hint.Var)
	base := p.base(d.getenv)
	u := base + p.path
	ctx, cancel := context.WithTimeout(ctx, platformTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		d.r.fail("%s: cannot build the request: %v", title, err)
		return
	}
	p.auth(req.Header, key)
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
		if p.hint != "" {
			msg += ": " + p.hint
		}
		d.r.fail("%s.", msg)
	case code == http.StatusNotFound || code/100 == 2:
		if p.documented {
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
