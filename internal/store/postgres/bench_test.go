package postgres

// Benchmarks of the store's hot path (reading one connection, which every
// token callback does once) and of its writes, through the exported API
// against the test server:
//
//	eval "$(.ci/pg.sh start)"
//	go test -run='^$' -bench=. -benchmem ./internal/store/postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
)

// benchGrant is the grant of bench user i, shaped like the bbolt
// benchmarks' (prefix + 26 characters).
func benchGrant(i int, exp time.Time) onbehalf.Authorization {
	zid := fmt.Sprintf("zu_bench_%07d", i)
	return onbehalf.Authorization{
		User: onbehalf.ZoomUser{ID: zid, AccountID: "acct_bench", Email: zid + "@example.com", DisplayName: "Bench User"},
		Token: onbehalf.Token{AccessToken: "zat_ABCDEFGHIJKLMNOPQRSTUVWXYZ", RefreshToken: "zrt_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
			Expiry: exp, Scope: "user:read:user user:read:token user:read:zak"},
	}
}

// importBench writes n connections in batches of 10,000 and returns their
// IDs.
func importBench(tb testing.TB, s *Store, n int) []string {
	tb.Helper()
	exp := time.Now().Add(time.Hour).UTC()
	var ids []string
	for start := 0; start < n; start += 10_000 {
		items := make([]onbehalf.Authorization, min(10_000, n-start))
		for i := range items {
			items[i] = benchGrant(start+i, exp)
		}
		got, err := s.ImportConnections(context.Background(), items)
		if err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, got...)
	}
	return ids
}

// benchStore opens a store on a fresh schema holding n connections and
// returns it and the ID of the last one.
func benchStore(b *testing.B, n int, opts Options) (*Store, string) {
	b.Helper()
	u, _ := pgtest.Schema(b)
	s := mustOpen(b, u, opts)
	if n == 0 {
		return s, ""
	}
	ids := importBench(b, s, n)
	return s, ids[n-1]
}

// BenchmarkConnection reads one connection (Store.Connection), as every
// token callback does: with 1 and 10,000 connections in the table, with
// and without the decoded-connection cache, and from parallel callers.
func BenchmarkConnection(b *testing.B) {
	pgtest.ServerURL(b)
	for _, tc := range []struct {
		name string
		n    int
		opts Options
	}{
		{"conns=1", 1, Options{}},
		{"conns=10000", 10_000, Options{}},
		{"conns=10000/nocache", 10_000, Options{CacheSize: -1}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, id := benchStore(b, tc.n, tc.opts)
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
		s, id := benchStore(b, 1, Options{})
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
	pgtest.ServerURL(b)
	s, _ := benchStore(b, 1, Options{})
	bg := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Connection(bg, "AAAAAAAAAAAAAAAAAAAAAA"); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveToken commits a refreshed pair (one transaction with the
// compare-and-swap): the cost of a refresh on the store side.
func BenchmarkSaveToken(b *testing.B) {
	pgtest.ServerURL(b)
	s, id := benchStore(b, 1, Options{})
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

// BenchmarkLockRefresh takes and gives back a refresh lease: what a
// refresh adds for the cross-instance lease.
func BenchmarkLockRefresh(b *testing.B) {
	pgtest.ServerURL(b)
	s, id := benchStore(b, 1, Options{})
	bg := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := s.LockRefresh(bg, id, "bench", time.Minute); !ok || err != nil {
			b.Fatal(ok, err)
		}
		if err := s.UnlockRefresh(bg, id, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImportConnections writes connections in batches of 10,000
// (COPY, one transaction each); ns/op is per connection.
func BenchmarkImportConnections(b *testing.B) {
	pgtest.ServerURL(b)
	s, _ := benchStore(b, 0, Options{})
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
