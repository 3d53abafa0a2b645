// Package meetingbaasdemo is a fake of Meeting BaaS (API v2) on an
// httptest server, for the adapter's tests and the `onbehalf demo`
// command. It creates bots as POST /v2/bots does (x-meeting-baas-api-key
// check, validation of the body, 201 {"success": true, "data":
// {"bot_id"}}, errors in Meeting BaaS's shape), its bots fetch their
// tokens as Meeting BaaS bots do (GET with bot_id or bot_uuid and extra
// appended, a bare ASCII token in a text/plain answer, 15 s), and it
// sends status webhooks as Meeting BaaS does (Svix-signed account
// webhooks, per-bot callbacks with x-mb-secret).
package meetingbaasdemo

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// Names of the bot ID parameter a bot appends to its token URLs: the v2
// guide says bot_id, the v2 OpenAPI description and v1 say bot_uuid.
const (
	ParamBotID   = "bot_id"
	ParamBotUUID = "bot_uuid"
)

// DefaultFetchTimeout is how long a Meeting BaaS bot waits for its token
// URL.
const DefaultFetchTimeout = 15 * time.Second

// Options configure a Fake.
type Options struct {
	// APIKey is the key create-bot requests must carry in
	// x-meeting-baas-api-key.
	APIKey string
	// WebhookSecret is the account webhook endpoint's signing secret
	// (whsec_…): account webhooks are Svix-signed with it ("" sends them
	// unsigned).
	WebhookSecret string
	// WebhookURL is the account webhook endpoint ("" has none).
	WebhookURL string
	// AllowHTTP lets meeting_url be http:// (Meeting BaaS wants https).
	// Token and callback URLs may be http:// either way: Meeting BaaS only
	// documents them as URIs.
	AllowHTTP bool
	// BotIDParam is the parameter naming the bot on token fetches:
	// ParamBotID (default) or ParamBotUUID.
	BotIDParam string
	// FetchTimeout bounds a token fetch (default DefaultFetchTimeout).
	FetchTimeout time.Duration
	// Client sends token fetches and webhooks (default: a new client).
	Client *http.Client
	// Now is the clock of webhooks (default time.Now).
	Now func() time.Time
}

// Fake is a fake Meeting BaaS. Its methods are safe for concurrent use.
type Fake struct {
	o    Options
	key  []byte // of WebhookSecret
	srv  *httptest.Server
	bots platformdemo.BotList[*bot]
}

var _ platformdemo.Fake = (*Fake)(nil)

// bot is a bot as the fake read its create-bot request.
type bot struct {
	id, meetingURL, name string
	tokenURLs            map[onbehalf.TokenKind]string
	// extra is the compact JSON of the bot's extra object, nil without.
	extra json.RawMessage
	// callback is the bot's callback_config when callback_enabled.
	callbackURL, callbackSecret, callbackMethod string
	body                                        map[string]any
	createdAt                                   time.Time
}

// New starts a fake; Close stops it.
func New(o Options) (*Fake, error) {
	o.BotIDParam = cmp.Or(o.BotIDParam, ParamBotID)
	if o.BotIDParam != ParamBotID && o.BotIDParam != ParamBotUUID {
		return nil, fmt.Errorf("meetingbaasdemo: BotIDParam %q: want %s or %s", o.BotIDParam, ParamBotID, ParamBotUUID)
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	f := &Fake{o: o}
	if o.WebhookSecret != "" {
		key, err := onbehalf.ParseWebhookSecret(o.WebhookSecret)
		if err != nil {
			return nil, fmt.Errorf("meetingbaasdemo: WebhookSecret: %w", err)
		}
		f.key = key
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/bots", f.createBot)
	mux.HandleFunc("POST /v2/bots/{id}/leave", f.leave)
	f.srv = httptest.NewServer(mux)
	return f, nil
}

// URL is the fake's base URL (MEETINGBAAS_API_URL).
func (f *Fake) URL() string { return f.srv.URL }

// Close stops the fake.
func (f *Fake) Close() { f.srv.Close() }

// Bots returns the bots created so far, oldest first.
func (f *Fake) Bots() []platformdemo.FakeBot {
	return f.bots.WithRemoved(platformdemo.Collect(&f.bots, func(b *bot) platformdemo.FakeBot {
		return platformdemo.FakeBot{ID: b.id, MeetingURL: b.meetingURL, BotName: b.name, TokenURLs: maps.Clone(b.tokenURLs), Body: b.body}
	}))
}

// FailCreate makes the next create-bot request (with the right key)
// answer status with body.
func (f *Fake) FailCreate(status int, body string) { f.bots.FailCreate(status, body) }

// bot returns the bot with the given ID, or nil.
func (f *Fake) bot(id string) *bot {
	b, _ := f.bots.Find(func(b *bot) bool { return b.id == id })
	return b
}

// createBot serves POST /v2/bots.
func (f *Fake) createBot(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	if fail := f.bots.TakeFailure(); fail != nil {
		fail.Write(w, contentJSON)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "Unsupported Media Type", "FST_ERR_CTP_INVALID_MEDIA_TYPE",
			"Unsupported Media Type: "+r.Header.Get("Content-Type"))
		return
	}
	body, err := decodeBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request", "FST_ERR_CTP_INVALID_JSON_BODY",
			"Body is not valid JSON but content-type is set to 'application/json'")
		return
	}
	b, msg := readBot(body, f.o.AllowHTTP)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "Bad Request", "FST_ERR_VALIDATION", msg)
		return
	}
	b.id = platformdemo.NewUUID()
	b.createdAt = f.o.Now()
	f.bots.Add(b)
	writeJSON(w, http.StatusCreated, map[string]any{"success": true, "data": map[string]any{"bot_id": b.id}})
}

// writeError writes an error in Meeting BaaS's shape.
func writeError(w http.ResponseWriter, status int, name, code, message string) {
	writeJSON(w, status, map[string]any{"success": false, "error": name, "code": code, "statusCode": status, "message": message})
}

// contentJSON is the Content-Type of Meeting BaaS's (Fastify's) JSON
// answers.
const contentJSON = "application/json; charset=utf-8"

// writeJSON writes v as JSON with status, as Meeting BaaS does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentJSON)
	platformdemo.WriteJSON(w, status, v)
}
