package doctor

import (
	"slices"
	"strconv"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// checkReview checks what Zoom's app review checks of a published General
// app, as far as doctor can tell from the configuration: deauthorization
// handled, only the scopes the enabled features need, tokens reused until
// they expire, few failing calls.
func (d *doctor) checkReview() {
	d.r.section("Zoom app review (Marketplace publication)")
	hook := d.baseURL() + "/zoom/webhook"
	if d.cfg.ZoomWebhookSecretToken != "" {
		d.r.ok("Deauthorization endpoint: %s verifies app_deauthorized events (ZOOM_WEBHOOK_SECRET_TOKEN is set). Paste it in the app under Features → Access → Event notification endpoint, event app_deauthorized.", hook)
	} else {
		// A private app need not handle it; a published one must.
		d.r.info("Deauthorization endpoint not configured (needed to publish the app): set ZOOM_WEBHOOK_SECRET_TOKEN (the app's Secret Token, Features → Access) and paste %s as its Event notification endpoint with the event app_deauthorized. Zoom's review rejects apps that ignore deauthorization.", hook)
	}

	need := d.neededScopes()
	d.r.ok("Scopes the enabled features need, and the only ones to add to the app: %s.", strings.Join(need, ", "))
	if !d.zakWanted() {
		d.r.info("user:read:zak is not needed: ZAKs, when enabled, come from GET /users/me/token under user:read:token. Any other scope makes the review ask why it is needed.")
	}

	d.r.info("Refresh frequency not checked: the store keeps each connection's last refresh, not the spacing between refreshes. " +
		"The server reuses an access token until it is about to expire and refreshes an idle connection at most once per KEEPALIVE_IDLE; " +
		"onbehalf_refreshes_total on /metrics (METRICS=true) shows how often it refreshes.")
	d.r.info("Share of failing Zoom calls not checked: the counters live in the running server, not in the store. " +
		"See onbehalf_refreshes_total{result=\"failed\"} against the other results, and the Zoom duration histograms, on /metrics.")
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
// (§12) or plain URLs serving ZAK (ALLOW_SECRET_URLS=zak).
func (d *doctor) zakWanted() bool {
	if on, err := strconv.ParseBool(d.get("ALLOW_ZAK")); err == nil && on {
		return true
	}
	return slices.Contains(d.cfg.SecretURLKinds, onbehalf.KindZAK)
}
