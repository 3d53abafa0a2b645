// Package meetstreamdemo is a fake of MeetStream on an httptest server,
// for the adapter's tests and the `onbehalf demo` command. It creates bots
// the way MeetStream's API does (POST /api/v1/bots/create_bot with
// Authorization: Token <key>, its 401 and 400 answers, 201 with bot_id),
// its bots fetch their token as MeetStream's bots do (GET with
// meeting_number appended for OBF and X-Bot-Id, a POST JSON fallback on a
// 405 or an unusable answer, a 400 final), and it sends status webhooks in
// MeetStream's format (SendStatus).
//
// It is written from MeetStream's own description of that behaviour
// (github.com/meetstream-ai/labs, zoom-authenticated-joins), not from the
// adapter, so that the two can disagree.
package meetstreamdemo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// maxURL is the longest token URL MeetStream takes.
const maxURL = 4096

// Options configure a Fake.
type Options struct {
	// APIKey is the key create-bot requests must carry
	// (Authorization: Token <key>).
	APIKey string
	// WebhookSecret, when set, is the secret the bots send with token
	// requests: X-Webhook-Secret, and webhook_secret in the POST body.
	WebhookSecret string
	// SigningSecret signs the status webhooks sent to WebhookURL
	// (X-MeetStream-Signature), as a workspace endpoint's secret does.
	SigningSecret string
	// WebhookURL is the workspace webhook endpoint: where SendStatus posts
	// for a bot created without a callback_url.
	WebhookURL string
	// AllowHTTP lets token URLs be http:// (MeetStream answers 400 "must
	// use https" otherwise).
	AllowHTTP bool
	// Now is the clock of webhook timestamps; nil means time.Now.
	Now func() time.Time
	// HTTP is the client of the bots' token fetches and of webhooks; nil
	// means a client with a 15 s timeout.
	HTTP *http.Client
}

// Fake is a fake MeetStream. It implements platformdemo.Fake; its methods
// are safe for concurrent use.
type Fake struct {
	o    Options
	srv  *httptest.Server
	hc   *http.Client
	bots platformdemo.BotList[*bot]
}

var _ platformdemo.Fake = (*Fake)(nil)

// bot is a bot the fake created.
type bot struct {
	platformdemo.FakeBot
	kind          onbehalf.TokenKind
	tokenURL      string
	meetingNumber string
	callbackURL   string
	attributes    map[string]any
}

// New starts a fake MeetStream; Close stops it.
func New(o Options) *Fake {
	if o.Now == nil {
		o.Now = time.Now
	}
	f := &Fake{o: o, hc: o.HTTP}
	if f.hc == nil {
		f.hc = &http.Client{Timeout: 15 * time.Second}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/bots/create_bot", f.createBot)
	mux.HandleFunc("/api/v1/bots/{id}/remove_bot", f.removeBot)
	f.srv = httptest.NewServer(mux)
	return f
}

// Close stops the fake's server.
func (f *Fake) Close() { f.srv.Close() }

// URL is the base URL the adapter is configured with (MEETSTREAM_API_URL).
func (f *Fake) URL() string { return f.srv.URL }

// Bots returns the bots created so far.
func (f *Fake) Bots() []platformdemo.FakeBot {
	return f.bots.WithRemoved(platformdemo.Collect(&f.bots, func(b *bot) platformdemo.FakeBot { return b.FakeBot }))
}

// FailCreate makes the next create-bot request answer status with body.
func (f *Fake) FailCreate(status int, body string) { f.bots.FailCreate(status, body) }

// find returns the bot with MeetStream ID id, or nil.
func (f *Fake) find(id string) *bot {
	b, _ := f.bots.Find(func(b *bot) bool { return b.ID == id })
	return b
}

// createBot serves POST /api/v1/bots/create_bot.
func (f *Fake) createBot(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		platformdemo.WriteJSON(w, http.StatusMethodNotAllowed, map[string]any{"detail": fmt.Sprintf("Method %q not allowed.", r.Method)})
		return
	}
	if !f.authorized(w, r) {
		return
	}
	if fail := f.bots.TakeFailure(); fail != nil {
		fail.Write(w, "application/json")
		return
	}
	b, msg := f.readBot(r)
	if msg != "" {
		platformdemo.WriteJSON(w, http.StatusBadRequest, map[string]any{"message": msg})
		return
	}
	f.bots.Add(b)
	platformdemo.WriteJSON(w, http.StatusCreated, map[string]any{
		"bot_id": b.ID, "transcript_id": platformdemo.NewUUID(), "meeting_url": b.MeetingURL, "status": "Active",
	})
}

