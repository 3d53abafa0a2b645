package recall

import (
	"cmp"
	"strings"

	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recalldemo"
)

// startDemo starts the fake Recall.ai of `onbehalf demo`, with its
// verification secret, and points the server at it.
func startDemo(s platformdemo.Server) (*platformdemo.Platform, error) {
	key, verify := platformdemo.Secret(24), platformdemo.WebhookSecret()
	f := recalldemo.New(recalldemo.Options{APIKey: key, VerificationSecret: verify, WebhookURL: s.URL + "/webhooks/" + Name})
	s.Set(VarAPIKey, key)
	s.Set(VarAPIURL, f.URL())
	s.Set(VarVerificationSecret, verify)
	return &platformdemo.Platform{Fake: f,
		Left: "timeout_exceeded_everyone_left", Absent: "zoom_obf_user_not_in_meeting", Refused: "zoom_obf_token_invalid"}, nil
}

// probe is Retrieve Bot, GET /api/v1/bot/{id}/ (docs.recall.ai:
// bot_retrieve). Recall.ai's Django REST Framework API authenticates
// before it looks the bot up: 401 {"detail":"Invalid token."} for a wrong
// key or region. List Bots would work too, but returns real bots and is
// limited to 60 requests a minute per workspace.
var probe = platform.Probe{
	URL: func(get func(string) string) string {
		region := cmp.Or(strings.TrimSpace(get(VarRegion)), DefaultRegion)
		def, _ := BaseURL(region)
		return platform.ConfiguredURL(get, VarAPIURL, def) + "/api/v1/bot/" + platform.NoBot + "/"
	},
	Auth: platform.TokenAuth, Documented: true,
	Hint: "check " + VarRegion + ": a key works only in its own region",
}
