// Package pgtest gives tests their own PostgreSQL schema on the throwaway
// server that ONBEHALF_TEST_DATABASE_URL names (a superuser URL: .ci/pg.sh
// start prints one). Each call makes a new schema and returns a URL whose
// connections use it (search_path), so that tests never see each other's
// rows and need no database of their own; the schema is dropped when the
// test ends.
//
// Without the variable, tests skip with a message that says how to run
// them, unless CI is set: then they fail, so that CI cannot pass without
// PostgreSQL.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/onbehalf/onbehalf/internal/store"
)

// EnvURL names the variable holding the test server's superuser URL.
const EnvURL = "ONBEHALF_TEST_DATABASE_URL"

// ServerURL returns the test server's URL, or skips the test when there is
// none (fails it under CI).
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u != "" {
		return u
	}
	msg := EnvURL + " is not set: these tests need a PostgreSQL server. Run: eval \"$(.ci/pg.sh start)\" (and .ci/pg.sh stop after)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " — CI must run them")
	}
	t.Skip(msg)
	return ""
}

var (
	adminMu   sync.Mutex
	adminPool *pgxpool.Pool
)

// admin returns a pool on the test server, shared by the tests of one
// binary.
func admin(t testing.TB) *pgxpool.Pool {
	t.Helper()
	u := ServerURL(t)
	adminMu.Lock()
	defer adminMu.Unlock()
	if adminPool == nil {
		p, err := pgxpool.New(context.Background(), u)
		if err != nil {
			t.Fatalf("connecting to the test server: %v", err)
		}
		adminPool = p
	}
	return adminPool
}

// Schema creates a fresh, empty schema and returns a URL that uses it and
// its name. The schema is dropped when the test ends.
func Schema(t testing.TB) (u, schema string) {
	t.Helper()
	pool := admin(t)
	suffix, err := store.RandomString(9)
	if err != nil {
		t.Fatal(err)
	}
	schema = "t_" + strings.ToLower(strings.NewReplacer("-", "_", "_", "x").Replace(suffix))
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(ServerURL(t), schema), schema
}

// WithSearchPath returns u with its connections' search_path set to
// schema.
func WithSearchPath(u, schema string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	q.Set("search_path", schema)
	p.RawQuery = q.Encode()
	return p.String()
}

// Dump returns every row of every table of a schema as text, one row a
// line, to check that nothing is kept in clear.
func Dump(t testing.TB, schema string) []byte {
	t.Helper()
	ctx := context.Background()
	pool := admin(t)
	rows, err := pool.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := pool.Query(ctx, fmt.Sprintf("SELECT t::text FROM %s t", pgx.Identifier{schema, table}.Sanitize()))
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "-- %s\n%s\n", table, strings.Join(lines, "\n"))
	}
	return []byte(b.String())
}

// Exec runs a statement on the test server as its superuser (outside any
// test schema unless the statement names one).
func Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := admin(t).Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
