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
