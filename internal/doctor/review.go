package doctor

import (
	"slices"
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

	d.checkZAK()
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
