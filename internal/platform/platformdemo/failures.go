package platformdemo

import (
	"context"
	"fmt"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Situation is something that happens to a bot that its platform reports
// as a failed join or a removal.
type Situation string

// The situations every platform's status mapping is checked with.
const (
	// SituationUserLeft: the bot was in; the user whose OBF token it
	// joined with left, and Zoom removed the bot (Meeting SDK end reason
	// 8, EndMeetingReason_DueToAuthorizedUserLeave).
	SituationUserLeft Situation = "the on-behalf user left"
	// SituationUserNotInMeeting: the user never came, the platform gave
	// up (Meeting SDK 501, MEETING_FAIL_AUTHORIZED_USER_NOT_INMEETING).
	SituationUserNotInMeeting Situation = "the on-behalf user was not in the meeting"
	// SituationTokenInvalid: Zoom refused the OBF token (Meeting SDK 505,
	// MEETING_FAIL_ON_BEHALF_TOKEN_INVALID).
	SituationTokenInvalid Situation = "Zoom refused the token"
	// SituationTokenWrongMeeting: the token was for another meeting
	// (Meeting SDK 506, MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING).
	SituationTokenWrongMeeting Situation = "the token was for another meeting"
)

// FailureEvent is what a platform sends for a situation: the status its
// fake's SendStatus reports, and the reason (the platform's sub code,
// error code or message) it sends with it ("": the platform's default).
type FailureEvent struct {
	Status onbehalf.BotStatus
	Reason string
}

// FailureEvents are a platform's failure events by situation.
type FailureEvents map[Situation]FailureEvent

// Send sends the event of situation s for bot platformBotID with a fake's
// SendStatus; fake names the fake in errors.
func (fe FailureEvents) Send(ctx context.Context, fake string, send func(ctx context.Context, platformBotID string, s onbehalf.BotStatus, reason string) error,
	platformBotID string, s Situation) error {
	ev, ok := fe[s]
	if !ok {
		return fmt.Errorf("%s: no failure event for %q", fake, s)
	}
	return send(ctx, platformBotID, ev.Status, ev.Reason)
}
