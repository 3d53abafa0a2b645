package tokens_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
	"github.com/onbehalf/onbehalf/internal/tokens"
)

// appendingStore is a store with AppendEvent, recording what it gets.
type appendingStore struct {
	tokens.Store
	mu     sync.Mutex
	events []onbehalf.Event
}

func (s *appendingStore) AppendEvent(_ context.Context, e onbehalf.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
	return nil
}

func (s *appendingStore) recovered() []onbehalf.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []onbehalf.Event
	for _, e := range s.events {
		if e.Type == onbehalf.EventConnectionRecovered {
			out = append(out, e)
		}
	}
	return out
}

// withEvents gives e's manager a store that takes events on their own.
func withEvents(e *env) *appendingStore {
	st := &appendingStore{Store: e.mgr.Store}
	e.mgr.Store = st
	return st
}

// TestCooldownAfterZoom500: a refresh Zoom answers 500 opens a cool-down;
// token requests within it get a fast 503 that says when to retry, with
// no call to Zoom; after it Zoom is asked again, and the recovery is told
// once.
func TestCooldownAfterZoom500(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	events := withEvents(e)
	ctx := context.Background()
	e.clk.Advance(61 * time.Minute) // the access token expired: a request must refresh
	e.fake.FailRefreshes(1, http.StatusInternalServerError, "")
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); onbehalf.HTTPStatus(err) != http.StatusBadGateway {
		t.Fatalf("first mint: %v, want Zoom's failure (502)", err)
	}
	for _, after := range []time.Duration{0, 29 * time.Second} {
		e.clk.Advance(after)
		_, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting)
		if onbehalf.HTTPStatus(err) != http.StatusServiceUnavailable {
			t.Fatalf("mint %s into the cool-down: %v, want 503", after, err)
		}
		msg := onbehalf.ErrorMessage(err)
		if !strings.Contains(msg, "HTTP 500") || !strings.Contains(msg, "Try again in") {
			t.Fatalf("message %q: want the reason and when to retry", msg)
		}
		if s := ratelimit.RetryAfterOf(err); s < 1 || s > 30 {
			t.Fatalf("retry after %d s", s)
		}
	}
	if r, m := e.fake.RefreshCalls(), e.fake.MintCalls(); r != 1 || m != 0 {
		t.Fatalf("Zoom calls during the cool-down: %d refreshes, %d mints; want 1 and 0", r, m)
	}
	if s := e.mgr.Stats(); s.CooldownRejections != 2 || s.Cooling != 1 || len(events.recovered()) != 0 {
		t.Fatalf("stats %+v, recovered events %d", s, len(events.recovered()))
	}

	e.clk.Advance(2 * time.Second) // the cool-down is over
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatalf("mint after the cool-down: %v", err)
	}
	if n := e.fake.RefreshCalls(); n != 2 {
		t.Fatalf("refresh calls = %d, want 2", n)
	}
	rec := events.recovered()
	if len(rec) != 1 {
		t.Fatalf("connection.recovered events = %d, want 1", len(rec))
	}
	var d onbehalf.ConnectionEventData
	if err := json.Unmarshal(rec[0].Data, &d); err != nil || d.ConnectionID != e.connID || d.State != onbehalf.StateConnected || !strings.Contains(d.Reason, "HTTP 500") {
		t.Fatalf("event data %s (%v)", rec[0].Data, err)
	}
	// Another refresh is no recovery.
	e.clk.Advance(time.Hour)
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err != nil || len(events.recovered()) != 1 {
		t.Fatalf("next refresh: %v, recovered events %d (want still 1)", err, len(events.recovered()))
	}
	if s := e.mgr.Stats(); s.Recoveries != 1 || s.Cooling != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestCooldownHonoursRetryAfter: a 429 with Retry-After: 90 cools down
// 90 s instead of the default.
func TestCooldownHonoursRetryAfter(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	ctx := context.Background()
	e.clk.Advance(61 * time.Minute)
	e.fake.FailRefreshes(1, http.StatusTooManyRequests, "90")
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err == nil {
		t.Fatal("first mint succeeded through a 429")
	}
	e.clk.Advance(89 * time.Second)
	_, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting)
	if onbehalf.HTTPStatus(err) != http.StatusServiceUnavailable || ratelimit.RetryAfterOf(err) != 1 {
		t.Fatalf("89 s after a 429 asking 90: %v (retry after %d s), want 503 for 1 more second", err, ratelimit.RetryAfterOf(err))
	}
	e.clk.Advance(2 * time.Second)
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err != nil || e.fake.RefreshCalls() != 2 {
		t.Fatalf("after 91 s: %v, refresh calls %d (want 2)", err, e.fake.RefreshCalls())
	}
}

