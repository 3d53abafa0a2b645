package bolt

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
)

var ctx = context.Background()

// quiet is a logger for tests that do not read the log.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestConformance runs the store suite against bbolt, without an
// emergency reserve.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) *storetest.Harness {
		return harness(t, cfg, Options{ReserveBytes: NoReserve})
	})
}

// TestConformanceWithReserve runs the suite again with a small reserve
// and a fast probe: injected disk-full failures then also take the
// reserve's path (freed, retried, recreated).
func TestConformanceWithReserve(t *testing.T) {
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) *storetest.Harness {
		return harness(t, cfg, Options{ReserveBytes: 64 << 10, ProbeInterval: 10 * time.Millisecond})
	})
}

// harness opens a store in a fresh folder for the suite; opts add to the
// suite's needs (clock, delivery, a quiet log).
func harness(t *testing.T, cfg storetest.Config, opts Options) *storetest.Harness {
	clk := storetest.NewClock()
	path := filepath.Join(t.TempDir(), "data", "onbehalf.db")
	opts.Now, opts.DeliverEvents, opts.Timeout, opts.Logger = clk.Now, cfg.DeliverEvents, time.Second, quiet
	s := mustOpen(t, path, opts)
	h := &storetest.Harness{Store: s, Clock: clk}
	h.FailWrites = func(err error) { s.FailWrites(err) }
	h.Reopen = func(t *testing.T) onbehalf.Store {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = mustOpen(t, path, opts)
		h.Store = s
		return s
	}
	h.Dump = func(t *testing.T) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return h
}

// mustOpen opens a store and closes it when the test ends.
func mustOpen(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The benchmarks of the store's hot path (reading one connection, which
// every token callback does once) and of its writes run storetest's
// bodies, as the PostgreSQL store's do, through the exported API, so that
// they measure what callers pay (bbolt read transaction, JSON decode,
// unsealing):
//
//	go test -run='^$' -bench=. -benchmem ./internal/store/bolt

// benchOpen opens an empty store on a temp file, without a reserve.
func benchOpen(b *testing.B) storetest.Importer {
	return mustOpen(b, filepath.Join(b.TempDir(), "bench.db"), Options{ReserveBytes: NoReserve})
}

// BenchmarkConnection reads one connection (Store.Connection), as every
// token callback does, with 1 and with 10,000 connections in the file.
func BenchmarkConnection(b *testing.B) { storetest.BenchConnection(b, benchOpen) }

// BenchmarkConnectionMissing reads an unknown ID (a 404 callback).
func BenchmarkConnectionMissing(b *testing.B) { storetest.BenchConnectionMissing(b, benchOpen) }

// BenchmarkImportConnections writes connections in batches of 10,000
// (one transaction each); ns/op is per connection.
func BenchmarkImportConnections(b *testing.B) { storetest.BenchImportConnections(b, benchOpen) }

// BenchmarkSaveToken commits a refreshed pair (one fsynced bbolt write
// transaction, compare-and-swap included): the cost of a refresh on the
// store side, and the rate at which connections can be written one by
// one.
func BenchmarkSaveToken(b *testing.B) { storetest.BenchSaveToken(b, benchOpen) }

// BenchmarkLockRefresh takes and gives back a refresh lease (in memory:
// one process).
func BenchmarkLockRefresh(b *testing.B) { storetest.BenchLockRefresh(b, benchOpen) }
