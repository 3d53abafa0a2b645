package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// burstRun is one burst as sent, with the fake's calls and the CPU time
// used meanwhile.
type burstRun struct {
	res   []burstResult
	sent  time.Duration // from the first request sent to the last
	took  time.Duration // from the first request sent to the last answer
	calls []zoomCall
	// cpuServer is the servers' CPU time (cpuOK: measured), cpuPG the
	// PostgreSQL backends' (pgOK), cpuOthers the rest of the machine's
	// beside this process.
	cpuServer, cpuPG, cpuOthers time.Duration
	cpuOK, pgOK                 bool
}

// meterBurst sends one burst while the fake's calls are recorded, and
// measures the CPU time the servers (srv, nil for none) and PostgreSQL
// used; profile takes a CPU profile of the (first) server.
func meterBurst(o options, client *http.Client, srv server, pg *pgMeter, meter *zoomMeter, reqs []burstReq, profile bool) (*burstRun, error) {
	if profile && srv != nil {
		if err := srv.StartProfile(o.cpuprofile); err != nil {
			return nil, fmt.Errorf("starting the CPU profile: %w", err)
		}
	}
	var u0, s0 time.Duration
	ok0 := false
	if srv != nil {
		u0, s0, ok0 = srv.CPU()
	}
	pg0, _ := pg.sample()
	mach0, self0 := machineCPU(), selfCPU()
	meter.record()
	t0 := time.Now()
	res, sent := sendBurst(client, reqs, o.burstWindow)
	b := &burstRun{res: res, sent: sent, took: time.Since(t0)}
	b.calls = meter.stop()
	self := selfCPU() - self0
	b.cpuOthers = machineCPU() - mach0 - self
	if srv != nil {
		u1, s1, ok1 := srv.CPU()
		b.cpuServer, b.cpuOK = u1-u0+s1-s0, ok0 && ok1
		if b.cpuOK {
			b.cpuOthers -= b.cpuServer
		}
	}
	if b.cpuPG, b.pgOK = pg.since(pg0); b.pgOK {
		b.cpuOthers -= b.cpuPG
	}
	if profile && srv != nil {
		if err := srv.StopProfile(); err != nil {
			return nil, fmt.Errorf("writing the CPU profile: %w", err)
		}
		fmt.Printf("CPU profile of the server during the burst: %s\n", o.cpuprofile)
	}
	return b, nil
}

// burstCheck is a burst checked against the fake's record.
type burstCheck struct {
	run *burstRun
	// right counts 200 answers whose body is exactly a token the fake
	// minted for that connection and meeting, answered once; wrong every
	// other answer; transport the requests that got none.
	right, wrong, transport int
	statuses                map[int]int
	example                 string
	// badCalls counts connections whose calls at the fake were not what
	// their class needs (a second refresh, a missing mint, …).
	badCalls int
	// lat is each request's latency, fake the time the fake spent on its
	// connection's calls, added the difference.
	lat, fake, added durations
	byClass          [numClasses]struct{ lat, added durations }
	late             durations
}

// wantCalls is what each class needs from the fake: mints, refreshes,
// failed mints.
var wantCalls = [numClasses][3]int{classPlain: {1, 0, 0}, classExpired: {1, 1, 0}, classInvalid: {1, 1, 1}}

// checkBurst checks every answer and computes the latencies. A 200 of
// onbehalf carries the bare token; one of the fake (direct) carries
// {"token":"…"}.
func checkBurst(b *burstRun, led *zoomLedger, classes []int, meeting func(int) string, direct bool) *burstCheck {
	c := &burstCheck{run: b, statuses: map[int]int{}}
	seen := make(map[string]bool, len(b.res))
	for i, r := range b.res {
		c.late = append(c.late, r.late)
		bad := func(what string) {
			c.wrong++
			if c.example == "" {
				c.example = what
			}
		}
		switch {
		case r.err != nil:
			c.transport++
			if c.example == "" {
				c.example = "transport error: " + r.err.Error()
			}
			continue
		case r.status != 200:
			c.statuses[r.status]++
			bad(fmt.Sprintf("HTTP %d %.120q", r.status, r.body))
		default:
			if direct {
				r.body = strings.TrimSuffix(strings.TrimPrefix(r.body, `{"token":"`), `"}`)
			}
			mf, minted := led.minted[r.body]
			switch {
			case !minted:
				bad(fmt.Sprintf("HTTP 200 with a token the fake never minted (%.12s…)", r.body))
			case mf.conn != i || mf.meeting != meeting(i):
				bad(fmt.Sprintf("HTTP 200 with the token minted for connection %d, meeting %s (asked: %d, %s)", mf.conn, mf.meeting, i, meeting(i)))
			case seen[r.body]:
				bad("HTTP 200 with a token answered twice")
			default:
				seen[r.body] = true
				c.right++
			}
		}
		k := classes[i]
		if w := wantCalls[k]; led.mints[i] != w[0] || led.refreshes[i] != w[1] || led.failedMints[i] != w[2] {
			c.badCalls++
		}
		added := r.lat - led.took[i]
		c.lat, c.fake, c.added = append(c.lat, r.lat), append(c.fake, led.took[i]), append(c.added, added)
		c.byClass[k].lat = append(c.byClass[k].lat, r.lat)
		c.byClass[k].added = append(c.byClass[k].added, added)
	}
	return c
}

// print writes the checked burst.
func (c *burstCheck) print(name string, classes bool) {
	b := c.run
	fmt.Printf("%s, sent over %s (planned send times missed by: %s), all answered after %s\n",
		name, round(b.sent), c.late.summary(), round(b.took))
	fmt.Printf("  answers: %d right, %d wrong", c.right, c.wrong)
	if len(c.statuses) > 0 {
		fmt.Printf(" (statuses %v)", c.statuses)
	}
	fmt.Printf(", %d unanswered\n", c.transport)
	if c.example != "" {
		fmt.Printf("  e.g. %s\n", c.example)
	}
	if c.badCalls > 0 {
		fmt.Printf("  %d connections whose calls at the fake were not what they needed\n", c.badCalls)
	}
	fmt.Printf("  latency:             %s\n", c.lat.summary())
	fmt.Printf("  inside the fake:     %s\n", c.fake.summary())
	fmt.Printf("  added on top (latency − time inside the fake, per request): %s\n", c.added.summary())
	if classes {
		for k := range numClasses {
			if len(c.byClass[k].lat) == 0 {
				continue
			}
			fmt.Printf("    %-52s %5d: latency %s; added %s\n", classNames[k], len(c.byClass[k].lat),
				c.byClass[k].lat.summary(), c.byClass[k].added.summary())
		}
	}
	fmt.Printf("  other processes used %.2f CPUs meanwhile (of %d)\n", max(0, b.cpuOthers.Seconds()/b.took.Seconds()), onlineCPUs())
}
