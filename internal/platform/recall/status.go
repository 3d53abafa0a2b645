package recall

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/swh"
)

// Recall's bot status webhooks (POST /webhooks/recall), one event per
// status:
//
//	{"event": "bot.in_waiting_room",
//	 "data": {"data": {"code", "sub_code", "updated_at"}, "bot": {"id", "metadata"}}}
//
// and the shape of API v1.10, still documented:
//
//	{"event": "bot.status_change",
//	 "data": {"bot_id", "status": {"code", "created_at", "sub_code", "message"}}}
//
// Other events (recording.done, transcript.*, …) arrive on the same
// endpoint and are of no interest here.
type webhook struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// botEvent is the data of a bot.<code> event.
type botEvent struct {
	Data struct {
		Code      string `json:"code"`
		SubCode   string `json:"sub_code"` // may be null
		UpdatedAt string `json:"updated_at"`
	} `json:"data"`
	Bot struct {
		ID string `json:"id"`
	} `json:"bot"`
}

// statusChange is the data of a v1.10 bot.status_change event.
type statusChange struct {
	BotID  string `json:"bot_id"`
	Status struct {
		Code      string `json:"code"`
		SubCode   string `json:"sub_code"`
		Message   string `json:"message"`
		CreatedAt string `json:"created_at"`
	} `json:"status"`
}

// legacyEvent is the event name of the v1.10 shape.
const legacyEvent = "bot.status_change"

// VerifyStatusWebhook implements onbehalf.StatusReceiver: a Standard
// Webhooks signature (webhook-* headers, or svix-* from legacy workspaces)
// over the raw body, made with RECALL_VERIFICATION_SECRET or
// RECALL_WEBHOOK_SECRET, within 5 minutes of our clock.
//
// The webhook-id is released as soon as the signature is good: Recall (via
// Svix) retries a failed delivery with the same ID, and the ID is also the
// report's EventID, by which the store drops duplicates, so a replay
// changes nothing.
func (a *Adapter) VerifyStatusWebhook(r *http.Request, body []byte) error {
	if a.status == nil {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
			"Recall.ai status webhook refused: this server cannot verify it. Set %s (the workspace verification secret, Recall.ai dashboard → API Keys) or, for a legacy workspace, %s (the signing secret of the webhook endpoint).",
			VarVerificationSecret, VarWebhookSecret)
	}
	finish, err := a.status.Verify(r.Header, body, a.now(), r.URL.Path)
	if err != nil {
		return err
	}
	finish(false)
	return nil
}

// ParseStatusWebhook implements onbehalf.StatusReceiver: one report for a
// bot status event Recall sends, none for other events (unknown bot.*
// events included); a body that is not such a webhook is EINVALID.
func (a *Adapter) ParseStatusWebhook(r *http.Request, body []byte) ([]onbehalf.StatusReport, error) {
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, invalid("the body is not a JSON object")
	}
	if w.Event == "" {
		return nil, invalid("it has no event")
	}
	if !strings.HasPrefix(w.Event, "bot.") {
		return nil, nil
	}
	rep := onbehalf.StatusReport{Platform: Name, EventID: swh.Header(r.Header, "id")}
	var at string
	if w.Event == legacyEvent {
		var d statusChange
		if err := decodeData(w.Data, &d); err != nil {
			return nil, err
		}
		rep.PlatformBotID, rep.Code, rep.SubCode, at = d.BotID, d.Status.Code, d.Status.SubCode, d.Status.CreatedAt
		rep.Message = strings.TrimSpace(d.Status.Message)
	} else {
		var d botEvent
		if err := decodeData(w.Data, &d); err != nil {
			return nil, err
		}
		rep.PlatformBotID, rep.Code, rep.SubCode, at = d.Bot.ID, d.Data.Code, d.Data.SubCode, d.Data.UpdatedAt
		if rep.Code == "" {
			rep.Code = strings.TrimPrefix(w.Event, "bot.")
		}
	}
	status, ok := statuses[rep.Code]
	if !ok {
		return nil, nil
	}
	if rep.PlatformBotID == "" {
		return nil, invalid("it names no bot")
	}
	rep.Status = status
	rep.Failure = failure(status, rep.SubCode)
	rep.Message = describe(rep.Code, rep.SubCode, rep.Message)
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		rep.At = t
	}
	return []onbehalf.StatusReport{rep}, nil
}