// TestCooldownServesLiveToken: within the inline margin the access token
// still lives; during the cool-down a request is served with it instead
// of a 503, and Zoom's refresh endpoint is left alone.
func TestCooldownServesLiveToken(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	ctx := context.Background()
	e.clk.Advance(57 * time.Minute) // 3 min left: inside the inline margin
	e.fake.FailRefreshes(1, http.StatusServiceUnavailable, "")
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err == nil {
		t.Fatal("first mint hid Zoom's failure")
	}
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatalf("mint in the cool-down with a live access token: %v", err)
	}
	if r := e.fake.RefreshCalls(); r != 1 {
		t.Fatalf("refresh calls = %d, want 1", r)
	}
}

// TestCooldownOff: a negative Cooldown lets every request try Zoom.
func TestCooldownOff(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.mgr.Cooldown = -1
	e.clk.Advance(61 * time.Minute)
	e.fake.FailRefreshes(1, http.StatusInternalServerError, "")
	_, _ = e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting)
	if _, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting); err != nil || e.fake.RefreshCalls() != 2 {
		t.Fatalf("second mint: %v, refresh calls %d", err, e.fake.RefreshCalls())
	}
}

// TestRecoveredInOutbox: with the real store, a refresh Zoom fails then a
// refresh that works put exactly one connection.recovered in the outbox
// (the store's own AppendEvent), and the event machinery is woken for it.
func TestRecoveredInOutbox(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	var notified atomic.Int32
	e.mgr.Notify = func() { notified.Add(1) }
	ctx := context.Background()
	seq, err := e.store.LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(61 * time.Minute)
	e.fake.FailRefreshes(1, http.StatusBadGateway, "")
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err == nil {
		t.Fatal("mint hid Zoom's failure")
	}
	e.clk.Advance(tokens.DefaultCooldown + time.Second)
	for i := 0; i < 2; i++ { // the second one is no recovery
		if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err != nil {
			t.Fatalf("mint %d after the cool-down: %v", i, err)
		}
		e.clk.Advance(time.Hour)
	}
	evs, err := e.store.EventsAfter(ctx, seq, 0)
	if err != nil {
		t.Fatal(err)
	}
	var rec []onbehalf.Event
	for _, ev := range evs {
		if ev.Type == onbehalf.EventConnectionRecovered {
			rec = append(rec, ev)
		}
	}
	if len(rec) != 1 || notified.Load() != 1 {
		t.Fatalf("connection.recovered in the outbox: %d, notified %d times; want 1 and 1 (events %v)", len(rec), notified.Load(), evs)
	}
	var d onbehalf.ConnectionEventData
	if err := json.Unmarshal(rec[0].Data, &d); err != nil || d.ConnectionID != e.connID || !strings.Contains(d.Reason, "502") {
		t.Fatalf("event data %s (%v)", rec[0].Data, err)
	}
}

// TestRefreshState: what the person's page shows of a connection's
// refreshes: nothing, then failing (with the reason and the cool-down's
// end), then working again after one failure, until a day has passed.
func TestRefreshState(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	ctx := context.Background()
	if s := e.mgr.RefreshState(e.connID); s.Failing || !s.RecoveredAt.IsZero() {
		t.Fatalf("fresh connection: %+v", s)
	}
	e.clk.Advance(61 * time.Minute)
	e.fake.FailRefreshes(1, http.StatusBadGateway, "")
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err == nil {
		t.Fatal("mint hid Zoom's failure")
	}
	s := e.mgr.RefreshState(e.connID)
	if !s.Failing || s.Fails != 1 || !strings.Contains(s.Reason, "502") || !s.Until.After(e.clk.Now()) {
		t.Fatalf("after a failure: %+v", s)
	}
	e.clk.Advance(tokens.DefaultCooldown + time.Second)
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatal(err)
	}
	s = e.mgr.RefreshState(e.connID)
	if s.Failing || !s.RecoveredAt.Equal(e.clk.Now()) || s.RecoveredAfter != 1 {
		t.Fatalf("after the recovery: %+v", s)
	}
	e.clk.Advance(25 * time.Hour)
	if s := e.mgr.RefreshState(e.connID); !s.RecoveredAt.IsZero() {
		t.Fatalf("a day later: %+v", s)
	}
}
