package keepalive_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recalldemo"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// TestZoomCallsIdleAndBots counts the Zoom calls of idle connections over
// two simulated days (the keep-alive with KEEPALIVE_IDLE=24h and the
// watcher of bots due soon, looking every minute), then of bots launched
// on an idle connection, with the watcher alone: one due in 30 minutes
// (refreshed at launch), one due in two days (refreshed by the watcher
// half an hour before it joins).
// Run with -v for the figures.
func TestZoomCallsIdleAndBots(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t, 1)
	mgr := e.mgrs[0]
	const n = 200
	conns := make([]*onbehalf.Connection, n)
	for i := range conns {
		conns[i] = e.connect(t, fmt.Sprint("zu_idle_", i), zoomdemo.Scope)
	}
	s := &keepalive.Scheduler{Idle: 24 * time.Hour, Claimer: e.st, Refresher: mgr, Now: e.clk.Now, Logger: discard(),
		Sleep: func(ctx context.Context, d time.Duration) error { e.clk.Advance(d); return ctx.Err() }}
	ws := e.watchers()
	tick := func(d time.Duration) {
		e.run(t, ws, d, func() {
			if _, err := s.Pass(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
	tick(49 * time.Hour)
	idle := e.fake.RefreshCalls()
	t.Logf("idle: %d connections, 49 simulated hours, KEEPALIVE_IDLE=24h: %d Zoom refresh calls (%.2f per connection per day), %d mints",
		n, idle, float64(idle)/n/(49.0/24), e.fake.MintCalls())
	if idle > 2*n {
		t.Fatalf("%d refreshes for %d idle connections over two days, want at most %d", idle, n, 2*n)
	}

	fake := recalldemo.New(recalldemo.Options{APIKey: "rkey"})
	t.Cleanup(fake.Close)
	p, err := recall.New(recall.Config{APIKey: "rkey", BaseURL: fake.URL(), Timeout: 5 * time.Second}, platform.Deps{HTTP: http.DefaultClient, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc := &bots.Service{Store: e.st, Platforms: []onbehalf.Platform{p}, BaseURL: "https://onbehalf.example",
		Signer: &tokenurl.Signer{Key: tokenurl.NewKey(), Now: e.clk.Now}, Ahead: mgr, Now: e.clk.Now, Logger: discard()}
	svc.Start()
	launch := func(c *onbehalf.Connection, in time.Duration) {
		t.Helper()
		opts, _ := json.Marshal(map[string]string{"join_at": e.clk.Now().Add(in).Format(time.RFC3339)})
		if _, err := svc.Launch(ctx, bots.LaunchRequest{ConnectionID: c.ID, MeetingURL: "https://zoom.us/j/85012345678", Options: opts}); err != nil {
			t.Fatal(err)
		}
	}
	calls := func() (int, int) { return e.fake.RefreshCalls(), e.fake.MintCalls() }

	// The last idle refresh was up to a day ago: the token expired. From
	// here on only the watcher looks, so that the keep-alive's daily
	// refreshes of the other connections do not mix in the counts.
	var idleConn *onbehalf.Connection // one whose token expired (not refreshed in the last hour)
	for _, c := range conns {
		if got, err := e.st.Connection(ctx, c.ID); err == nil && got.Token.Expiry.Before(e.clk.Now()) {
			idleConn = got
			break
		}
	}
	if idleConn == nil {
		t.Fatal("no connection with an expired token")
	}
	r0, m0 := calls()
	launch(idleConn, 30*time.Minute)
	r1, _ := calls()
	e.run(t, ws, 30*time.Minute, nil)
	if _, err := mgr.Mint(ctx, idleConn.ID, onbehalf.KindOBF, "85012345678"); err != nil {
		t.Fatal(err)
	}
	r2, m2 := calls()
	t.Logf("bot due in 30 min: %d refresh at launch, %d more until it asked, then %d mint", r1-r0, r2-r1, m2-m0)

	r3, m3 := calls()
	other := conns[0]
	if other.ID == idleConn.ID {
		other = conns[1]
	}
	launch(other, 48*time.Hour)
	r4, _ := calls()
	var at time.Time
	e.run(t, ws, 48*time.Hour, func() {
		if at.IsZero() && e.fake.RefreshCalls() > r4 {
			at = e.clk.Now()
		}
	})
	if _, err := mgr.Mint(ctx, other.ID, onbehalf.KindOBF, "85012345678"); err != nil {
		t.Fatal(err)
	}
	r5, m5 := calls()
	t.Logf("bot due in 2 days: %d refresh at launch, %d before it asks (the first %s before the join), %d mint",
		r4-r3, r5-r4, e.clk.Now().Sub(at).Round(time.Minute), m5-m3)
	if r1-r0 != 1 || r2 != r1 || m2-m0 != 1 || r4 != r3 || r5-r4 != 1 {
		t.Fatalf("refreshes: %d at the 30-minute launch, %d until its mint; %d at the 2-day launch, %d until its mint; want 1, 0, 0, 1",
			r1-r0, r2-r1, r4-r3, r5-r4)
	}
}
