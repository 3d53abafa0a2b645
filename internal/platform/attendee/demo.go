package attendee

import (
	"crypto/rand"
	"encoding/base64"
	"strings"

	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/attendee/attendeedemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// startDemo starts the fake Attendee of `onbehalf demo`, with its webhook
// secret, and points the server at it. Attendee takes only https URLs of
// the server: its bots and webhooks reach the server through the demo's
// TLS front.
func startDemo(s platformdemo.Server) (*platformdemo.Platform, error) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	key, sec := platformdemo.Secret(24), base64.StdEncoding.EncodeToString(raw)
	f := attendeedemo.New(attendeedemo.Options{APIKey: key, WebhookSecret: sec, WebhookURL: s.HTTPSURL + "/webhooks/" + Name, Client: s.Client})
	s.Set(VarAPIKey, key)
	s.Set(VarAPIURL, f.URL())
	s.Set(VarWebhookSecret, sec)
	return &platformdemo.Platform{Fake: f, Left: "auto_leave_only_participant_in_meeting", HTTPSOnly: true}, nil
}

// probe is Get Bot, GET /api/v1/bots/{id}: documented 401 for an invalid
// key, 404 for an unknown bot.
var probe = platform.Probe{
	URL: func(get func(string) string) string {
		return platform.ConfiguredURL(get, VarAPIURL, DefaultAPIURL) + "/api/v1/bots/bot_" + strings.ReplaceAll(platform.NoBot, "-", "")[:16]
	},
	Auth: platform.TokenAuth, Documented: true,
	Hint: "check " + VarAPIURL + " for a self-hosted Attendee",
}
