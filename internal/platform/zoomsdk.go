package platform

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// The Zoom Meeting SDK's codes that platforms pass on (Attendee puts them
// in event_metadata.zoom_result_code; others in their messages), in the
// join-failure vocabulary. One table for every platform package.
//
// Sources: the Meeting SDK's meeting_service_interface.h (Linux and
// Windows; enum MeetingFailCode and enum MeetingEndReason) and its
// wrappers (503–506 appear in the newer SDK releases' headers, as
// MEETING_FAIL_USER_LEVEL_TOKEN_NOT_HAVE_HOST_ZAK_OBF,
// MEETING_FAIL_APP_CAN_NOT_ANONYMOUS_JOIN_MEETING,
// MEETING_FAIL_ON_BEHALF_TOKEN_INVALID and
// MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING).

// zoomFailCodes maps MeetingFailCode values, the reason a join failed
// (onMeetingStatusChanged(MEETING_STATUS_FAILED, code)).
var zoomFailCodes = map[int]onbehalf.JoinFailure{
	4:  onbehalf.JoinOther,             // MEETING_FAIL_PASSWORD_ERR
	6:  onbehalf.JoinOther,             // MEETING_FAIL_MEETING_OVER
	7:  onbehalf.JoinMeetingNotStarted, // MEETING_FAIL_MEETING_NOT_START
	8:  onbehalf.JoinOther,             // MEETING_FAIL_MEETING_NOT_EXIST
	16: onbehalf.JoinTokenInvalid,      // MEETING_FAIL_CANNOT_START_TOKENEXPIRE
	// The app may not join here: not published, blocked, internal only.
	60: onbehalf.JoinAppNotApproved, // MEETING_FAIL_FORBID_TO_JOIN_INTERNAL_MEETING
	62: onbehalf.JoinAppNotApproved, // MEETING_FAIL_HOST_DISALLOW_OUTSIDE_USER_JOIN
	63: onbehalf.JoinAppNotApproved, // MEETING_FAIL_UNABLE_TO_JOIN_EXTERNAL_MEETING
	64: onbehalf.JoinAppNotApproved, // MEETING_FAIL_BLOCKED_BY_ACCOUNT_ADMIN
	// The tokens of apps joining on someone's behalf.
	500: onbehalf.JoinTokenInvalid,      // MEETING_FAIL_APP_PRIVILEGE_TOKEN_ERROR (join token)
	501: onbehalf.JoinUserNotInMeeting,  // MEETING_FAIL_AUTHORIZED_USER_NOT_INMEETING
	502: onbehalf.JoinTokenInvalid,      // MEETING_FAIL_ON_BEHALF_TOKEN_CONFLICT_LOGIN_ERROR
	503: onbehalf.JoinTokenInvalid,      // MEETING_FAIL_USER_LEVEL_TOKEN_NOT_HAVE_HOST_ZAK_OBF
	504: onbehalf.JoinTokenInvalid,      // MEETING_FAIL_APP_CAN_NOT_ANONYMOUS_JOIN_MEETING (no usable OBF or ZAK)
	505: onbehalf.JoinTokenInvalid,      // MEETING_FAIL_ON_BEHALF_TOKEN_INVALID
	506: onbehalf.JoinTokenWrongMeeting, // MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING
	// MEETING_FAIL_JMAK_USER_EMAIL_NOT_MATCH: the token's user is not
	// the one the meeting expects.
	1143: onbehalf.JoinTokenWrongMeeting,
	// MEETING_FAIL_UNKNOWN. Zoom also sends it when an OBF token's user
	// is not in some kinds of meeting (Attendee treats it as 501 then),
	// but it means nothing certain, so it stays "other".
	0xffff: onbehalf.JoinOther,
}

// Zoom's MeetingEndReason values that say why a bot in the meeting was
// ended (onMeetingStatusChanged(MEETING_STATUS_ENDED, reason)).
const (
	// ZoomEndKickByHost is EndMeetingReason_KickByHost.
	ZoomEndKickByHost = 1
	// ZoomEndAuthorizedUserLeft is EndMeetingReason_DueToAuthorizedUserLeave:
	// the user whose OBF token the bot joined with left, so Zoom removed
	// the bot.
	ZoomEndAuthorizedUserLeft = 8
)

