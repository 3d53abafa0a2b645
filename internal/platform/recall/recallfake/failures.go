package recallfake

import (
	"context"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

// failures are what Recall.ai sends for each failure situation: the
// status and the sub code. Its docs (docs.recall.ai/docs/sub-codes) name
// no sub code for an OBF user who left or never came; the OBF sub codes
// here are the ones integrations report (zoom_obf_…). For a user who left
// the fake sends a plain call_ended (untold).
var failures = platformtest.FailureEvents{
	platformtest.SituationUserLeft:          {Status: onbehalf.BotDone, Reason: ""},
	platformtest.SituationUserNotInMeeting:  {Status: onbehalf.BotFailed, Reason: "zoom_obf_user_not_in_meeting"},
	platformtest.SituationTokenInvalid:      {Status: onbehalf.BotFailed, Reason: "zoom_obf_token_invalid"},
	platformtest.SituationTokenWrongMeeting: {Status: onbehalf.BotFailed, Reason: ""},
}

// SendFailure implements platformtest.FailureFake: the status webhook of
// situation s, sent as SendStatus sends it.
func (f *Fake) SendFailure(ctx context.Context, platformBotID string, s platformtest.Situation) error {
	return failures.Send(ctx, "recallfake", f.SendStatus, platformBotID, s)
}