// readBot reads and checks a create-bot body as MeetStream does; msg is
// MeetStream's 400 message when it refuses it.
func (f *Fake) readBot(r *http.Request) (b *bot, msg string) {
	var body map[string]any
	d := json.NewDecoder(r.Body)
	d.UseNumber()
	if err := d.Decode(&body); err != nil || body == nil {
		return nil, "Request body must be a JSON object."
	}
	b = &bot{FakeBot: platformdemo.FakeBot{ID: platformdemo.NewUUID(), Body: body, TokenURLs: map[onbehalf.TokenKind]string{}}}
	b.MeetingURL, _ = body["meeting_link"].(string)
	if b.MeetingURL == "" {
		return nil, "meeting_link is required."
	}
	b.meetingNumber = meetingNumber(b.MeetingURL)
	b.BotName, _ = body["bot_name"].(string)
	if v, ok := body["zoom"]; ok {
		zoom, ok := v.(map[string]any)
		if !ok {
			return nil, "zoom must be an object."
		}
		if _, old := zoom["use_zoom_obf"]; old {
			return nil, "use_zoom_obf is no longer supported: use zoom.zak_url or zoom.obf_url."
		}
		if _, old := zoom["zoom_oauth_connection_user_id"]; old {
			return nil, "zoom_oauth_connection_user_id is no longer supported: use zoom.zak_url or zoom.obf_url."
		}
		_, hasOBF := zoom["obf_url"]
		_, hasZAK := zoom["zak_url"]
		if hasOBF && hasZAK {
			return nil, "Pass only one of zoom.zak_url or zoom.obf_url"
		}
		for field, kind := range map[string]onbehalf.TokenKind{"obf_url": onbehalf.KindOBF, "zak_url": onbehalf.KindZAK} {
			if v, ok := zoom[field]; ok {
				s, _ := v.(string)
				if msg := f.checkTokenURL("zoom."+field, s); msg != "" {
					return nil, msg
				}
				b.kind, b.tokenURL = kind, s
				b.TokenURLs[kind] = s
			}
		}
	}
	if v, ok := body["callback_url"]; ok {
		s, _ := v.(string)
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, "callback_url must be a valid URL."
		}
		b.callbackURL = s
	}
	if v, ok := body["custom_attributes"]; ok {
		if b.attributes, ok = v.(map[string]any); !ok {
			return nil, "custom_attributes must be an object."
		}
	}
	return b, ""
}

// checkTokenURL checks a zoom.*_url as MeetStream does.
func (f *Fake) checkTokenURL(field, s string) string {
	u, err := url.Parse(s)
	switch {
	case s == "" || err != nil:
		return field + " must be a valid URL."
	case u.Scheme != "https" && !(f.o.AllowHTTP && u.Scheme == "http"):
		return field + " must use https."
	case u.Host == "":
		return field + " must include a host."
	case len(s) > maxURL:
		return fmt.Sprintf("%s must be at most %d characters.", field, maxURL)
	case u.Query().Has("meeting_number"):
		return field + " must not include meeting_number: MeetStream appends it."
	}
	return ""
}

// meetingNumber returns the meeting ID of a Zoom link: the first path
// segment of 9 to 12 digits.
func meetingNumber(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if len(seg) >= 9 && len(seg) <= 12 && strings.Trim(seg, "0123456789") == "" {
			return seg
		}
	}
	return ""
}
