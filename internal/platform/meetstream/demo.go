package meetstream

import (
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream/meetstreamdemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// startDemo starts the fake MeetStream of `onbehalf demo`, with its
// signing secret, and points the server at it.
func startDemo(s platformdemo.Server) (*platformdemo.Platform, error) {
	key, signing := platformdemo.Secret(24), platformdemo.Secret(24)
	f := meetstreamdemo.New(meetstreamdemo.Options{APIKey: key, SigningSecret: signing, WebhookURL: s.URL + "/webhooks/" + Name, AllowHTTP: true})
	s.Set(VarAPIKey, key)
	s.Set(VarAPIURL, f.URL())
	s.Set(VarSigningSecret, signing)
	return &platformdemo.Platform{Fake: f, Left: "Bot left the meeting: everyone else left"}, nil
}

// probe is Get Bot Details, GET /api/v1/bots/{id}/detail; MeetStream's
// docs say nothing of its answers for a wrong key or an unknown bot.
var probe = platform.Probe{
	URL: func(get func(string) string) string {
		return platform.ConfiguredURL(get, VarAPIURL, DefaultAPIURL) + "/api/v1/bots/" + platform.NoBot + "/detail"
	},
	Auth: platform.TokenAuth,
}
