package keepalive_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/logtest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// margin and clockIdle give the schedule these tests were written for,
// before KEEPALIVE_IDLE: every connection due 15 minutes before its access
// token expires (an Idle of 45 minutes).
const (
	margin    = 15 * time.Minute
	clockIdle = keepalive.AccessTokenLifetime - margin
)

// burst is the start burst of a default Scheduler: min(Concurrency, Rate).
const burst = keepalive.DefaultConcurrency

// runUntil runs s with a fake clock until the clock reaches end; tick runs
// after each advance. It fails the test if Run does not return.
func runUntil(t *testing.T, s *keepalive.Scheduler, clk *clock, end time.Time, tick func(time.Time)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Now = clk.Now
	s.Sleep = clk.sleeper(end, cancel, tick)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not finish")
	}
}

// checkWindows checks that every refresh happened after its connection
// was due and before callbacks would refresh inline.
func checkWindows(t *testing.T, s *keepalive.Scheduler, calls []call) {
	t.Helper()
	bad := 0
	for _, c := range calls {
		if !c.refreshed {
			continue
		}
		due := s.DueAt(onbehalf.Due{ConnID: c.id, Expiry: c.old})
		if c.at.Before(due) || !c.at.Before(c.old.Add(-keepalive.InlineMargin)) {
			if bad++; bad <= 5 {
				t.Errorf("%s refreshed at %s; due %s, expiry %s", c.id, c.at.Format(time.TimeOnly),
					due.Format(time.TimeOnly), c.old.Format(time.TimeOnly))
			}
		}
	}
}

func TestTenThousandSpreadOverAnHourRefreshedOnce(t *testing.T) {
	const n = 10000
	clk := newClock(start)
	f := newFake(clk)
	orig := make(map[string]time.Time, n)
	for i := range n {
		id := fmt.Sprintf("conn%05d", i)
		orig[id] = start.Add(margin + time.Duration(i)*time.Hour/n)
		f.set(id, orig[id])
	}
	s := &keepalive.Scheduler{Idle: clockIdle, Claimer: f, Refresher: f, Logger: discard()}

	// Every 50th connection is refreshed by a token callback a little
	// before the scheduler would get to it.
	pending := map[string]time.Time{}
	for i := 0; i < n; i += 50 {
		id := fmt.Sprintf("conn%05d", i)
		pending[id] = s.DueAt(onbehalf.Due{ConnID: id, Expiry: orig[id]}).Add(-time.Second)
	}
	tick := func(now time.Time) {
		for id, at := range pending {
			if !at.After(now) {
				f.callback(id)
				delete(pending, id)
			}
		}
	}
	wall := time.Now()
	runUntil(t, s, clk, start.Add(time.Hour+margin), tick)

	calls := f.allCalls()
	once := map[string]int{}
	for _, c := range calls {
		if c.err != nil {
			t.Fatalf("call failed: %v", c.err)
		}
		if !c.refreshed {
			t.Errorf("%s: scheduler asked for a connection that needed nothing", c.id)
		}
		if c.old.Equal(orig[c.id]) {
			once[c.id]++
		}
	}
	for id := range orig {
		want := 1
		if f.callbacks[id] > 0 {
			want = 0
		}
		if once[id] != want {
			t.Errorf("%s: original token refreshed %d times by the scheduler, want %d", id, once[id], want)
		}
	}
	checkWindows(t, s, calls)
	if got := maxPerSecond(calls); got > keepalive.DefaultRate+burst {
		t.Errorf("%d refreshes started within one second, want ≤ %d", got, keepalive.DefaultRate+burst)
	}
	if m := f.maxInflight.Load(); m > keepalive.DefaultConcurrency {
		t.Errorf("max in flight %d > %d", m, keepalive.DefaultConcurrency)
	}
	t.Logf("%d refreshes, %d lists, max %d/s, max in flight %d, wall %s",
		len(calls), f.lists, maxPerSecond(calls), f.maxInflight.Load(), time.Since(wall).Round(time.Millisecond))
}

func TestBacklogIsRateLimited(t *testing.T) {
	// A server that was down: 3,000 connections all due at once.
	const n = 3000
	clk := newClock(start)
	f := newFake(clk)
	for i := range n {
		f.set(fmt.Sprintf("conn%05d", i), start.Add(-10*time.Minute+time.Duration(i)*20*time.Minute/n))
	}
	s := &keepalive.Scheduler{Idle: clockIdle, Claimer: f, Refresher: f, Logger: discard()}
	runUntil(t, s, clk, start.Add(10*time.Minute), nil)

	calls := f.allCalls()
	seen := map[string]bool{}
	last := start
	for _, c := range calls {
		if !c.refreshed || seen[c.id] {
			t.Fatalf("%s: refreshed=%v err=%v seen=%v", c.id, c.refreshed, c.err, seen[c.id])
		}
		seen[c.id] = true
		last = latest(last, c.at)
	}
	if len(seen) != n {
		t.Fatalf("refreshed %d of %d", len(seen), n)
	}
	got := maxPerSecond(calls)
	if got > keepalive.DefaultRate+burst || got < keepalive.DefaultRate {
		t.Errorf("max %d starts per second, want %d..%d", got, keepalive.DefaultRate, keepalive.DefaultRate+burst)
	}
	// At 10/s, 3,000 refreshes take 5 minutes, not less.
	if took, want := last.Sub(start), time.Duration(n-burst)*time.Second/keepalive.DefaultRate; took < want-time.Second {
		t.Errorf("backlog drained in %s, faster than the rate allows (%s)", took, want)
	}
	if m := f.maxInflight.Load(); m > keepalive.DefaultConcurrency {
		t.Errorf("max in flight %d > %d", m, keepalive.DefaultConcurrency)
	}
}

