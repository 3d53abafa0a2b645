package meetingbaas

import (
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas/meetingbaasdemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// startDemo starts the fake Meeting BaaS of `onbehalf demo`, with its
// webhook secret, and points the server at it.
func startDemo(s platformdemo.Server) (*platformdemo.Platform, error) {
	key, sec := platformdemo.Secret(24), platformdemo.WebhookSecret()
	f, err := meetingbaasdemo.New(meetingbaasdemo.Options{APIKey: key, WebhookSecret: sec, WebhookURL: s.URL + "/webhooks/" + Name, AllowHTTP: true})
	if err != nil {
		return nil, err
	}
	s.Set(VarAPIKey, key)
	s.Set(VarAPIURL, f.URL())
	s.Set(VarWebhookSecret, sec)
	return &platformdemo.Platform{Fake: f, Refused: "ZOOM_OBF_TOKEN_ERROR"}, nil
}

// probe: none; Meeting BaaS's v2 docs show no read-only endpoint whose
// answer is known to tell the keys apart.
var probe = platform.Probe{None: "its API has no documented read-only call that tells a wrong key from a right one"}
