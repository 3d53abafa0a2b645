package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// Classes of burst connections: what a callback needs from Zoom.
const (
	// classPlain: the access token is good; one mint.
	classPlain = iota
	// classExpired: the stored access token has expired; onbehalf
	// refreshes, then mints.
	classExpired
	// classInvalid: the fake invalidated the access token (as after a
	// password change) while onbehalf still thinks it good; the mint
	// fails with 401, onbehalf refreshes and mints again.
	classInvalid
	numClasses
)

var classNames = [numClasses]string{"plain (1 mint)", "expired in the store (refresh + mint)", "invalidated at the fake (mint 401 + refresh + mint)"}

// burstClasses spreads the connections needing a refresh (share of n)
// evenly, alternating expired and invalidated ones.
func burstClasses(n int, share float64) []int {
	cl := make([]int, n)
	k := 0
	for i := range n {
		if int(float64(i+1)*share+1e-9) > int(float64(i)*share+1e-9) {
			cl[i] = classExpired + k%2
			k++
		}
	}
	return cl
}

// runBurst is the top-of-the-hour burst: -burst-conns connections, one
// callback each, sent evenly over -burst-window on new TCP connections;
// -burst-refresh of them need a refresh; the fake Zoom answers every mint
// and refresh after -zoom-delay. Every answer must be exactly the token the
// fake minted for that connection and meeting. What onbehalf adds on top
// of Zoom is each callback's latency minus the time the fake spent on that
// connection's calls, measured inside the fake (zoomMeter). The same burst
// is then sent straight to the fake's token endpoint, as the floor of this
// machine: what one HTTP hop under that load costs.
func runBurst(o options, work string) error {
	f := newFakes()
	defer f.Close()
	meter := newZoomMeter(f)
	defer meter.Close()
	db, err := newDatabase(o, filepath.Join(work, "data"), "burst")
	if err != nil {
		return err
	}
	defer db.dropUnless(o.keep)
	fmt.Printf("database: %s\n", db.describe())

	n, nWarm := o.burstConns, max(1, o.burstConns/10)
	classes := burstClasses(n, o.burstRefresh)
	now := time.Now()
	conns, err := importConns(db, f, "zu_burst_", n+nWarm, func(i int) time.Time {
		if i < n && classes[i] == classExpired {
			return now.Add(-time.Minute)
		}
		return now.Add(55 * time.Minute)
	}, nil)
	if err != nil {
		return err
	}

	env := f.serverEnv(o, db)
	env["ZOOM_OAUTH_URL"], env["ZOOM_API_URL"] = meter.URL(), meter.APIURL()
	apiKey := benchAPIKey()
	env["API_KEYS"] = apiKey
	env["RATE_LIMIT_PER_API_KEY"] = "0"
	env["KEEPALIVE"] = "false" // the burst is about callbacks; nothing refreshes behind them
	srv, err := startServers(o, work, env, o.instances)
	if err != nil {
		return err
	}
	defer srv.Stop()
	urls, err := apiTokenURLs(srv.BaseURL(), apiKey, conns, benchMeetingID)
	if err != nil {
		return err
	}
	for i, c := range classes {
		if c == classInvalid {
			f.zoom.InvalidateAccess(conns[i].userID)
		}
	}
	f.zoom.SetMintDelay(o.zoomDelay)
	f.zoom.SetRefreshDelay(o.zoomDelay)
	fmt.Printf("the fake Zoom answers every mint and refresh after %s; %d connections, %s\n", o.zoomDelay, n, classCounts(classes))

	// Warm-up: the rate of the burst for a tenth of its window, on the
	// spare connections, so that the server has run and holds connections
	// to Zoom, as it has at any top of the hour.
	warm := make([]burstReq, nWarm)
	for i := range warm {
		warm[i] = burstReq{url: onInstance(urls[n+i], srv, i), conn: n + i}
	}
	client := burstClient(o.burstReuse)
	defer client.CloseIdleConnections()
	wres, _ := sendBurst(client, warm, max(o.burstWindow/10, time.Millisecond))
	for _, r := range wres {
		if r.err != nil || r.status != 200 {
			return fmt.Errorf("warm-up: a callback got %d %q (%v)", r.status, r.body, r.err)
		}
	}
	fmt.Printf("warm-up: %d callbacks over %s, all 200\n", nWarm, max(o.burstWindow/10, time.Millisecond))
	time.Sleep(500 * time.Millisecond)

	reqs := make([]burstReq, n)
	access, refresh := make([]string, n), make([]string, n)
	for i := range n {
		reqs[i] = burstReq{url: onInstance(urls[i], srv, i), conn: i}
		access[i], refresh[i] = conns[i].access, conns[i].refresh
	}
	refresh0, reused0 := f.zoom.RefreshCalls(), f.zoom.ReusedRefreshTokens()
	b, err := meterBurst(o, client, srv, newPGMeter(db), meter, reqs, o.cpuprofile != "")
	if err != nil {
		return err
	}
	led := newLedger(b.calls, access, refresh)
	ob := checkBurst(b, led, classes, benchMeetingID, false)
	refreshes, reused := f.zoom.RefreshCalls()-refresh0, f.zoom.ReusedRefreshTokens()-reused0
	if err := srv.Stop(); err != nil {
		return fmt.Errorf("stopping the servers: %w", err)
	}

	// The same burst straight to the fake: one mint per request, users of
	// their own.
	direct := make([]burstReq, n)
	dAccess := make([]string, n)
	for i := range n {
		id := fmt.Sprintf("zu_direct_burst_%07d", i)
		f.zoom.AddUser(zoomdemo.User{ID: id, Email: id + "@example.com"})
		dAccess[i], _ = f.zoom.IssueGrant(id)
		direct[i] = burstReq{url: meter.APIURL() + "/users/me/token?type=onbehalf&meeting_id=" + benchMeetingID(i), bearer: dAccess[i], conn: i}
	}
	dclient := burstClient(o.burstReuse)
	defer dclient.CloseIdleConnections()
	if o.burstReuse {
		// The same warm-up, so that the pool holds connections to the fake.
		if _, err := meterBurst(o, dclient, nil, nil, meter, direct[:nWarm], false); err != nil {
			return err
		}
	}
	db2, err := meterBurst(o, dclient, nil, nil, meter, direct, false)
	if err != nil {
		return err
	}
	dr := checkBurst(db2, newLedger(db2.calls, dAccess, make([]string, n)), make([]int, n), benchMeetingID, true)

	fmt.Println()
	ob.print(fmt.Sprintf("onbehalf (%d instance(s), %s): %d callbacks", len(srv), o.store, n), true)
	if b.cpuOK {
		fmt.Printf("  server CPU: %.1f µs per callback (%.2f s in all, %d instance(s))", us(b.cpuServer, n), b.cpuServer.Seconds(), len(srv))
		if b.pgOK {
			fmt.Printf("; PostgreSQL backends: %.1f µs per callback", us(b.cpuPG, n))
		}
		fmt.Println()
	}
	fmt.Printf("  fake Zoom: %d refresh calls (connections needing one: %d), %d reused refresh tokens\n",
		refreshes, countNot(classes, classPlain), reused)
	fmt.Println()
	dr.print(fmt.Sprintf("direct to the fake Zoom: %d mints", n), false)

	fmt.Println("\ntargets:")
	bad := ob.wrong + ob.transport + ob.badCalls + dr.wrong + dr.transport
	check("every answer right (200 with exactly the token the fake minted for that connection and meeting)", ob.wrong+ob.transport == 0,
		fmt.Sprintf("%d right, %d wrong, %d unanswered", ob.right, ob.wrong, ob.transport))
	check("Zoom calls as expected (one refresh per connection needing one, none reused)", ob.badCalls == 0 && reused == 0 && refreshes == countNot(classes, classPlain),
		fmt.Sprintf("%d connections with other calls, %d refreshes, %d reused", ob.badCalls, refreshes, reused))
	p99 := pct(ob.added.sorted(), 99)
	check("p99 latency onbehalf adds on top of Zoom's < 5 ms", p99 < 5*time.Millisecond,
		fmt.Sprintf("%s (direct to the fake, the floor of this machine: %s)", round(p99), round(pct(dr.added.sorted(), 99))))
	if bad > 0 || reused > 0 {
		return fmt.Errorf("%d wrong answers, unanswered requests or unexpected Zoom calls", bad)
	}
	return nil
}

// onInstance sends the i-th request to instance i mod N (the token URLs
// name the first instance).
func onInstance(u string, srv serverSet, i int) string {
	k := i % len(srv)
	return srv[k].BaseURL() + strings.TrimPrefix(u, srv[0].BaseURL())
}

// classCounts says how many connections each class has.
func classCounts(classes []int) string {
	var c [numClasses]int
	for _, k := range classes {
		c[k]++
	}
	parts := make([]string, 0, numClasses)
	for k, v := range c {
		parts = append(parts, fmt.Sprintf("%d %s", v, classNames[k]))
	}
	return strings.Join(parts, ", ")
}

// countNot counts the entries that are not v.
func countNot(classes []int, v int) int {
	n := 0
	for _, c := range classes {
		if c != v {
			n++
		}
	}
	return n
}
