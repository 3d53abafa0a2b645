package meetstream

import (
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream/meetstreamfake"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

// untoldMeetStream is why MeetStream tells no situation apart.
const untoldMeetStream = "MeetStream's webhooks carry bot_event, bot_status, a free message and status_code 500 for any failure " +
	"(docs.meetstream.ai, webhooks and events); only a message quoting Zoom's code or words is read (inferred)"

func TestFailureConformance(t *testing.T) {
	platformtest.RunFailures(t, platformtest.FailureHarness{
		New: func(t *testing.T, webhookURL string) (onbehalf.Platform, platformtest.FailureFake) {
			fake := meetstreamfake.New(meetstreamfake.Options{APIKey: testKey, AllowHTTP: true, WebhookURL: webhookURL})
			t.Cleanup(fake.Close)
			a, err := New(Config{APIKey: testKey, BaseURL: fake.URL()}, platform.Deps{})
			if err != nil {
				t.Fatal(err)
			}
			return a, fake
		},
		Untold: map[platformtest.Situation]string{
			platformtest.SituationUserLeft:          untoldMeetStream,
			platformtest.SituationUserNotInMeeting:  untoldMeetStream,
			platformtest.SituationTokenInvalid:      untoldMeetStream,
			platformtest.SituationTokenWrongMeeting: untoldMeetStream,
		},
	})
}

// A message that quotes Zoom is read: how a MeetStream failure can tell.
func TestFailureFromZoomWords(t *testing.T) {
	a, _ := newPair(t, false)
	for body, want := range map[string]onbehalf.JoinFailure{
		`{"event":"bot.stopped","bot_id":"b1","bot_status":"Stopped","message":"Removed: the authorized user left the meeting"}`:    onbehalf.JoinUserLeft,
		`{"event":"bot.stopped","bot_event":"bot.failed","bot_id":"b1","bot_status":"Error","message":"Join failed with code 501"}`: onbehalf.JoinUserNotInMeeting,
		`{"event":"bot.stopped","bot_event":"bot.notallowed","bot_id":"b1","bot_status":"NotAllowed","message":"Failed"}`:           onbehalf.JoinWaitingRoom,
		`{"event":"bot.stopped","bot_id":"b1","bot_status":"Stopped","message":"Bot left the meeting"}`:                             "",
	} {
		reps, err := a.ParseStatusWebhook(nil, []byte(body))
		if err != nil || len(reps) != 1 || reps[0].Failure != want {
			t.Errorf("%s: %+v %v, want failure %q", body, reps, err, want)
		}
	}
}
