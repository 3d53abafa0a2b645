package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/attendee/attendeefake"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas/meetingbaasfake"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream/meetstreamfake"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recallfake"
	"github.com/onbehalf/onbehalf/internal/zoomtest"
)

// env is the server's whole configuration in a demo: nothing comes from
// the process environment or a .env file, so that a developer's real
// settings (a database URL, real API keys) never mix with the fakes. The
// one exception is WEBHOOK_URL (and WEBHOOK_SECRET), which Run reads so
// that the demo's own receiver forwards to it.
type env struct {
	mu   sync.Mutex
	vals map[string]string
}

// Demo credentials of the fake Zoom app; the secret is new every run.
const (
	zoomClientID = "onbehalf-demo"
	demoUserName = "Demo User"
)

// newEnv returns the base configuration: a database in dir, the server on
// 127.0.0.1:port, and the fake Zoom app's credentials. The fakes add
// theirs.
func newEnv(dir string, port int, logLevel string) *env {
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	return &env{vals: map[string]string{
		"PORT":               strconv.Itoa(port),
		"LISTEN_ADDR":        "127.0.0.1:" + strconv.Itoa(port),
		"BASE_URL":           base,
		"DB_PATH":            filepath.Join(dir, "onbehalf.db"),
		"ZOOM_CLIENT_ID":     zoomClientID,
		"ZOOM_CLIENT_SECRET": secret(24),
		"LOG_LEVEL":          logLevel,
		// Signed token URLs only: the demo shows what production should do.
		"ALLOW_SECRET_URLS": "false",
	}}
}

// get is the server's Getenv.
func (e *env) get(k string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.vals[k]
}

// set sets a variable.
func (e *env) set(k, v string) {
	e.mu.Lock()
	e.vals[k] = v
	e.mu.Unlock()
}

// newZoom starts the fake Zoom with the demo's app and user.
func newZoom(e *env) *zoomtest.Server {
	z := zoomtest.New(e.get("ZOOM_CLIENT_ID"), e.get("ZOOM_CLIENT_SECRET"))
	z.AllowedRedirect = e.get("BASE_URL") + "/zoom/oauth-callback"
	z.AddUser(zoomtest.User{
		ID: zoomtest.DefaultUserID, AccountID: demoAccount, Email: "demo.user@example.com",
		FirstName: "Demo", LastName: "User", DisplayName: demoUserName,
	})
	return z
}

// secret returns n random bytes, base64url-encoded: an API key or a
// signing secret of the fakes.
func secret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// whsec returns a new Standard Webhooks secret (whsec_ + base64 of 32
// bytes).
func whsec() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// fake is a fake bot platform: its API creates bots, its bots fetch
// their tokens and report their status the way the platform's do.
type fake interface {
	URL() string
	Close()
	Bots() []platformtest.FakeBot
	Fetch(ctx context.Context, platformBotID string, kind onbehalf.TokenKind, t platformtest.Tamper) platformtest.Fetched
	SendStatus(ctx context.Context, platformBotID string, s onbehalf.BotStatus, reason string) error
}

// platformFake is one fake platform of the demo.
type platformFake struct {
	// name is the platform's key on the server; title its name for people.
	name, title string
	fake        fake
	// spec is the platform as the server runs it against the fake.
	spec platform.Spec
	// left is the platform's reason code for a bot that left because its
	// person left, absent the one for a bot whose person never came, and
	// refused the one for a bot that got no token ("" for the fake's
	// default).
	left, absent, refused string
}