// decodeData decodes an event's data object.
func decodeData(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return invalid("it has no data")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return invalid("its data is not what Recall.ai sends")
	}
	return nil
}

// invalid is the EINVALID error of a body that is not a Recall webhook.
func invalid(why string) error {
	return onbehalf.Errorf(onbehalf.EINVALID, "Unreadable Recall.ai status webhook: %s.", why)
}

// statuses maps Recall's status codes to the status vocabulary. Codes not
// listed (recording_done, analysis_done, media_expired, …) say nothing
// about the bot getting in, and make no report.
var statuses = map[string]onbehalf.BotStatus{
	"joining_call":                 onbehalf.BotJoining,
	"in_waiting_room":              onbehalf.BotWaiting,
	"in_call_not_recording":        onbehalf.BotInCall,
	"recording_permission_allowed": onbehalf.BotInCall,
	"recording_permission_denied":  onbehalf.BotInCall,
	"in_call_recording":            onbehalf.BotInCall,
	"call_ended":                   onbehalf.BotDone,
	"done":                         onbehalf.BotDone,
	"fatal":                        onbehalf.BotFailed,
}

// plain are the words for a status code without a sub code.
var plain = map[string]string{
	"joining_call":                 "joining the meeting",
	"in_waiting_room":              "in the waiting room",
	"in_call_not_recording":        "in the call, not recording yet",
	"recording_permission_allowed": "in the call, allowed to record",
	"recording_permission_denied":  "in the call, but not allowed to record",
	"in_call_recording":            "in the call, recording",
	"call_ended":                   "left the meeting",
	"done":                         "done: Recall.ai finished with the bot",
	"fatal":                        "the bot failed (Recall.ai gave no reason)",
}

// describe says why, in words a person reads: the meaning of the sub code
// when one is given, else Recall's own message (v1.10), else the code's
// words.
func describe(code, subCode, message string) string {
	if subCode != "" {
		if why := reason(subCode); why != "" {
			return why
		}
		if message != "" {
			return message
		}
		return strings.ReplaceAll(subCode, "_", " ")
	}
	if message != "" {
		return message
	}
	if words, ok := plain[code]; ok {
		return words
	}
	return strings.ReplaceAll(code, "_", " ")
}

