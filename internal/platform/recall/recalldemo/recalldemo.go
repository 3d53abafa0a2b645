// Package recalldemo is a fake Recall.ai on an httptest.Server: the
// create-bot endpoint POST /api/v1/bot/, answered like Recall's Django REST
// Framework API (token authentication, field errors as
// {"field": ["message"]}, 201 with the bot), bots that fetch their tokens
// the way Recall's bots do, and status webhooks in Recall's format. Tests
// and the `onbehalf demo` command run it.
package recalldemo

import (
	"bytes"
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// maxBody bounds a create-bot request body.
const maxBody = 1 << 20

// Options configure a Fake.
type Options struct {
	// APIKey is the key the fake accepts.
	APIKey string
	// Region is the region the fake is (default us-east-1): a request whose
	// Host names another region's API ({region}.recall.ai) gets the 401 of
	// a key that region does not know.
	Region string
	// VerificationSecret (whsec_…), when set, signs every token request
	// and every status webhook the Standard Webhooks way (webhook-*).
	VerificationSecret string
	// WebhookSecret (whsec_…), when set, makes the workspace a legacy one:
	// status webhooks are signed by Svix with this endpoint secret
	// (svix-* headers) instead.
	WebhookSecret string
	// WebhookURL is the workspace's webhook endpoint (SendStatus posts to
	// it; Recall has no per-bot webhook URL).
	WebhookURL string
	// Client makes the bots' requests (default: a client with a 30 s
	// timeout).
	Client *http.Client
	// Now is the clock of signatures and status timestamps.
	Now func() time.Time
}

// Fake is a running fake Recall.ai. Its methods are safe for concurrent use.
type Fake struct {
	o    Options
	ts   *httptest.Server
	bots platformdemo.BotList[Created]

	mu    sync.Mutex
	delay time.Duration
}

// Created is an accepted create-bot request.
type Created struct {
	platformdemo.FakeBot
	// Metadata is the bot's metadata object (echoed in status webhooks).
	Metadata map[string]any
	// Header and Raw are the request's headers and body as received.
	Header http.Header
	Raw    []byte
}

var _ platformdemo.Fake = (*Fake)(nil)

// New starts a fake Recall.ai; Close stops it.
func New(o Options) *Fake {
	o.Region = cmp.Or(o.Region, "us-east-1")
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	f := &Fake{o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/bot/{$}", f.handleBot)
	mux.HandleFunc("POST /api/v1/bot/{id}/leave_call/", f.handleLeave)
	// Without the trailing slash Django finds no route.
	mux.HandleFunc("/api/v1/bot", func(w http.ResponseWriter, r *http.Request) {
		platformdemo.WriteJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
	})
	f.ts = httptest.NewServer(mux)
	return f
}

// URL is the base URL, the equivalent of https://us-east-1.recall.ai.
func (f *Fake) URL() string { return f.ts.URL }

// Close shuts the fake down.
func (f *Fake) Close() { f.ts.Close() }

// Created returns copies of the accepted create-bot requests, in order.
func (f *Fake) Created() []Created {
	return platformdemo.Collect(&f.bots, func(b Created) Created {
		b.Header, b.Raw = b.Header.Clone(), bytes.Clone(b.Raw)
		return b
	})
}

// Bots implements platformdemo.Fake.
func (f *Fake) Bots() []platformdemo.FakeBot {
	var out []platformdemo.FakeBot
	for _, b := range f.Created() {
		out = append(out, b.FakeBot)
	}
	return f.bots.WithRemoved(out)
}

// bot returns the bot with the given ID.
func (f *Fake) bot(id string) (Created, bool) {
	return f.bots.Find(func(b Created) bool { return b.ID == id })
}

// FailCreate implements platformdemo.Fake: the next create-bot request,
// whatever it holds, gets status and body (as application/json).
func (f *Fake) FailCreate(status int, body string) { f.bots.FailCreate(status, body) }

// SetDelay makes create-bot requests wait d before being answered (a
// request whose client gives up first gets no answer).
func (f *Fake) SetDelay(d time.Duration) {
	f.mu.Lock()
	f.delay = d
	f.mu.Unlock()
}

// handleBot serves POST /api/v1/bot/.
func (f *Fake) handleBot(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		platformdemo.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": fmt.Sprintf("Method %q not allowed.", r.Method)})
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		platformdemo.WriteJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"detail": "Request body too large."})
		return
	}
	fail := f.bots.TakeFailure()
	f.mu.Lock()
	delay := f.delay
	f.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if fail != nil {
		fail.Write(w, "application/json")
		return
	}
	if status, body := f.authenticate(r); status != 0 {
		platformdemo.WriteJSON(w, status, body)
		return
	}
	bot, errs := parseBot(raw)
	if errs != nil {
		platformdemo.WriteJSON(w, http.StatusBadRequest, errs)
		return
	}
	bot.ID = platformdemo.NewUUID()
	bot.Header = r.Header.Clone()
	bot.Raw = raw
	f.bots.Add(bot)
	platformdemo.WriteJSON(w, http.StatusCreated, map[string]any{
		"id":             bot.ID,
		"bot_name":       bot.BotName,
		"meeting_url":    bot.MeetingURL,
		"metadata":       bot.Metadata,
		"join_at":        nil,
		"status_changes": []any{},
	})
}

