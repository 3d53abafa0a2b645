package doctor

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/metrics"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// maxFailingShare is the share of failing Zoom calls above which doctor
// warns: Zoom reviews apps whose API calls are failing again after
// publication.
const maxFailingShare = 0.05

// minCallsJudged is how many Zoom calls a share is judged on.
const minCallsJudged = 20

// checkReview checks what Zoom's app review checks of a published General
// app, as far as doctor can tell from the configuration: deauthorization
// handled, only the scopes the enabled features need, tokens reused until
// they expire, few failing calls.
func (d *doctor) checkReview(ctx context.Context) {
	d.r.section("Zoom app review (Marketplace publication)")
	hook := d.baseURL() + "/zoom/webhook"
	if d.cfg.ZoomWebhookSecretToken != "" {
		d.r.ok("Deauthorization endpoint: %s verifies app_deauthorized events (ZOOM_WEBHOOK_SECRET_TOKEN is set). Paste it in the app under Features → Access → Event notification endpoint, event app_deauthorized.", hook)
	} else {
		// A private app need not handle it; a published one must.
		d.r.info("Deauthorization endpoint not configured (needed to publish the app): set ZOOM_WEBHOOK_SECRET_TOKEN (the app's Secret Token, Features → Access) and paste %s as its Event notification endpoint with the event app_deauthorized. Zoom's review rejects apps that ignore deauthorization.", hook)
	}

	d.checkZAK()
	need := d.neededScopes()
	d.r.ok("Scopes the enabled features need, and the only ones to add to the app: %s.", strings.Join(need, ", "))
	if !d.zakWanted() {
		d.r.info("user:read:zak is not needed: ZAKs, when enabled, come from GET /users/me/token under user:read:token. Any other scope makes the review ask why it is needed.")
	}

	d.checkIdle()
	d.checkZoomUse(ctx)
}

