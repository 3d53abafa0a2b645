package recallfake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

// maxAnswer bounds how much of a token URL's answer a bot reads.
const maxAnswer = 64 << 10

// Fetch implements platformtest.Fake the way Recall's bot fetches a token:
// a GET of the URL exactly as it was given (Recall appends nothing and
// names neither bot nor meeting, so t.Meeting changes nothing), signed with
// webhook-id, webhook-timestamp and webhook-signature over an empty body
// when the workspace has a verification secret. The token is the whole
// body of a 2xx answer; an empty body, or one that is not a bare token
// (JSON, several words), is unusable: the bot would fail to join.
func (f *Fake) Fetch(ctx context.Context, botID string, kind onbehalf.TokenKind, t platformtest.Tamper) platformtest.Fetched {
	bot, ok := f.bot(botID)
	if !ok {
		return platformtest.Fetched{Body: "recallfake: no bot " + botID}
	}
	u := bot.TokenURLs[kind]
	if u == "" {
		return platformtest.Fetched{Body: fmt.Sprintf("recallfake: bot %s has no %s token URL", botID, kind)}
	}
	if t.URL != nil {
		u = t.URL(u)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return platformtest.Fetched{Body: "recallfake: " + err.Error()}
	}
	if f.o.VerificationSecret != "" && !t.NoCredentials {
		if err := f.sign(req.Header, "webhook-", f.o.VerificationSecret, nil); err != nil {
			return platformtest.Fetched{Body: "recallfake: " + err.Error()}
		}
	}
	resp, err := f.o.Client.Do(req)
	if err != nil {
		return platformtest.Fetched{Body: "recallfake: " + err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	got := platformtest.Fetched{Status: resp.StatusCode, Body: string(body), Tokens: map[onbehalf.TokenKind]string{}}
	if resp.StatusCode/100 == 2 && bareToken(body) {
		got.Tokens[kind] = string(body)
	}
	return got
}

// bareToken reports whether body can be a Zoom token as Recall passes it
// on: not empty, not JSON, one word of printable ASCII.
func bareToken(body []byte) bool {
	if len(body) == 0 || body[0] == '{' || body[0] == '[' || body[0] == '"' {
		return false
	}
	for _, c := range body {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// events are the webhook events SendStatus sends for each status, with
// the sub code used when no reason is given.
var events = map[onbehalf.BotStatus]struct{ code, subCode string }{
	onbehalf.BotJoining: {"joining_call", ""},
	onbehalf.BotWaiting: {"in_waiting_room", ""},
	onbehalf.BotInCall:  {"in_call_recording", ""},
	onbehalf.BotDone:    {"call_ended", "timeout_exceeded_everyone_left"},
	onbehalf.BotFailed:  {"fatal", "bot_errored"},
}

// SendStatus posts the status webhook Recall sends when a bot reaches s,
// to Options.WebhookURL (Recall's webhooks are set up per workspace, not
// per bot): {"event": "bot.<code>", "data": {"data": {"code", "sub_code",
// "updated_at"}, "bot": {"id", "metadata"}}}, with reason as the sub code
// (done: bot.call_ended, timeout_exceeded_everyone_left by default;
// failed: bot.fatal, bot_errored by default). It is signed with svix-*
// headers and WebhookSecret for a legacy workspace, else with webhook-*
// headers and VerificationSecret when set. Recall sends nothing for a bot
// it just created: BotCreated posts nothing.
func (f *Fake) SendStatus(ctx context.Context, botID string, s onbehalf.BotStatus, reason string) error {
	if s == onbehalf.BotCreated {
		return nil
	}
	ev, ok := events[s]
	if !ok {
		return fmt.Errorf("recallfake: no Recall.ai event for status %q", s)
	}
	bot, ok := f.bot(botID)
	if !ok {
		return fmt.Errorf("recallfake: no bot %s", botID)
	}
	if f.o.WebhookURL == "" {
		return fmt.Errorf("recallfake: no webhook URL configured")
	}
	var subCode any
	if reason != "" {
		subCode = reason
	} else if ev.subCode != "" {
		subCode = ev.subCode
	}
	body, err := json.Marshal(map[string]any{
		"event": "bot." + ev.code,
		"data": map[string]any{
			"data": map[string]any{"code": ev.code, "sub_code": subCode, "updated_at": f.o.Now().UTC().Format("2006-01-02T15:04:05.000000Z")},
			"bot":  map[string]any{"id": bot.ID, "metadata": bot.Metadata},
		},
	})
	if err != nil {
		return err
	}
	return f.post(ctx, body)
}

// post delivers a status webhook, signed as the workspace signs them.
func (f *Fake) post(ctx context.Context, body []byte) error {
	h := http.Header{"User-Agent": {"Svix-Webhooks/1.0"}}
	var err error
	switch {
	case f.o.WebhookSecret != "":
		err = f.sign(h, "svix-", f.o.WebhookSecret, body)
	case f.o.VerificationSecret != "":
		err = f.sign(h, "webhook-", f.o.VerificationSecret, body)
	}
	if err != nil {
		return err
	}
	if err := platformtest.Deliver(ctx, f.o.Client, http.MethodPost, f.o.WebhookURL, h, body); err != nil {
		return fmt.Errorf("recallfake: the webhook endpoint: %w", err)
	}
	return nil
}

// sign adds the <prefix>id, -timestamp and -signature headers of a
// Standard Webhooks signature of body under secret.
func (f *Fake) sign(h http.Header, prefix, secret string, body []byte) error {
	key, err := onbehalf.ParseWebhookSecret(secret)
	if err != nil {
		return err
	}
	platformtest.SignHeader(h, prefix, key, f.o.Now(), body)
	return nil
}
