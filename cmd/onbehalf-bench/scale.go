package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/zoomtest"
	bbolt "go.etcd.io/bbolt"
)

// scaleDB is one database of the scale run and the server started on it.
type scaleDB struct {
	env       map[string]string
	path      string
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
	one := &scaleDB{env: f.serverEnv(o, filepath.Join(work, "one"))}
	one.env["DB_PATH"] = filepath.Join(work, "one", "onbehalf.db")
	one.path = one.env["DB_PATH"]

	// First start: create the database and connect one real user through
	// the browser flow; keep its token URL (path and query).
	srv, _, err := startServer(o, work, one.env)
	if err != nil {
		return err
	}
	uid := benchUserID(0)
	f.zoom.AddUser(zoomtest.User{ID: uid, Email: uid + "@example.com", DisplayName: "Bench User 0"})
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
	many := &scaleDB{env: f.serverEnv(o, filepath.Join(work, "many"))}
	many.env["DB_PATH"] = filepath.Join(work, "many", "onbehalf.db")
	many.path = many.env["DB_PATH"]
	if err := copyDir(filepath.Dir(one.path), filepath.Dir(many.path)); err != nil {
		return err
	}
	if err := fill(many.path, o.scale-1, o.tokenLen, o.fill); err != nil {
		return err
	}
	if err := printDBStats(many.path); err != nil {
		return err
	}

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
	seq, err := measure(o, both, f, v, name+", 1 client", targets, shapeOnbehalf, 1, o.d, false)
	if err != nil {
		return err
	}
	seq.print(0)
	par, err := measure(o, both, f, v, name, targets, shapeOnbehalf, o.c, o.d, false)
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
	row("database file", fmt.Sprintf("%.2f MB", mb(one.size)), fmt.Sprintf("%.2f MB", mb(many.size)))
	row("store.Open (then closed)", round(one.storeOpen).String(), round(many.storeOpen).String())
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
	fmt.Printf("  database bytes per connection: %.0f (file size / connections)\n", perConn)

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
	check(fmt.Sprintf("%d connections: RSS < 150 MB", many.conns), many.rss < 150e6 && many.rssAfter < 150e6,
		fmt.Sprintf("%.1f MB after start, %.1f MB after load%s", mb(many.rss), mb(many.rssAfter), rssNote))
	check(fmt.Sprintf("%d connections: < 2 KB database per connection", many.conns), perConn < 2048, fmt.Sprintf("%.0f B", perConn))
	check("callback latency within 10% of the 1-connection figure (p50, 1 client)", delta <= 0.10,
		fmt.Sprintf("%s vs %s (%+.1f%%)", round(p50b), round(p50a), 100*delta))
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
	st, err := bolt.Open(db.path, bolt.Options{ReserveBytes: bolt.NoReserve})
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
	if fi, err := os.Stat(db.path); err == nil {
		db.size = fi.Size()
	}
	srv, su, err := startServer(o, work, db.env)
	if err != nil {
		return err
	}
	db.srv, db.st = srv, su
	db.rss, _ = srv.RSS()
	fmt.Printf("%d connection(s), database %.2f MB: store.Open %s; app.Start %s (ready after %s); RSS %.1f MB\n",
		db.conns, mb(db.size), round(db.storeOpen), round(su.appStart), round(su.total), mb(db.rss))
	return nil
}

// serverSet is several servers seen as one by measure: their CPU times
// add up; profiles are not taken.
type serverSet []server

func (ss serverSet) BaseURL() string { return "" }
func (ss serverSet) CPU() (user, sys time.Duration, ok bool) {
	for _, s := range ss {
		u, sy, ok := s.CPU()
		if !ok {
			return 0, 0, false
		}
		user, sys = user+u, sys+sy
	}
	return user, sys, true
}
func (ss serverSet) RSS() (int64, error)       { return 0, nil }
func (ss serverSet) StartProfile(string) error { return nil }
func (ss serverSet) StopProfile() error        { return nil }
func (ss serverSet) Stop() error               { return nil }

