package meetingbaas_test

import (
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas/meetingbaasfake"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

func TestFailureConformance(t *testing.T) {
	platformtest.RunFailures(t, platformtest.FailureHarness{
		New: func(t *testing.T, webhookURL string) (onbehalf.Platform, platformtest.FailureFake) {
			f := newFake(t, meetingbaasfake.Options{WebhookURL: webhookURL})
			return newAdapter(t, meetingbaas.Config{BaseURL: f.URL()}), f
		},
		Untold: map[platformtest.Situation]string{
			platformtest.SituationUserLeft: "Meeting BaaS has no status or error code for a bot Zoom removed because its OBF user left " +
				"(its status and error-code lists): the bot ends as call_ended or bot_removed, like other ends",
			platformtest.SituationTokenWrongMeeting: "Meeting BaaS has no error code for an OBF token of another meeting (CANNOT_JOIN_MEETING covers it and more)",
		},
	})
}
