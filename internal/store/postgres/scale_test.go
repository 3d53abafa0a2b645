package postgres

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
)

// TestScale measures a large install (100,000 connections):
// the import, the start of an instance on the filled database (Open: the
// schema check, the key check), its memory, and the queries whose cost
// grows with the table. It runs only when ONBEHALF_TEST_SCALE says how
// many connections (e.g. 100000), and prints the figures:
//
//	ONBEHALF_TEST_SCALE=100000 go test -run TestScale -v ./internal/store/postgres
func TestScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("ONBEHALF_TEST_SCALE"))
	if n <= 0 {
		t.Skip("set ONBEHALF_TEST_SCALE=100000 to measure a large database")
	}
	u, _ := pgtest.Schema(t)
	first := mustOpen(t, u, Options{})
	start := time.Now()
	ids := storetest.ImportGrants(t, first, n)
	t.Logf("import of %d connections (ImportConnections, batches of 10,000): %s (%.0f/s)",
		n, time.Since(start).Round(time.Millisecond), float64(n)/time.Since(start).Seconds())
	first.Close()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start = time.Now()
	s := mustOpen(t, u, Options{})
	opened := time.Since(start)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("open on %d connections: %s; heap %+.1f MB after open (%.1f MB in use, the test's ID list included); process RSS %s",
		n, opened.Round(time.Microsecond), float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/1e6, float64(after.HeapAlloc)/1e6, rss())

	timed := func(what string, fn func() error) {
		t.Helper()
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%s: %s", what, time.Since(start).Round(time.Microsecond))
	}
	timed("CountConnections", func() error { _, err := s.CountConnections(ctx); return err })
	timed("ClaimDue(4,000)", func() error {
		due, err := s.ClaimDue(ctx, "bench", time.Now().Add(2*time.Hour), 4000, time.Minute)
		if err == nil && len(due) != min(n, 4000) {
			t.Errorf("claimed %d", len(due))
		}
		return err
	})
	timed("DueBefore(1)", func() error { _, err := s.DueBefore(ctx, time.Now().Add(2*time.Hour), 1); return err })
	timed("ListConnections(page of 100, last page)", func() error {
		_, _, err := s.ListConnections(ctx, onbehalf.ConnectionFilter{Limit: 100})
		return err
	})
	timed("Connection of every connection, 8 readers, cold cache", func() error { return readAll(s, ids) })
	timed("Connection of every connection, 8 readers, again", func() error { return readAll(s, ids) })
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("heap after reading every connection: %.1f MB (cache bounded at %d); process RSS %s", float64(after.HeapAlloc)/1e6, defaultCacheSize, rss())
	var size string
	_ = s.pool.QueryRow(ctx, "SELECT pg_size_pretty(pg_total_relation_size('connections'))").Scan(&size)
	t.Logf("connections table with indexes: %s", size)
}

// readAll reads every connection with 8 readers.
func readAll(s *Store, ids []string) error {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(ids); i += 8 {
				if _, err := s.Connection(ctx, ids[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// rss returns the process's resident memory as the kernel reports it.
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// The benchmarks of the store's hot path (reading one connection, which
// every token callback does once) and of its writes run storetest's
// bodies, as the bbolt store's do, through the exported API against the
// test server:
//
//	eval "$(.ci/pg.sh start)"
//	go test -run='^$' -bench=. -benchmem ./internal/store/postgres

// benchOpen returns a storetest.BenchOpen: a store with opts on a fresh
// schema.
func benchOpen(opts Options) storetest.BenchOpen {
	return func(b *testing.B) storetest.Importer {
		u, _ := pgtest.Schema(b)
		return mustOpen(b, u, opts)
	}
}

// BenchmarkConnection reads one connection (Store.Connection), as every
// token callback does: with 1 and 10,000 connections in the table, with
// and without the decoded-connection cache, and from parallel callers.
func BenchmarkConnection(b *testing.B) {
	pgtest.ServerURL(b)
	storetest.BenchConnection(b, benchOpen(Options{}))
	b.Run("conns=10000/nocache", func(b *testing.B) { storetest.BenchRead(b, benchOpen(Options{CacheSize: -1}), 10_000) })
}

// BenchmarkConnectionMissing reads an unknown ID (a 404 callback).
func BenchmarkConnectionMissing(b *testing.B) {
	pgtest.ServerURL(b)
	storetest.BenchConnectionMissing(b, benchOpen(Options{}))
}

// BenchmarkSaveToken commits a refreshed pair (one transaction with the
// compare-and-swap): the cost of a refresh on the store side.
func BenchmarkSaveToken(b *testing.B) {
	pgtest.ServerURL(b)
	storetest.BenchSaveToken(b, benchOpen(Options{}))
}

// BenchmarkLockRefresh takes and gives back a refresh lease: what a
// refresh adds for the cross-instance lease.
func BenchmarkLockRefresh(b *testing.B) {
	pgtest.ServerURL(b)
	storetest.BenchLockRefresh(b, benchOpen(Options{}))
}

// BenchmarkImportConnections writes connections in batches of 10,000
// (COPY, one transaction each); ns/op is per connection.
func BenchmarkImportConnections(b *testing.B) {
	pgtest.ServerURL(b)
	storetest.BenchImportConnections(b, benchOpen(Options{}))
}
