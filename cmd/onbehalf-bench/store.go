package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/store/postgres"
)

// Stores the bench runs the server on (-store).
const (
	storeBolt     = "bolt"
	storePostgres = "postgres"
)

// database is where the servers of one run keep their data: a bbolt file
// in the work folder, or a PostgreSQL database of its own, created for the
// run on the server -database-url names and dropped after it (unless
// -keep).
type database struct {
	kind string
	// path is the bbolt file.
	path string
	// admin is the superuser URL of the PostgreSQL server; name the
	// database made for the run; url the DATABASE_URL of the servers.
	admin, name, url string
	// key is TOKEN_ENCRYPTION_KEY. PostgreSQL needs one; bbolt uses the
	// key file beside the database, as a default install does.
	key []byte
}

// newDatabase makes an empty database for a run: a path in dir (bbolt), or
// a new PostgreSQL database named after label.
func newDatabase(o options, dir, label string) (*database, error) {
	if o.store == storeBolt {
		return &database{kind: storeBolt, path: filepath.Join(dir, "onbehalf.db")}, nil
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	suffix, err := store.RandomString(6)
	if err != nil {
		return nil, err
	}
	name := strings.ToLower("onbehalf_bench_" + label + "_" + strings.NewReplacer("-", "x", "_", "x").Replace(suffix))
	d := &database{kind: storePostgres, admin: o.databaseURL, name: name, key: key}
	if err := d.adminExec("CREATE DATABASE " + pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	d.url = withDatabase(o.databaseURL, name)
	return d, nil
}

// cloneDatabase makes a copy of d (same secrets, keys and connections):
// the file copied, or CREATE DATABASE … TEMPLATE. No server may have d
// open.
func cloneDatabase(d *database, dir, label string) (*database, error) {
	if d.kind == storeBolt {
		c := &database{kind: storeBolt, path: filepath.Join(dir, "onbehalf.db")}
		return c, copyDir(filepath.Dir(d.path), dir)
	}
	c := &database{kind: storePostgres, admin: d.admin, name: d.name + "_" + label, key: d.key}
	if err := d.adminExec("CREATE DATABASE " + pgx.Identifier{c.name}.Sanitize() + " TEMPLATE " + pgx.Identifier{d.name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("copying database %s: %w", d.name, err)
	}
	c.url = withDatabase(d.admin, c.name)
	return c, nil
}

// env is the part of the server's environment that names the database.
func (d *database) env() map[string]string {
	if d.kind == storeBolt {
		return map[string]string{"DB_PATH": d.path}
	}
	return map[string]string{
		"DATABASE_URL":         d.url,
		"TOKEN_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(d.key),
	}
}

// describe names the database for the report.
func (d *database) describe() string {
	if d.kind == storeBolt {
		return "bbolt " + d.path
	}
	u, _ := url.Parse(d.url)
	return fmt.Sprintf("PostgreSQL database %s on %s", d.name, u.Host)
}

// benchStore is what the bench does with a store directly, while no
// server has it open (bbolt) or beside the servers (PostgreSQL).
type benchStore interface {
	onbehalf.Store
	ImportConnections(ctx context.Context, items []onbehalf.Authorization) ([]string, error)
	Close() error
}

// open opens the store with the servers' keys; now is its clock (the
// times it records on imported connections).
func (d *database) open(now func() time.Time) (benchStore, error) {
	// Warnings only: the servers' logs say the rest.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if d.kind == storeBolt {
		return bolt.Open(d.path, bolt.Options{ReserveBytes: bolt.NoReserve, Now: now, Logger: log})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return postgres.Open(ctx, d.url, postgres.Options{Keys: [][]byte{d.key}, Now: now, CacheSize: -1, MaxConns: 4, Logger: log})
}

// size is the bbolt file's size, or pg_database_size.
func (d *database) size() (int64, error) {
	if d.kind == storeBolt {
		fi, err := os.Stat(d.path)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	var n int64
	err := d.adminQueryRow(func(r pgx.Row) error { return r.Scan(&n) }, "SELECT pg_database_size($1)", d.name)
	return n, err
}

// dropUnless deletes a PostgreSQL database at the end of a run unless
// keep (-keep) says to leave it; servers on it must have stopped. A bbolt
// file goes with the work folder.
func (d *database) dropUnless(keep bool) {
	if keep || d == nil || d.kind == storeBolt {
		return
	}
	if err := d.adminExec("DROP DATABASE IF EXISTS " + pgx.Identifier{d.name}.Sanitize() + " WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "onbehalf-bench: database %s left behind: %v\n", d.name, err)
	}
}

// adminExec runs a statement as the superuser on the server's own
// database (the one -database-url names).
func (d *database) adminExec(sql string, args ...any) error {
	return d.adminQueryRow(nil, sql, args...)
}

// adminQueryRow runs a query as the superuser and scans its one row with
// scan (nil: a statement, no row).
func (d *database) adminQueryRow(scan func(pgx.Row) error, sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if scan == nil {
		_, err = conn.Exec(ctx, sql, args...)
		return err
	}
	return scan(conn.QueryRow(ctx, sql, args...))
}

// tableSizes returns the size of each table of a PostgreSQL database with
// its indexes and TOAST (pg_total_relation_size), largest first, and its
// rows (pg_class.reltuples after ANALYZE).
func (d *database) tableSizes() ([]tableSize, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid), greatest(c.reltuples, 0)::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		ORDER BY 2 DESC`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (tableSize, error) {
		var t tableSize
		return t, r.Scan(&t.name, &t.total, &t.heap, &t.rows)
	})
}

// tableSize is one row of tableSizes.
type tableSize struct {
	name              string
	total, heap, rows int64
}

// withDatabase returns the server URL u naming the database name instead.
func withDatabase(u, name string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.Path = "/" + name
	return p.String()
}

// defaultDatabaseURL is -database-url's default: ONBEHALF_BENCH_DATABASE_URL,
// else the test server's ONBEHALF_TEST_DATABASE_URL.
func defaultDatabaseURL() string {
	if v := os.Getenv("ONBEHALF_BENCH_DATABASE_URL"); v != "" {
		return v
	}
	return os.Getenv("ONBEHALF_TEST_DATABASE_URL")
}

// checkDatabaseURL says what is wrong with -database-url for -store=postgres.
func checkDatabaseURL(u string) error {
	if u == "" {
		return errors.New("-store=postgres needs -database-url (a superuser URL, postgres://…): none given and neither ONBEHALF_BENCH_DATABASE_URL nor ONBEHALF_TEST_DATABASE_URL is set (start a throwaway server with: eval \"$(.ci/pg.sh start)\")")
	}
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return errors.New("-database-url: must start with postgres://")
	}
	return nil
}

// settle lets a freshly filled database come to rest before it is
// measured, as an operator does after a bulk load: PostgreSQL vacuums and
// analyzes it (so that autovacuum does not run into the measurement), and
// the kernel writes the bbolt file's dirty pages out (sync), so that their
// writeback does not stall the servers' fsyncs.
func (d *database) settle() error {
	if d.kind == storeBolt {
		syscall.Sync()
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "VACUUM (ANALYZE)")
	return err
}
