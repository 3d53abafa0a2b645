package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// measure runs a warm-up and then a measured run of the same load, both
// verified, and records CPU time and mint calls of the measured run.
func measure(o options, srv server, pg *pgMeter, f *fakes, v *verifier, name string, targets []target, shape, c int, d time.Duration, profile bool) (*run, error) {
	if o.warmup > 0 {
		w, err := load(name+" (warm-up)", targets, shape, c, o.warmup, o.maxRequests)
		if err != nil {
			return nil, err
		}
		v.verify(w)
		fixUpstream(w, o.failEvery)
		if w.wrong > 0 || w.transport > 0 {
			w.print(o.failEvery)
			return nil, fmt.Errorf("%s: %d wrong answers and %d transport errors during the warm-up", name, w.wrong, w.transport)
		}
	}
	if profile {
		if err := srv.StartProfile(o.cpuprofile); err != nil {
			return nil, fmt.Errorf("starting the CPU profile: %w", err)
		}
	}
	mints0 := f.zoom.MintCalls()
	mach0 := machineCPU()
	self0 := selfCPU()
	srvUser0, srvSys0, srvOK0 := srv.CPU()
	pg0, _ := pg.sample()
	r, err := load(name, targets, shape, c, d, o.maxRequests)
	if err != nil {
		return nil, err
	}
	srvUser1, srvSys1, srvOK1 := srv.CPU()
	if shape == shapeOnbehalf {
		r.cpuPG, r.pgOK = pg.since(pg0)
	}
	r.cpuSelf = selfCPU() - self0
	r.cpuServer, r.cpuServerSys = srvUser1-srvUser0+srvSys1-srvSys0, srvSys1-srvSys0
	r.serverCPUOK = srvOK0 && srvOK1 && shape == shapeOnbehalf
	r.mints = f.zoom.MintCalls() - mints0
	r.cpuOthers = machineCPU() - mach0 - r.cpuSelf
	if srvOK0 && srvOK1 {
		r.cpuOthers -= r.cpuServer
	}
	if r.pgOK {
		r.cpuOthers -= r.cpuPG
	}
	if profile {
		if err := srv.StopProfile(); err != nil {
			return nil, fmt.Errorf("writing the CPU profile: %w", err)
		}
		fmt.Printf("CPU profile of the server during %q: %s\n", name, o.cpuprofile)
	}
	v.verify(r)
	fixUpstream(r, o.failEvery)
	return r, nil
}

// fixUpstream counts failure answers as wrong when no failure was injected.
func fixUpstream(r *run, failEvery int) {
	if failEvery == 0 && r.upstream > 0 {
		r.wrong += r.upstream
		r.wrongStatus[0] += r.upstream // 0: an upstream failure nobody injected
		r.upstream = 0
	}
}

