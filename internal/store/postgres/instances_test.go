package postgres

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
)

// Tests of several instances on one database: each "instance" is a Store
// handle with its own pool, cache and owner, on one schema and one clock.

// instances opens n handles on one fresh schema.
func instances(t *testing.T, n int, clk *clocktest.Clock, opts Options) []*Store {
	t.Helper()
	u, _ := pgtest.Schema(t)
	opts.Now = clk.Now
	var out []*Store
	for range n {
		out = append(out, mustOpen(t, u, opts))
	}
	return out
}

// grantOf is a grant of Zoom user zu with pair n, valid for an hour.
func grantOf(clk *clocktest.Clock, zu, n string) onbehalf.Authorization {
	return onbehalf.Authorization{User: onbehalf.ZoomUser{ID: zu, Email: zu + "@example.com"},
		Token: onbehalf.Token{AccessToken: "zat_" + n, RefreshToken: "zrt_" + n, Expiry: clk.Now().Add(time.Hour)}}
}

// TestRefreshRaceAcrossInstances: 200 callers spread over two instances
// each want a token newer than the one they read, and refresh the way
// tokens.Manager does (lease, re-read under it, refresh at "Zoom", save
// with the compare-and-swap). Over three expiries, exactly one refresh
// happens per refresh token and every caller ends with the new pair.
func TestRefreshRaceAcrossInstances(t *testing.T) {
	pgtest.ServerURL(t)
	clk := storetest.NewClock()
	st := instances(t, 2, clk, Options{MaxConns: 32})
	c, _, err := st[0].Connect(ctx, grantOf(clk, "zu1", "0"))
	if err != nil {
		t.Fatal(err)
	}
	var refreshes sync.Map // refresh token spent at "Zoom" → count
	var wins sync.Map      // refresh token a SaveToken replaced → count
	var generation atomic.Int64
	for round := range 3 {
		start := fmt.Sprintf("zrt_%d", round)
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				s, owner := st[i%2], fmt.Sprintf("caller-%d", i)
				for try := 0; ; try++ {
					if try > 2000 {
						t.Errorf("caller %d never saw a refreshed pair", i)
						return
					}
					cur, err := s.Connection(ctx, c.ID)
					if err != nil {
						t.Error(err)
						return
					}
					if cur.Token.RefreshToken != start {
						return // refreshed by someone
					}
					l, err := s.LockRefresh(ctx, c.ID, owner, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if !l.Held {
						time.Sleep(time.Millisecond)
						continue
					}
					under, err := s.Connection(ctx, c.ID)
					if err == nil && under.Token.RefreshToken == start {
						n, _ := refreshes.LoadOrStore(start, new(atomic.Int64))
						n.(*atomic.Int64).Add(1)
						g := generation.Add(1)
						next := onbehalf.Token{AccessToken: fmt.Sprintf("zat_%d", g), RefreshToken: fmt.Sprintf("zrt_%d", g), Expiry: clk.Now().Add(time.Hour)}
						if _, err := s.SaveToken(ctx, c.ID, start, next); err == nil {
							w, _ := wins.LoadOrStore(start, new(atomic.Int64))
							w.(*atomic.Int64).Add(1)
						} else if onbehalf.ErrorCode(err) != onbehalf.ECONFLICT {
							t.Error(err)
						}
					}
					if err := s.UnlockRefresh(ctx, c.ID, owner); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		for name, m := range map[string]*sync.Map{"refreshes": &refreshes, "compare-and-swap wins": &wins} {
			n, ok := m.Load(start)
			if !ok || n.(*atomic.Int64).Load() != 1 {
				t.Fatalf("round %d: %s from %s: %v, want exactly 1", round, name, start, n)
			}
		}
		for _, s := range st {
			got, err := s.Connection(ctx, c.ID)
			if err != nil || got.Token.RefreshToken != fmt.Sprintf("zrt_%d", round+1) {
				t.Fatalf("round %d: an instance reads %+v %v", round, got, err)
			}
		}
	}
}

// TestCompareAndSwapAcrossInstances: 200 pairs derived from one refresh
// token race through two instances with no lease at all: the
// compare-and-swap alone lets exactly one win.
func TestCompareAndSwapAcrossInstances(t *testing.T) {
	pgtest.ServerURL(t)
	clk := storetest.NewClock()
	st := instances(t, 2, clk, Options{MaxConns: 32})
	c, _, err := st[0].Connect(ctx, grantOf(clk, "zu1", "0"))
	if err != nil {
		t.Fatal(err)
	}
	var won atomic.Int64
	var winner atomic.Value
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			tok := onbehalf.Token{AccessToken: fmt.Sprintf("zat_%d", i), RefreshToken: fmt.Sprintf("zrt_w%d", i), Expiry: clk.Now().Add(time.Hour)}
			_, err := st[i%2].SaveToken(ctx, c.ID, "zrt_0", tok)
			switch onbehalf.ErrorCode(err) {
			case "":
				won.Add(1)
				winner.Store(tok.RefreshToken)
			case onbehalf.ECONFLICT:
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d SaveTokens from one refresh token won, want 1", won.Load())
	}
	for _, s := range st {
		if got, _ := s.Connection(ctx, c.ID); got.Token.RefreshToken != winner.Load() {
			t.Fatalf("an instance reads %s, want the winner's %s", got.Token.RefreshToken, winner.Load())
		}
	}
}

// TestLeaseHolderDies: the instance holding the lease dies (its store is
// closed, the lease left behind); the other takes over once the lease
// runs out (10 s, the tokens' lease), learns that it was abandoned, and
// the dead holder's late write loses the compare-and-swap.
func TestLeaseHolderDies(t *testing.T) {
	pgtest.ServerURL(t)
	clk := storetest.NewClock()
	st := instances(t, 2, clk, Options{})
	a, b := st[0], st[1]
	c, _, err := a.Connect(ctx, grantOf(clk, "zu1", "0"))
	if err != nil {
		t.Fatal(err)
	}
	const ttl = 10 * time.Second
	if l, err := a.LockRefresh(ctx, c.ID, "A", ttl); !l.Held || l.Abandoned || err != nil {
		t.Fatalf("A's lease: %+v %v", l, err)
	}
	a.Close() // kill -9: no UnlockRefresh
	if l, _ := b.LockRefresh(ctx, c.ID, "B", ttl); l.Held {
		t.Fatal("B took a lease A still holds")
	}
	clk.Advance(ttl - time.Second)
	if l, _ := b.LockRefresh(ctx, c.ID, "B", ttl); l.Held {
		t.Fatal("B took the lease a second before it ran out")
	}
	clk.Advance(time.Second)
	if l, err := b.LockRefresh(ctx, c.ID, "B", ttl); !l.Held || !l.Abandoned || err != nil {
		t.Fatalf("B after A's lease ran out: %+v %v, want held and abandoned", l, err)
	}
	if _, err := b.SaveToken(ctx, c.ID, "zrt_0", onbehalf.Token{AccessToken: "zat_b", RefreshToken: "zrt_b", Expiry: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// A comes back from the dead with the pair it got from Zoom for zrt_0:
	// the fence holds.
	a2 := mustOpen(t, pgtest.WithSearchPath(pgtest.ServerURL(t), schemaOf(t, b)), Options{Now: clk.Now})
	_, err = a2.SaveToken(ctx, c.ID, "zrt_0", onbehalf.Token{AccessToken: "zat_a", RefreshToken: "zrt_a", Expiry: clk.Now().Add(time.Hour)})
	if onbehalf.ErrorCode(err) != onbehalf.ECONFLICT {
		t.Fatalf("the dead holder's late SaveToken: %v, want ECONFLICT", err)
	}
	if got, _ := a2.Connection(ctx, c.ID); got.Token.RefreshToken != "zrt_b" {
		t.Fatalf("stored %s, want B's pair", got.Token.RefreshToken)
	}
}

// schemaOf returns the schema a store's connections use.
func schemaOf(t *testing.T, s *Store) string {
	t.Helper()
	var schema string
	if err := s.pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	return schema
}

// owner names instance i in keep-alive claims.
func owner(i int) string { return fmt.Sprintf("instance-%d", i) }

// TestKeepAliveCycleAcrossInstances: two instances run keep-alive passes
// at once (list a page of due connections, refresh each, again): every
// connection is refreshed once in the cycle, none twice, and the work is
// shared.
func TestKeepAliveCycleAcrossInstances(t *testing.T) {
	pgtest.ServerURL(t)
	clk := storetest.NewClock()
	st := instances(t, 2, clk, Options{})
	const n = 600
	importDue(t, st[0], clk, n)
	horizon := clk.Now().Add(time.Hour)
	var refreshed sync.Map
	var mine [2]atomic.Int64
	var wg sync.WaitGroup
	for i, s := range st {
		wg.Go(func() {
			for {
				due, err := s.ClaimDue(ctx, owner(i), horizon, 25, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if len(due) == 0 {
					return
				}
				for _, d := range due {
					c, err := s.Connection(ctx, d.ConnID)
					if err != nil {
						t.Error(err)
						return
					}
					if _, dup := refreshed.LoadOrStore(d.ConnID, i); dup {
						t.Errorf("connection %s refreshed twice", d.ConnID)
					}
					next := onbehalf.Token{AccessToken: "zat_new", RefreshToken: c.Token.RefreshToken + "+", Expiry: horizon.Add(time.Hour)}
					if _, err := s.SaveToken(ctx, d.ConnID, c.Token.RefreshToken, next); err != nil {
						t.Error(err)
					}
					mine[i].Add(1)
				}
			}
		})
	}
	wg.Wait()
	if total := mine[0].Load() + mine[1].Load(); total != n || mine[0].Load() == 0 || mine[1].Load() == 0 {
		t.Fatalf("refreshed %d + %d, want %d in all, shared", mine[0].Load(), mine[1].Load(), n)
	}
	t.Logf("refreshed by instance 0: %d, by instance 1: %d", mine[0].Load(), mine[1].Load())
}

// importDue stores n connections expiring one a second from now.
func importDue(t *testing.T, s *Store, clk *clocktest.Clock, n int) {
	t.Helper()
	items := make([]onbehalf.Authorization, n)
	for i := range items {
		items[i] = grantOf(clk, fmt.Sprintf("zu%04d", i), fmt.Sprint(i))
		items[i].Token.Expiry = clk.Now().Add(time.Duration(i) * time.Second)
	}
	if _, err := s.ImportConnections(ctx, items); err != nil {
		t.Fatal(err)
	}
}

// TestClaimDeliveriesAcrossInstances: two instances claim and deliver
// events at once: each event is claimed exactly once.
func TestClaimDeliveriesAcrossInstances(t *testing.T) {
	pgtest.ServerURL(t)
	clk := storetest.NewClock()
	st := instances(t, 2, clk, Options{DeliverEvents: true})
	const n = 300
	for i := range n {
		if _, _, err := st[i%2].Connect(ctx, grantOf(clk, fmt.Sprintf("zu%d", i), "x")); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			s := st[w%2]
			for {
				ds, err := s.ClaimDeliveries(ctx, clk.Now(), time.Minute, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				for i, d := range ds {
					if i > 0 && d.Event.Seq <= ds[i-1].Event.Seq {
						t.Errorf("claimed out of Seq order: %d after %d", d.Event.Seq, ds[i-1].Event.Seq)
					}
					mu.Lock()
					claimed[d.Event.ID]++
					mu.Unlock()
					if err := s.DeliveryDone(ctx, d.Event.ID, clk.Now()); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if len(claimed) != n {
		t.Fatalf("%d events claimed, want %d", len(claimed), n)
	}
	for id, k := range claimed {
		if k != 1 {
			t.Fatalf("event %s claimed %d times", id, k)
		}
	}
	if p, _ := st[0].PendingDeliveries(ctx); p != 0 {
		t.Fatalf("%d pending after delivery", p)
	}
}

// TestEventsCommitInSeqOrder: events written concurrently by two
// instances become visible in Seq order: a reader that resumes after the
// last Seq it saw never misses one.
func TestEventsCommitInSeqOrder(t *testing.T) {
	pgtest.ServerURL(t)
	clk := storetest.NewClock()
	st := instances(t, 2, clk, Options{MaxConns: 16})
	const writers, each = 8, 25
	done := make(chan struct{})
	var seen []int64
	go func() {
		defer close(done)
		var last int64
		for len(seen) < writers*each {
			evs, err := st[1].EventsAfter(ctx, last, 0)
			if err != nil {
				t.Error(err)
				return
			}
			for _, ev := range evs {
				seen = append(seen, ev.Seq)
				last = ev.Seq
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, _, err := st[w%2].Connect(ctx, grantOf(clk, fmt.Sprintf("zu-%d-%d", w, i), "x")); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the reader saw %d of %d events", len(seen), writers*each)
	}
	for i, seq := range seen {
		if seq != int64(i+1) {
			t.Fatalf("the reader saw seq %d at position %d: an event was skipped", seq, i)
		}
	}
}

// TestInstancesStartTogether: instances starting at once on a new
// database migrate it once (under the advisory lock) and all open; a
// database a newer onbehalf migrated is refused.
func TestInstancesStartTogether(t *testing.T) {
	u, schema := pgtest.Schema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			s, err := Open(ctx, u, Options{Keys: [][]byte{testKey}, Logger: quiet})
			if err == nil {
				s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("an instance starting with others: %v", err)
		}
	}
	pgtest.Exec(t, fmt.Sprintf("INSERT INTO %s.onbehalf_schema_version (version_id, is_applied) VALUES (9999, true)", schema))
	if _, err := Open(ctx, u, Options{Keys: [][]byte{testKey}, Logger: quiet}); err == nil || !strings.Contains(err.Error(), "newer onbehalf") {
		t.Fatalf("Open on a database of a newer onbehalf: %v", err)
	}
}

// TestClaimDueRenewsOnlyAgingClaims: listing its own claims again
// rewrites none whose claim holds for more than half its length; past
// that, the claim is renewed; either way the instance gets them all.
func TestClaimDueRenewsOnlyAgingClaims(t *testing.T) {
	pgtest.ServerURL(t)
	clk := storetest.NewClock()
	s := instances(t, 1, clk, Options{})[0]
	const n = 50
	importDue(t, s, clk, n)
	horizon := clk.Now().Add(time.Hour)
	until := func() (time.Time, time.Time, int) {
		t.Helper()
		var lo, hi time.Time
		var rows int
		err := s.pool.QueryRow(ctx, `SELECT min(keepalive_until), max(keepalive_until), count(*) FROM connections WHERE keepalive_owner = $1`, owner(0)).Scan(&lo, &hi, &rows)
		if err != nil {
			t.Fatal(err)
		}
		return lo.UTC(), hi.UTC(), rows
	}
	t0 := clk.Now()
	list := func(when string) {
		t.Helper()
		if due, err := s.ClaimDue(ctx, owner(0), horizon, n, time.Minute); err != nil || len(due) != n {
			t.Fatalf("%s: %d due, %v; want all %d", when, len(due), err, n)
		}
	}
	list("first pass")
	if lo, hi, rows := until(); rows != n || !lo.Equal(micro(t0.Add(time.Minute))) || !hi.Equal(lo) {
		t.Fatalf("first pass: %d claims until %v–%v, want %d until %v", rows, lo, hi, n, t0.Add(time.Minute))
	}
	clk.Advance(20 * time.Second)
	list("20 s later")
	if lo, hi, _ := until(); !lo.Equal(micro(t0.Add(time.Minute))) || !hi.Equal(lo) {
		t.Fatalf("20 s later the claims were rewritten: until %v–%v, want %v", lo, hi, t0.Add(time.Minute))
	}
	clk.Advance(15 * time.Second)
	list("35 s later")
	if lo, _, _ := until(); !lo.Equal(micro(clk.Now().Add(time.Minute))) {
		t.Fatalf("35 s later, with less than half the claim left: until %v, want renewed to %v", lo, clk.Now().Add(time.Minute))
	}
}
