package meetstreamdemo

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// minTextToken is the length a text/plain answer must exceed to count as a
// token.
const minTextToken = 50

// maxAnswer bounds how much of a token answer a bot reads.
const maxAnswer = 1 << 20

// Fetch makes bot platformBotID fetch its token of kind as MeetStream's
// bots do, changed by t:
//
//   - GET the token URL, plus meeting_number=<id> for OBF (not for ZAK),
//     with X-Bot-Id and, when the bot has one, X-Webhook-Secret;
//   - a 405, or a 2xx answer that is not a usable token, is retried once
//     as POST to the same URL (query kept, meeting_number not appended)
//     with JSON {"bot_id", "meeting_number" (OBF), "webhook_secret"?};
//   - a 400 on the GET is final, any other non-2xx fails;
//   - a usable answer is JSON {"token"}, {"zak"} or {"obf"}, or a
//     text/plain token longer than 50 characters.
func (f *Fake) Fetch(ctx context.Context, platformBotID string, kind onbehalf.TokenKind, t platformdemo.Tamper) platformdemo.Fetched {
	b := f.find(platformBotID)
	if b == nil {
		return platformdemo.Fetched{Body: "meetstreamdemo: no bot " + platformBotID}
	}
	if b.kind != kind {
		return platformdemo.Fetched{Body: "meetstreamdemo: the bot has no " + string(kind) + " token URL"}
	}
	target := b.tokenURL
	if t.URL != nil {
		target = t.URL(target)
	}
	meeting := b.meetingNumber
	if t.Meeting != "" {
		meeting = t.Meeting
	}
	secret := f.o.WebhookSecret
	if t.NoCredentials {
		secret = ""
	}
	getURL := target
	if kind == onbehalf.KindOBF {
		getURL = appendQuery(target, "meeting_number", meeting)
	}
	got := f.try(ctx, http.MethodGet, getURL, nil, platformBotID, secret, kind)
	switch {
	case got.Status/100 == 2 && got.Tokens != nil: // a token
		return got
	case got.Status == http.StatusMethodNotAllowed, got.Status/100 == 2: // retried as POST
	default: // 400 is final, and so is any other failure
		return got
	}
	body := map[string]any{"bot_id": platformBotID}
	if kind == onbehalf.KindOBF {
		body["meeting_number"] = jsonMeeting(meeting)
	}
	if secret != "" {
		body["webhook_secret"] = secret
	}
	raw, _ := json.Marshal(body)
	return f.try(ctx, http.MethodPost, target, raw, platformBotID, secret, kind)
}

// try makes one token request and reads the answer as the bot does.
func (f *Fake) try(ctx context.Context, method, target string, body []byte, botID, secret string, kind onbehalf.TokenKind) platformdemo.Fetched {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return platformdemo.Fetched{Body: "meetstreamdemo: " + err.Error()}
	}
	req.Header.Set("X-Bot-Id", botID)
	if secret != "" {
		req.Header.Set("X-Webhook-Secret", secret)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "meetstreamdemo-bot")
	resp, err := f.hc.Do(req)
	if err != nil {
		return platformdemo.Fetched{Body: "meetstreamdemo: " + err.Error()}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	got := platformdemo.Fetched{Status: resp.StatusCode, Body: string(raw)}
	if resp.StatusCode/100 == 2 {
		if tok := usable(resp.Header.Get("Content-Type"), raw); tok != "" {
			got.Tokens = map[onbehalf.TokenKind]string{kind: tok}
		}
	}
	return got
}

// usable returns the token of an answer, or "" when the bot cannot use it.
func usable(contentType string, raw []byte) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimSpace(raw)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") || bytes.HasPrefix(trimmed, []byte("{")) {
		var m map[string]any
		if json.Unmarshal(trimmed, &m) != nil {
			return ""
		}
		for _, k := range []string{"token", "zak", "obf"} {
			if s, ok := m[k].(string); ok && s != "" {
				return s
			}
		}
		return ""
	}
	if len(trimmed) > minTextToken {
		return string(trimmed)
	}
	return ""
}