// authenticate checks the API key as Recall's DRF token authentication
// does, and the region: keys are per region, so another region's host
// answers as for an unknown key. It returns 0 when the request may go on.
func (f *Fake) authenticate(r *http.Request) (int, any) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return http.StatusUnauthorized, map[string]string{"detail": "Authentication credentials were not provided."}
	}
	// Recall's own samples send the bare key; its docs say "Token <key>".
	key := h
	if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Token") {
		key = rest
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(f.o.APIKey)) != 1 || !f.ownHost(r.Host) {
		return http.StatusUnauthorized, map[string]string{"detail": "Invalid token."}
	}
	return 0, nil
}

// ownHost reports whether host is this fake's region (or not a Recall
// host at all, as the loopback address of the test server).
func (f *Fake) ownHost(host string) bool {
	name := strings.ToLower(host)
	if h, _, ok := strings.Cut(name, ":"); ok {
		name = h
	}
	region, ok := strings.CutSuffix(name, ".recall.ai")
	if !ok {
		return true
	}
	if region == "api" {
		region = "us-east-1"
	}
	return region == f.o.Region
}

// parseBot validates a create-bot body the way Recall's serializer does
// and returns the bot, or DRF-style field errors.
func parseBot(raw []byte) (Created, any) {
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Created{}, map[string]string{"detail": "JSON parse error - " + err.Error()}
	}
	fields, ok := doc.(map[string]any)
	if !ok {
		return Created{}, map[string][]string{"non_field_errors": {"Invalid data. Expected a dictionary, but got " + kindOf(doc) + "."}}
	}
	errs := map[string]any{}
	bot := Created{FakeBot: platformdemo.FakeBot{Body: fields, TokenURLs: map[onbehalf.TokenKind]string{}}}
	switch v, present := fields["meeting_url"]; {
	case !present || v == nil:
		errs["meeting_url"] = []string{"This field is required."}
	case !isString(v):
		errs["meeting_url"] = []string{"Not a valid string."}
	case strings.TrimSpace(v.(string)) == "":
		errs["meeting_url"] = []string{"This field may not be blank."}
	case !validURL(v.(string)):
		errs["meeting_url"] = []string{"Enter a valid URL."}
	default:
		bot.MeetingURL = v.(string)
	}
	if v, present := fields["bot_name"]; present {
		if s, ok := v.(string); ok {
			bot.BotName = s
		} else {
			errs["bot_name"] = []string{"Not a valid string."}
		}
	}
	if v, present := fields["zoom"]; present && v != nil {
		if zerrs := parseZoom(v, bot.TokenURLs); zerrs != nil {
			errs["zoom"] = zerrs
		}
	}
	if v, present := fields["metadata"]; present && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			errs["metadata"] = []string{"Expected a dictionary of items but got type \"" + kindOf(v) + "\"."}
		}
		bot.Metadata = m
	}
	if len(errs) > 0 {
		return Created{}, errs
	}
	return bot, nil
}

// zoomURLFields are the token URL fields of the zoom object.
var zoomURLFields = map[string]onbehalf.TokenKind{
	"obf_token_url":  onbehalf.KindOBF,
	"zak_url":        onbehalf.KindZAK,
	"join_token_url": onbehalf.KindJoin,
}

// parseZoom reads the zoom object into urls, or returns its field errors.
func parseZoom(v any, urls map[onbehalf.TokenKind]string) any {
	zoom, ok := v.(map[string]any)
	if !ok {
		return map[string][]string{"non_field_errors": {"Invalid data. Expected a dictionary, but got " + kindOf(v) + "."}}
	}
	errs := map[string][]string{}
	for field, kind := range zoomURLFields {
		raw, present := zoom[field]
		if !present || raw == nil {
			continue
		}
		s, ok := raw.(string)
		if !ok || !validURL(s) {
			errs[field] = []string{"Enter a valid URL."}
			continue
		}
		urls[kind] = s
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// validURL is Django's URLValidator in short: http or https, a host.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && !strings.ContainsAny(s, " \t\r\n")
}

func isString(v any) bool {
	_, ok := v.(string)
	return ok
}

// kindOf names the JSON type of a decoded value the way DRF (Python) does.
func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case float64:
		return "int"
	case bool:
		return "bool"
	case map[string]any:
		return "dict"
	}
	return "NoneType"
}
