package attendeefake

import (
	"context"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

// failures are what Attendee sends for each failure situation
// (bots/bot_controller/bot_controller.py, bots/models.py
// BotEventSubTypes): the status and the event_sub_type, with the Zoom
// SDK code after a colon for zoom_meeting_status_failed (its
// event_metadata.zoom_result_code). A user who left ends the bot as a
// plain meeting_ended: Attendee drops the SDK's end reason (untold).
var failures = platformtest.FailureEvents{
	platformtest.SituationUserLeft:          {Status: onbehalf.BotDone, Reason: ""},
	platformtest.SituationUserNotInMeeting:  {Status: onbehalf.BotFailed, Reason: "authorized_user_not_in_meeting_timeout_exceeded"},
	platformtest.SituationTokenInvalid:      {Status: onbehalf.BotFailed, Reason: "zoom_meeting_status_failed:505"},
	platformtest.SituationTokenWrongMeeting: {Status: onbehalf.BotFailed, Reason: "zoom_meeting_status_failed:506"},
}

// SendFailure implements platformtest.FailureFake: the bot.state_change
// of situation s, sent as SendStatus sends it.
func (f *Fake) SendFailure(ctx context.Context, platformBotID string, s platformtest.Situation) error {
	return failures.Send(ctx, "attendeefake", f.SendStatus, platformBotID, s)
}
