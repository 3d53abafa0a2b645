// Package platformdemo holds what the platforms' fakes share. The fakes
// (recalldemo, meetstreamdemo, attendeedemo, meetingbaasdemo, one next to
// each adapter) are the bot platforms of `onbehalf demo` and of the
// conformance suite (platformtest): they ship in the binary, so neither
// they nor this package import testing.
package platformdemo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/swh"
)

// The pieces below are what the platforms' fakes share: the list of bots
// a fake created with the canned answer of its next create-bot request
// (Fake.FailCreate), JSON answers, bot IDs, Standard Webhooks signatures
// and webhook deliveries. What makes a fake behave like its platform stays
// in the fake.

// BotList is a fake's bots, oldest first, and the canned answer of its
// next create-bot request. Its methods are safe for concurrent use; the
// zero value is empty.
type BotList[B any] struct {
	mu   sync.Mutex
	bots []B
	fail *Failure
	// removed holds the IDs of bots removed (made to leave) through the
	// platform's API, and failRemove the canned answer of the next
	// remove-bot request.
	removed    map[string]bool
	failRemove *Failure
}

// Failure is a canned answer to a create-bot request (Fake.FailCreate).
type Failure struct {
	// Status and Body are the answer's, the body sent as given.
	Status int
	Body   string
}

// Add appends a bot.
func (l *BotList[B]) Add(b B) {
	l.mu.Lock()
	l.bots = append(l.bots, b)
	l.mu.Unlock()
}

// Find returns the first bot match accepts.
func (l *BotList[B]) Find(match func(B) bool) (b B, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.bots {
		if match(b) {
			return b, true
		}
	}
	return b, false
}

// Update runs fn with the list locked: for a fake that changes the state
// of its bots (pointers) while others read them.
func (l *BotList[B]) Update(fn func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fn()
}

// FailCreate makes the next create-bot request answer status with body
// (TakeFailure).
func (l *BotList[B]) FailCreate(status int, body string) {
	l.mu.Lock()
	l.fail = &Failure{Status: status, Body: body}
	l.mu.Unlock()
}

// TakeFailure returns the answer FailCreate set and clears it; nil when
// none is set.
func (l *BotList[B]) TakeFailure() *Failure {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fail
	l.fail = nil
	return f
}

// FailRemove makes the next remove-bot request answer status with body
// (Remove).
func (l *BotList[B]) FailRemove(status int, body string) {
	l.mu.Lock()
	l.failRemove = &Failure{Status: status, Body: body}
	l.mu.Unlock()
}

// Remove serves the part of a remove-bot request every fake shares, once
// the fake checked the API key: the canned answer of FailRemove (written,
// as application/json, and cleared), else whether a bot match accepts
// exists, which it then marks removed. found false (and nothing written)
// lets the fake answer the platform's 404; written true means the answer
// is sent.
func (l *BotList[B]) Remove(w http.ResponseWriter, id string, match func(B) bool) (found, written bool) {
	l.mu.Lock()
	fail := l.failRemove
	l.failRemove = nil
	l.mu.Unlock()
	if fail != nil {
		fail.Write(w, "application/json")
		return true, true
	}
	if _, ok := l.Find(match); !ok {
		return false, false
	}
	l.mu.Lock()
	if l.removed == nil {
		l.removed = map[string]bool{}
	}
	l.removed[id] = true
	l.mu.Unlock()
	return true, false
}

// WithRemoved sets Removed on the bots of bs that were removed (Remove)
// and returns bs. Call it with l unlocked (not inside Collect's fn).
func (l *BotList[B]) WithRemoved(bs []FakeBot) []FakeBot {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range bs {
		bs[i].Removed = l.removed[bs[i].ID]
	}
	return bs
}

// Write writes the canned answer, its body as given, with contentType.
func (f *Failure) Write(w http.ResponseWriter, contentType string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(f.Status)
	_, _ = io.WriteString(w, f.Body)
}

// Collect returns fn of every bot of l, in order, with l locked.
func Collect[B, T any](l *BotList[B], fn func(B) T) []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]T, len(l.bots))
	for i, b := range l.bots {
		out[i] = fn(b)
	}
	return out
}

// WriteJSON writes v as a JSON answer with status, as the platforms' APIs
// do: no HTML escaping, Content-Type application/json unless the caller
// set one.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // JSON values decoded or built by the fake
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// NewUUID returns a random version 4 UUID, as the platforms' bot IDs are.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// SignHeader adds the <prefix>id, <prefix>timestamp and <prefix>signature
// headers of a Standard Webhooks signature of body under key at now:
// prefix "webhook-" as Recall.ai signs, "svix-" as Svix does.
func SignHeader(h http.Header, prefix string, key []byte, now time.Time, body []byte) {
	id := "msg_" + rand.Text()
	h.Set(prefix+"id", id)
	h.Set(prefix+"timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set(prefix+"signature", swh.Sign(key, id, now, body))
}

// Deliver sends body as JSON with hc and the headers of h, as a platform
// delivers a webhook, and wants a 2xx answer: any other is an error
// "answered <status>: <start of the body>".
func Deliver(ctx context.Context, hc *http.Client, method, url string, h http.Header, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if h != nil {
		req.Header = h
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("answered %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}

// Fake is a platform's fake: an httptest server that creates bots
// the way the platform does, and bots that fetch their tokens the way the
// platform's bots do.
type Fake interface {
	// URL is the base URL the adapter is configured with.
	URL() string
	// Bots returns the bots created so far, as the fake read the
	// create-bot requests.
	Bots() []FakeBot
	// FailCreate makes the next create-bot request answer status with
	// body, as the platform answers errors.
	FailCreate(status int, body string)
	// FailRemove makes the next remove-bot request answer status with
	// body, as the platform answers errors.
	FailRemove(status int, body string)
	// Fetch makes a bot fetch its token(s) of kind from its token URL as
	// the platform's bot does (appended parameters, headers, fallbacks),
	// changed by t, and returns what the bot got.
	Fetch(ctx context.Context, platformBotID string, kind onbehalf.TokenKind, t Tamper) Fetched
}

// FakeBot is a bot as a fake read its create-bot request.
type FakeBot struct {
	ID         string
	MeetingURL string
	BotName    string
	// TokenURLs are the token URLs the bot got, by the kind each serves.
	TokenURLs map[onbehalf.TokenKind]string
	// Body is the decoded create-bot body.
	Body map[string]any
	// Removed is true once the adapter made the bot leave (RemoveBot).
	Removed bool
}

// Tamper changes a fetch the way an attacker or a confused platform would.
type Tamper struct {
	// URL rewrites the token URL before the fetch (nil: unchanged).
	URL func(string) string
	// Meeting makes the bot claim another meeting ("": as created).
	Meeting string
	// NoCredentials leaves out the platform's own credentials (header
	// secret, request signature).
	NoCredentials bool
}

// Fetched is what a platform's bot got from a token fetch.
type Fetched struct {
	// Status is the HTTP status the bot's last request got.
	Status int
	// Tokens are the tokens the bot could use, by kind.
	Tokens map[onbehalf.TokenKind]string
	// Body is the last answer's body (for messages).
	Body string
}

// Running is a fake as `onbehalf demo` runs it: its bots also report
// their status to the server, and it stops.
type Running interface {
	Fake
	// SendStatus makes the platform report that its bot is in status s,
	// with the platform's reason code ("" for none or the fake's
	// default), the way the platform sends its status webhooks.
	SendStatus(ctx context.Context, platformBotID string, s onbehalf.BotStatus, reason string) error
	// Close stops the fake.
	Close()
}