// runLoadBench is the default benchmark: onbehalf's token URLs against the
// fake's token endpoint, same clients, same users count. With -instances N
// the token URLs are spread over the N servers: every client sends its
// requests to them in turn.
func runLoadBench(o options, work string) error {
	f := newFakes()
	defer f.Close()
	db, err := newDatabase(o, filepath.Join(work, "data"), "load")
	if err != nil {
		return err
	}
	defer db.dropUnless(o.keep)
	fmt.Printf("database: %s\n", db.describe())
	srv, err := startServers(o, work, f.serverEnv(o, db), o.instances)
	if err != nil {
		return err
	}
	defer srv.Stop()
	pg := newPGMeter(db)

	t0 := time.Now()
	urls, err := connectUsers(srv.BaseURL(), f, o.users)
	if err != nil {
		return err
	}
	fmt.Printf("connected %d users through GET /zoom/oauth → fake Zoom → /zoom/oauth-callback → POST /launch → fake Recall (%s)\n",
		len(urls), round(time.Since(t0)))
	onbehalf := spreadTargets(urls, srv)
	// Direct targets: separate fake users, so that the grants onbehalf
	// holds stay untouched.
	direct := make([]target, o.users)
	for i := range direct {
		id := fmt.Sprintf("zu_direct_%05d", i)
		f.zoom.AddUser(zoomdemo.User{ID: id, Email: id + "@example.com"})
		at, _ := f.zoom.IssueGrant(id)
		direct[i] = target{url: f.zoom.APIURL() + "/users/me/token?type=onbehalf&meeting_id=" + benchMeetingID(i), bearer: at}
	}
	if o.failEvery > 0 {
		f.zoom.FailMintEvery(o.failEvery)
		fmt.Printf("the fake fails every %d-th mint (acceptable answers: 200 with an exact minted token, or 502)\n", o.failEvery)
	}
	rss0, _ := srv.RSS()

	v := &verifier{minted: f.zoom.Minted, seen: map[string]struct{}{}}
	fmt.Println()
	ob, err := measure(o, srv, pg, f, v, "onbehalf (token URLs)", onbehalf, shapeOnbehalf, o.c, o.d, o.cpuprofile != "")
	if err != nil {
		return err
	}
	ob.print(o.failEvery)
	if len(srv) > 1 {
		for k := range srv {
			l := ob.groupLat[k]
			fmt.Printf("  instance %d: %d requests, p50 %s  p99 %s\n", k+1, len(l), round(pct(l, 50)), round(pct(l, 99)))
		}
	}
	rss1, _ := srv.RSS()
	dr, err := measure(o, srv, nil, f, v, "direct (fake Zoom token endpoint)", direct, shapeDirect, o.c, o.d, false)
	if err != nil {
		return err
	}
	dr.print(o.failEvery)

	if err := srv.Stop(); err != nil {
		return fmt.Errorf("stopping the server: %w", err)
	}

	fmt.Println()
	ratio := ob.rps() / dr.rps()
	fmt.Printf("ratio onbehalf/direct: %.2f (%.0f / %.0f req/s)\n", ratio, ob.rps(), dr.rps())
	who := "server RSS"
	if len(srv) > 1 {
		who = fmt.Sprintf("server RSS (sum of %d instances)", len(srv))
	}
	if o.mode == modeInProcess {
		who = "process RSS (server, fakes and load generator)"
	}
	fmt.Printf("%s: %.1f MB after start, %.1f MB after the onbehalf run\n", who, mb(rss0), mb(rss1))
	var cpuPer float64
	var cpuHow string
	if ob.serverCPUOK {
		cpuPer = us(ob.cpuServer, ob.n)
		cpuHow = fmt.Sprintf("measured: server process utime+stime / requests; %.1f µs of it in the kernel", us(ob.cpuServerSys, ob.n))
		if len(srv) > 1 {
			cpuHow = fmt.Sprintf("measured: utime+stime of the %d server processes / requests; %.1f µs of it in the kernel", len(srv), us(ob.cpuServerSys, ob.n))
		}
	} else {
		cpuPer = us(ob.cpuSelf, ob.n) - us(dr.cpuSelf, dr.n)
		cpuHow = "estimated in-process: process CPU per onbehalf request minus per direct request; use -mode=child for a measurement"
	}
	fmt.Printf("server CPU per callback: %.1f µs (%s)\n", cpuPer, cpuHow)
	if ob.pgOK {
		fmt.Printf("PostgreSQL CPU per callback: %.1f µs (backends of the bench database); server + PostgreSQL: %.1f µs\n",
			us(ob.cpuPG, ob.n), cpuPer+us(ob.cpuPG, ob.n))
	}

	fmt.Println("\ntargets:")
	check(fmt.Sprintf("throughput ≥ 0.5× direct at %d clients", o.c), ratio >= 0.5, fmt.Sprintf("%.2f×", ratio))
	check("server CPU ≤ 60 µs per callback", cpuPer <= 60, fmt.Sprintf("%.1f µs", cpuPer))
	check("p99 ≤ 10 ms", pct(ob.lat, 99) <= 10*time.Millisecond, round(pct(ob.lat, 99)).String())
	wrongWhat := "zero wrong answers"
	if o.failEvery > 0 {
		wrongWhat += fmt.Sprintf(" with -fail-every %d", o.failEvery)
	}
	check(wrongWhat, ob.wrong == 0 && dr.wrong == 0, fmt.Sprintf("%d wrong, %d transport errors", ob.wrong+dr.wrong, ob.transport+dr.transport))
	if ob.wrong+dr.wrong+ob.transport+dr.transport > 0 {
		return errors.New("wrong answers or transport errors")
	}
	return nil
}

// spreadTargets turns the token URLs (of the first instance) into targets
// that take turns over the instances: target i*N+k is URL i on instance k,
// in group k.
func spreadTargets(urls []string, srv serverSet) []target {
	out := make([]target, 0, len(urls)*len(srv))
	for _, u := range urls {
		for k, s := range srv {
			out = append(out, target{url: s.BaseURL() + strings.TrimPrefix(u, srv[0].BaseURL()), group: k})
		}
	}
	return out
}

// check prints one target line.
func check(what string, ok bool, got string) {
	mark := "met    "
	if !ok {
		mark = "NOT MET"
	}
	fmt.Printf("  [%s] %s: %s\n", mark, what, got)
}

// mb converts bytes to MB (10^6).
func mb(b int64) float64 { return float64(b) / 1e6 }

// us is d/n in microseconds.
func us(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Nanoseconds()) / 1e3 / float64(n)
}
