package bolt

// Benchmarks of the store's hot path: reading one connection, which every
// token callback does once. They use the exported API only, so that they
// measure what callers pay (bbolt read transaction, JSON decode, unsealing).
//
//	go test -run='^$' -bench=. -benchmem ./internal/store/bolt

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// benchGrant is the grant of bench user i. Tokens are as long as real
// Zoom ones are in shape only (prefix + 26 characters, like the fake
// Zoom's).
func benchGrant(i int, exp time.Time) onbehalf.Authorization {
	zid := fmt.Sprintf("zu_bench_%07d", i)
	return onbehalf.Authorization{
		User: onbehalf.ZoomUser{ID: zid, AccountID: "acct_bench", Email: zid + "@example.com", DisplayName: "Bench User"},
		Token: onbehalf.Token{AccessToken: "zat_ABCDEFGHIJKLMNOPQRSTUVWXYZ", RefreshToken: "zrt_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
			Expiry: exp, Scope: "user:read:user user:read:token user:read:zak"},
	}
}

// benchStore opens a store on a temp file and writes n connections with
// ImportConnections (one transaction); it returns the store and the ID of
// the last one.
func benchStore(b *testing.B, n int) (*Store, string) {
	b.Helper()
	s := mustOpen(b, filepath.Join(b.TempDir(), "bench.db"), Options{ReserveBytes: NoReserve})
	items := make([]onbehalf.Authorization, n)
	exp := time.Now().Add(time.Hour).UTC()
	for i := range items {
		items[i] = benchGrant(i, exp)
	}
	ids, err := s.ImportConnections(context.Background(), items)
	if err != nil {
		b.Fatal(err)
	}
	if n == 0 {
		return s, ""
	}
	return s, ids[n-1]
}

// BenchmarkConnection reads one connection (Store.Connection), as every
// token callback does, with 1 and with 10,000 connections in the file.
func BenchmarkConnection(b *testing.B) {
	for _, n := range []int{1, 10_000} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) {
			s, id := benchStore(b, n)
			bg := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				c, err := s.Connection(bg, id)
				if err != nil || c.Token.AccessToken == "" {
					b.Fatal(c, err)
				}
			}
		})
	}
	b.Run("conns=1/parallel", func(b *testing.B) {
		s, id := benchStore(b, 1)
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

// BenchmarkConnectionMissing reads an unknown ID (a 404 callback).
func BenchmarkConnectionMissing(b *testing.B) {
	s, _ := benchStore(b, 1)
	bg := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Connection(bg, "AAAAAAAAAAAAAAAAAAAAAA"); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
			b.Fatal(err)
		}
	}
}

// TestImportConnectionsLikeConnect checks that ImportConnections stores
// what Connect would: readable, indexed by Zoom user (a later Connect
// keeps the ID), in the due index and the counts; and that it writes no
// event.
func TestImportConnectionsLikeConnect(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "import.db"), Options{ReserveBytes: NoReserve})
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
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

// BenchmarkImportConnections writes connections in batches of 10,000
// (one transaction each); ns/op is per connection.
func BenchmarkImportConnections(b *testing.B) {
	s, _ := benchStore(b, 0)
	bg := context.Background()
	exp := time.Now().Add(time.Hour).UTC()
	batch := make([]onbehalf.Authorization, 0, 10_000)
	n := 0
	flush := func() {
		if _, err := s.ImportConnections(bg, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	b.ReportAllocs()
	for b.Loop() {
		batch = append(batch, benchGrant(1_000_000+n, exp))
		n++
		if len(batch) == cap(batch) {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
}

// BenchmarkSaveToken commits a refreshed pair (one fsynced bbolt write
// transaction, compare-and-swap included): the cost of a refresh on the
// store side, and the rate at which connections can be written one by
// one.
func BenchmarkSaveToken(b *testing.B) {
	s, id := benchStore(b, 1)
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
