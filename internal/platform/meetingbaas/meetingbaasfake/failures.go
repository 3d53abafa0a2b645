package meetingbaasfake

import (
	"context"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

// failures are what Meeting BaaS sends for each failure situation: the
// status and the error code of bot.failed (its error-code list). It has
// WAITING_FOR_AUTHORIZED_USER_TIMEOUT for a user who never came, and
// ZOOM_OBF_TOKEN_ERROR when no usable OBF token came, but no code for a
// user who left (the bot ends as call_ended) nor for a token of another
// meeting (untold).
var failures = platformtest.FailureEvents{
	platformtest.SituationUserLeft:          {Status: onbehalf.BotDone, Reason: ""},
	platformtest.SituationUserNotInMeeting:  {Status: onbehalf.BotFailed, Reason: "WAITING_FOR_AUTHORIZED_USER_TIMEOUT"},
	platformtest.SituationTokenInvalid:      {Status: onbehalf.BotFailed, Reason: "ZOOM_OBF_TOKEN_ERROR"},
	platformtest.SituationTokenWrongMeeting: {Status: onbehalf.BotFailed, Reason: "CANNOT_JOIN_MEETING"},
}

// SendFailure implements platformtest.FailureFake: the webhook(s) of
// situation s, sent as SendStatus sends them.
func (f *Fake) SendFailure(ctx context.Context, platformBotID string, s platformtest.Situation) error {
	return failures.Send(ctx, "meetingbaasfake", f.SendStatus, platformBotID, s)
}
