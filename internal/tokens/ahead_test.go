package tokens_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokens"
)

// clockedZoom moves the expiry of refreshed tokens onto the test's clock:
// the Zoom client computes it from the real time.
type clockedZoom struct {
	onbehalf.Zoom
	now func() time.Time
}

func (z clockedZoom) Refresh(ctx context.Context, refreshToken string) (onbehalf.Token, error) {
	tok, err := z.Zoom.Refresh(ctx, refreshToken)
	if err == nil {
		tok.Expiry = z.now().Add(time.Until(tok.Expiry)).UTC()
	}
	return tok, err
}

// TestRefreshAhead: a bot's connection is refreshed ahead only when its
// access token would not last until the bot asks, and only once the bot
// is close enough for a fresh token to last: Zoom refresh calls counted.
func TestRefreshAhead(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 5*time.Second)
	e.mgr.Zoom = clockedZoom{e.zoom, e.clk.Now}
	now := e.clk.Now()

	// A fresh token lasts for a bot asking in ten minutes: no call.
	if ok, err := e.mgr.RefreshAhead(ctx, e.connID, now.Add(10*time.Minute)); ok || err != nil {
		t.Fatalf("fresh token: refreshed=%v err=%v, want nothing", ok, err)
	}
	// Idle for a day: the token expired.
	e.clk.Advance(24 * time.Hour)
	now = e.clk.Now()
	for _, due := range []time.Duration{2 * 24 * time.Hour, tokens.AheadLead + time.Minute} {
		if ok, err := e.mgr.RefreshAhead(ctx, e.connID, now.Add(due)); ok || err != nil {
			t.Fatalf("bot due in %s: refreshed=%v err=%v, want nothing yet", due, ok, err)
		}
	}
	if n := e.fake.RefreshCalls(); n != 0 {
		t.Fatalf("Zoom refresh calls for bots due later than a fresh token lasts: %d, want 0", n)
	}
	if ok, err := e.mgr.RefreshAhead(ctx, e.connID, now.Add(tokens.AheadLead)); !ok || err != nil {
		t.Fatalf("bot due in %s with an expired token: refreshed=%v err=%v, want a refresh", tokens.AheadLead, ok, err)
	}
	// Asked again (another bot, the watcher's next look): the new token lasts.
	if ok, err := e.mgr.RefreshAhead(ctx, e.connID, now.Add(tokens.AheadLead)); ok || err != nil {
		t.Fatalf("second ask: refreshed=%v err=%v, want nothing", ok, err)
	}
	if n := e.fake.RefreshCalls(); n != 1 {
		t.Fatalf("Zoom refresh calls: %d, want 1", n)
	}
	// The bot asks: no refresh inline.
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatal(err)
	}
	st := e.mgr.Stats()
	if n := e.fake.RefreshCalls(); n != 1 || st.AheadRefreshes != 1 || st.EarlyRefreshes != 0 {
		t.Fatalf("after the bot's mint: %d refresh calls, stats %+v; want 1 call, 1 ahead, 0 early", n, st)
	}
}

// TestRefreshAheadOnceAcrossInstances: two instances sharing a store refresh
// one connection ahead of one bot at the same moment: Zoom is called once.
func TestRefreshAheadOnceAcrossInstances(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 5*time.Second)
	e.mgr.Zoom = clockedZoom{e.zoom, e.clk.Now}
	other := &tokens.Manager{Store: e.store, Zoom: clockedZoom{e.zoom, e.clk.Now}, Now: e.clk.Now, Wait: e.wait, Owner: "other", Logger: logger(t)}
	t.Cleanup(other.Close)
	e.clk.Advance(2 * time.Hour)
	due := e.clk.Now().Add(5 * time.Minute)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		m := e.mgr
		if i%2 == 1 {
			m = other
		}
		wg.Go(func() { _, errs[i] = m.RefreshAhead(ctx, e.connID, due) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
	}
	if n := e.fake.RefreshCalls(); n != 1 {
		t.Fatalf("Zoom refresh calls: %d, want 1", n)
	}
	e.checkHealthy(t)
}

// TestEarlyRefreshCounted: a refresh that comes less than half a token's
// lifetime after the token was issued is counted as early; one after the
// token expired is not.
func TestEarlyRefreshCounted(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 5*time.Second)
	c, err := e.store.Connection(ctx, e.connID)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(10 * time.Minute)
	if _, err := e.mgr.Refresh(ctx, e.connID, c.Token.AccessToken); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(61 * time.Minute)
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatal(err)
	}
	st := e.mgr.Stats()
	if st.Refreshes["ok"] != 2 || st.EarlyRefreshes != 1 {
		t.Fatalf("stats %+v: want 2 refreshes, 1 early", st)
	}
}

// TestFailingUntilRecovered: Failing says a connection's refreshes fail
// from the first failure to the next success.
func TestFailingUntilRecovered(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 5*time.Second)
	e.clk.Advance(61 * time.Minute)
	e.fake.FailRefreshes(1, http.StatusServiceUnavailable, "")
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err == nil {
		t.Fatal("mint succeeded while Zoom failed")
	}
	if why, ok := e.mgr.Failing(e.connID); !ok || why == "" {
		t.Fatalf("Failing = %q, %v after a failed refresh", why, ok)
	}
	e.clk.Advance(tokens.DefaultCooldown)
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatal(err)
	}
	if why, ok := e.mgr.Failing(e.connID); ok {
		t.Fatalf("Failing = %q after the refresh worked again", why)
	}
}
