package platformtest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// situations are the situations checked and the failure each must map to.
// Every platform must tell each apart, or declare it untold with why.
var situations = []struct {
	s    platformdemo.Situation
	want onbehalf.JoinFailure
}{
	{platformdemo.SituationUserLeft, onbehalf.JoinUserLeft},
	{platformdemo.SituationUserNotInMeeting, onbehalf.JoinUserNotInMeeting},
	{platformdemo.SituationTokenInvalid, onbehalf.JoinTokenInvalid},
	{platformdemo.SituationTokenWrongMeeting, onbehalf.JoinTokenWrongMeeting},
}

// FailureFake is a fake that reports failures the way its platform does.
type FailureFake interface {
	platformdemo.Fake
	// SendFailure makes the fake send the status webhook(s) its platform
	// sends when s happens to bot platformBotID, to the webhook URL the
	// fake was given (and the bot's status URL, where the platform has
	// per-bot ones). For a situation the platform does not tell apart,
	// it sends what the platform sends then (a plain end, a generic
	// failure).
	SendFailure(ctx context.Context, platformBotID string, s platformdemo.Situation) error
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
	Untold map[platformdemo.Situation]string
	// HTTPS is true when the platform takes only https URLs of the
	// server (Harness.HTTPS).
	HTTPS bool
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
			start := httptest.NewServer
			if h.HTTPS {
				start = platformdemo.ServeTLS
			}
			srv := start(hooks)
			t.Cleanup(srv.Close)
			p, fake := h.New(t, srv.URL+"/webhooks/status")
			rcv, ok := onbehalf.AsPlatform[onbehalf.StatusReceiver](p)
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
