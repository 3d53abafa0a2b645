package onbehalf

// JoinFailure is the one vocabulary every platform's reason for a failed
// join (or a removal) is mapped to, so that a product codes against one
// list whichever platform sent the bot. The platform's raw code is kept
// beside it (BotEvent.Code, StatusReport.Code).
type JoinFailure string

// Join failures. Each platform package maps its own codes (and Zoom's
// Meeting SDK codes it passes on) to these; anything it cannot place is
// JoinOther.
const (
	// JoinUserNotInMeeting: the token's user was not in the meeting when
	// the bot tried to join (Zoom SDK 501-style refusals, a platform's
	// "authorized user not in meeting" timeout).
	JoinUserNotInMeeting JoinFailure = "user_not_in_meeting"
	// JoinUserLeft: the bot was in, and was removed because the token's
	// user left the meeting.
	JoinUserLeft JoinFailure = "user_left"
	// JoinTokenInvalid: Zoom refused the token itself (expired, revoked,
	// malformed).
	JoinTokenInvalid JoinFailure = "token_invalid"
	// JoinTokenWrongMeeting: the token was minted for another meeting, or
	// for a user Zoom does not match to the meeting's invitee.
	JoinTokenWrongMeeting JoinFailure = "token_wrong_meeting"
	// JoinWaitingRoom: the bot was held in, or never let out of, the
	// waiting room.
	JoinWaitingRoom JoinFailure = "waiting_room"
	// JoinMeetingNotStarted: the meeting had not started (no host).
	JoinMeetingNotStarted JoinFailure = "meeting_not_started"
	// JoinAppNotApproved: the Zoom app may not join this meeting
	// (unpublished app outside its account, blocked by the account).
	JoinAppNotApproved JoinFailure = "app_not_approved"
	// JoinOther: any other reason; the raw code says more.
	JoinOther JoinFailure = "other"
)

// JoinFailures lists the vocabulary, for documents and checks.
var JoinFailures = []JoinFailure{
	JoinUserNotInMeeting, JoinUserLeft, JoinTokenInvalid, JoinTokenWrongMeeting,
	JoinWaitingRoom, JoinMeetingNotStarted, JoinAppNotApproved, JoinOther,
}

// MaxCandidates bounds the connections one bot or token URL may name
// (connection_ids).
const MaxCandidates = 10

// MaxRelays bounds how many times the bots of one meeting are relayed to
// the next candidate.
const MaxRelays = 3
