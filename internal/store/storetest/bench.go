package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// The benchmarks below are the bodies every store's Benchmark functions
// run, so that bbolt and PostgreSQL are measured on the same work:
//
//	func BenchmarkSaveToken(b *testing.B) { storetest.BenchSaveToken(b, benchOpen) }
//
// They use the exported API only, so that they measure what callers pay.

// Importer is a store that also stores many grants at once
// (ImportConnections), which the benchmarks fill it with.
type Importer interface {
	onbehalf.Store
	// ImportConnections stores the grants as Connect would, without
	// events, and returns their connection IDs in order.
	ImportConnections(ctx context.Context, items []onbehalf.Authorization) ([]string, error)
}

// BenchOpen opens a fresh, empty store for one benchmark and closes it
// when the benchmark ends (b.Cleanup).
type BenchOpen func(b *testing.B) Importer

// ImportBatch is how many grants BenchImportConnections stores per
// ImportConnections call (one transaction).
const ImportBatch = 10_000

// BenchGrant is the grant of bench user i. Tokens are as long as real
// Zoom ones are in shape only (prefix + 26 characters, like the fake
// Zoom's).
func BenchGrant(i int, exp time.Time) onbehalf.Authorization {
	zid := fmt.Sprintf("zu_bench_%07d", i)
	return onbehalf.Authorization{
		User: onbehalf.ZoomUser{ID: zid, AccountID: "acct_bench", Email: zid + "@example.com", DisplayName: "Bench User"},
		Token: onbehalf.Token{AccessToken: "zat_ABCDEFGHIJKLMNOPQRSTUVWXYZ", RefreshToken: "zrt_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
			Expiry: exp, Scope: "user:read:user user:read:token user:read:zak"},
	}
}

// ImportGrants stores the grants of bench users 0 to n-1 in s (Seed) and
// returns their connection IDs.
func ImportGrants(tb testing.TB, s Importer, n int) []string {
	tb.Helper()
	exp := time.Now().Add(time.Hour).UTC()
	ids, err := Seed(context.Background(), s, n, func(i int) onbehalf.Authorization { return BenchGrant(i, exp) }, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

// benchStore opens a store holding n bench connections and returns it
// and the ID of the last one ("" when n is 0).
func benchStore(b *testing.B, open BenchOpen, n int) (Importer, string) {
	b.Helper()
	s := open(b)
	if n == 0 {
		return s, ""
	}
	ids := ImportGrants(b, s, n)
	return s, ids[n-1]
}

// BenchConnection reads one connection (Store.Connection), as every token
// callback does: with 1 and with 10,000 connections stored, and from
// parallel callers.
func BenchConnection(b *testing.B, open BenchOpen) {
	for _, n := range []int{1, 10_000} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) { BenchRead(b, open, n) })
	}
	b.Run("conns=1/parallel", func(b *testing.B) {
		s, id := benchStore(b, open, 1)
		bg := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Connection(bg, id); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchRead reads the last of n connections again and again, with its
// tokens.
func BenchRead(b *testing.B, open BenchOpen, n int) {
	s, id := benchStore(b, open, n)
	bg := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, err := s.Connection(bg, id)
		if err != nil || c.Token.AccessToken == "" {
			b.Fatal(c, err)
		}
	}
}

// BenchConnectionMissing reads an unknown ID (a 404 callback).
func BenchConnectionMissing(b *testing.B, open BenchOpen) {
	s, _ := benchStore(b, open, 1)
	bg := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Connection(bg, "AAAAAAAAAAAAAAAAAAAAAA"); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
			b.Fatal(err)
		}
	}
}

