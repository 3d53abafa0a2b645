package meetstreamfake

import (
	"context"
	"fmt"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

// failures are what MeetStream sends for each failure situation. Its
// webhook guide names no reason beyond bot_event, bot_status and a free
// message (status_code 500 for every failure), so every situation comes
// as a plain stop or a generic failure (untold).
var failures = map[platformtest.Situation]onbehalf.BotStatus{
	platformtest.SituationUserLeft:          onbehalf.BotDone,
	platformtest.SituationUserNotInMeeting:  onbehalf.BotFailed,
	platformtest.SituationTokenInvalid:      onbehalf.BotFailed,
	platformtest.SituationTokenWrongMeeting: onbehalf.BotFailed,
}

// SendFailure implements platformtest.FailureFake: the status webhook of
// situation s, sent as SendStatus sends it (the bot's callback_url, else
// Options.WebhookURL).
func (f *Fake) SendFailure(ctx context.Context, platformBotID string, s platformtest.Situation) error {
	st, ok := failures[s]
	if !ok {
		return fmt.Errorf("meetstreamfake: no failure for %q", s)
	}
	return f.SendStatus(ctx, platformBotID, st, "")
}
