package postgres

import (
	"context"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
)

var ctx = context.Background()

// quiet is a logger for tests that do not read the log.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testKey is the sealing key of the tests' stores.
var testKey = func() []byte {
	k, err := seal.NewKey()
	if err != nil {
		panic(err)
	}
	return k
}()

// TestConformance runs the store suite against PostgreSQL, each test on
// its own schema.
func TestConformance(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) *storetest.Harness {
		return harness(t, cfg, Options{})
	})
}

// TestConformanceNoCache runs the suite again without the decoded
// connection cache: every read unseals.
func TestConformanceNoCache(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) *storetest.Harness {
		return harness(t, cfg, Options{CacheSize: -1})
	})
}

// harness opens a store on a fresh schema for the suite; opts add to the
// suite's needs (clock, delivery, keys, a quiet log).
func harness(t *testing.T, cfg storetest.Config, opts Options) *storetest.Harness {
	clk := storetest.NewClock()
	u, schema := pgtest.Schema(t)
	opts.Now, opts.DeliverEvents, opts.Logger, opts.Keys = clk.Now, cfg.DeliverEvents, quiet, [][]byte{testKey}
	s := mustOpen(t, u, opts)
	h := &storetest.Harness{Store: s, Clock: clk}
	h.FailWrites = func(err error) { s.FailWrites(err) }
	h.Reopen = func(t *testing.T) onbehalf.Store {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = mustOpen(t, u, opts)
		h.Store = s
		return s
	}
	h.Dump = func(t *testing.T) []byte { return pgtest.Dump(t, schema) }
	return h
}

// mustOpen opens a store and closes it when the test ends.
func mustOpen(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	if opts.Keys == nil {
		opts.Keys = [][]byte{testKey}
	}
	s, err := Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestQueriesLoad: fragments expand, trailing comments (the next block's
// introduction) are dropped, and every statement in sql/queries has a name
// in queries.go.
func TestQueriesLoad(t *testing.T) {
	fsys := fstest.MapFS{"sql/queries/a.sql": {Data: []byte(`-- fragment: cols
a, b
-- says what comes next
-- name: one
SELECT {{cols}} FROM t;
-- name: two
UPDATE t SET a = 1
`)}}
	q := loadQueries(fsys)
	if q["one"] != "SELECT a, b FROM t" || q["two"] != "UPDATE t SET a = 1" {
		t.Fatalf("loaded %q", q)
	}
	declared := map[string]bool{}
	for _, m := range regexp.MustCompile(`query\("([a-z0-9_]+)"\)`).FindAllStringSubmatch(namesSource(t), -1) {
		declared[m[1]] = true
	}
	for name, sql := range queries {
		if !declared[name] {
			t.Errorf("query %s is not declared in queries.go", name)
		}
		if strings.Contains(sql, "{{") {
			t.Errorf("query %s keeps a fragment", name)
		}
	}
}

// namesSource returns the text of queries.go, where the names are.
func namesSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("queries.go")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