// neededScopes lists the General app's scopes the enabled features need,
// from the token kinds' own scopes.
func (d *doctor) neededScopes() []string {
	kinds := []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindJoin}
	if d.zakWanted() {
		kinds = append(kinds, onbehalf.KindZAK)
	}
	out := []string{"user:read:user"} // GET /users/me, to know who connected
	for _, k := range kinds {
		if s := k.Scope(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// zakWanted reports whether this install serves ZAKs at all: ALLOW_ZAK
// or plain URLs serving ZAK (ALLOW_SECRET_URLS=zak).
func (d *doctor) zakWanted() bool {
	return d.cfg.AllowZAK || slices.Contains(d.cfg.SecretURLKinds, onbehalf.KindZAK)
}

// checkZAK says whether ZAKs are handed out: Zoom's ZAK page says a ZAK is
// not available to bots or AI notetakers that join external meetings.
func (d *doctor) checkZAK() {
	switch {
	case d.cfg.AllowZAK:
		d.r.warn("ALLOW_ZAK=true: bots and token URLs may carry ZAKs. Zoom does not allow ZAKs for bots or AI notetakers that join meetings outside your own Zoom account; keep it only if your bots join your own account's meetings.")
	default:
		d.r.ok("ALLOW_ZAK=false: no new bot or token URL gets a ZAK (a 403 says why). Signed URLs with ZAK made before this version keep working until they expire (TOKEN_URL_TTL); account mode is unaffected.")
	}
	if slices.Contains(d.cfg.SecretURLKinds, onbehalf.KindZAK) {
		d.r.warn("ALLOW_SECRET_URLS=zak: plain auth_token URLs serve ZAKs whatever ALLOW_ZAK says (they were handed out before). Set ALLOW_SECRET_URLS=true once no platform uses them for ZAKs.")
	}
}

// checkIdle checks KEEPALIVE_IDLE against the access tokens' lifetime: an
// idle connection refreshed more often than its token lives is what Zoom
// asks apps not to do.
func (d *doctor) checkIdle() {
	if !d.cfg.KeepAlive {
		d.r.info("KEEPALIVE=false: idle connections are never refreshed, so Zoom is not called for them; their grants die after about 90 days unused.")
		return
	}
	idle := cmp.Or(d.cfg.KeepAliveIdle, keepalive.DefaultIdle)
	if idle < keepalive.AccessTokenLifetime {
		d.r.warn("KEEPALIVE_IDLE=%s refreshes an idle connection more often than its access token lives (%s): Zoom asks apps to reuse a token until it expires. Use the default 24h.", idle, keepalive.AccessTokenLifetime)
		return
	}
	d.r.ok("KEEPALIVE_IDLE=%s: an idle connection is refreshed once per %s; a connection in use only when its token is about to expire, or ahead of a bot's join.", idle, idle)
	d.checkKeepAliveRate(idle)
}

// checkKeepAliveRate warns when the keep-alive of one instance cannot
// refresh every idle connection once per idle interval at its rate (with
// a fifth kept for failures and retries): connections would then wait
// longer than KEEPALIVE_IDLE between refreshes.
func (d *doctor) checkKeepAliveRate(idle time.Duration) {
	if d.connected <= 0 {
		return
	}
	rate := cmp.Or(d.cfg.KeepAliveRate, float64(keepalive.DefaultRate))
	need := float64(d.connected) / idle.Seconds()
	if need > 0.8*rate {
		d.r.warn("%d connected connections refreshed once per %s need %.1f refreshes a second, more than 80%% of KEEPALIVE_RATE=%g of one instance: raise KEEPALIVE_RATE (at least %.0f) or share the load between instances (each has its own rate).",
			d.connected, idle, need, rate, need/0.8+1)
	}
}

// checkZoomUse reads the running server's /metrics (this instance's
// counters since it started; with several instances, run it against each)
// for what Zoom's review looks at: how often connections are refreshed
// and how many Zoom calls fail. The store keeps neither: a connection
// holds its last refresh, not the spacing between refreshes, and no
// record of failed calls.
func (d *doctor) checkZoomUse(ctx context.Context) {
	switch {
	case d.o.Offline:
		d.r.info("Refresh spacing and failing Zoom calls not checked (offline): they are read from the running server's /metrics.")
		return
	case !d.cfg.Metrics:
		d.r.info("Refresh spacing and failing Zoom calls not checked: set METRICS=true so that doctor can read them from the running server's /metrics.")
		return
	}
	url := d.metricsURL()
	ss, err := d.scrapeMetrics(ctx, url)
	if err != nil {
		d.r.info("Refresh spacing and failing Zoom calls not checked: no server answered at %s (%v). Run doctor on the server's machine while it runs.", url, err)
		return
	}
	if !ss.has(metrics.NameEarlyRefreshes) {
		d.r.info("Refresh spacing not checked: the server at %s is an older version (no %s).", url, metrics.NameEarlyRefreshes)
	} else {
		ok := ss.sum(metrics.NameRefreshes, func(l map[string]string) bool { return l["result"] == "ok" })
		early := ss.sum(metrics.NameEarlyRefreshes, nil)
		ahead := ss.sum(metrics.NameAheadRefreshes, nil)
		switch {
		case ok == 0:
			d.r.info("No token refresh since the server at %s started: nothing to judge yet.", url)
		case early == 0:
			d.r.ok("No connection refreshed more often than its token lifetime needs: %s since the server started (%s ahead of a bot), none within half a token's lifetime of the one before.", count(ok, "refresh"), count(ahead, "refresh"))
		default:
			d.r.warn("%d of %s came within half a token's lifetime of the one before: more often than Zoom asks. "+
				"Usual causes: KEEPALIVE_IDLE under an hour, or Zoom refusing access tokens it had just issued (the Zoom app's scopes changed: people must reconnect).", int(early), count(ok, "refresh"))
		}
	}
	calls, failed, byResult := 0.0, 0.0, map[string]float64{}
	for _, name := range []string{metrics.NameZoomRefreshDuration + "_count", metrics.NameZoomMintDuration + "_count"} {
		for _, s := range ss {
			if s.name != name {
				continue
			}
			calls += s.value
			if r := s.labels["result"]; r != "ok" {
				failed += s.value
				byResult[r] += s.value
			}
		}
	}
	switch share := failed / max(calls, 1); {
	case calls < minCallsJudged:
		d.r.info("Failing Zoom calls: %d of %s since the server started, too few to judge.", int(failed), count(calls, "call"))
	case share > maxFailingShare:
		d.r.warn("%.1f%% of Zoom calls failed since the server started (%d of %s: %s): Zoom reviews apps whose API calls are failing. See onbehalf_zoom_*_duration_seconds by result on /metrics.",
			100*share, int(failed), count(calls, "call"), results(byResult))
	default:
		d.r.ok("%.1f%% of Zoom calls failed since the server started (%d of %s), under %.0f%%.", 100*share, int(failed), count(calls, "call"), 100*maxFailingShare)
	}
}

// count says n things (nouns in -sh take -es).
func count(n float64, noun string) string {
	if int(n) != 1 && strings.HasSuffix(noun, "sh") {
		return fmt.Sprintf("%d %ses", int(n), noun)
	}
	return plural(int(n), noun)
}

// results lists failed calls by result, most first.
func results(by map[string]float64) string {
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if by[a] != by[b] {
			return int(by[b] - by[a])
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, int(by[k]))
	}
	return strings.Join(parts, ", ")
}
