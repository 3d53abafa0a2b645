package keepalive_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// clockedZoom moves the expiry of refreshed tokens onto the fake clock:
// the Zoom client computes it from the real time.
type clockedZoom struct {
	*zoom.Client
	now func() time.Time
}

func (z clockedZoom) Refresh(ctx context.Context, refreshToken string) (onbehalf.Token, error) {
	tok, err := z.Client.Refresh(ctx, refreshToken)
	if err == nil {
		tok.Expiry = z.now().Add(time.Until(tok.Expiry)).UTC()
	}
	return tok, err
}

func TestInlineMarginMatchesTokenManager(t *testing.T) {
	if keepalive.InlineMargin != tokens.DefaultMargin {
		t.Fatalf("keepalive.InlineMargin %s != tokens.DefaultMargin %s", keepalive.InlineMargin, tokens.DefaultMargin)
	}
}

func TestRealManagerStoreAndZoom(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Now().UTC())
	fake := zoomdemo.New("cid", "csecret")
	t.Cleanup(fake.Close)
	fake.SetClock(clk.Now)
	st, err := bolt.Open(filepath.Join(t.TempDir(), "k.db"), bolt.Options{Now: clk.Now, ReserveBytes: bolt.NoReserve})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	zc := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", OAuthURL: fake.URL, APIURL: fake.APIURL(), Timeout: 5 * time.Second})
	mgr := &tokens.Manager{Store: st, Zoom: clockedZoom{zc, clk.Now}, Now: clk.Now, Logger: discard()}
	t.Cleanup(mgr.Close)

	// Five connections made together.
	const n = 5
	ids, users := make([]string, n), make([]string, n)
	for i := range n {
		users[i] = fmt.Sprintf("zu_%d", i)
		fake.AddUser(zoomdemo.User{ID: users[i], Email: users[i] + "@example.com"})
		at, rt := fake.IssueGrant(users[i])
		c, _, err := st.Connect(ctx, onbehalf.Authorization{User: onbehalf.ZoomUser{ID: users[i], Email: users[i] + "@example.com"},
			Token: onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: clk.Now().Add(zoomdemo.DefaultAccessTTL)}})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = c.ID
	}
	s := &keepalive.Scheduler{Idle: clockIdle, Claimer: st, Refresher: mgr, Logger: discard()}
	s.Now = clk.Now
	s.Sleep = clk.sleeper(clk.Now().Add(24*time.Hour), func() {}, nil)

	pass := func(wantRefreshed int) {
		t.Helper()
		stats, err := s.Pass(ctx)
		if err != nil || stats.Refreshed != wantRefreshed || stats.Failed != 0 {
			t.Fatalf("pass: %+v %v, want %d refreshed", stats, err, wantRefreshed)
		}
	}
	pass(0) // nothing due for an hour

	// 20 minutes before expiry a callback refreshes the first one (Zoom
	// rejected its access token); 10 minutes before expiry all are due.
	clk.Advance(zoomdemo.DefaultAccessTTL - 20*time.Minute)
	c0, _ := st.Connection(ctx, ids[0])
	fake.InvalidateAccess(users[0])
	if _, err := mgr.Refresh(ctx, ids[0], c0.Token.AccessToken); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute)
	pass(n - 1)
	pass(0)
	if got := fake.RefreshCalls(); got != n {
		t.Fatalf("zoom saw %d refreshes, want %d (one each)", got, n)
	}
	checkStored := func() {
		t.Helper()
		for i, id := range ids {
			c, err := st.Connection(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if c.Token.RefreshToken != fake.CurrentRefreshToken(users[i]) {
				t.Fatalf("%s: stored refresh token is not Zoom's current one", id)
			}
			if left := c.Token.Expiry.Sub(clk.Now()); left <= keepalive.InlineMargin {
				t.Fatalf("%s: access token expires in %s: the scheduler is late", id, left)
			}
		}
	}
	checkStored()

	// Three idle hours: the scheduler alone keeps every connection alive,
	// refreshing each about once an hour, never late, never twice.
	before := fake.RefreshCalls()
	ctx3, cancel := context.WithCancel(ctx)
	s.Sleep = clk.sleeper(clk.Now().Add(3*time.Hour), cancel, func(time.Time) { checkStored() })
	if err := s.Run(ctx3); err != nil {
		t.Fatal(err)
	}
	checkStored()
	// A token lives an hour and is refreshed 10-15 minutes before it
	// expires: every 45-50 minutes, so 3 or 4 times in three hours.
	if got := fake.RefreshCalls() - before; got < 3*n || got > 4*n {
		t.Errorf("%d refreshes in three hours for %d connections, want %d..%d", got, n, 3*n, 4*n)
	}
	if r := fake.ReusedRefreshTokens(); r != 0 {
		t.Fatalf("%d refresh tokens reused", r)
	}
}