func TestCallbackRefreshedBetweenListAndRefreshIsSkipped(t *testing.T) {
	clk := newClock(start)
	f := newFake(clk)
	for i := range 10 {
		f.set(fmt.Sprintf("c%d", i), start.Add(9*time.Minute))
	}
	once := true
	f.afterList = func() {
		if once {
			once = false
			f.callback("c3")
		}
	}
	s := &keepalive.Scheduler{Idle: clockIdle, Claimer: f, Refresher: f, Now: clk.Now, Logger: discard()}
	s.Sleep = clk.sleeper(start.Add(time.Hour), func() {}, nil)
	st, err := s.Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Refreshed != 9 || st.Skipped != 1 || st.Failed != 0 {
		t.Fatalf("stats %+v, want 9 refreshed, 1 skipped", st)
	}
	if cs := f.callsOf("c3"); len(cs) != 1 || cs[0].refreshed {
		t.Fatalf("c3 calls %+v", cs)
	}
	now := clk.Now()
	st, err = s.Pass(context.Background())
	if err != nil || st.Refreshed+st.Skipped+st.Failed != 0 || st.Listed != 0 {
		t.Fatalf("second pass %+v %v, want nothing to do", st, err)
	}
	if !st.Next.After(now) || st.Next.Sub(now) > keepalive.DefaultMaxPoll {
		t.Fatalf("next pass at %s", st.Next)
	}
}

