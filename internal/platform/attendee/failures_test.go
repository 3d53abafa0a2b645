package attendee_test

import (
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/attendee/attendeedemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

func TestFailureConformance(t *testing.T) {
	platformtest.RunFailures(t, platformtest.FailureHarness{
		New: func(t *testing.T, webhookURL string) (onbehalf.Platform, platformtest.FailureFake) {
			s := newSetup(t, attendeedemo.Options{WebhookSecret: secret, WebhookURL: webhookURL},
				attendee.Config{WebhookSecret: secret})
			return s.a, s.fake
		},
		HTTPS: true,
		Untold: map[platformdemo.Situation]string{
			platformdemo.SituationUserLeft: "Attendee ends a bot Zoom removed because its OBF user left as a plain meeting_ended: " +
				"bot_controller.py drops the Meeting SDK's end reason (EndMeetingReason_DueToAuthorizedUserLeave, 8)",
		},
	})
}
