package events

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/logtest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// newClock returns a clock at the real time, so that the library's Verify
// (which reads time.Now) accepts what was signed in the first minutes.
func newClock() *clocktest.Clock { return clocktest.New(time.Now().UTC().Truncate(time.Second)) }

// openStore opens the real bbolt store at path (delivering events) with
// the given clock.
func openStore(t testing.TB, path string, now func() time.Time) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(path, bolt.Options{
		Now: now, DeliverEvents: true, ReserveBytes: bolt.NoReserve,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("opening the store: %v", err)
	}
	return st
}

// newStore opens a fresh store in a temporary folder, closed at the end
// of the test.
func newStore(t testing.TB, now func() time.Time) *bolt.Store {
	t.Helper()
	st := openStore(t, filepath.Join(t.TempDir(), "onbehalf.db"), now)
	t.Cleanup(func() { st.Close() })
	return st
}

// botSeq numbers the bots the tests create.
var botSeq atomic.Int64

// writeEvents makes the store write n bot.created events about
// connection conn and returns them as stored.
func writeEvents(t testing.TB, st *bolt.Store, conn string, n int) []onbehalf.Event {
	t.Helper()
	ctx := context.Background()
	last, err := st.LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		b := &onbehalf.Bot{Platform: "recall", PlatformBotID: fmt.Sprintf("pb-%d", botSeq.Add(1)), ConnectionID: conn, MeetingID: "85012345678"}
		if err := st.CreateBot(ctx, b); err != nil {
			t.Fatalf("CreateBot: %v", err)
		}
	}
	evs, err := st.EventsAfter(ctx, last, 0)
	if err != nil || len(evs) != n {
		t.Fatalf("EventsAfter: %d events, %v; want %d", len(evs), err, n)
	}
	return evs
}

// testSecret is the webhook secret of the tests.
var testSecret = NewSecret()

// hook is one request the receiver got.
type hook struct {
	ID, Timestamp string
	Body          []byte
	Err           error // the library's verdict on the signature
}

// receiver is a webhook receiver that verifies signatures with the
// Standard Webhooks library and fails the first Fail requests.
type receiver struct {
	*httptest.Server
	wh *standardwebhooks.Webhook
	// ignoreTime verifies without the library's 5-minute window (for a
	// fake clock that moved days ahead).
	ignoreTime bool
	fail       atomic.Int64 // requests still to fail
	status     int          // the failures' status
	hooks      chan hook
	mu         sync.Mutex
	ok         map[string]int // 2xx answers by webhook-id
}

// newReceiver starts a receiver that fails the first fail requests.
func newReceiver(t testing.TB, fail int) *receiver {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{wh: wh, status: http.StatusInternalServerError, hooks: make(chan hook, 1000), ok: map[string]int{}}
	r.fail.Store(int64(fail))
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

// serve verifies and records one webhook.
func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	verify := r.wh.Verify
	if r.ignoreTime {
		verify = r.wh.VerifyIgnoringTimestamp
	}
	h := hook{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"), Body: body, Err: verify(body, req.Header)}
	r.hooks <- h
	switch {
	case h.Err != nil:
		w.WriteHeader(http.StatusUnauthorized)
	case r.fail.Add(-1) >= 0:
		w.WriteHeader(r.status)
	default:
		r.mu.Lock()
		r.ok[h.ID]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
}

// delivered returns how many 2xx answers each webhook-id got.
func (r *receiver) delivered() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.ok)
}

// next returns the next webhook the receiver got, failing the test after
// a few seconds.
func (r *receiver) next(t *testing.T) hook {
	t.Helper()
	select {
	case h := <-r.hooks:
		return h
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook arrived")
		return hook{}
	}
}

// recorder is an EventStore that records the reasons of failed
// deliveries (the store keeps them, but the interface has no reader).
type recorder struct {
	onbehalf.EventStore
	mu      sync.Mutex
	reasons []string
	nexts   []time.Time
}

// DeliveryFailed records the reason and passes the call on.
func (r *recorder) DeliveryFailed(ctx context.Context, id string, at, next time.Time, reason string) error {
	r.mu.Lock()
	r.reasons, r.nexts = append(r.reasons, reason), append(r.nexts, next)
	r.mu.Unlock()
	return r.EventStore.DeliveryFailed(ctx, id, at, next, reason)
}

// last returns the last reason recorded.
func (r *recorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reasons) == 0 {
		return ""
	}
	return r.reasons[len(r.reasons)-1]
}

// logger returns a logger writing to a buffer the test can read.
func logger() (*slog.Logger, *logtest.Buffer) {
	buf := &logtest.Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// discard returns a logger that drops everything.
func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// waitFor polls cond until it holds, failing the test after a few
// seconds: for conditions that have no event to wait on.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
