package attendee_test

import (
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/attendee/attendeefake"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

func TestFailureConformance(t *testing.T) {
	platformtest.RunFailures(t, platformtest.FailureHarness{
		New: func(t *testing.T, webhookURL string) (onbehalf.Platform, platformtest.FailureFake) {
			s := newSetup(t, attendeefake.Options{WebhookSecret: secret, AllowHTTP: true, WebhookURL: webhookURL},
				attendee.Config{AllowHTTP: true, WebhookSecret: secret})
			return s.a, s.fake
		},
		Untold: map[platformtest.Situation]string{
			platformtest.SituationUserLeft: "Attendee ends a bot Zoom removed because its OBF user left as a plain meeting_ended: " +
				"bot_controller.py drops the Meeting SDK's end reason (EndMeetingReason_DueToAuthorizedUserLeave, 8)",
		},
	})
}