// Recall's sub codes say why a bot left or failed. They are free strings:
// Recall adds new ones without notice and prefixes platform-specific ones
// (zoom_…), so they are matched by the words they contain, most specific
// first, and an unknown one is shown as it is.
//
// Sources: docs.recall.ai/docs/sub-codes (call_ended and fatal codes,
// recording permission codes); zoom_obf_user_not_in_meeting is only named
// by third-party integrations, hence the looser matches for OBF.
var subCodeReasons = []struct {
	// all must be in the sub code.
	all []string
	why string
	// fail is the sub code in the join-failure vocabulary ("": none).
	fail onbehalf.JoinFailure
}{
	// On-behalf-of joins: the bot may only be in the meeting with its person.
	{[]string{"obf", "not_in_meeting"}, "the person the bot joined for was not in the meeting", onbehalf.JoinUserNotInMeeting},
	{[]string{"user_not_in_meeting"}, "the person the bot joined for was not in the meeting", onbehalf.JoinUserNotInMeeting},
	{[]string{"authorized_user", "left"}, "the person the bot joined for left the meeting", onbehalf.JoinUserLeft},
	{[]string{"obf", "left"}, "the person the bot joined for left the meeting", onbehalf.JoinUserLeft},
	{[]string{"external_meeting"}, "Zoom does not let this app join meetings of other Zoom accounts (the app is not published)", onbehalf.JoinAppNotApproved},
	{[]string{"obf"}, "Zoom did not accept the on-behalf-of (OBF) token", onbehalf.JoinTokenInvalid},
	{[]string{"zak"}, "Zoom did not accept the ZAK (sign-in) token", onbehalf.JoinTokenInvalid},
	{[]string{"join_token"}, "Zoom did not accept the join token", onbehalf.JoinTokenInvalid},

	// Why a bot left the call.
	{[]string{"call_ended_by_host"}, "the host ended the meeting", ""},
	{[]string{"everyone_left"}, "everyone left the meeting", ""},
	{[]string{"noone_joined"}, "nobody joined the meeting", ""},
	{[]string{"kicked_from_waiting_room"}, "the host did not let the bot in from the waiting room", onbehalf.JoinWaitingRoom},
	{[]string{"waiting_room_timeout"}, "nobody let the bot in from the waiting room in time", onbehalf.JoinWaitingRoom},
	{[]string{"timeout", "waiting_room"}, "nobody let the bot in from the waiting room in time", onbehalf.JoinWaitingRoom},
	{[]string{"kicked_from_call"}, "the host removed the bot from the meeting", onbehalf.JoinOther},
	{[]string{"received_leave_call"}, "the bot was told to leave", ""},
	{[]string{"only_bot"}, "only bots were left in the meeting", ""},
	{[]string{"silence_detected"}, "only bots were left in the meeting (long silence)", ""},
	{[]string{"recording_permission_denied"}, "the bot was not allowed to record, so it left", ""},
	{[]string{"in_call_not_recording"}, "the bot was never allowed to record, so it left", ""},
	{[]string{"max_duration"}, "the bot reached its maximum time in the meeting", ""},
	{[]string{"max_length"}, "the meeting reached its maximum length", ""},
	{[]string{"platform_idle"}, "the meeting was idle, so Zoom ended it", ""},

	// Why a bot could not join.
	{[]string{"meeting_not_started"}, "the meeting has not started: waiting for the host", onbehalf.JoinMeetingNotStarted},
	{[]string{"host_not_present"}, "the host is not in the meeting", onbehalf.JoinMeetingNotStarted},
	{[]string{"meeting_not_found"}, "the meeting does not exist", ""},
	{[]string{"meeting_ended"}, "the meeting had already ended", ""},
	{[]string{"password_incorrect"}, "the meeting passcode is wrong", ""},
	{[]string{"passcode"}, "the meeting passcode is wrong", ""},
	{[]string{"meeting_locked"}, "the meeting is locked", ""},
	{[]string{"meeting_full"}, "the meeting is full", ""},
	{[]string{"link_expired"}, "the meeting link has expired", ""},
	{[]string{"link_invalid"}, "the meeting link is not valid", ""},
	{[]string{"requires_sign_in"}, "the meeting only admits signed-in users", ""},
	{[]string{"sdk_credentials"}, "Recall.ai has no Zoom SDK credentials for this workspace", ""},
	{[]string{"sdk_key_blocked"}, "the host's Zoom account blocks this app", onbehalf.JoinAppNotApproved},

	// Why a bot in the call may not record.
	{[]string{"local_recording_disabled"}, "the host's Zoom settings do not allow local recording", ""},
	{[]string{"local_recording_request_disabled"}, "the host's Zoom settings do not let participants ask to record", ""},
	{[]string{"denied_by_host"}, "the host refused the recording request", ""},
	{[]string{"local_recording_denied"}, "Zoom refused the recording request", ""},
	{[]string{"grant_not_supported"}, "the host's Zoom client cannot grant recording permission", ""},

	{[]string{"bot_errored"}, "the bot ran into an unexpected error at Recall.ai", ""},
	{[]string{"failed_to_launch"}, "Recall.ai could not start the bot in time", ""},
}

// reason returns the words for a sub code, or "" for one not known.
func reason(subCode string) string {
	why, _ := matchSubCode(subCode)
	return why
}

// failure is a report's sub code in the join-failure vocabulary: the
// sub code's, else "other" for a fatal report (platform.FailureOf). A
// sub code that ends in a number after "zoom" is read as the Zoom
// Meeting SDK's code it passes on (platform.ZoomFailure).
func failure(status onbehalf.BotStatus, subCode string) onbehalf.JoinFailure {
	_, fail := matchSubCode(subCode)
	if fail == "" && strings.Contains(strings.ToLower(subCode), "zoom") {
		if i := strings.LastIndexAny(subCode, "_-"); i >= 0 {
			fail, _ = platform.ZoomFailure(subCode[i+1:])
		}
	}
	return platform.FailureOf(status, fail)
}

// matchSubCode finds a sub code's words and failure: the first entry of
// subCodeReasons whose parts are all in it.
func matchSubCode(subCode string) (why string, fail onbehalf.JoinFailure) {
	s := strings.ToLower(subCode)
next:
	for _, r := range subCodeReasons {
		for _, part := range r.all {
			if !strings.Contains(s, part) {
				continue next
			}
		}
		return r.why, r.fail
	}
	return "", ""
}
