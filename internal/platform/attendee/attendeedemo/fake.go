// Package attendeedemo is a fake Attendee on an httptest.Server: the
// create-bot endpoint POST /api/v1/bots, answered like Attendee's Django
// REST Framework API (token authentication, serializer errors as
// {"field": ["message"]}, webhook errors as {"error": "…"}, 201 with the
// bot), bots that fetch their tokens exactly as Attendee's bots do (one
// POST, Python-default JSON body signed over the canonical JSON, no retry,
// no redirects), and bot.state_change webhooks in Attendee's format. Tests
// and the `onbehalf demo` command run it.
package attendeedemo

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// maxBody bounds a create-bot request body.
const maxBody = 1 << 20

// Options configure a Fake.
type Options struct {
	// APIKey is the key the fake accepts (Authorization: Token <key>).
	APIKey string
	// WebhookSecret is the project's webhook secret, base64 of 32 bytes as
	// Attendee's dashboard shows it. Attendee signs every callback and
	// webhook with it; "" makes the fake generate one (see Secret).
	WebhookSecret string
	// WebhookURL is the project's webhook (trigger bot.state_change), used
	// for bots created without webhooks of their own.
	WebhookURL string
	// Client makes the bots' requests and the webhooks (its redirect
	// policy is replaced: Attendee follows none). Like Attendee, the fake
	// takes only https URLs of the server: tests and the demo serve them
	// with platformdemo.ServeTLS and set Client to platformdemo.TLSClient().
	Client *http.Client
	// Now is the clock of timestamps.
	Now func() time.Time
}

// Fake is a running fake Attendee. Its methods are safe for concurrent
// use.
type Fake struct {
	o    Options
	key  []byte
	ts   *httptest.Server
	bots platformdemo.BotList[*Created]
}

// Created is an accepted create-bot request, and the bot's state.
type Created struct {
	platformdemo.FakeBot
	// TokenURL is callback_settings.zoom_tokens_url ("" when none).
	TokenURL string
	// Metadata is the bot's metadata, in the order Attendee reads it back
	// from its database; nil when none.
	Metadata Object
	// Webhooks are the bot's own webhook subscriptions.
	Webhooks []Webhook
	// State is the bot's state (Attendee's API code).
	State string
	// Header and Raw are the request's headers and body as received.
	Header http.Header
	Raw    []byte
}

// Webhook is a webhook subscription of a bot.
type Webhook struct {
	URL      string
	Triggers []string
}

var _ platformdemo.Fake = (*Fake)(nil)

