package recall_test

import (
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recallfake"
)

func TestFailureConformance(t *testing.T) {
	platformtest.RunFailures(t, platformtest.FailureHarness{
		New: func(t *testing.T, webhookURL string) (onbehalf.Platform, platformtest.FailureFake) {
			return setup(t, recallfake.Options{WebhookURL: webhookURL}, recall.Config{})
		},
		Untold: map[platformtest.Situation]string{
			platformtest.SituationUserLeft: "Recall.ai documents no call_ended sub code for a bot Zoom removed because its OBF user left " +
				"(docs.recall.ai/docs/sub-codes); a sub code naming the authorized or OBF user and \"left\" is read as one (inferred)",
			platformtest.SituationTokenWrongMeeting: "Recall.ai documents no sub code for an OBF token of another meeting; " +
				"a zoom_… sub code ending in Zoom's 506 would be read",
		},
	})
}
