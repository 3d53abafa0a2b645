package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokens"
)

// kaQuiet is how long the bench watches after the last cycle that no
// connection is refreshed again.
const kaQuiet = 20 * time.Second

// runKeepAlive is the keep-alive cycle: -keepalive connections, imported
// with grants issued at the fake and stored access token expiries spread
// so that they fall due for the keep-alive evenly over -keepalive-spread
// (plus the scheduler's jitter), on -instances servers whose keep-alive
// schedulers share the work through the store. The fake's access token
// lifetime is set so that a refreshed connection falls due again only
// after every other one was refreshed (and no sooner than the token
// manager's KeepAliveMinInterval), so that cycles never overlap. Every
// connection must be refreshed exactly once per cycle: the fake counts
// refresh calls and reused refresh tokens, and the refresh token each
// connection holds at the end must be cycles rotations away from the one
// imported. It reports how late each refresh was against its due time,
// the refreshes each instance made, and the CPU time per refresh.
func runKeepAlive(o options, work string) error {
	if o.kaCycles > 1 && o.store != storePostgres {
		return errors.New("-keepalive-cycles > 1 needs -store=postgres: the bench reads the store between cycles, and bbolt is locked by the server")
	}
	f := newFakes()
	defer f.Close()
	n, margin := o.keepalive, o.kaMargin
	// The servers' KEEPALIVE_IDLE that makes connections fall due margin
	// before their stored expiry (the schedule of a connection nobody
	// uses is derived from its expiry: keepalive.Scheduler.Lead).
	idle := keepalive.AccessTokenLifetime - margin
	sched := &keepalive.Scheduler{Idle: idle}
	jitter := sched.EffectiveJitter()
	period := max(tokens.KeepAliveMinInterval+time.Minute, o.kaSpread+jitter+time.Minute)
	f.zoom.AccessTTL = margin + period

	db, err := newDatabase(o, filepath.Join(work, "data"), "keepalive")
	if err != nil {
		return err
	}
	defer db.dropUnless(o.keep)
	fmt.Printf("database: %s\n", db.describe())
	fmt.Printf("keep-alive: margin %s (jitter %s), rate %d/s and concurrency %d per instance; the fake's tokens live %s, so a connection falls due again %s–%s after its refresh\n",
		margin, jitter, o.kaRate, o.kaConcurrency, f.zoom.AccessTTL, period, period+jitter)

	lead := 20*time.Second + time.Duration(n)*400*time.Microsecond
	first := time.Now().Add(lead)
	expiry := func(i int) time.Time { return first.Add(margin + time.Duration(i)*o.kaSpread/time.Duration(n)) }
	// Imported as if connected and last refreshed long ago: the token
	// manager skips connections refreshed within KeepAliveMinInterval.
	past := func() time.Time { return time.Now().Add(-2 * tokens.KeepAliveMinInterval) }
	conns, err := importConns(db, f, "zu_ka_", n, expiry, past)
	if err != nil {
		return err
	}
	due := make([]time.Time, n)
	for i, c := range conns {
		due[i] = sched.DueAt(onbehalf.Due{ConnID: c.id, Expiry: c.expiry})
	}

	env := f.serverEnv(o, db)
	env["KEEPALIVE"] = "true"
	env["KEEPALIVE_IDLE"] = idle.String()
	env["KEEPALIVE_RATE"] = strconv.Itoa(o.kaRate)
	env["KEEPALIVE_CONCURRENCY"] = strconv.Itoa(o.kaConcurrency)
	env["METRICS"] = "true"
	srv, err := startServers(o, work, env, o.instances)
	if err != nil {
		return err
	}
	defer srv.Stop()
	if late := time.Since(first); late > 0 {
		fmt.Printf("note: the servers were ready %s after the first connection fell due (import and start took longer than planned)\n", round(late))
	}
	pg := newPGMeter(db)

	var cycles []*kaCycle
	for c := 1; c <= o.kaCycles; c++ {
		if c > 1 {
			// Due times of the next cycle: from the expiries the last
			// cycle stored.
			all, err := listAll(db)
			if err != nil {
				return err
			}
			for i, bc := range conns {
				due[i] = sched.DueAt(onbehalf.Due{ConnID: bc.id, Expiry: all[bc.id].Token.Expiry})
			}
		}
		cy, err := watchCycle(c, n, due, f, srv, pg)
		if err != nil {
			return err
		}
		cycles = append(cycles, cy)
		if o.store == storePostgres {
			all, err := listAll(db)
			if err != nil {
				return err
			}
			cy.lags(conns, all)
		}
	}
	want := o.kaCycles * n
	quietFrom := f.zoom.RefreshCalls()
	time.Sleep(kaQuiet)
	extra := f.zoom.RefreshCalls() - quietFrom
	perInstance := make([]map[string]float64, len(srv))
	for k, s := range srv {
		perInstance[k], _ = scrapeMetrics(s.BaseURL())
	}
	if err := srv.Stop(); err != nil {
		return fmt.Errorf("stopping the servers: %w", err)
	}
	all, err := listAll(db)
	if err != nil {
		return err
	}
	last := cycles[len(cycles)-1]
	if o.store == storeBolt {
		last.lags(conns, all)
	}
	v := verifyRotations(f, conns, all, o.kaCycles)

	fmt.Println()
	for _, cy := range cycles {
		cy.print(n)
	}
	fmt.Printf("after the last cycle: %d more refreshes in %s\n", extra, kaQuiet)
	for k, m := range perInstance {
		fmt.Printf("instance %d: refreshes ok %.0f, stale %.0f, failed %.0f, disconnected %.0f (onbehalf_refreshes_total)\n",
			k+1, m[`onbehalf_refreshes_total{result="ok"}`], m[`onbehalf_refreshes_total{result="stale"}`],
			m[`onbehalf_refreshes_total{result="failed"}`], m[`onbehalf_refreshes_total{result="disconnected"}`])
	}
	total := f.zoom.RefreshCalls()
	fmt.Printf("fake Zoom: %d refresh calls for %d connections × %d cycle(s); %d reused refresh tokens\n", total, n, o.kaCycles, f.zoom.ReusedRefreshTokens())
	fmt.Printf("store: %d connections rotated exactly %d time(s), %d otherwise, %d not holding the fake's current refresh token, %d not connected\n",
		v.exact, o.kaCycles, v.otherCount, v.notCurrent, v.notConnected)

	fmt.Println("\ntargets:")
	ok := total == want && f.zoom.ReusedRefreshTokens() == 0 && v.exact == n && extra == 0
	check(fmt.Sprintf("every connection refreshed once per cycle, none twice (%d connections, %d instance(s), %d cycle(s))", n, len(srv), o.kaCycles), ok,
		fmt.Sprintf("%d refresh calls (want %d), %d reused, %d rotated exactly %d time(s), %d extra after", total, want, f.zoom.ReusedRefreshTokens(), v.exact, o.kaCycles, extra))
	check("every connection still connected and holding the fake's current pair", v.notConnected == 0 && v.notCurrent == 0,
		fmt.Sprintf("%d not connected, %d not current", v.notConnected, v.notCurrent))
	if !ok || v.notConnected+v.notCurrent > 0 {
		return errors.New("the keep-alive did not refresh every connection exactly once per cycle")
	}
	return nil
}

// rotations is what verifyRotations found.
type rotations struct {
	exact, otherCount, notCurrent, notConnected int
}

// verifyRotations checks that every connection holds the fake's current
// refresh token and that it is exactly want rotations away from the one
// imported.
func verifyRotations(f *fakes, conns []benchConn, all map[string]*onbehalf.Connection, want int) rotations {
	var v rotations
	for _, bc := range conns {
		c := all[bc.id]
		if c == nil || c.State != onbehalf.StateConnected {
			v.notConnected++
			continue
		}
		cur := f.zoom.CurrentRefreshToken(bc.userID)
		if c.Token.RefreshToken != cur {
			v.notCurrent++
		}
		steps, tok := 0, cur
		for tok != bc.refresh && steps <= want+1 {
			prev, ok := f.zoom.PreviousRefreshToken(tok)
			if !ok {
				steps = -1
				break
			}
			tok, steps = prev, steps+1
		}
		if steps == want {
			v.exact++
		} else {
			v.otherCount++
		}
	}
	return v
}

// sortedTimes returns a sorted copy.
func sortedTimes(ts []time.Time) []time.Time {
	s := append([]time.Time(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i].Before(s[j]) })
	return s
}
