package recallfake

import (
	"context"
	"fmt"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

// failures are what Recall.ai sends for each failure situation: the
// status and the sub code. Its docs (docs.recall.ai/docs/sub-codes) name
// no sub code for an OBF user who left or never came; the OBF sub codes
// here are the ones integrations report (zoom_obf_…). For a user who left
// the fake sends a plain call_ended (untold).
var failures = map[platformtest.Situation]struct {
	status  onbehalf.BotStatus
	subCode string
}{
	platformtest.SituationUserLeft:          {onbehalf.BotDone, ""},
	platformtest.SituationUserNotInMeeting:  {onbehalf.BotFailed, "zoom_obf_user_not_in_meeting"},
	platformtest.SituationTokenInvalid:      {onbehalf.BotFailed, "zoom_obf_token_invalid"},
	platformtest.SituationTokenWrongMeeting: {onbehalf.BotFailed, ""},
}

// SendFailure implements platformtest.FailureFake: the status webhook of
// situation s, sent as SendStatus sends it.
func (f *Fake) SendFailure(ctx context.Context, platformBotID string, s platformtest.Situation) error {
	ev, ok := failures[s]
	if !ok {
		return fmt.Errorf("recallfake: no failure for %q", s)
	}
	return f.SendStatus(ctx, platformBotID, ev.status, ev.subCode)
}