// appendQuery appends name=value to a URL's query without re-encoding what
// is there (the signed parameters stay byte for byte).
func appendQuery(target, name, value string) string {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return target + sep + name + "=" + url.QueryEscape(value)
}

// jsonMeeting is a meeting number as the POST body carries it: a JSON
// number when it is one.
func jsonMeeting(m string) any {
	if m != "" && strings.Trim(m, "0123456789") == "" {
		return json.Number(m)
	}
	return m
}

// event is how MeetStream words a status in its webhooks.
type event struct {
	name, botEvent, botStatus, message string
	statusCode                         int
}

// events are the webhooks SendStatus sends for each status. A failure
// comes as MeetStream's two-layer bot.stopped: event "bot.stopped" with the
// specific "bot_event".
var events = map[onbehalf.BotStatus]event{
	onbehalf.BotCreated: {"bot.scheduled", "bot.scheduled", "Scheduled", "Bot scheduled", 200},
	onbehalf.BotJoining: {"bot.joining", "bot.joining", "Joining", "Bot is joining the meeting", 200},
	onbehalf.BotWaiting: {"bot.in_waiting_room", "bot.in_waiting_room", "Joining", "Bot is in the waiting room", 200},
	onbehalf.BotInCall:  {"bot.inmeeting", "bot.inmeeting", "InMeeting", "Bot joined the meeting", 200},
	onbehalf.BotDone:    {"bot.stopped", "bot.stopped", "Stopped", "Bot left the meeting", 200},
	onbehalf.BotFailed:  {"bot.stopped", "bot.notallowed", "NotAllowed", "Failed: Not admitted to meeting", 500},
}

// SendStatus posts a status webhook for bot platformBotID in MeetStream's
// format, {"event", "bot_event", "bot_id", "bot_status", "message",
// "status_code", "timestamp", "custom_attributes"}, with reason as the
// message when given: to the bot's callback_url, unsigned as MeetStream
// sends those, or else to Options.WebhookURL, signed with
// Options.SigningSecret when set (X-MeetStream-Signature: sha256=<hex
// HMAC-SHA256 of the body>, X-MeetStream-Timestamp).
func (f *Fake) SendStatus(ctx context.Context, platformBotID string, s onbehalf.BotStatus, reason string) error {
	b := f.find(platformBotID)
	if b == nil {
		return errors.New("meetstreamdemo: no bot " + platformBotID)
	}
	ev, ok := events[s]
	if !ok {
		return fmt.Errorf("meetstreamdemo: no MeetStream event for status %q", s)
	}
	if reason != "" {
		ev.message = reason
	}
	attrs := b.attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	now := f.o.Now().UTC()
	body, err := json.Marshal(map[string]any{
		"event":             ev.name,
		"bot_event":         ev.botEvent,
		"bot_id":            platformBotID,
		"bot_status":        ev.botStatus,
		"message":           ev.message,
		"status_code":       ev.statusCode,
		"timestamp":         now.Format(time.RFC3339Nano),
		"custom_attributes": attrs,
	})
	if err != nil {
		return err
	}
	dest, secret := b.callbackURL, ""
	if dest == "" {
		dest, secret = f.o.WebhookURL, f.o.SigningSecret
	}
	if dest == "" {
		return errors.New("meetstreamdemo: the bot has no callback_url and Options.WebhookURL is empty")
	}
	h := http.Header{}
	if secret != "" {
		h.Set("X-MeetStream-Signature", "sha256="+Sign(secret, body))
		h.Set("X-MeetStream-Timestamp", now.Format(time.RFC3339))
	}
	// MeetStream does not retry: an event its receiver refuses is lost.
	if err := platformdemo.Deliver(ctx, f.hc, http.MethodPost, dest, h, body); err != nil {
		return fmt.Errorf("meetstreamdemo: the webhook: %w", err)
	}
	return nil
}

// Sign returns hex HMAC-SHA256(secret, body): the hex part of a workspace
// endpoint's X-MeetStream-Signature.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
