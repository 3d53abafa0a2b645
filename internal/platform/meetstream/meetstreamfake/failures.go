package meetstreamfake

import (
	"context"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

// failures are what MeetStream sends for each failure situation. Its
// webhook guide names no reason beyond bot_event, bot_status and a free
// message (status_code 500 for every failure), so every situation comes
// as a plain stop or a generic failure (untold).
var failures = platformtest.FailureEvents{
	platformtest.SituationUserLeft:          {Status: onbehalf.BotDone, Reason: ""},
	platformtest.SituationUserNotInMeeting:  {Status: onbehalf.BotFailed, Reason: ""},
	platformtest.SituationTokenInvalid:      {Status: onbehalf.BotFailed, Reason: ""},
	platformtest.SituationTokenWrongMeeting: {Status: onbehalf.BotFailed, Reason: ""},
}

// SendFailure implements platformtest.FailureFake: the status webhook of
// situation s, sent as SendStatus sends it (the bot's callback_url, else
// Options.WebhookURL).
func (f *Fake) SendFailure(ctx context.Context, platformBotID string, s platformtest.Situation) error {
	return failures.Send(ctx, "meetstreamfake", f.SendStatus, platformBotID, s)
}
