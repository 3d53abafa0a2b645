package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/onbehalf/onbehalf/internal/zoomtest"
)

// measure runs a warm-up and then a measured run of the same load, both
// verified, and records CPU time and mint calls of the measured run.
func measure(o options, srv server, f *fakes, v *verifier, name string, targets []target, shape, c int, d time.Duration, profile bool) (*run, error) {
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
	r, err := load(name, targets, shape, c, d, o.maxRequests)
	if err != nil {
		return nil, err
	}
	srvUser1, srvSys1, srvOK1 := srv.CPU()
	r.cpuSelf = selfCPU() - self0
	r.cpuServer, r.cpuServerSys = srvUser1-srvUser0+srvSys1-srvSys0, srvSys1-srvSys0
	r.serverCPUOK = srvOK0 && srvOK1 && shape == shapeOnbehalf
	r.mints = f.zoom.MintCalls() - mints0
	r.cpuOthers = machineCPU() - mach0 - r.cpuSelf
	if srvOK0 && srvOK1 {
		r.cpuOthers -= r.cpuServer
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
// fake's token endpoint, same clients, same users count.
func runLoadBench(o options, work string) error {
	f := newFakes()
	defer f.Close()
	srv, st, err := startServer(o, work, f.serverEnv(o, work))
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = srv.Stop()
		}
	}()
	fmt.Printf("server: %s (app.Start %s, ready after %s)\n", srv.BaseURL(), round(st.appStart), round(st.total))

	t0 := time.Now()
	urls, err := connectUsers(srv.BaseURL(), f, o.users)
	if err != nil {
		return err
	}
	fmt.Printf("connected %d users through GET /zoom/oauth → fake Zoom → /zoom/oauth-callback → POST /launch → fake Recall (%s)\n",
		len(urls), round(time.Since(t0)))
	onbehalf := make([]target, len(urls))
	for i, u := range urls {
		onbehalf[i] = target{url: u}
	}
	// Direct targets: separate fake users, so that the grants onbehalf
	// holds stay untouched.
	direct := make([]target, o.users)
	for i := range direct {
		id := fmt.Sprintf("zu_direct_%05d", i)
		f.zoom.AddUser(zoomtest.User{ID: id, Email: id + "@example.com"})
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
	ob, err := measure(o, srv, f, v, "onbehalf (token URLs)", onbehalf, shapeOnbehalf, o.c, o.d, o.cpuprofile != "")
	if err != nil {
		return err
	}
	ob.print(o.failEvery)
	rss1, _ := srv.RSS()
	dr, err := measure(o, srv, f, v, "direct (fake Zoom token endpoint)", direct, shapeDirect, o.c, o.d, false)
	if err != nil {
		return err
	}
	dr.print(o.failEvery)

	stopped = true
	if err := srv.Stop(); err != nil {
		return fmt.Errorf("stopping the server: %w", err)
	}

	fmt.Println()
	ratio := ob.rps() / dr.rps()
	fmt.Printf("ratio onbehalf/direct: %.2f (%.0f / %.0f req/s)\n", ratio, ob.rps(), dr.rps())
	who := "server RSS"
	if o.mode == modeInProcess {
		who = "process RSS (server, fakes and load generator)"
	}
	fmt.Printf("%s: %.1f MB after start, %.1f MB after the onbehalf run\n", who, mb(rss0), mb(rss1))
	var cpuPer float64
	var cpuHow string
	if ob.serverCPUOK {
		cpuPer = us(ob.cpuServer, ob.n)
		cpuHow = fmt.Sprintf("measured: server process utime+stime / requests; %.1f µs of it in the kernel", us(ob.cpuServerSys, ob.n))
	} else {
		cpuPer = us(ob.cpuSelf, ob.n) - us(dr.cpuSelf, dr.n)
		cpuHow = "estimated in-process: process CPU per onbehalf request minus per direct request; use -mode=child for a measurement"
	}
	fmt.Printf("server CPU per callback: %.1f µs (%s)\n", cpuPer, cpuHow)

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
