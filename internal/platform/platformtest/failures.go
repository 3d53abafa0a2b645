package platformtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Situation is something that happens to a bot that its platform reports
// as a failed join or a removal.
type Situation string

// The situations every platform's status mapping is checked with.
const (
	// SituationUserLeft: the bot was in; the user whose OBF token it
	// joined with left, and Zoom removed the bot (Meeting SDK end reason
	// 8, EndMeetingReason_DueToAuthorizedUserLeave).
	SituationUserLeft Situation = "the on-behalf user left"
	// SituationUserNotInMeeting: the user never came, the platform gave
	// up (Meeting SDK 501, MEETING_FAIL_AUTHORIZED_USER_NOT_INMEETING).
	SituationUserNotInMeeting Situation = "the on-behalf user was not in the meeting"
	// SituationTokenInvalid: Zoom refused the OBF token (Meeting SDK 505,
	// MEETING_FAIL_ON_BEHALF_TOKEN_INVALID).
	SituationTokenInvalid Situation = "Zoom refused the token"
	// SituationTokenWrongMeeting: the token was for another meeting
	// (Meeting SDK 506, MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING).
	SituationTokenWrongMeeting Situation = "the token was for another meeting"
)

// situations are the situations checked and the failure each must map to.
// Every platform must tell each apart, or declare it untold with why.
var situations = []struct {
	s    Situation
	want onbehalf.JoinFailure
}{
	{SituationUserLeft, onbehalf.JoinUserLeft},
	{SituationUserNotInMeeting, onbehalf.JoinUserNotInMeeting},
	{SituationTokenInvalid, onbehalf.JoinTokenInvalid},
	{SituationTokenWrongMeeting, onbehalf.JoinTokenWrongMeeting},
}

// FailureFake is a fake that reports failures the way its platform does.
type FailureFake interface {
	Fake
	// SendFailure makes the fake send the status webhook(s) its platform
	// sends when s happens to bot platformBotID, to the webhook URL the
	// fake was given (and the bot's status URL, where the platform has
	// per-bot ones). For a situation the platform does not tell apart,
	// it sends what the platform sends then (a plain end, a generic
	// failure).
	SendFailure(ctx context.Context, platformBotID string, s Situation) error
}

// FailureHarness sets up one platform for the failure checks.
type FailureHarness struct {
	// New returns the adapter and its fake, the fake sending its status
	// webhooks to webhookURL.
	New func(t *testing.T, webhookURL string) (onbehalf.Platform, FailureFake)
	// Untold lists the situations the platform does not tell apart from
	// others, each with why (what its docs and source say). The check
	// then wants the report not to claim the situation's failure. Every
	// other situation must map to its failure.
	Untold map[Situation]string
}

// RunFailures checks that the platform's failure reports, as its fake
// sends them, map to the join-failure vocabulary with the raw code kept.
func RunFailures(t *testing.T, h FailureHarness) {
	for _, sc := range situations {
		t.Run(string(sc.s), func(t *testing.T) {
			why, untold := h.Untold[sc.s]
			if untold && why == "" {
				t.Fatalf("%q is declared untold without saying why", sc.s)
			}
			hooks := &webhookSink{}
			srv := httptest.NewServer(hooks)
			t.Cleanup(srv.Close)
			p, fake := h.New(t, srv.URL+"/webhooks/status")
			rcv, ok := p.(onbehalf.StatusReceiver)
			if !ok {
				t.Fatalf("%s receives no status webhooks", p.Name())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			created, err := p.CreateBot(ctx, onbehalf.BotRequest{
				BotID: "bot_failures_1", Meeting: onbehalf.Meeting{ID: MeetingID, URL: MeetingURL, Password: "abc.1"},
				BotName: BotName, TokenURLs: []onbehalf.TokenURL{{Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, URL: srv.URL + "/token"}},
				StatusURL: srv.URL + "/webhooks/status",
			})
			if err != nil {
				t.Fatalf("CreateBot: %v", err)
			}
			if err := fake.SendFailure(ctx, created.PlatformBotID, sc.s); err != nil {
				t.Fatalf("SendFailure: %v", err)
			}
			got := hooks.all()
			if len(got) == 0 {
				t.Fatalf("the fake sent no webhook")
			}
			for _, d := range got {
				r := httptest.NewRequest(http.MethodPost, d.path, nil)
				r.Header = d.header
				reps, err := rcv.ParseStatusWebhook(r, d.body)
				if err != nil || len(reps) != 1 {
					t.Fatalf("%s: %v, %v; want one report", d.body, reps, err)
				}
				rep := reps[0]
				if !rep.Status.Final() || rep.PlatformBotID != created.PlatformBotID {
					t.Fatalf("report %+v: want a final status of bot %s", rep, created.PlatformBotID)
				}
				switch {
				case untold && rep.Failure == sc.want:
					t.Errorf("%s is declared untold (%s), but %s maps it to %q: remove it from Untold", sc.s, why, d.body, rep.Failure)
				case untold:
					t.Logf("untold: %s (maps to %q)", why, rep.Failure)
				case rep.Failure != sc.want:
					t.Errorf("%s: failure %q, want %q (report %+v)", d.body, rep.Failure, sc.want, rep)
				case rep.Code == "":
					t.Errorf("%s: the platform's raw code is not kept (report %+v)", d.body, rep)
				}
				if rep.Failure != "" && !slices.Contains(onbehalf.JoinFailures, rep.Failure) {
					t.Errorf("failure %q is not in the vocabulary", rep.Failure)
				}
			}
		})
	}
}

// webhookSink records the webhooks a fake delivers.
type webhookSink struct {
	mu  sync.Mutex
	got []delivery
}

// delivery is one webhook as received.
type delivery struct {
	path   string
	header http.Header
	body   []byte
}

// ServeHTTP implements http.Handler: it records POSTs, answers 200.
func (s *webhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method == http.MethodPost && r.URL.Path != "/token" {
		s.mu.Lock()
		s.got = append(s.got, delivery{path: r.URL.Path, header: r.Header.Clone(), body: body})
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

// all returns the deliveries so far.
func (s *webhookSink) all() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// FailureEvent is what a platform sends for a situation: the status its
// fake's SendStatus reports, and the reason (the platform's sub code,
// error code or message) it sends with it ("": the platform's default).
type FailureEvent struct {
	Status onbehalf.BotStatus
	Reason string
}

// FailureEvents are a platform's failure events by situation.
type FailureEvents map[Situation]FailureEvent

// Send sends the event of situation s for bot platformBotID with a fake's
// SendStatus; fake names the fake in errors.
func (fe FailureEvents) Send(ctx context.Context, fake string, send func(ctx context.Context, platformBotID string, s onbehalf.BotStatus, reason string) error,
	platformBotID string, s Situation) error {
	ev, ok := fe[s]
	if !ok {
		return fmt.Errorf("%s: no failure event for %q", fake, s)
	}
	return send(ctx, platformBotID, ev.Status, ev.Reason)
}