// ZoomFailure maps a Zoom Meeting SDK join-failure code (MeetingFailCode,
// as a decimal string) to the vocabulary; ok is false for a code that is not a number or not known.
func ZoomFailure(code string) (f onbehalf.JoinFailure, ok bool) {
	n, err := strconv.Atoi(strings.TrimSpace(code))
	if err != nil {
		return "", false
	}
	f, ok = zoomFailCodes[n]
	return f, ok
}

// ZoomEndFailure maps a Zoom Meeting SDK end reason (MeetingEndReason) to
// the vocabulary: "" for the ends that are no failure (the host ended
// the meeting, everyone left), ok false for one that is not a number.
func ZoomEndFailure(reason string) (f onbehalf.JoinFailure, ok bool) {
	n, err := strconv.Atoi(strings.TrimSpace(reason))
	if err != nil {
		return "", false
	}
	switch n {
	case ZoomEndAuthorizedUserLeft:
		return onbehalf.JoinUserLeft, true
	case ZoomEndKickByHost:
		return onbehalf.JoinOther, true
	}
	return "", true
}

// FailureOf is the failure a report of status carries once the
// platform's own code was mapped to mapped ("" when it was not): mapped,
// else "other" for a failed bot, else none (a bot that is done for no
// known bad reason failed nothing).
func FailureOf(status onbehalf.BotStatus, mapped onbehalf.JoinFailure) onbehalf.JoinFailure {
	switch {
	case mapped != "":
		return mapped
	case status == onbehalf.BotFailed:
		return onbehalf.JoinOther
	}
	return ""
}

// zoomWords are phrases of Zoom's own messages (and of platforms that
// relay them in words) that name a join failure, most specific first;
// every part must be in the lower-cased text.
var zoomWords = []struct {
	all  []string
	fail onbehalf.JoinFailure
}{
	{[]string{"authorized user", "left"}, onbehalf.JoinUserLeft},
	{[]string{"authorized_user", "left"}, onbehalf.JoinUserLeft},
	{[]string{"authorizeduserleave"}, onbehalf.JoinUserLeft},
	{[]string{"on behalf", "left"}, onbehalf.JoinUserLeft},
	{[]string{"obf", "left"}, onbehalf.JoinUserLeft},
	{[]string{"authorized user", "not in"}, onbehalf.JoinUserNotInMeeting},
	{[]string{"authorized_user_not_in"}, onbehalf.JoinUserNotInMeeting},
	{[]string{"obf", "not in"}, onbehalf.JoinUserNotInMeeting},
	{[]string{"on behalf", "not match"}, onbehalf.JoinTokenWrongMeeting},
	{[]string{"email not match"}, onbehalf.JoinTokenWrongMeeting},
	{[]string{"on behalf", "invalid"}, onbehalf.JoinTokenInvalid},
	{[]string{"obf", "invalid"}, onbehalf.JoinTokenInvalid},
	{[]string{"external meeting"}, onbehalf.JoinAppNotApproved},
	{[]string{"hosted by an external"}, onbehalf.JoinAppNotApproved},
	{[]string{"not admitted"}, onbehalf.JoinWaitingRoom},
	{[]string{"waiting room"}, onbehalf.JoinWaitingRoom},
	{[]string{"not started"}, onbehalf.JoinMeetingNotStarted},
	{[]string{"waiting for host"}, onbehalf.JoinMeetingNotStarted},
}

// zoomCodeInText finds a Zoom Meeting SDK code a platform quotes in its
// words ("… failed with code 505", "MEETING_FAIL 506").
var zoomCodeInText = regexp.MustCompile(`(?i)(?:code|fail(?:ed|ure)?)\D{0,12}?(\d{1,5})\b`)

// ZoomFailureInWords reads a failure from a platform's message: a Zoom
// Meeting SDK code it quotes (ZoomFailure), else Zoom's words; "" when
// neither says anything. It is inference from free text: platforms with
// codes map those first.
func ZoomFailureInWords(text string) onbehalf.JoinFailure {
	if m := zoomCodeInText.FindStringSubmatch(text); m != nil {
		if f, ok := ZoomFailure(m[1]); ok {
			return f
		}
	}
	s := strings.ToLower(text)
next:
	for _, w := range zoomWords {
		for _, part := range w.all {
			if !strings.Contains(s, part) {
				continue next
			}
		}
		return w.fail
	}
	return ""
}