// TestSchedulersShareByClaims: two schedulers (two instances) on one
// store: what one pass claimed and put off is not the other's until the
// claim runs out; every connection is refreshed once.
func TestSchedulersShareByClaims(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Now().UTC())
	st, err := bolt.Open(filepath.Join(t.TempDir(), "k.db"), bolt.Options{Now: clk.Now, ReserveBytes: bolt.NoReserve})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const n = 12
	for i := range n {
		zu := fmt.Sprintf("zu_%d", i)
		if _, _, err := st.Connect(ctx, onbehalf.Authorization{User: onbehalf.ZoomUser{ID: zu},
			Token: onbehalf.Token{AccessToken: "a" + zu, RefreshToken: "r" + zu, Expiry: clk.Now().Add(time.Hour)}}); err != nil {
			t.Fatal(err)
		}
	}
	r := &savingRefresher{st: st, now: clk.Now, calls: map[string]int{}}
	sched := func(owner string) *keepalive.Scheduler {
		return &keepalive.Scheduler{Idle: clockIdle, Claimer: st, Refresher: r, Owner: owner, Batch: 4,
			Now: clk.Now, Sleep: clk.sleeper(clk.Now().Add(24*time.Hour), func() {}, nil), Logger: discard()}
	}
	a, b := sched("a"), sched("b")
	clk.Advance(time.Hour) // all due
	pass := func(s *keepalive.Scheduler, want int) {
		t.Helper()
		st, err := s.Pass(ctx)
		if err != nil || st.Refreshed != want {
			t.Fatalf("%s's pass: %+v %v, want %d refreshed", s.Owner, st, err, want)
		}
	}
	pass(a, 4) // claims all 12 (it lists 8 batches' worth), refreshes a batch
	pass(b, 0) // a's claims on the other 8 hold
	clk.Advance(keepalive.DefaultClaim)
	pass(b, 4) // they ran out: b claims the 8, refreshes 4
	pass(a, 0)
	clk.Advance(keepalive.DefaultClaim)
	pass(a, 4)
	if len(r.calls) != n {
		t.Fatalf("%d connections refreshed, want all %d", len(r.calls), n)
	}
	for id, k := range r.calls {
		if k != 1 {
			t.Fatalf("%s refreshed %d times", id, k)
		}
	}
}

// savingRefresher refreshes in the store only (a new pair for a day),
// counting the refreshes of each connection.
type savingRefresher struct {
	st  onbehalf.Store
	now func() time.Time

	mu    sync.Mutex
	calls map[string]int
}

func (r *savingRefresher) RefreshIfExpiring(ctx context.Context, id string, before time.Time) (bool, error) {
	c, err := r.st.Connection(ctx, id)
	if err != nil || !c.Token.Expiry.Before(before) {
		return false, err
	}
	tok := onbehalf.Token{AccessToken: c.Token.AccessToken + "+", RefreshToken: c.Token.RefreshToken + "+", Expiry: r.now().Add(24 * time.Hour)}
	if _, err := r.st.SaveToken(ctx, id, c.Token.RefreshToken, tok); err != nil {
		return false, err
	}
	r.mu.Lock()
	r.calls[id]++
	r.mu.Unlock()
	return true, nil
}
