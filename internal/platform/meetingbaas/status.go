package meetingbaas

import (
	"cmp"
	"encoding/json"
	"net/http"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// Webhook events of interest.
const (
	EventStatusChange = "bot.status_change"
	EventFailed       = "bot.failed"
	EventCompleted    = "bot.completed"
)

// maxPlatformText bounds the platform's own words kept in a reason.
const maxPlatformText = 300

// statusCode is what a bot.status_change code means.
type statusCode struct {
	status onbehalf.BotStatus
	reason string
}

// statusCodes maps the codes of bot.status_change (docs: api-v2/webhooks)
// to the status vocabulary, with what a person should read. Codes not
// listed are ignored: Meeting BaaS may add some.
var statusCodes = map[string]statusCode{
	"queued":                {onbehalf.BotCreated, "Meeting BaaS queued the bot; it usually joins within 2 minutes."},
	"pickup_delayed":        {onbehalf.BotCreated, "The bot is still queued at Meeting BaaS (pickup delayed); it may still join."},
	"joining_call":          {onbehalf.BotJoining, "The bot is joining the meeting."},
	"in_waiting_room":       {onbehalf.BotWaiting, "The bot is in the meeting's waiting room: someone must admit it."},
	"in_waiting_for_host":   {onbehalf.BotWaiting, "The bot is waiting to be let in: join the meeting now (it can only join while you are in it), or the host has not started the meeting yet."},
	"in_call_not_recording": {onbehalf.BotInCall, "The bot is in the call (not recording yet)."},
	"in_call_recording":     {onbehalf.BotInCall, "The bot is in the call and recording."},
	"recording_paused":      {onbehalf.BotInCall, "The bot is in the call; recording is paused."},
	"recording_resumed":     {onbehalf.BotInCall, "The bot is in the call; recording resumed."},
	// After the call: the bot has left.
	"call_ended":          {onbehalf.BotDone, "The bot left the meeting (the meeting ended, or you left it)."},
	"recording_succeeded": {onbehalf.BotDone, "The bot left the meeting; the recording is ready."},
	"transcribing":        {onbehalf.BotDone, "The bot left the meeting; Meeting BaaS is transcribing it."},
	"completed":           {onbehalf.BotDone, "The bot is done."},
	"api_request_stop":    {onbehalf.BotDone, "The bot was asked to leave (leave-bot request)."},
	// Failures.
	"recording_failed":      {onbehalf.BotFailed, "Meeting BaaS could not produce the recording."},
	"failed":                {onbehalf.BotFailed, "Meeting BaaS reports that the bot failed."},
	"bot_rejected":          {onbehalf.BotFailed, "The bot was refused entry to the meeting."},
	"bot_removed":           {onbehalf.BotFailed, "A participant removed the bot from the meeting."},
	"bot_removed_too_early": {onbehalf.BotFailed, "The bot was removed from the meeting before it could start recording."},
	"waiting_room_timeout":  {onbehalf.BotFailed, "Nobody admitted the bot from the waiting room in time."},
	"invalid_meeting_url":   {onbehalf.BotFailed, "Meeting BaaS could not open the meeting link."},
	"meeting_error":         {onbehalf.BotFailed, "Meeting BaaS hit an error in the meeting."},
}

// failureReasons says what the error codes of bot.failed (docs:
// api-v2/error-codes) mean for the person who sent the bot.
var failureReasons = map[string]string{
	"WAITING_FOR_AUTHORIZED_USER_TIMEOUT": "You did not join the meeting in time: the bot can only join while you are in it.",
	"WAITING_FOR_HOST_TIMEOUT":            "Nobody let the bot in in time: the meeting did not start, or you did not join it (the bot can only join while you are in it).",
	"ZOOM_OBF_TOKEN_ERROR":                "The bot got no usable OBF token from this server's token URL: see its token fetches.",
	"ZOOM_ACCESS_TOKEN_ERROR":             "The bot got no usable ZAK from this server's token URL: see its token fetches.",
	"SDK_AUTH_FAILED":                     "Zoom refused the bot's SDK credentials or its token.",
	"CANNOT_JOIN_MEETING":                 "The bot could not join: the meeting may not exist or may have ended, or Zoom refused the token.",
	"UNABLE_JOIN_EXTERNAL_MEETING":        "Zoom does not let this bot join meetings of another Zoom organization.",
	"BOT_NOT_ACCEPTED":                    "The bot was not let into the meeting.",
	"TIMEOUT_WAITING_TO_START":            "The meeting did not start in time.",
	"INVALID_MEETING_URL":                 "Meeting BaaS could not open the meeting link.",
	"MEETING_ENDED_PREMATURELY":           "The meeting ended before the bot could take part.",
	"RECORDING_RIGHTS_NOT_GRANTED":        "The host did not let the bot record.",
	"BOT_REMOVED_TOO_EARLY":               "The bot was removed from the meeting before it could start recording.",
	"LOGIN_REQUIRED":                      "The meeting only admits signed-in participants.",
	"INSUFFICIENT_TOKENS":                 "The Meeting BaaS account has too few tokens left.",
	"DAILY_BOT_CAP_REACHED":               "The Meeting BaaS account reached its daily bot cap.",
	"BOT_ALREADY_EXISTS":                  "Another Meeting BaaS bot is already in this meeting.",
}

// failureCodes put the codes of bot.failed (error_code) and the failure
// status codes of bot.status_change in the join-failure vocabulary.
// Meeting BaaS has no code for "the authorized user left": a bot Zoom
// removes for that ends as bot_removed or call_ended, which a participant
// removing it or the meeting ending also give; only a message that quotes
// Zoom's code or words tells it (platform.ZoomFailureInWords).
var failureCodes = map[string]onbehalf.JoinFailure{
	"WAITING_FOR_AUTHORIZED_USER_TIMEOUT": onbehalf.JoinUserNotInMeeting,
	"ZOOM_OBF_TOKEN_ERROR":                onbehalf.JoinTokenInvalid,
	"ZOOM_ACCESS_TOKEN_ERROR":             onbehalf.JoinTokenInvalid,
	"ZOOM_ANONYMOUS_JOIN_NOT_ALLOWED":     onbehalf.JoinTokenInvalid,
	"UNABLE_JOIN_EXTERNAL_MEETING":        onbehalf.JoinAppNotApproved,
	"WAITING_FOR_HOST_TIMEOUT":            onbehalf.JoinMeetingNotStarted,
	"TIMEOUT_WAITING_TO_START":            onbehalf.JoinMeetingNotStarted,
	"BOT_NOT_ACCEPTED":                    onbehalf.JoinWaitingRoom,
	"bot_rejected":                        onbehalf.JoinWaitingRoom,
	"waiting_room_timeout":                onbehalf.JoinWaitingRoom,
}

// failureOf is a report's failure: Zoom's code or words in the platform's
// message first, then the code's.
func failureOf(status onbehalf.BotStatus, code, message string) onbehalf.JoinFailure {
	if !status.Final() {
		return ""
	}
	return platform.FailureOf(status, cmp.Or(platform.ZoomFailureInWords(message), failureCodes[code]))
}

// VerifyStatusWebhook implements onbehalf.StatusReceiver: the account
// webhook comes through Svix, signed with the endpoint's whsec_ secret
// (svix-id, svix-timestamp, svix-signature). Per-bot callbacks carry no
// signature of their own; they come to the status URL this server signed
// and never get here.
//
// A verified svix-id is released at once rather than kept: Svix retries a
// failed delivery with the same ID, which must not be refused, and a
// replay within the 5-minute window is harmless, since every report
// carries an event ID and a second one changes nothing.
func (a *Adapter) VerifyStatusWebhook(r *http.Request, body []byte) error {
	if a.verifier == nil {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
			"Meeting BaaS status webhooks are signed by Svix, but %s is not set: set it to the signing secret (whsec_…) of your webhook endpoint in the Meeting BaaS dashboard.", VarWebhookSecret)
	}
	finish, err := a.verifier.Verify(r.Header, body, a.now(), r.URL.Path)
	if err != nil {
		return err
	}
	finish(false)
	return nil
}

