package recalldemo

import (
	"context"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// failures are what Recall.ai sends for each failure situation: the
// status and the sub code. Its docs (docs.recall.ai/docs/sub-codes) name
// no sub code for an OBF user who left or never came; the OBF sub codes
// here are the ones integrations report (zoom_obf_…). For a user who left
// the fake sends a plain call_ended (untold).
var failures = platformdemo.FailureEvents{
	platformdemo.SituationUserLeft:          {Status: onbehalf.BotDone, Reason: ""},
	platformdemo.SituationUserNotInMeeting:  {Status: onbehalf.BotFailed, Reason: "zoom_obf_user_not_in_meeting"},
	platformdemo.SituationTokenInvalid:      {Status: onbehalf.BotFailed, Reason: "zoom_obf_token_invalid"},
	platformdemo.SituationTokenWrongMeeting: {Status: onbehalf.BotFailed, Reason: ""},
}

// SendFailure implements platformtest.FailureFake: the status webhook of
// situation s, sent as SendStatus sends it.
func (f *Fake) SendFailure(ctx context.Context, platformBotID string, s platformdemo.Situation) error {
	return failures.Send(ctx, "recalldemo", f.SendStatus, platformBotID, s)
}
