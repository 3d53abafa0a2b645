package doctor

import (
	"fmt"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// zoomScopes are the scopes the General app needs, with what each is for.
var zoomScopes = []struct{ scope, why string }{
	{"user:read:user", "read who connected (GET /users/me)"},
	{"user:read:token", "mint OBF tokens and ZAKs"},
	{"meeting:read:local_recording_token", "host join tokens, to skip the waiting room"},
}

// accountScopes are the scopes the Server-to-Server app needs in account
// mode (as internal/tokens names them).
var accountScopes = []string{"user:read:token:admin", "user:read:zak:admin", "meeting:read:local_recording_token:admin"}

// printPaste prints every value to paste into the Zoom app, each platform's
// dashboard and the product that uses the integration API.
func (d *doctor) printPaste() {
	base := d.baseURL()
	d.r.section("What to paste (for BASE_URL " + base + ")")

	d.r.sub("Zoom General app (marketplace.zoom.us → Manage → your app)", func() {
		d.r.paste("OAuth redirect URL", d.redirectURI())
		d.r.paste("OAuth allow list", d.redirectURI())
		d.r.paste("Event notification endpoint", base+"/zoom/webhook")
		d.r.paste("Event to subscribe", "app_deauthorized")
		token := "copy it from the app (Features → Access) into ZOOM_WEBHOOK_SECRET_TOKEN: not set yet"
		if v := d.get("ZOOM_WEBHOOK_SECRET_TOKEN"); v != "" {
			token = fmt.Sprintf("the app's (Features → Access) must be ZOOM_WEBHOOK_SECRET_TOKEN: set (%d characters)", len(v))
		}
		d.r.paste("Secret Token", token)
		for i, s := range zoomScopes {
			label := ""
			if i == 0 {
				label = "Scopes"
			}
			d.r.pasteCont(label, s.scope+" — "+s.why)
		}
	})
	if d.cfg.AccountMode() {
		d.r.sub("Zoom Server-to-Server app (account "+d.cfg.ZoomAccountID+")", func() {
			d.r.paste("Scopes", strings.Join(accountScopes, ", "))
		})
	}

	for _, lp := range d.platforms {
		s := lp.spec
		title := s.Title
		if !lp.configured {
			title += " (not configured)"
		}
		d.r.sub(title, func() {
			var pastes []struct{ What, Value string }
			if s.Setup != nil {
				for _, p := range s.Setup(base) {
					pastes = append(pastes, struct{ What, Value string }{p.What, p.Value})
				}
			}
			if len(pastes) == 0 {
				d.r.info("Nothing to paste: every bot gets its token URLs from this server when it is created.")
			}
			for _, p := range pastes {
				d.r.printf("  %s  %s:\n  %s      %s\n", d.r.indent, strings.TrimSuffix(p.What, "."), d.r.indent, p.Value)
			}
		})
	}

	d.r.sub("Integration API (your product's backend)", func() {
		d.r.paste("Base URL", base+"/api/v1")
		d.r.paste("Description (OpenAPI 3.1)", base+"/api/v1/openapi.json")
		d.r.paste("Keys", d.apiKeys())
	})
	d.r.sub("Outgoing webhooks (your product receives events)", func() {
		if d.cfg.WebhookURL != "" {
			d.r.paste("Receiver (WEBHOOK_URL)", displayURL(d.cfg.WebhookURL))
		} else {
			d.r.paste("Receiver (WEBHOOK_URL)", "not set: no events are POSTed")
		}
		if v := d.get("WEBHOOK_SECRET"); v != "" {
			d.r.paste("Signing secret", fmt.Sprintf("WEBHOOK_SECRET is set (%d characters); give the receiver the same", len(v)))
		} else {
			d.r.paste("Signing secret", "generated in the database: `onbehalf webhook-secret` prints it")
		}
		d.r.paste("Event types", strings.Join(onbehalf.EventTypes, ", "))
	})
}

// apiKeys describes the integration API's keys: how many, never which.
func (d *doctor) apiKeys() string {
	env, stored := len(d.cfg.APIKeys), d.storedAPIKeys
	const use = " (sent as Authorization: Bearer <key>)"
	switch {
	case env == 0 && stored == 0:
		return "none: the API answers 404 until one exists (`onbehalf apikey create --name NAME`, or API_KEYS)"
	case env == 0 && stored < 0:
		return "none in API_KEYS; keys made with `onbehalf apikey create` live in the database, which could not be read"
	case stored <= 0:
		return plural(env, "key") + " in API_KEYS" + use
	case env == 0:
		return plural(stored, "key") + " made with `onbehalf apikey create`" + use
	}
	return plural(env, "key") + " in API_KEYS and " + plural(stored, "key") + " made with `onbehalf apikey create`" + use
}
