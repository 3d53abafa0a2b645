package attendee

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// Attendee's bot.state_change webhook (bots/tasks/deliver_webhook_task.py,
// payload built in bots/models.py BotEventManager.create_event):
//
//	POST <webhook URL>
//	User-Agent: Attendee-Webhook/1.0
//	X-Webhook-Signature: base64(HMAC-SHA256(secret, canonical JSON))
//
//	{"idempotency_key": "<uuid>", "bot_id": "bot_…", "bot_metadata": {…},
//	 "trigger": "bot.state_change",
//	 "data": {"event_type", "event_sub_type", "event_metadata", "old_state", "new_state", "created_at"}}
//
// Attendee tries a delivery up to 3 times with the same idempotency_key
// (and the same body and signature), so the key is the event ID that
// drops duplicates, and no replay cache refuses them here.

// stateWebhook is the part of the webhook this server reads.
type stateWebhook struct {
	IdempotencyKey string `json:"idempotency_key"`
	BotID          string `json:"bot_id"`
	Trigger        string `json:"trigger"`
	Data           struct {
		EventType    string  `json:"event_type"`
		EventSubType *string `json:"event_sub_type"`
		// EventMetadata carries zoom_result_code (a string) on the
		// could_not_join_meeting events of a Zoom SDK failure.
		EventMetadata struct {
			ZoomResultCode json.RawMessage `json:"zoom_result_code"`
		} `json:"event_metadata"`
		OldState  string `json:"old_state"`
		NewState  string `json:"new_state"`
		CreatedAt string `json:"created_at"`
	} `json:"data"`
}

// VerifyStatusWebhook implements onbehalf.StatusReceiver: the
// X-Webhook-Signature over the canonical JSON of the body, with
// ATTENDEE_WEBHOOK_SECRET (EUNAUTHORIZED naming it when it is not set).
func (a *Adapter) VerifyStatusWebhook(r *http.Request, body []byte) error {
	if a.key == nil {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
			"Attendee status webhooks are verified with %s, which is not set: set it to the webhook secret of the Attendee project (Settings → Webhooks).", VarWebhookSecret)
	}
	_, _, err := verifySigned(a.key, r.Header.Get(SignatureHeader), body, "status webhook")
	return err
}

// ParseStatusWebhook implements onbehalf.StatusReceiver: a
// bot.state_change webhook becomes one report, mapped by mapState; other
// triggers and states of no interest give none. A body it cannot read is
// EINVALID.
func (a *Adapter) ParseStatusWebhook(r *http.Request, body []byte) ([]onbehalf.StatusReport, error) {
	v, err := parseJSON(body) // refuses duplicate keys, which json.Unmarshal would resolve
	if err != nil {
		return nil, &onbehalf.Error{Code: onbehalf.EINVALID, Err: err,
			Message: "The Attendee webhook is not JSON this server can read (" + err.Error() + ")."}
	}
	if _, ok := v.(object); !ok {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, "The Attendee webhook must be a JSON object.")
	}
	var wh stateWebhook
	if err := json.Unmarshal(body, &wh); err != nil {
		return nil, &onbehalf.Error{Code: onbehalf.EINVALID, Err: err,
			Message: "The Attendee webhook does not have the fields of a bot.state_change webhook."}
	}
	if wh.Trigger != stateChange {
		return nil, nil
	}
	if wh.BotID == "" || wh.Data.NewState == "" {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, "The Attendee bot.state_change webhook has no bot_id or no data.new_state.")
	}
	sub := ""
	if wh.Data.EventSubType != nil {
		sub = *wh.Data.EventSubType
	}
	status, msg, ok := mapState(wh.Data.NewState, wh.Data.EventType, sub)
	if !ok {
		return nil, nil
	}
	zoomCode := rawCode(wh.Data.EventMetadata.ZoomResultCode)
	var at time.Time
	if t, err := time.Parse(time.RFC3339Nano, wh.Data.CreatedAt); err == nil {
		at = t // Python's isoformat() with a UTC offset; otherwise: when received
	}
	return []onbehalf.StatusReport{{
		Platform:      Name,
		PlatformBotID: wh.BotID,
		EventID:       wh.IdempotencyKey,
		Status:        status,
		Code:          wh.Data.EventType,
		SubCode:       withZoomCode(sub, zoomCode),
		Message:       msg,
		Failure:       joinFailure(status, sub, zoomCode),
		At:            at,
	}}, nil
}

// rawCode reads zoom_result_code, a string in Attendee's events (a number
// is taken too); "" when absent or neither.
func rawCode(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return onbehalf.Clip(platform.Printable(s), 16)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return onbehalf.Clip(n.String(), 16)
	}
	return ""
}

// withZoomCode keeps the Zoom code beside the sub type, as the raw code
// of the report ("zoom_meeting_status_failed:505").
func withZoomCode(sub, zoomCode string) string {
	if zoomCode == "" {
		return sub
	}
	return sub + ":" + zoomCode
}
