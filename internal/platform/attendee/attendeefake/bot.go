package attendeefake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

// Attendee's timeouts and retries (external_callback_utils.py,
// tasks/deliver_webhook_task.py).
const (
	callbackTimeout  = 30 * time.Second
	webhookTimeout   = 10 * time.Second
	webhookAttempts  = 3
	maxReply         = 1 << 20
	callbackAgent    = "Attendee-Callback/1.0"
	webhookAgent     = "Attendee-Webhook/1.0"
	signatureHeader  = "X-Webhook-Signature"
	stateChange      = "bot.state_change"
	defaultSubFailed = "authorized_user_not_in_meeting_timeout_exceeded"
)

// replyFields are the token fields of a callback reply, by the kind this
// server names them; join_token (another SDK parameter) is read by
// Attendee but is no kind here.
var replyFields = map[string]onbehalf.TokenKind{
	"onbehalf_token":      onbehalf.KindOBF,
	"zak_token":           onbehalf.KindZAK,
	"app_privilege_token": onbehalf.KindJoin,
}

// Fetch implements platformtest.Fake: the bot calls its zoom_tokens_url
// once, as Attendee's get_zoom_tokens does, and gets every token at once
// (kind only names what the caller looks for). The request is a POST of
// {"bot_id", "bot_metadata", "callback_type": "zoom_tokens",
// "meeting_url"} encoded as Python's json.dumps (", " and ": ", ASCII
// escapes, insertion order), with User-Agent Attendee-Callback/1.0 and
// X-Webhook-Signature over the canonical JSON; 30 s timeout, no
// redirects, no retry. Tokens are read from a 2xx JSON object, each a
// non-blank string (the bot uses the first of a comma-separated
// onbehalf_token first); anything else gives no tokens.
func (f *Fake) Fetch(ctx context.Context, platformBotID string, kind onbehalf.TokenKind, t platformtest.Tamper) platformtest.Fetched {
	b := f.bot(platformBotID)
	if b == nil || b.TokenURL == "" {
		return platformtest.Fetched{Body: "attendeefake: no bot " + platformBotID + " with a zoom_tokens_url"}
	}
	target := b.TokenURL
	if t.URL != nil {
		target = t.URL(target)
	}
	meetingURL := b.MeetingURL
	if t.Meeting != "" {
		meetingURL = "https://zoom.us/j/" + t.Meeting
	}
	payload := Object{{"bot_id", b.ID}, {"bot_metadata", metadataValue(b.Metadata)},
		{"callback_type", "zoom_tokens"}, {"meeting_url", meetingURL}}
	header := http.Header{"Content-Type": {"application/json"}, "User-Agent": {callbackAgent}, "Accept": {"*/*"}}
	if !t.NoCredentials {
		header.Set(signatureHeader, Sign(f.key, payload))
	}
	status, body, err := f.post(ctx, target, header, Dumps(payload), callbackTimeout)
	got := platformtest.Fetched{Status: status, Tokens: map[onbehalf.TokenKind]string{}, Body: string(body)}
	if err != nil {
		got.Body = err.Error()
		return got
	}
	if status < 200 || status > 299 {
		return got
	}
	var reply any
	if json.Unmarshal(body, &reply) != nil {
		return got
	}
	m, ok := reply.(map[string]any)
	if !ok {
		return got
	}
	for field, k := range replyFields {
		s, ok := m[field].(string)
		if !ok || strings.TrimSpace(s) == "" {
			continue
		}
		if k == onbehalf.KindOBF {
			s, _, _ = strings.Cut(s, ",")
		}
		got.Tokens[k] = s
	}
	return got
}

// metadataValue is bot_metadata: the object, or null.
func metadataValue(o Object) any {
	if o == nil {
		return nil
	}
	return o
}

// post sends one request as the requests library would, without
// following redirects, and returns the status and body.
func (f *Fake) post(ctx context.Context, target string, header http.Header, body []byte, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = header
	hc := *f.o.Client
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	return resp.StatusCode, raw, err
}

