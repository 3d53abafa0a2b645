package meetstreamfake

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
	"net/http"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

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
		return errors.New("meetstreamfake: no bot " + platformBotID)
	}
	ev, ok := events[s]
	if !ok {
		return fmt.Errorf("meetstreamfake: no MeetStream event for status %q", s)
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
		return errors.New("meetstreamfake: the bot has no callback_url and Options.WebhookURL is empty")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dest, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-MeetStream-Signature", "sha256="+Sign(secret, body))
		req.Header.Set("X-MeetStream-Timestamp", now.Format(time.RFC3339))
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		// MeetStream does not retry: the event is lost.
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return fmt.Errorf("meetstreamfake: the webhook answered %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
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