// webhook is a Meeting BaaS webhook or callback body. Only the fields read
// are declared; "extra" (top level in the OpenAPI schema, inside data in
// the guide's examples) is not needed: the bot ID names the bot.
type webhook struct {
	Event string `json:"event"`
	Data  *struct {
		BotID  string `json:"bot_id"`
		Status *struct {
			Code         string `json:"code"`
			CreatedAt    string `json:"created_at"`
			ErrorMessage string `json:"error_message"`
		} `json:"status"`
		ErrorCode    string `json:"error_code"`
		ErrorMessage string `json:"error_message"`
		ExitedAt     string `json:"exited_at"`
		SentAt       string `json:"sent_at"`
	} `json:"data"`
}

// ParseStatusWebhook implements onbehalf.StatusReceiver for the account
// webhook and the per-bot callbacks alike (same bodies):
//
//   - bot.status_change: status.code mapped (statusCodes), At =
//     status.created_at;
//   - bot.failed: failed, the reason from error_code (failureReasons)
//     and error_message, At = sent_at;
//   - bot.completed: done, At = exited_at (else sent_at).
//
// Other events (bot.chat_message, calendar.*) and unknown status codes
// give no report. Event IDs are made from the event, not data.event_id,
// which is the bot's calendar event (the same on all its webhooks, null
// for a bot sent directly): "bot.status_change:<code>@<created_at>",
// "bot.failed", "bot.completed" (a bot ends once), so the same event
// through the callback and through Svix, or resent, counts once.
func (a *Adapter) ParseStatusWebhook(r *http.Request, body []byte) ([]onbehalf.StatusReport, error) {
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil || w.Event == "" {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, "Unreadable Meeting BaaS webhook: want a JSON object with event and data.")
	}
	if w.Event != EventStatusChange && w.Event != EventFailed && w.Event != EventCompleted {
		return nil, nil
	}
	d := w.Data
	if d == nil || d.BotID == "" {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, "Unreadable Meeting BaaS %s webhook: no data.bot_id.", w.Event)
	}
	if len(d.BotID) > maxBotID || !printableASCII(d.BotID) {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, "Unreadable Meeting BaaS %s webhook: data.bot_id is not a bot ID.", w.Event)
	}
	// A bot fails or completes once: the event names the report.
	rep := onbehalf.StatusReport{Platform: Name, PlatformBotID: d.BotID, Code: w.Event, EventID: w.Event}
	switch w.Event {
	case EventStatusChange:
		if d.Status == nil || d.Status.Code == "" {
			return nil, onbehalf.Errorf(onbehalf.EINVALID, "Unreadable Meeting BaaS bot.status_change webhook: no data.status.code.")
		}
		sc, ok := statusCodes[d.Status.Code]
		if !ok {
			a.log.Info("Meeting BaaS sent a bot status code this server does not know; ignored",
				"code", onbehalf.Clip(platformText(d.Status.Code), 64), "platform_bot_id", d.BotID)
			return nil, nil
		}
		rep.Status, rep.Code, rep.At = sc.status, d.Status.Code, parseTime(d.Status.CreatedAt)
		rep.Message = withPlatformWords(sc.reason, d.Status.ErrorMessage)
		rep.Failure = failureOf(sc.status, d.Status.Code, d.Status.ErrorMessage)
		// A status change is named by its code and time; without a time
		// it has no name (and is de-duplicated by its content).
		rep.EventID = ""
		if d.Status.CreatedAt != "" {
			rep.EventID = w.Event + ":" + d.Status.Code + "@" + onbehalf.Clip(platformText(d.Status.CreatedAt), 40)
		}
	case EventFailed:
		rep.Status, rep.SubCode, rep.At = onbehalf.BotFailed, onbehalf.Clip(platformText(d.ErrorCode), 64), parseTime(d.SentAt)
		rep.Message = failureReason(d.ErrorCode, d.ErrorMessage)
		rep.Failure = failureOf(rep.Status, d.ErrorCode, d.ErrorMessage)
	case EventCompleted:
		rep.Status, rep.Message = onbehalf.BotDone, "The bot left the meeting and Meeting BaaS finished its work."
		if rep.At = parseTime(d.ExitedAt); rep.At.IsZero() {
			rep.At = parseTime(d.SentAt)
		}
	}
	return []onbehalf.StatusReport{rep}, nil
}

// failureReason is the reason of a bot.failed: what the code means, with
// Meeting BaaS's own message.
func failureReason(code, message string) string {
	if reason, ok := failureReasons[code]; ok {
		return withPlatformWords(reason, message)
	}
	if m := platformText(message); m != "" {
		return "The bot failed: " + m + withCode(code)
	}
	if code == "" {
		return "Meeting BaaS reports that the bot failed, without saying why."
	}
	return "Meeting BaaS reports that the bot failed" + withCode(code) + "."
}

// withCode renders a code in parentheses, or "".
func withCode(code string) string {
	if code = platformText(code); code == "" {
		return ""
	}
	return " (" + onbehalf.Clip(code, 64) + ")"
}

// withPlatformWords appends the platform's message to a reason.
func withPlatformWords(reason, message string) string {
	if m := platformText(message); m != "" {
		return reason + " Meeting BaaS says: " + m
	}
	return reason
}

// platformText makes the platform's words fit for a reason: one line of
// printable text, at most maxPlatformText bytes.
func platformText(s string) string {
	return onbehalf.Clip(platform.Printable(s), maxPlatformText)
}

// parseTime reads an ISO 8601 timestamp; zero when absent or unreadable
// (the report is then dated when received).
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