// makers start the fake of each platform the demo knows, sending status
// webhooks to hook, and put the server's settings for it in e.
var makers = map[string]func(spec platform.Spec, hook string, e *env) (*platformFake, error){
	recall.Name: func(spec platform.Spec, hook string, e *env) (*platformFake, error) {
		key, verify := secret(24), whsec()
		f := recallfake.New(recallfake.Options{APIKey: key, VerificationSecret: verify, WebhookURL: hook})
		e.set(recall.VarAPIKey, key)
		e.set(recall.VarAPIURL, f.URL())
		e.set(recall.VarVerificationSecret, verify)
		return &platformFake{fake: f, spec: spec,
			left: "timeout_exceeded_everyone_left", absent: "zoom_obf_user_not_in_meeting", refused: "zoom_obf_token_invalid"}, nil
	},
	meetstream.Name: func(spec platform.Spec, hook string, e *env) (*platformFake, error) {
		key, signing := secret(24), secret(24)
		f := meetstreamfake.New(meetstreamfake.Options{APIKey: key, SigningSecret: signing, WebhookURL: hook, AllowHTTP: true})
		e.set(meetstream.VarAPIKey, key)
		e.set(meetstream.VarAPIURL, f.URL())
		e.set(meetstream.VarSigningSecret, signing)
		return &platformFake{fake: f, spec: spec, left: "Bot left the meeting: everyone else left"}, nil
	},
	attendee.Name: func(spec platform.Spec, hook string, e *env) (*platformFake, error) {
		key, raw := secret(24), make([]byte, 32)
		_, _ = rand.Read(raw)
		sec := base64.StdEncoding.EncodeToString(raw)
		f := attendeefake.New(attendeefake.Options{APIKey: key, WebhookSecret: sec, WebhookURL: hook, AllowHTTP: true})
		e.set(attendee.VarAPIKey, key)
		e.set(attendee.VarAPIURL, f.URL())
		e.set(attendee.VarWebhookSecret, sec)
		// Attendee takes only https token URLs; its fake, like the demo,
		// is plain http on loopback.
		spec.Load = func(env *platform.Env, deps platform.Deps) (onbehalf.Platform, error) {
			c := attendee.Config{APIKey: env.Get(attendee.VarAPIKey, ""), BaseURL: env.URL(attendee.VarAPIURL, attendee.DefaultAPIURL),
				WebhookSecret: env.Get(attendee.VarWebhookSecret, ""), AllowHTTP: true}
			if err := env.Err(); err != nil {
				return nil, err
			}
			return attendee.New(c, deps)
		}
		return &platformFake{fake: f, spec: spec, left: "auto_leave_only_participant_in_meeting"}, nil
	},
	meetingbaas.Name: func(spec platform.Spec, hook string, e *env) (*platformFake, error) {
		key, sec := secret(24), whsec()
		f, err := meetingbaasfake.New(meetingbaasfake.Options{APIKey: key, WebhookSecret: sec, WebhookURL: hook, AllowHTTP: true})
		if err != nil {
			return nil, err
		}
		e.set(meetingbaas.VarAPIKey, key)
		e.set(meetingbaas.VarAPIURL, f.URL())
		e.set(meetingbaas.VarWebhookSecret, sec)
		return &platformFake{fake: f, spec: spec, refused: "ZOOM_OBF_TOKEN_ERROR"}, nil
	},
}

// knownPlatforms are the platforms the demo has fakes for, in the order
// of the app's list.
var knownPlatforms = []platform.Spec{recall.Spec, meetstream.Spec, attendee.Spec, meetingbaas.Spec}

// startFakes starts the fake of every platform of specs that the demo
// knows, each sending its status webhooks to the server at base, and
// puts their settings in e. It says which platforms it has no fake for.
func startFakes(specs []platform.Spec, base string, e *env) (out []*platformFake, missing []string, err error) {
	defer func() {
		if err != nil {
			for _, f := range out {
				f.fake.Close()
			}
		}
	}()
	for _, s := range specs {
		start, ok := makers[s.Name]
		if !ok {
			missing = append(missing, s.Title)
			continue
		}
		f, err := start(s, base+"/webhooks/"+s.Name, e)
		if err != nil {
			return out, nil, err
		}
		f.name, f.title = s.Name, s.Title
		out = append(out, f)
	}
	return out, missing, nil
}
