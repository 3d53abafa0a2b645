package meetingbaasdemo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// DefaultErrorCode is the error_code of a failed bot when SendStatus gets
// no code: the OBF failure a person meets most.
const DefaultErrorCode = "WAITING_FOR_AUTHORIZED_USER_TIMEOUT"

// statusCodes are the bot.status_change codes SendStatus sends by default.
var statusCodes = map[onbehalf.BotStatus]string{
	onbehalf.BotCreated: "queued",
	onbehalf.BotJoining: "joining_call",
	onbehalf.BotWaiting: "in_waiting_for_host",
	onbehalf.BotInCall:  "in_call_recording",
	onbehalf.BotDone:    "call_ended",
}

// errorMessages are Meeting BaaS's error_message for a few error codes.
var errorMessages = map[string]string{
	"WAITING_FOR_AUTHORIZED_USER_TIMEOUT": "The bot timed out waiting for the authorized user to join the meeting.",
	"WAITING_FOR_HOST_TIMEOUT":            "The bot timed out while waiting for the meeting host to join the meeting.",
	"ZOOM_OBF_TOKEN_ERROR":                "An error occurred while obtaining or using the OBF token.",
	"CANNOT_JOIN_MEETING":                 "Cannot join meeting - meeting is not reachable or may not exist.",
}

// SendStatus sends what Meeting BaaS sends when the bot reaches status s:
//
//   - to the account webhook (Options.WebhookURL, Svix-signed with
//     Options.WebhookSecret): bot.status_change with the code of s
//     (queued, joining_call, in_waiting_for_host, in_call_recording,
//     call_ended), or bot.failed for BotFailed;
//   - for BotDone and BotFailed, also to the bot's callback URL (when
//     callback_enabled, with x-mb-secret when it has a secret):
//     bot.completed or bot.failed.
//
// reason may name the Meeting BaaS code to send instead of the default:
// a status code ("in_waiting_room") for a status change, an error code
// ("ZOOM_OBF_TOKEN_ERROR") for a failure, which a free text reason gets
// as error_message (code UNKNOWN_ERROR); without one, a failure is
// DefaultErrorCode. It fails when nothing could be sent or a receiver
// answered non-2xx.
func (f *Fake) SendStatus(ctx context.Context, platformBotID string, s onbehalf.BotStatus, reason string) error {
	b := f.bot(platformBotID)
	if b == nil {
		return fmt.Errorf("meetingbaasdemo: no bot %q", platformBotID)
	}
	now := f.o.Now().UTC()
	sent := false
	if (s == onbehalf.BotDone || s == onbehalf.BotFailed) && b.callbackURL != "" {
		if err := f.post(ctx, b.callbackMethod, b.callbackURL, callbackHeader(b), f.finalEvent(b, s, reason, now)); err != nil {
			return fmt.Errorf("meetingbaasdemo: callback: %w", err)
		}
		sent = true
	}
	if f.o.WebhookURL != "" {
		body := f.finalEvent(b, s, reason, now)
		if s != onbehalf.BotFailed {
			var err error
			if body, err = statusChange(b, s, reason, now); err != nil {
				return err
			}
		}
		if err := f.post(ctx, http.MethodPost, f.o.WebhookURL, f.svixHeader(body, now), body); err != nil {
			return fmt.Errorf("meetingbaasdemo: webhook: %w", err)
		}
		sent = true
	}
	if !sent {
		return errors.New("meetingbaasdemo: nowhere to send the status: set Options.WebhookURL, or create the bot with a callback")
	}
	return nil
}

// statusChange is the body of a bot.status_change.
func statusChange(b *bot, s onbehalf.BotStatus, reason string, now time.Time) ([]byte, error) {
	code := statusCodes[s]
	if isCode(reason, 'a', 'z') {
		code = reason
	}
	if code == "" {
		return nil, fmt.Errorf("meetingbaasdemo: no status code for %q", s)
	}
	status := map[string]any{"code": code, "created_at": stamp(now)}
	if code == "in_call_recording" {
		status["start_time"] = now.Unix()
	}
	return encode(map[string]any{
		"event": "bot.status_change",
		"data":  map[string]any{"bot_id": b.id, "event_id": nil, "status": status},
		"extra": b.extra,
	}), nil
}

// finalEvent is the body of bot.failed (for BotFailed) or bot.completed.
func (f *Fake) finalEvent(b *bot, s onbehalf.BotStatus, reason string, now time.Time) []byte {
	if s == onbehalf.BotFailed {
		code, msg := DefaultErrorCode, errorMessages[DefaultErrorCode]
		switch {
		case isCode(reason, 'A', 'Z'):
			code, msg = reason, errorMessages[reason]
			if msg == "" {
				msg = strings.ReplaceAll(strings.ToLower(reason), "_", " ")
			}
		case reason != "":
			code, msg = "UNKNOWN_ERROR", reason
		}
		return encode(map[string]any{
			"event": "bot.failed",
			"data":  map[string]any{"bot_id": b.id, "event_id": nil, "error_code": code, "error_message": msg, "sent_at": stamp(now)},
			"extra": b.extra,
		})
	}
	return encode(map[string]any{
		"event": "bot.completed",
		"data": map[string]any{
			"bot_id": b.id, "event_id": nil, "participants": []any{}, "speakers": []any{},
			"duration_seconds": int(now.Sub(b.createdAt).Seconds()), "joined_at": stamp(b.createdAt), "exited_at": stamp(now),
			"data_deleted": false, "video": nil, "audio": nil, "diarization": nil, "raw_transcription": nil,
			"transcription": nil, "transcription_provider": nil, "transcription_ids": nil, "sent_at": stamp(now),
		},
		"extra": b.extra,
	})
}

// svixHeader signs body the way Svix does, when the fake has a secret.
func (f *Fake) svixHeader(body []byte, now time.Time) http.Header {
	h := http.Header{"User-Agent": {"Svix-Webhooks/1.0"}}
	if f.key != nil {
		platformdemo.SignHeader(h, "svix-", f.key, now, body)
	}
	return h
}

// callbackHeader is the header of a per-bot callback.
func callbackHeader(b *bot) http.Header {
	h := http.Header{}
	if b.callbackSecret != "" {
		h.Set("x-mb-secret", b.callbackSecret)
	}
	return h
}

// post sends body as JSON and wants a 2xx answer.
func (f *Fake) post(ctx context.Context, method, url string, h http.Header, body []byte) error {
	return platformdemo.Deliver(ctx, f.o.Client, method, url, h, body)
}

// isCode reports whether s looks like a Meeting BaaS code: letters between
// lo and hi, and underscores.
func isCode(s string, lo, hi byte) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < lo || s[i] > hi) && s[i] != '_' {
			return false
		}
	}
	return s != ""
}

// stamp formats a time as Meeting BaaS does (ISO 8601, UTC, milliseconds).
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// encode marshals v (maps of JSON values, never failing) as Node's
// JSON.stringify does: no HTML escaping, no trailing newline.
func encode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
