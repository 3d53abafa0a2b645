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
)

// TestScale measures a large install (issue 13's 100,000 connections):
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
	ids := importBench(t, first, n)
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
	timed("DueBefore(claim 4,000)", func() error {
		due, err := s.DueBefore(ctx, time.Now().Add(2*time.Hour), 4000)
		if err == nil && len(due) != min(n, 4000) {
			t.Errorf("claimed %d", len(due))
		}
		return err
	})
	timed("Peek().DueBefore(1)", func() error { _, err := s.Peek().DueBefore(ctx, time.Now().Add(2*time.Hour), 1); return err })
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