// fill adds n filler connections to the database at dbPath with
// store.ImportConnections, 10,000 per transaction, or (how = "upsert") one
// store.Connect each, as OAuth callbacks write them. The records
// are the same; their access tokens expire in 55 minutes, so no refresh
// falls due while the bench runs.
func fill(dbPath string, n, tokenLen int, how string) error {
	if n <= 0 {
		return nil
	}
	st, err := bolt.Open(dbPath, bolt.Options{ReserveBytes: bolt.NoReserve})
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	t0 := time.Now()
	batchSize := 10_000
	if how == fillUpsert {
		batchSize = 1
		fmt.Printf("\nwriting %d filler connections with store.Connect (one transaction each)…\n", n)
	} else {
		fmt.Printf("\nwriting %d filler connections with store.ImportConnections (10,000 per transaction)…\n", n)
	}
	batch := make([]onbehalf.Authorization, 0, batchSize)
	exp := time.Now().Add(55 * time.Minute).UTC()
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("zu_fill_%07d", i)
		batch = append(batch, onbehalf.Authorization{
			User: onbehalf.ZoomUser{ID: id, AccountID: "acct_fill_0001", Email: id + "@example.com",
				FirstName: "Filler", LastName: fmt.Sprint(i), DisplayName: "Filler User " + fmt.Sprint(i), Status: "active"},
			Token: onbehalf.Token{AccessToken: "zat_" + randToken(tokenLen), RefreshToken: "zrt_" + randToken(tokenLen),
				Expiry: exp, Scope: zoomtest.Scope},
		})
		if len(batch) == batchSize || i == n-1 {
			var err error
			if how == fillUpsert {
				_, _, err = st.Connect(ctx, batch[0])
			} else {
				_, err = st.ImportConnections(ctx, batch)
			}
			if err != nil {
				return fmt.Errorf("filling (%d written): %w", i+1-len(batch), err)
			}
			batch = batch[:0]
			if (i+1)%max(n/10, 1) == 0 || i == n-1 {
				el := time.Since(t0)
				fmt.Printf("  %d written, %s, %.0f/s\n", i+1, round(el), float64(i+1)/el.Seconds())
			}
		}
	}
	return nil
}

// printDBStats prints what the bbolt file holds: per bucket, the keys and
// the bytes allocated to and used by its pages, and the free pages.
func printDBStats(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	var conns int
	fmt.Printf("  %-16s %9s %13s %13s\n", "bucket", "keys", "allocated", "in use")
	var alloc, inuse int
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			st := b.Stats()
			a, u := st.BranchAlloc+st.LeafAlloc, st.BranchInuse+st.LeafInuse
			alloc, inuse = alloc+a, inuse+u
			if string(name) == "connections" {
				conns = st.KeyN
			}
			fmt.Printf("  %-16s %9d %10.2f MB %10.2f MB\n", name, st.KeyN, mb(int64(a)), mb(int64(u)))
			return nil
		})
	})
	if err != nil {
		return err
	}
	fs := db.Stats()
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	free := int64(fs.FreePageN) * int64(db.Info().PageSize)
	fmt.Printf("  file %.2f MB: pages of buckets %.2f MB (%.2f MB in use), free pages %.2f MB, rest (meta, freelist, growth slack) %.2f MB\n",
		mb(fi.Size()), mb(int64(alloc)), mb(int64(inuse)), mb(free), mb(fi.Size()-int64(alloc)-free))
	if conns > 0 {
		fmt.Printf("  per connection: %.0f B of file, %.0f B of bucket pages, %.0f B in use\n",
			float64(fi.Size())/float64(conns), float64(alloc)/float64(conns), float64(inuse)/float64(conns))
	}
	return nil
}

// randToken returns a random token body: n characters of base64url, or
// 26 characters (as long as the fake Zoom's) when n is 0.
func randToken(n int) string {
	if n == 0 {
		return rand.Text()
	}
	b := make([]byte, (n*3+3)/4)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// copyDir copies the regular files of one folder into a new one (the
// database, its key file).
func copyDir(from, to string) error {
	if err := os.MkdirAll(to, 0o700); err != nil {
		return err
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), ".lock") {
			continue
		}
		if err := copyFile(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
