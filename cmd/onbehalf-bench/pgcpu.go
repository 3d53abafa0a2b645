package main

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgMeter measures the CPU time PostgreSQL spends for a run: the backends
// serving the run's database (pg_stat_activity.datname), read from
// /proc/<pid>/stat. It works only when the server runs on this machine
// (the URL names 127.0.0.1 or localhost) and its processes are visible;
// otherwise ok is false and nothing is reported. The server's shared
// processes (WAL writer, checkpointer, autovacuum) are not counted, so the
// figure is a lower bound.
type pgMeter struct {
	db *database
	// local reports whether the server is on this machine.
	local bool
}

// newPGMeter returns a meter for a PostgreSQL database, or nil for bbolt.
func newPGMeter(db *database) *pgMeter {
	if db == nil || db.kind != storePostgres {
		return nil
	}
	u, err := url.Parse(db.admin)
	local := err == nil && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1" || strings.HasPrefix(u.Host, "/"))
	return &pgMeter{db: db, local: local}
}

// pgSample is the CPU time of each backend at one moment.
type pgSample map[int]time.Duration

// sample reads the CPU time of every backend of the database now.
func (m *pgMeter) sample() (pgSample, bool) {
	if m == nil || !m.local {
		return nil, false
	}
	var pids []int
	err := m.db.adminQueryRow(func(r pgx.Row) error {
		return r.Scan(&pids)
	}, "SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity WHERE datname = $1", m.db.name)
	if err != nil {
		return nil, false
	}
	s := pgSample{}
	for _, pid := range pids {
		u, sys, err := procCPU(pid)
		if err == nil {
			s[pid] = u + sys
		}
	}
	return s, len(s) > 0
}

// since returns the CPU the backends used between an earlier sample and
// now; a backend started meanwhile counts from zero.
func (m *pgMeter) since(before pgSample) (time.Duration, bool) {
	after, ok := m.sample()
	if !ok || before == nil {
		return 0, false
	}
	var d time.Duration
	for pid, t := range after {
		d += t - before[pid]
	}
	return d, true
}

// pgSettings returns the settings of the PostgreSQL server that decide
// what a write costs, for the report.
func pgSettings(db *database) string {
	if db == nil || db.kind != storePostgres {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, db.admin)
	if err != nil {
		return "settings unreadable: " + err.Error()
	}
	defer conn.Close(context.Background())
	var parts []string
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err == nil {
		parts = append(parts, "PostgreSQL "+version)
	}
	for _, name := range []string{"fsync", "synchronous_commit", "shared_buffers", "max_connections"} {
		var v string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err == nil {
			parts = append(parts, fmt.Sprintf("%s=%s", name, v))
		}
	}
	return strings.Join(parts, ", ")
}

// pgWrites counts the rows a database's tables had written so far, by
// table: inserted, updated (hot: without touching an index), deleted
// (pg_stat_user_tables, which lags the writes by up to a second).
type pgWrites map[string][4]int64

// writes reads pg_stat_user_tables of the run's database.
func (m *pgMeter) writes() (pgWrites, bool) {
	if m == nil {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, m.db.url)
	if err != nil {
		return nil, false
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables")
	if err != nil {
		return nil, false
	}
	out := pgWrites{}
	for rows.Next() {
		var name string
		var v [4]int64
		if err := rows.Scan(&name, &v[0], &v[1], &v[2], &v[3]); err != nil {
			return nil, false
		}
		out[name] = v
	}
	return out, rows.Err() == nil
}

// writesSince says, per table, how many rows were written since before,
// per unit of work (n units, e.g. refreshes).
func (m *pgMeter) writesSince(before pgWrites, n int, unit string) []string {
	after, ok := m.writes()
	if !ok || before == nil || n == 0 {
		return nil
	}
	var lines []string
	names := make([]string, 0, len(after))
	for name := range after {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a, b := after[name], before[name]
		ins, upd, hot, del := a[0]-b[0], a[1]-b[1], a[2]-b[2], a[3]-b[3]
		if ins+upd+del == 0 {
			continue
		}
		lines = append(lines, fmt.Sprintf("PostgreSQL table %s: %.2f rows inserted, %.2f updated (%.0f%% HOT), %.2f deleted per %s",
			name, float64(ins)/float64(n), float64(upd)/float64(n), 100*float64(hot)/float64(max(upd, 1)), float64(del)/float64(n), unit))
	}
	return lines
}