// statusEvents are the events SendStatus reports for each status:
// event_type, event_sub_type ("" for null) and new_state.
var statusEvents = map[onbehalf.BotStatus][3]string{
	onbehalf.BotCreated: {"staged", "", "staged"},
	onbehalf.BotJoining: {"join_requested", "", "joining"},
	onbehalf.BotWaiting: {"put_in_waiting_room", "", "waiting_room"},
	onbehalf.BotInCall:  {"joined_meeting", "", "joined_not_recording"},
	onbehalf.BotDone:    {"meeting_ended", "", "post_processing"},
	onbehalf.BotFailed:  {"could_not_join_meeting", defaultSubFailed, "fatal_error"},
}

// SendStatus posts a bot.state_change webhook for the bot, as Attendee
// delivers it: to the bot's own webhooks with that trigger when it has any
// webhooks (then only those), else to Options.WebhookURL; JSON
// {"idempotency_key", "bot_id", "bot_metadata", "trigger", "data":
// {"event_type", "event_sub_type", "event_metadata", "old_state",
// "new_state", "created_at"}} encoded as Python's json.dumps, signed over
// the canonical JSON in X-Webhook-Signature, up to 3 attempts with the
// same idempotency_key. reason, when set, is the event_sub_type (an
// Attendee code such as "meeting_not_found"); a failure defaults to
// authorized_user_not_in_meeting_timeout_exceeded. Attendee has no state
// for a bot waiting for its person to join (it stays joining); waiting is
// the waiting room.
func (f *Fake) SendStatus(ctx context.Context, platformBotID string, s onbehalf.BotStatus, reason string) error {
	ev, ok := statusEvents[s]
	if !ok {
		return fmt.Errorf("attendeefake: no Attendee event for status %q", s)
	}
	b := f.bot(platformBotID)
	if b == nil {
		return fmt.Errorf("attendeefake: no bot %s", platformBotID)
	}
	meta := Object{}
	if reason != "" {
		ev[1] = reason
		// "zoom_meeting_status_failed:505": the Zoom SDK code Attendee
		// passes on in event_metadata.zoom_result_code (a string).
		if sub, code, ok := strings.Cut(reason, ":"); ok {
			ev[1], meta = sub, Object{{"zoom_result_code", code}}
		}
	}
	var sub any
	if ev[1] != "" {
		sub = ev[1]
	}
	var old string
	var hooks []Webhook
	f.bots.Update(func() {
		old, b.State = b.State, ev[2]
		hooks = append(hooks, b.Webhooks...)
	})

	data := JSONBOrder(Object{{"event_type", ev[0]}, {"event_sub_type", sub}, {"event_metadata", meta},
		{"old_state", old}, {"new_state", ev[2]}, {"created_at", isoformat(f.o.Now())}})
	payload := Object{{"idempotency_key", platformtest.NewUUID()}, {"bot_id", b.ID}, {"bot_metadata", metadataValue(b.Metadata)},
		{"trigger", stateChange}, {"data", data}}
	var targets []string
	for _, h := range hooks {
		if contains(h.Triggers, stateChange) {
			targets = append(targets, h.URL)
		}
	}
	if len(hooks) == 0 && f.o.WebhookURL != "" {
		targets = []string{f.o.WebhookURL}
	}
	if len(targets) == 0 {
		return fmt.Errorf("attendeefake: bot %s has no webhook for %s and Options.WebhookURL is empty", b.ID, stateChange)
	}
	header := http.Header{"Content-Type": {"application/json"}, "User-Agent": {webhookAgent},
		signatureHeader: {Sign(f.key, payload)}}
	var errs []error
	for _, target := range targets {
		errs = append(errs, f.deliver(ctx, target, header, Dumps(payload)))
	}
	return errors.Join(errs...)
}

// deliver posts a webhook until a 2xx answer, at most webhookAttempts
// times.
func (f *Fake) deliver(ctx context.Context, target string, header http.Header, body []byte) error {
	var err error
	for range webhookAttempts {
		var status int
		var reply []byte
		status, reply, err = f.post(ctx, target, header.Clone(), body, webhookTimeout)
		if err == nil && status/100 == 2 {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("attendeefake: webhook answered %d: %.200s", status, reply)
		}
	}
	return err
}