// New starts a fake Attendee; Close stops it. A malformed WebhookSecret
// panics (a test's mistake).
func New(o Options) *Fake {
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	f := &Fake{o: o}
	if o.WebhookSecret == "" {
		f.key = make([]byte, 32)
		_, _ = rand.Read(f.key)
	} else {
		key, err := base64.StdEncoding.DecodeString(o.WebhookSecret)
		if err != nil || len(key) != 32 {
			panic("attendeedemo: WebhookSecret must be base64 of 32 bytes")
		}
		f.key = key
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/bots", f.handleBots)
	mux.HandleFunc("POST /api/v1/bots/{id}/leave", f.handleLeave)
	f.ts = httptest.NewServer(mux)
	return f
}

// URL is the base URL, the equivalent of https://app.attendee.dev.
func (f *Fake) URL() string { return f.ts.URL }

// Close shuts the fake down.
func (f *Fake) Close() { f.ts.Close() }

// Secret is the project's webhook secret as Attendee's dashboard shows it
// (ATTENDEE_WEBHOOK_SECRET).
func (f *Fake) Secret() string { return base64.StdEncoding.EncodeToString(f.key) }

// Bots implements platformdemo.Fake.
func (f *Fake) Bots() []platformdemo.FakeBot {
	return f.bots.WithRemoved(platformdemo.Collect(&f.bots, func(b *Created) platformdemo.FakeBot { return b.FakeBot }))
}

// Created returns the create-bot requests accepted so far.
func (f *Fake) Created() []Created {
	return platformdemo.Collect(&f.bots, func(b *Created) Created { return *b })
}

// FailCreate implements platformdemo.Fake: the next create-bot request
// gets status and body.
func (f *Fake) FailCreate(status int, body string) { f.bots.FailCreate(status, body) }

// bot returns the bot with the platform ID, or nil.
func (f *Fake) bot(id string) *Created {
	b, _ := f.bots.Find(func(b *Created) bool { return b.ID == id })
	return b
}

// handleBots is POST /api/v1/bots.
func (f *Fake) handleBots(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		platformdemo.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": `Method "` + r.Method + `" not allowed.`})
		return
	}
	if msg := f.authenticate(r); msg != "" {
		w.Header().Set("WWW-Authenticate", "Token")
		platformdemo.WriteJSON(w, http.StatusUnauthorized, map[string]string{"detail": msg})
		return
	}
	if fail := f.bots.TakeFailure(); fail != nil {
		fail.Write(w, "application/json")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		platformdemo.WriteJSON(w, http.StatusBadRequest, map[string]string{"detail": "JSON parse error - could not read the body"})
		return
	}
	var body map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&body); err != nil || body == nil {
		platformdemo.WriteJSON(w, http.StatusBadRequest, map[string]string{"detail": "JSON parse error - the body is not a JSON object"})
		return
	}
	bot, errs := f.validate(body)
	if len(errs) > 0 {
		platformdemo.WriteJSON(w, http.StatusBadRequest, errs)
		return
	}
	if msg := f.webhookError(bot.Webhooks); msg != "" {
		platformdemo.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
		return
	}
	bot.ID = "bot_" + rand.Text()[:16]
	bot.Body, bot.Header, bot.Raw = body, r.Header.Clone(), raw
	bot.State = "joining" // ready, then join_requested at once
	// The reply is built before the bot is listed: once listed, the fake's
	// status driver may change it (under the list's lock) at any moment.
	reply := f.botJSON(bot)
	f.bots.Add(bot)
	platformdemo.WriteJSON(w, http.StatusCreated, reply)
}

// authenticate checks the Authorization header as Attendee's
// ApiKeyAuthentication does and returns its refusal, or "".
func (f *Fake) authenticate(r *http.Request) string {
	if _, ok := r.Header["Authorization"]; !ok {
		return "Missing Authorization header"
	}
	parts := strings.Fields(r.Header.Get("Authorization"))
	if len(parts) != 2 || !strings.EqualFold(parts[0], "token") {
		return "Invalid Authorization header. Should have this format: Token <api_key>"
	}
	if f.o.APIKey == "" || subtle.ConstantTimeCompare([]byte(parts[1]), []byte(f.o.APIKey)) != 1 {
		return "Invalid or disabled API key"
	}
	return ""
}

// botJSON is Attendee's BotSerializer output for a new bot.
func (f *Fake) botJSON(b *Created) map[string]any {
	var metadata any
	if b.Metadata != nil {
		m := map[string]any{}
		for _, e := range b.Metadata {
			m[e.Key] = e.Value
		}
		metadata = m
	}
	return map[string]any{
		"id":                  b.ID,
		"metadata":            metadata,
		"meeting_url":         b.MeetingURL,
		"state":               b.State,
		"events":              []any{map[string]any{"type": "join_requested", "created_at": isoformat(f.o.Now())}},
		"transcription_state": "not_started",
		"recording_state":     "not_started",
		"join_at":             nil,
		"deduplication_key":   nil,
	}
}

// isoformat is Python's datetime.isoformat() of an aware UTC time:
// microseconds only when there are some.
func isoformat(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "+00:00"
}

// kindsOf returns the kinds a token URL serves, by its kinds parameter
// (Attendee does not know; the suite does): every kind when it names none.
func kindsOf(tokenURL string) []onbehalf.TokenKind {
	if u, err := url.Parse(tokenURL); err == nil {
		if kinds, err := onbehalf.ParseKinds(u.Query().Get("kinds")); err == nil {
			return kinds
		}
	}
	return onbehalf.Kinds
}