func TestFailuresBackOffAndDeadGrantsWarnOnce(t *testing.T) {
	clk := newClock(start)
	f := newFake(clk)
	for i := range 20 {
		f.set(fmt.Sprintf("c%02d", i), start.Add(12*time.Minute+time.Duration(i)*30*time.Second))
	}
	f.fail["c01"] = onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom said 500.")
	f.fail["c02"] = onbehalf.Errorf(onbehalf.EDISCONNECTED, "Invalid Token!")
	f.fail["c03"] = onbehalf.Errorf(onbehalf.EDISCONNECTED, "Invalid Token!")
	f.keepListed["c03"] = true // a store that keeps listing it
	var logs logtest.Buffer
	s := &keepalive.Scheduler{Idle: clockIdle, Claimer: f, Refresher: f, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	runUntil(t, s, clk, start.Add(50*time.Minute), nil)

	failing := f.callsOf("c01")
	if len(failing) < 5 || len(failing) > 12 {
		t.Errorf("failing connection tried %d times in an hour, want 5..12", len(failing))
	}
	for i := 1; i < len(failing); i++ {
		if gap := failing[i].at.Sub(failing[i-1].at); gap < keepalive.DefaultBackoff || gap > keepalive.DefaultMaxBackoff+2*time.Second {
			t.Errorf("retry %d after %s", i, gap)
		}
	}
	if n := len(f.callsOf("c02")); n != 1 {
		t.Errorf("dead connection tried %d times, want 1", n)
	}
	if n := len(f.callsOf("c03")); n < 2 || n > 8 {
		t.Errorf("dead but listed connection tried %d times, want a few", n)
	}
	for _, id := range []string{"c02", "c03"} {
		if n := strings.Count(logs.String(), "conn="+id+" "); n != 1 {
			t.Errorf("%s logged %d times, want once:\n%s", id, n, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "Invalid Token!") {
		t.Error("the reason of a dead grant is not logged")
	}
	for i := 4; i < 20; i++ {
		id := fmt.Sprintf("c%02d", i)
		if cs := f.callsOf(id); len(cs) != 1 || !cs[0].refreshed {
			t.Errorf("%s: calls %+v, want one refresh", id, cs)
		}
	}
	checkWindows(t, s, f.allCalls())
}

func TestRunStopsPromptlyOnCancel(t *testing.T) {
	for _, name := range []string{"idle", "refreshing"} {
		t.Run(name, func(t *testing.T) {
			f := newFake(newClock(time.Now()))
			listed := make(chan struct{})
			var once sync.Once
			if name == "refreshing" {
				f.set("c1", time.Now().Add(time.Minute))
				f.afterList = func() { once.Do(func() { close(listed) }) }
			}
			s := &keepalive.Scheduler{Idle: clockIdle, Claimer: f, Refresher: blockingRefresher{}, Logger: discard(), MaxPoll: time.Hour}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			if name == "idle" {
				time.Sleep(20 * time.Millisecond)
			} else {
				<-listed
				time.Sleep(10 * time.Millisecond) // the refresh is waiting
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run returned %v, want nil", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Run did not stop")
			}
		})
	}
}

// blockingRefresher blocks until its context ends.
type blockingRefresher struct{}

func (blockingRefresher) RefreshIfExpiring(ctx context.Context, id string, before time.Time) (bool, error) {
	<-ctx.Done()
	return false, onbehalf.WrapError(ctx.Err(), onbehalf.ETIMEOUT, "Timed out.")
}

func TestJitterIsDeterministicSpreadAndBeforeInlineRefresh(t *testing.T) {
	for _, tc := range []struct {
		idle, jitter, want time.Duration
	}{
		{0, 0, time.Hour}, // defaults: 24h / 24
		{45 * time.Minute, 20 * time.Minute, 10 * time.Minute}, // capped at lead - inline
		{30 * time.Minute, 0, 75 * time.Second},                // idle / 24
		{3 * time.Hour, 2 * time.Hour, 90 * time.Minute},       // at most idle / 2
		{56 * time.Minute, 0, 140 * time.Second},               // lead inside the inline margin
	} {
		s := &keepalive.Scheduler{Idle: tc.idle, Jitter: tc.jitter}
		var lo, hi time.Duration = tc.want, 0
		for i := range 1000 {
			id := fmt.Sprintf("conn-%d", i)
			off := s.Offset(id)
			if off != s.Offset(id) {
				t.Fatal("offset not deterministic")
			}
			if off < 0 || (tc.want > 0 && off >= tc.want) || (tc.want == 0 && off != 0) {
				t.Fatalf("%+v: offset %s out of [0, %s)", tc, off, tc.want)
			}
			lo, hi = min(lo, off), max(hi, off)
			exp := start.Add(time.Hour)
			due := s.DueAt(onbehalf.Due{ConnID: id, Expiry: exp})
			if s.Lead() > keepalive.InlineMargin && !due.Before(exp.Add(-keepalive.InlineMargin)) {
				t.Fatalf("%+v: due at %s, not before the inline refresh", tc, exp.Sub(due))
			}
			if issued := exp.Add(-keepalive.AccessTokenLifetime); due.Sub(issued) < s.Idle && s.Idle > 0 {
				t.Fatalf("%+v: due %s after the token was issued, before Idle", tc, due.Sub(issued))
			}
		}
		if tc.want > 0 && hi-lo < tc.want*9/10 {
			t.Errorf("%+v: offsets span only %s..%s", tc, lo, hi)
		}
	}
}

func TestRefreshesStartWithinConcurrencyAndRate(t *testing.T) {
	// Concurrency 2, rate 3/s: burst 2, then one start every 1/3 s.
	clk := newClock(start)
	f := newFake(clk)
	for i := range 30 {
		f.set(fmt.Sprintf("c%02d", i), start.Add(time.Minute))
	}
	s := &keepalive.Scheduler{Idle: clockIdle, Claimer: f, Refresher: f, Now: clk.Now, Concurrency: 2, Rate: 3, Logger: discard()}
	s.Sleep = clk.sleeper(start.Add(time.Hour), func() {}, nil)
	st, err := s.Pass(context.Background())
	if err != nil || st.Refreshed != 30 {
		t.Fatalf("%+v %v", st, err)
	}
	if got := maxPerSecond(f.allCalls()); got > 3+2 {
		t.Errorf("%d starts in a second", got)
	}
	if m := f.maxInflight.Load(); m > 2 {
		t.Errorf("max in flight %d", m)
	}
	if took := clk.Now().Sub(start); took < 9*time.Second {
		t.Errorf("30 refreshes at 3/s took %s", took)
	}
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TestClaimsOutlastAPass: a pass claims under one owner name, pass after
// pass, for DefaultClaim, or longer when its batch at a low rate takes
// longer.
func TestClaimsOutlastAPass(t *testing.T) {
	clk := newClock(time.Now())
	f := newFake(clk)
	for _, tc := range []struct {
		rate float64
		want time.Duration
	}{
		{0, keepalive.DefaultClaim},
		{1, 500*time.Second + 250*time.Second + keepalive.DefaultMaxPoll},
	} {
		s := &keepalive.Scheduler{Claimer: f, Refresher: f, Now: clk.Now, Rate: tc.rate, Logger: discard()}
		var owners []string
		for range 2 {
			if _, err := s.Pass(t.Context()); err != nil {
				t.Fatal(err)
			}
			owners = append(owners, f.owner)
		}
		if owners[0] == "" || owners[0] != owners[1] || f.claim != tc.want {
			t.Fatalf("rate %g: claimed as %q, %s, want one name and %s", tc.rate, owners, f.claim, tc.want)
		}
	}
}
