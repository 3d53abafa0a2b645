package attendee

import (
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// Attendee's bot states and event codes (bots/models.py: BotStates,
// BotEventTypes, BotEventSubTypes and their *_to_api_code tables), mapped
// to this server's status vocabulary with words a person understands.

// stateStatus maps a new_state to a status and what it means; states
// missing here (ready, data_deleted, the app-session states) are of no
// interest.
var stateStatus = map[string]struct {
	status onbehalf.BotStatus
	msg    string
}{
	"scheduled":                          {onbehalf.BotCreated, "Attendee will send the bot at its start time."},
	"staged":                             {onbehalf.BotCreated, "Attendee is getting the bot ready to join."},
	"joining":                            {onbehalf.BotJoining, "The bot is joining the meeting."},
	"waiting_room":                       {onbehalf.BotWaiting, "The bot is in the meeting's waiting room: the host must admit it."},
	"joined_not_recording":               {onbehalf.BotInCall, "The bot is in the meeting."},
	"joined_recording":                   {onbehalf.BotInCall, "The bot is in the meeting and recording."},
	"joined_recording_paused":            {onbehalf.BotInCall, "The bot is in the meeting; its recording is paused."},
	"joined_recording_permission_denied": {onbehalf.BotInCall, "The bot is in the meeting, but the host did not let it record."},
	"joining_breakout_room":              {onbehalf.BotInCall, "The bot is in the meeting, moving to a breakout room."},
	"leaving_breakout_room":              {onbehalf.BotInCall, "The bot is in the meeting, leaving a breakout room."},
	"leaving":                            {onbehalf.BotDone, "The bot is leaving the meeting."},
	"post_processing":                    {onbehalf.BotDone, "The bot left the meeting; Attendee is processing the recording."},
	"ended":                              {onbehalf.BotDone, "The bot's session is over."},
	"fatal_error":                        {onbehalf.BotFailed, "The bot stopped with an error at Attendee."},
}

// subTypeMessages say why, by event_sub_type.
var subTypeMessages = map[string]string{
	// could_not_join_meeting (the bot is gone: new_state fatal_error)
	"authorized_user_not_in_meeting_timeout_exceeded": "You did not join the meeting in time: a bot joining on your behalf can only get in while you are in the meeting, and it gave up waiting for you.",
	"meeting_not_started_waiting_for_host":            "The meeting had not started: the bot waited for the host to start it, then gave up.",
	"zoom_app_cannot_join_anonymously":                "Zoom would not let the bot in without a token: Attendee got no usable OBF or ZAK token from this server (see the bot's token fetches).",
	"zoom_authorization_failed":                       "Zoom refused the bot's Zoom app credentials (check the Zoom app set up in Attendee).",
	"unpublished_zoom_app":                            "Zoom refused the bot: an unpublished Zoom app cannot join meetings outside its own Zoom account.",
	"waiting_room_timeout_exceeded":                   "Nobody admitted the bot from the waiting room in time.",
	"request_to_join_denied":                          "The host denied the bot's request to join.",
	"meeting_not_found":                               "Zoom says this meeting does not exist.",
	"unable_to_connect_to_meeting":                    "The bot could not connect to the meeting: usually the passcode in the link is wrong.",
	"login_required":                                  "The meeting only admits signed-in users.",
	"bot_login_attempt_failed":                        "The bot could not sign in to Zoom.",
	"blocked_by_captcha":                              "Zoom stopped the bot with a verification challenge (captcha).",
	"zoom_meeting_status_failed":                      "Zoom reported an error with the meeting's status.",
	"zoom_sdk_internal_error":                         "The Zoom SDK failed inside the bot.",
	// fatal_error
	"out_of_credits": "The Attendee account is out of credits.",
	// leave_requested
	"user_requested":                              "The bot was asked to leave.",
	"auto_leave_silence":                          "The bot left: the meeting was silent for too long.",
	"auto_leave_only_participant_in_meeting":      "The bot left: everyone else had left the meeting.",
	"auto_leave_max_uptime_exceeded":              "The bot left: it reached its longest allowed time in the meeting.",
	"auto_leave_could_not_enable_closed_captions": "The bot left: it could not turn on closed captions.",
	// recording permission
	"host_denied_permission":                    "The host did not allow the bot to record.",
	"request_timed_out":                         "Nobody answered the bot's request to record.",
	"host_client_cannot_grant_permission":       "The host's Zoom client cannot grant the bot permission to record.",
	"webinar_attendee_needs_panelist_promotion": "The bot joined the webinar as an attendee: a host must make it a panelist for it to record.",
}

// subTypeFailures put the sub types of a failed join or a removal in the
// join-failure vocabulary. zoom_meeting_status_failed is mapped by the
// Zoom code Attendee passes on (event_metadata.zoom_result_code,
// platform.ZoomFailure). Attendee reports a bot Zoom removed because its
// OBF user left as a plain meeting_ended (bot_controller.py ignores the
// SDK's end reason), so no sub type means "user_left".
var subTypeFailures = map[string]onbehalf.JoinFailure{
	"authorized_user_not_in_meeting_timeout_exceeded": onbehalf.JoinUserNotInMeeting,
	"meeting_not_started_waiting_for_host":            onbehalf.JoinMeetingNotStarted,
	"zoom_app_cannot_join_anonymously":                onbehalf.JoinTokenInvalid,
	"unpublished_zoom_app":                            onbehalf.JoinAppNotApproved,
	"waiting_room_timeout_exceeded":                   onbehalf.JoinWaitingRoom,
	"request_to_join_denied":                          onbehalf.JoinWaitingRoom,
}

// zoomCodeSubType is the sub type whose event_metadata carries the Zoom
// Meeting SDK's MeetingFailCode.
const zoomCodeSubType = "zoom_meeting_status_failed"

// joinFailure is a bot.state_change in the join-failure vocabulary
// (zoomCode: event_metadata.zoom_result_code, "" when none).
func joinFailure(status onbehalf.BotStatus, subType, zoomCode string) onbehalf.JoinFailure {
	f := subTypeFailures[subType]
	if f == "" && zoomCode != "" {
		f, _ = platform.ZoomFailure(zoomCode)
	}
	return platform.FailureOf(status, f)
}

// eventTypeMessages say what happened, by event_type, when the sub type
// says nothing more.
var eventTypeMessages = map[string]string{
	"meeting_ended": "The meeting ended.",
	"left_meeting":  "The bot left the meeting.",
}

// waitingForHost is Attendee's sub type for a meeting that has not
// started. Attendee reports it when the bot gives up (could_not_join_meeting,
// new_state fatal_error: LEAVE_MEETING_WAITING_FOR_HOST in
// bot_controller.py), so it is a failure; were it ever reported while the
// bot still waits, it would mean waiting.
const waitingForHost = "meeting_not_started_waiting_for_host"

// mapState maps a bot.state_change to a status and a message; ok is false
// for states of no interest.
func mapState(newState, eventType, subType string) (status onbehalf.BotStatus, msg string, ok bool) {
	st, known := stateStatus[newState]
	if !known {
		return "", "", false
	}
	status, msg = st.status, st.msg
	switch {
	case subType == waitingForHost && !status.Final():
		return onbehalf.BotWaiting, "The meeting has not started: the bot is waiting for the host to start it.", true
	case subTypeMessages[subType] != "":
		msg = subTypeMessages[subType]
	case subType != "":
		msg = onbehalf.Inner(msg) + " (" + onbehalf.Clip(subType, 80) + ")."
	case eventTypeMessages[eventType] != "":
		msg = eventTypeMessages[eventType]
	}
	return status, msg, true
}
