package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// scaleDB is one database of the scale run and the server started on it.
type scaleDB struct {
	db        *database
	env       map[string]string
	name      string
	conns     int
	size      int64
	storeOpen time.Duration
	st        startup
	rss       int64
	rssAfter  int64
	srv       server
}

// runScale compares two servers running side by side: one on a database
// with one connection, one on a copy of it holding o.scale connections.
// Both serve the same connection (same ID, secret and key), and every
// client alternates between them, so noise from the machine hits both
// alike. It reports file size per connection, open and start times, RSS,
// and callback latency with 1 and with -c clients.
func runScale(o options, work string) error {
	f := newFakes()
	defer f.Close()
	oneDB, err := newDatabase(o, filepath.Join(work, "one"), "one")
	if err != nil {
		return err
	}
	defer oneDB.dropUnless(o.keep)
	one := &scaleDB{db: oneDB, env: f.serverEnv(o, oneDB), name: "server-one"}

	// First start: create the database and connect one real user through
	// the browser flow; keep its token URL (path and query).
	srv, _, err := startServer(o, work, "server-setup", one.env)
	if err != nil {
		return err
	}
	uid := benchUserID(0)
	f.zoom.AddUser(zoomdemo.User{ID: uid, Email: uid + "@example.com", DisplayName: "Bench User 0"})
	tokenURL, err := connectOne(srv.BaseURL(), f, uid, benchMeetingID(0))
	if stopErr := srv.Stop(); err == nil {
		err = stopErr
	}
	if err != nil {
		return err
	}
	u, err := url.Parse(tokenURL)
	if err != nil {
		return err
	}
	pathQuery := u.Path + "?" + u.RawQuery

	// The big database: a copy (same secrets, key, connection) plus
	// o.scale-1 filler connections.
	manyDB, err := cloneDatabase(oneDB, filepath.Join(work, "many"), "many")
	if err != nil {
		return err
	}
	defer manyDB.dropUnless(o.keep)
	many := &scaleDB{db: manyDB, env: f.serverEnv(o, manyDB), name: "server-many"}
	if err := fill(manyDB, o.scale-1, o.tokenLen, o.fill); err != nil {
		return err
	}
	if err := printDBStats(manyDB); err != nil {
		return err
	}
	t0 := time.Now()
	if err := manyDB.settle(); err != nil {
		return err
	}
	fmt.Printf("  settled (PostgreSQL: VACUUM (ANALYZE); bbolt: sync) in %s\n", round(time.Since(t0)))

	for _, db := range []*scaleDB{one, many} {
		if err := db.start(o, work); err != nil {
			return err
		}
		defer func(db *scaleDB) {
			if db.srv != nil {
				_ = db.srv.Stop()
			}
		}(db)
	}
	targets := []target{{url: one.srv.BaseURL() + pathQuery, group: 0}, {url: many.srv.BaseURL() + pathQuery, group: 1}}
	v := &verifier{minted: f.zoom.Minted, seen: map[string]struct{}{}}
	both := serverSet{one.srv, many.srv}
	fmt.Println()
	name := fmt.Sprintf("scale: clients alternate between the %d-connection and the %d-connection server", one.conns, many.conns)
	seq, err := measure(o, both, nil, f, v, name+", 1 client", targets, shapeOnbehalf, 1, o.d, false)
	if err != nil {
		return err
	}
	seq.print(0)
	par, err := measure(o, both, nil, f, v, name, targets, shapeOnbehalf, o.c, o.d, false)
	if err != nil {
		return err
	}
	par.print(0)
	for _, db := range []*scaleDB{one, many} {
		db.rssAfter, _ = db.srv.RSS()
		err := db.srv.Stop()
		db.srv = nil
		if err != nil {
			return err
		}
	}

	fmt.Printf("\nscale: %d connections vs %d\n", many.conns, one.conns)
	row := func(what, a, b string) { fmt.Printf("  %-40s %14s %14s\n", what, a, b) }
	row("", fmt.Sprintf("%d conn", one.conns), fmt.Sprintf("%d conns", many.conns))
	what := "database file"
	if o.store == storePostgres {
		what = "database (pg_database_size)"
	}
	row(what, fmt.Sprintf("%.2f MB", mb(one.size)), fmt.Sprintf("%.2f MB", mb(many.size)))
	row("store open (then closed)", round(one.storeOpen).String(), round(many.storeOpen).String())
	row("app.Start (open DB + start)", round(one.st.appStart).String(), round(many.st.appStart).String())
	if o.mode == modeChild {
		row("exec → ready (child process)", round(one.st.total).String(), round(many.st.total).String())
	}
	rssWho := "RSS after start"
	if o.mode == modeInProcess {
		rssWho = "RSS after start (whole process)"
	}
	row(rssWho, fmt.Sprintf("%.1f MB", mb(one.rss)), fmt.Sprintf("%.1f MB", mb(many.rss)))
	row("RSS after the load runs", fmt.Sprintf("%.1f MB", mb(one.rssAfter)), fmt.Sprintf("%.1f MB", mb(many.rssAfter)))
	for _, r := range []*run{seq, par} {
		for _, p := range []float64{50, 90, 99} {
			row(fmt.Sprintf("callback p%.0f, %d client(s)", p, r.c), round(pct(r.groupLat[0], p)).String(), round(pct(r.groupLat[1], p)).String())
		}
	}
	row(fmt.Sprintf("req/s, %d clients (shared)", par.c), fmt.Sprintf("%.0f", float64(len(par.groupLat[0]))/par.elapsed.Seconds()),
		fmt.Sprintf("%.0f", float64(len(par.groupLat[1]))/par.elapsed.Seconds()))
	perConn := float64(many.size) / float64(many.conns)
	if o.store == storePostgres {
		// An empty PostgreSQL database weighs megabytes: count what the
		// connections added.
		perConn = float64(many.size-one.size) / float64(max(many.conns-one.conns, 1))
		fmt.Printf("  database bytes per connection: %.0f ((pg_database_size of the big database − the small one) / connections added)\n", perConn)
	} else {
		fmt.Printf("  database bytes per connection: %.0f (file size / connections)\n", perConn)
	}

	if o.kaPass {
		if err := timePasses(many.db); err != nil {
			return err
		}
	}

	p50a, p50b := pct(seq.groupLat[0], 50), pct(seq.groupLat[1], 50)
	delta := float64(p50b-p50a) / float64(p50a)
	fmt.Println("\ntargets:")
	openStart := many.st.appStart
	if o.mode == modeChild {
		openStart = many.st.total
	}
	check(fmt.Sprintf("%d connections: open+start < 1 s", many.conns), openStart < time.Second, round(openStart).String())
	rssNote := ""
	if o.mode == modeInProcess {
		rssNote = " (whole process: use -mode=child for the server alone)"
	}
	// The goal grows with the connections: 150 MB up to 100,000, 300 MB
	// at a million.
	rssGoal := int64(150e6)
	if many.conns > 100_000 {
		rssGoal = 300e6
	}
	check(fmt.Sprintf("%d connections: RSS < %.0f MB", many.conns, mb(rssGoal)), many.rss < rssGoal && many.rssAfter < rssGoal,
		fmt.Sprintf("%.1f MB after start, %.1f MB after load%s", mb(many.rss), mb(many.rssAfter), rssNote))
	check(fmt.Sprintf("%d connections: < 2 KB database per connection", many.conns), perConn < 2048, fmt.Sprintf("%.0f B", perConn))
	check("callback latency within 10% of the 1-connection figure (p50, 1 client)", delta <= 0.10,
		fmt.Sprintf("%s vs %s (%+.1f%%)", round(p50b), round(p50a), 100*delta))
	p99a, p99b := pct(par.groupLat[0], 99), pct(par.groupLat[1], 99)
	check(fmt.Sprintf("callback latency within 10%% of the 1-connection figure (p99, %d clients)", par.c), float64(p99b) <= 1.1*float64(p99a),
		fmt.Sprintf("%s vs %s (%+.1f%%)", round(p99b), round(p99a), 100*float64(p99b-p99a)/float64(p99a)))
	bad := seq.wrong + par.wrong + seq.transport + par.transport
	check("zero wrong answers", bad == 0, fmt.Sprintf("%d wrong or unanswered", bad))
	if bad > 0 {
		return fmt.Errorf("%d wrong answers or transport errors", bad)
	}
	return nil
}

// start times a store open, then starts the server on the database.
func (db *scaleDB) start(o options, work string) error {
	t0 := time.Now()
	st, err := db.db.open(nil)
	if err != nil {
		return err
	}
	db.storeOpen = time.Since(t0)
	counts, err := st.CountConnections(context.Background())
	db.conns = counts[onbehalf.StateConnected] + counts[onbehalf.StateDisconnected]
	st.Close()
	if err != nil {
		return err
	}
	if n, err := db.db.size(); err == nil {
		db.size = n
	}
	srv, su, err := startServer(o, work, db.name, db.env)
	if err != nil {
		return err
	}
	db.srv, db.st = srv, su
	db.rss, _ = srv.RSS()
	fmt.Printf("%d connection(s), database %.2f MB: store open %s; app.Start %s (ready after %s); RSS %.1f MB\n",
		db.conns, mb(db.size), round(db.storeOpen), round(su.appStart), round(su.total), mb(db.rss))
	return nil
}
