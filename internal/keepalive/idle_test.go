package keepalive_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// dayResult is what a simulated stretch of time did at the fake Zoom.
type dayResult struct {
	idle      map[string][]time.Time // refresh times of the idle connections
	active    int                    // refreshes of the connection in use
	activeKA  int                    // of which the scheduler did
	zoomCalls int                    // refresh calls the fake Zoom saw
	reused    int
}

// simulate runs the real scheduler, token manager, bbolt store and fake
// Zoom on a fake clock for span: nIdle connections nobody fetches a token
// for, and one that fetches a token every 10 minutes. Every refresh is
// counted at the fake Zoom and attributed by watching the store.
func simulate(t *testing.T, idle, span time.Duration, nIdle int) dayResult {
	t.Helper()
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

	connect := func(user string) string {
		fake.AddUser(zoomdemo.User{ID: user, Email: user + "@example.com"})
		at, rt := fake.IssueGrant(user)
		c, _, err := st.Connect(ctx, onbehalf.Authorization{User: onbehalf.ZoomUser{ID: user, Email: user + "@example.com"},
			Token: onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: clk.Now().Add(zoomdemo.DefaultAccessTTL), Scope: zoomdemo.Scope}})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	res := dayResult{idle: map[string][]time.Time{}}
	seen := map[string]string{} // conn → refresh token last seen
	var ids []string
	for i := range nIdle {
		id := connect(fmt.Sprintf("idle_%d", i))
		ids = append(ids, id)
		res.idle[id] = nil
	}
	active := connect("active")
	ids = append(ids, active)
	for _, id := range ids {
		c, _ := st.Connection(ctx, id)
		seen[id] = c.Token.RefreshToken
	}

	// The scheduler's refreshes of the active connection, told apart from
	// the token requests'.
	ka := &countingRefresher{Refresher: mgr, id: active}
	s := &keepalive.Scheduler{Idle: idle, Claimer: st, Refresher: ka, Logger: discard(), Now: clk.Now}
	start := clk.Now()
	nextFetch := start
	runCtx, cancel := context.WithCancel(ctx)
	s.Sleep = clk.sleeper(start.Add(span), cancel, func(now time.Time) {
		for !nextFetch.After(now) {
			if _, err := mgr.Mint(ctx, active, onbehalf.KindOBF, "85012345678"); err != nil {
				t.Errorf("token request at %s: %v", now.Sub(start), err)
			}
			nextFetch = nextFetch.Add(10 * time.Minute)
		}
		for _, id := range ids {
			c, err := st.Connection(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if c.Token.RefreshToken == seen[id] {
				continue
			}
			seen[id] = c.Token.RefreshToken
			if id == active {
				res.active++
			} else {
				res.idle[id] = append(res.idle[id], now)
			}
		}
	})
	if err := s.Run(runCtx); err != nil {
		t.Fatal(err)
	}
	res.activeKA = int(ka.refreshed.Load())
	res.zoomCalls = fake.RefreshCalls()
	res.reused = fake.ReusedRefreshTokens()
	return res
}

// TestIdleConnectionsRefreshedOncePerIdle: over a simulated day with
// KEEPALIVE_IDLE=3h, each idle connection is refreshed once per 3 hours
// (7 times: at 3, 6, ..., 21 hours plus its jitter), never sooner; the
// connection in use is refreshed by its token requests only, once per
// token lifetime; every refresh Zoom saw is accounted for.
func TestIdleConnectionsRefreshedOncePerIdle(t *testing.T) {
	const idle = 3 * time.Hour
	r := simulate(t, idle, 24*time.Hour, 5)
	total := r.active
	for id, at := range r.idle {
		total += len(at)
		if len(at) < 7 || len(at) > 8 {
			t.Errorf("%s refreshed %d times in a day with Idle 3h, want 7..8", id, len(at))
		}
		for i := 1; i < len(at); i++ {
			// Refreshes are seen at the end of the sleep they happen in:
			// allow one poll either side.
			if gap := at[i].Sub(at[i-1]); gap < idle-keepalive.DefaultMaxPoll {
				t.Errorf("%s refreshed again after %s, less than Idle", id, gap)
			}
		}
	}
	if r.activeKA != 0 {
		t.Errorf("the scheduler refreshed the connection in use %d times; its token requests do", r.activeKA)
	}
	if r.active < 23 || r.active > 25 {
		t.Errorf("connection in use refreshed %d times in a day, want about one per hour", r.active)
	}
	if r.zoomCalls != total || r.reused != 0 {
		t.Errorf("Zoom saw %d refreshes (%d reused), the store %d", r.zoomCalls, r.reused, total)
	}
	t.Logf("Idle 3h: %d refreshes per idle connection per day, %d for the one in use", len(r.idle[firstKey(r.idle)]), r.active)
}

// TestDefaultIdleVersusTheClock measures Zoom refreshes per idle
// connection per simulated day: the default KEEPALIVE_IDLE (24h) against
// the schedule before it (15 minutes before every expiry).
func TestDefaultIdleVersusTheClock(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates two days")
	}
	clockDay := simulate(t, clockIdle, 24*time.Hour, 3)
	idleDays := simulate(t, 0, 48*time.Hour, 3)
	before := len(clockDay.idle[firstKey(clockDay.idle)])
	var after int
	for id, at := range idleDays.idle {
		after += len(at)
		if len(at) != 2 && len(at) != 1 {
			t.Errorf("%s refreshed %d times in two days with the default Idle, want 1..2", id, len(at))
		}
	}
	if before < 25 {
		t.Errorf("the old schedule refreshed an idle connection %d times a day; expected about 30", before)
	}
	t.Logf("Zoom refreshes per idle connection: on the clock %d in a day; KEEPALIVE_IDLE=24h %d in two days for %d connections (the first 24h + jitter after connecting, then one a day)",
		before, after, len(idleDays.idle))
}

func firstKey(m map[string][]time.Time) string {
	for k := range m {
		return k
	}
	return ""
}

// countingRefresher counts the refreshes it made for one connection.
type countingRefresher struct {
	onbehalf.Refresher
	id        string
	refreshed atomic.Int64
}

func (c *countingRefresher) RefreshIfExpiring(ctx context.Context, id string, before time.Time) (bool, error) {
	ok, err := c.Refresher.RefreshIfExpiring(ctx, id, before)
	if ok && id == c.id {
		c.refreshed.Add(1)
	}
	return ok, err
}
