package keepalive_test

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// clock is the tests' clock (clocktest), which only moves when a test
// sleeps (sleeper).
type clock struct{ *clocktest.Clock }

func newClock(t time.Time) *clock { return &clock{clocktest.New(t)} }

// sleeper returns a Scheduler.Sleep that advances the clock instead of
// waiting, runs tick after each advance, and cancels the run once the
// clock reaches end.
func (c *clock) sleeper(end time.Time, cancel context.CancelFunc, tick func(now time.Time)) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.Advance(d)
		now := c.Now()
		if tick != nil {
			tick(now)
		}
		if !now.Before(end) {
			cancel()
		}
		return ctx.Err()
	}
}

// call is one RefreshIfExpiring call seen by the fake.
type call struct {
	id        string
	at        time.Time // fake time when the call started
	old       time.Time // expiry before the call
	refreshed bool
	err       error
}

// fakeConns is an in-memory DueLister and Refresher. Refreshing moves a
// connection's expiry one hour later. It records every call and the
// highest number of calls in flight.
type fakeConns struct {
	clock *clock

	mu    sync.Mutex
	exp   map[string]time.Time
	ver   map[string]*int // bumped on every change of a connection
	order []entry         // sorted by expiry; may hold stale entries
	fail  map[string]error
	// keepListed: connections that stay listed after EDISCONNECTED, like a
	// store that would not drop a dead connection from its index.
	keepListed map[string]bool
	calls      []call
	callbacks  map[string]int // refreshes done by "callbacks", by ID
	lists      int
	owner      string        // of the last ClaimDue
	claim      time.Duration // of the last ClaimDue

	// afterList runs after each ClaimDue, outside the lock.
	afterList func()

	inflight, maxInflight atomic.Int64
}

func newFake(c *clock) *fakeConns {
	return &fakeConns{
		clock:      c,
		exp:        make(map[string]time.Time),
		ver:        make(map[string]*int),
		fail:       make(map[string]error),
		keepListed: make(map[string]bool),
		callbacks:  make(map[string]int),
	}
}

// set sets a connection's expiry.
func (f *fakeConns) set(id string, exp time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setLocked(id, exp)
}

func (f *fakeConns) setLocked(id string, exp time.Time) {
	if old, ok := f.exp[id]; ok && old.Equal(exp) {
		return
	}
	f.exp[id] = exp
	v := f.ver[id]
	if v == nil {
		v = new(int)
		f.ver[id] = v
	}
	*v++
	e := entry{Due: onbehalf.Due{ConnID: id, Expiry: exp}, ver: v, at: *v}
	i := sort.Search(len(f.order), func(i int) bool {
		o := f.order[i]
		return o.Expiry.After(exp) || (o.Expiry.Equal(exp) && o.ConnID >= id)
	})
	f.order = slices.Insert(f.order, i, e)
}

// entry is one index entry; it is stale once its connection changed.
type entry struct {
	onbehalf.Due
	ver *int
	at  int
}

// delete drops a connection. f.mu is held.
func (f *fakeConns) deleteLocked(id string) {
	delete(f.exp, id)
	if v := f.ver[id]; v != nil {
		*v++
	}
}

// callback refreshes a connection as a token callback would.
func (f *fakeConns) callback(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if exp, ok := f.exp[id]; ok {
		f.callbacks[id]++
		f.setLocked(id, exp.Add(time.Hour))
	}
}

func (f *fakeConns) expiry(id string) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exp[id]
}

func (e *entry) live() bool { return *e.ver == e.at }

// ClaimDue implements onbehalf.DueClaimer for the one scheduler under
// test: it lists, and there is nobody to keep the work from.
func (f *fakeConns) ClaimDue(ctx context.Context, owner string, before time.Time, limit int, claim time.Duration) ([]onbehalf.Due, error) {
	f.mu.Lock()
	f.lists++
	f.owner, f.claim = owner, claim
	i := 0
	for i < len(f.order) && !f.order[i].live() {
		i++
	}
	f.order = f.order[i:]
	out := make([]onbehalf.Due, 0, min(limit, len(f.order)))
	for i := range f.order {
		e := &f.order[i]
		if len(out) == limit || !e.Expiry.Before(before) {
			break
		}
		if e.live() {
			out = append(out, e.Due)
		}
	}
	f.mu.Unlock()
	if f.afterList != nil {
		f.afterList()
	}
	return out, nil
}

// RefreshIfExpiring implements onbehalf.Refresher.
func (f *fakeConns) RefreshIfExpiring(ctx context.Context, id string, before time.Time) (bool, error) {
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxInflight.Load()
		if n <= m || f.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	c := call{id: id, at: f.clock.Now()}
	runtime.Gosched() // let other refreshes overlap this one
	f.mu.Lock()
	defer f.mu.Unlock()
	exp, ok := f.exp[id]
	c.old = exp
	switch {
	case !ok:
		c.err = onbehalf.Errorf(onbehalf.ENOTFOUND, "No such connection.")
	case f.fail[id] != nil:
		c.err = f.fail[id]
		if onbehalf.ErrorCode(c.err) == onbehalf.EDISCONNECTED && !f.keepListed[id] {
			f.deleteLocked(id)
		}
	case exp.Before(before):
		c.refreshed = true
		f.setLocked(id, exp.Add(time.Hour))
	}
	f.calls = append(f.calls, c)
	return c.refreshed, c.err
}

// callsOf returns the calls for one connection.
func (f *fakeConns) callsOf(id string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.id == id {
			out = append(out, c)
		}
	}
	return out
}

// allCalls returns a copy of every call.
func (f *fakeConns) allCalls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// maxPerSecond returns the most calls started in any one-second window of
// fake time.
func maxPerSecond(calls []call) int {
	ts := make([]time.Time, len(calls))
	for i, c := range calls {
		ts[i] = c.at
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, j := 0, 0
	for i := range ts {
		for ts[j].Add(time.Second).Compare(ts[i]) <= 0 {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