// BenchImportConnections writes connections in batches of ImportBatch
// (one transaction each); ns/op is per connection.
func BenchImportConnections(b *testing.B, open BenchOpen) {
	s, _ := benchStore(b, open, 0)
	bg := context.Background()
	exp := time.Now().Add(time.Hour).UTC()
	batch := make([]onbehalf.Authorization, 0, ImportBatch)
	n := 0
	flush := func() {
		if _, err := s.ImportConnections(bg, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	b.ReportAllocs()
	for b.Loop() {
		batch = append(batch, BenchGrant(1_000_000+n, exp))
		n++
		if len(batch) == cap(batch) {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
}

// BenchSaveToken commits a refreshed pair (one write transaction,
// compare-and-swap included): the cost of a refresh on the store side,
// and the rate at which connections can be written one by one.
func BenchSaveToken(b *testing.B, open BenchOpen) {
	s, id := benchStore(b, open, 1)
	bg := context.Background()
	from := "zrt_ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	tok := onbehalf.Token{AccessToken: "zat_ABCDEFGHIJKLMNOPQRSTUVWXYZ", Expiry: time.Now().Add(time.Hour).UTC()}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		tok.RefreshToken = fmt.Sprintf("zrt_%026d", i)
		if _, err := s.SaveToken(bg, id, from, tok); err != nil {
			b.Fatal(err)
		}
		from = tok.RefreshToken
	}
}

// BenchLockRefresh takes and gives back a refresh lease: what a refresh
// adds for the lease that keeps two refreshes of one connection apart.
func BenchLockRefresh(b *testing.B, open BenchOpen) {
	s, id := benchStore(b, open, 1)
	bg := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if l, err := s.LockRefresh(bg, id, "bench", time.Minute); !l.Held || err != nil {
			b.Fatal(l, err)
		}
		if err := s.UnlockRefresh(bg, id, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// testImportConnectionsLikeConnect: ImportConnections (of a store that
// has it: Importer) stores what Connect would: readable, indexed by Zoom
// user (a later Connect keeps the ID), in the due index and the counts;
// and it writes no event.
func testImportConnectionsLikeConnect(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	s, ok := h.Store.(Importer)
	if !ok {
		t.Skip("the store has no ImportConnections")
	}
	exp := h.Clock.Now().Add(time.Hour)
	items := []onbehalf.Authorization{
		{User: onbehalf.ZoomUser{ID: "zu_i1", Email: "i1@example.com", DisplayName: "I One"}, Token: onbehalf.Token{AccessToken: "a1", RefreshToken: "r1", Expiry: exp}, ExternalUserID: "ext-1"},
		{User: onbehalf.ZoomUser{ID: "zu_i2", Email: "i2@example.com"}, Token: onbehalf.Token{AccessToken: "a2", RefreshToken: "r2", Expiry: exp.Add(time.Minute)}},
	}
	ids, err := s.ImportConnections(ctx, items)
	if err != nil || len(ids) != 2 || ids[0] == ids[1] {
		t.Fatal(ids, err)
	}
	again, err := s.ImportConnections(ctx, items[:1])
	if err != nil || again[0] != ids[0] {
		t.Fatalf("re-import: %v %v, want ID %s kept", again, err, ids[0])
	}
	c, err := s.Connection(ctx, ids[0])
	if err != nil || c.ZoomUserID != "zu_i1" || c.Email != "i1@example.com" || c.DisplayName != "I One" ||
		c.Token.AccessToken != "a1" || !c.Token.Expiry.Equal(exp) || !c.Connected() || c.ExternalUserID != "ext-1" {
		t.Fatalf("read back: %+v %v", c, err)
	}
	up, created, err := s.Connect(ctx, onbehalf.Authorization{User: items[1].User, Token: onbehalf.Token{AccessToken: "a3", RefreshToken: "r3", Expiry: exp}})
	if err != nil || created || up.ID != ids[1] {
		t.Fatalf("Connect after import: %+v %v, want ID %s", up, err, ids[1])
	}
	if due, err := s.DueBefore(ctx, exp.Add(time.Hour), 10); err != nil || len(due) != 2 {
		t.Fatalf("due index: %v %v", due, err)
	}
	if n, _ := s.CountConnections(ctx); n[onbehalf.StateConnected] != 2 {
		t.Fatalf("counts %v", n)
	}
	if got, _, _ := s.ListConnections(ctx, onbehalf.ConnectionFilter{ExternalUserID: "ext-1"}); len(got) != 1 {
		t.Fatalf("external user index: %d", len(got))
	}
	if evs, _ := s.EventsAfter(ctx, 0, 10); len(evs) != 1 {
		t.Fatalf("events %d, want only the Connect's", len(evs))
	}
	if _, err := s.ImportConnections(ctx, []onbehalf.Authorization{{}}); onbehalf.ErrorCode(err) != onbehalf.EINVALID {
		t.Fatalf("no user ID: %v", err)
	}
}
