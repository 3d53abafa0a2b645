package main

import (
	"bufio"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// kaCycle is one keep-alive cycle as watched from outside.
type kaCycle struct {
	num int
	due []time.Time // by connection
	// firstDue and lastDue bound the due times; end is when the fake had
	// received the cycle's last refresh.
	firstDue, lastDue, end time.Time
	refreshes              int
	// maxBacklog is the most connections due but not yet refreshed seen
	// at one time (sampled every second); peak the most refreshes in one
	// second.
	maxBacklog, peak int
	// CPU time of the servers and PostgreSQL from the first due time to
	// the end.
	cpuServer, cpuPG time.Duration
	cpuOK, pgOK      bool
	// writes says what PostgreSQL wrote per refresh.
	writes []string
	// lag is how late each connection was refreshed after it fell due
	// (RefreshedAt − due), when read from the store.
	lag durations
}

// watchCycle waits for one cycle: until the fake has received n refresh
// calls more than when it started, or gives up a while after the last
// connection fell due.
func watchCycle(num, n int, due []time.Time, f *fakes, srv serverSet, pg *pgMeter) (*kaCycle, error) {
	s := sortedTimes(due)
	cy := &kaCycle{num: num, due: append([]time.Time(nil), due...), firstDue: s[0], lastDue: s[len(s)-1]}
	rc0 := f.zoom.RefreshCalls()
	if d := time.Until(cy.firstDue) - time.Second; d > 0 {
		fmt.Printf("cycle %d: %d connections fall due from %s to %s; waiting %s for the first\n",
			num, n, cy.firstDue.Format("15:04:05"), cy.lastDue.Format("15:04:05"), round(d+time.Second))
		time.Sleep(d)
	}
	u0, s0, ok0 := srv.CPU()
	pg0, _ := pg.sample()
	writes0, _ := pg.writes()
	giveUp := cy.lastDue.Add(max(5*time.Minute, cy.lastDue.Sub(cy.firstDue)))
	prev, lastPrint := 0, time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for now := range tick.C {
		done := f.zoom.RefreshCalls() - rc0
		dueNow := sort.Search(len(s), func(i int) bool { return s[i].After(now) })
		cy.maxBacklog = max(cy.maxBacklog, dueNow-done)
		cy.peak = max(cy.peak, done-prev)
		prev = done
		if now.Sub(lastPrint) >= 15*time.Second {
			fmt.Printf("  %s: %d of %d refreshed, %d due so far\n", now.Format("15:04:05"), done, n, dueNow)
			lastPrint = now
		}
		if done >= n {
			cy.end, cy.refreshes = now, done
			break
		}
		if now.After(giveUp) {
			return nil, fmt.Errorf("cycle %d: %d of %d connections refreshed %s after the last fell due; giving up", num, done, n, round(now.Sub(cy.lastDue)))
		}
	}
	u1, s1, ok1 := srv.CPU()
	cy.cpuServer, cy.cpuOK = u1-u0+s1-s0, ok0 && ok1
	cy.cpuPG, cy.pgOK = pg.since(pg0)
	if writes0 != nil {
		time.Sleep(1500 * time.Millisecond) // pg_stat_user_tables lags
		cy.writes = pg.writesSince(writes0, cy.refreshes, "refresh")
	}
	return cy, nil
}

// lags computes each connection's lag from the store's RefreshedAt.
func (cy *kaCycle) lags(conns []benchConn, all map[string]*onbehalf.Connection) {
	cy.lag = cy.lag[:0]
	for i, bc := range conns {
		if c := all[bc.id]; c != nil {
			cy.lag = append(cy.lag, c.RefreshedAt.Sub(cy.due[i]))
		}
	}
}

// print writes the cycle's figures.
func (cy *kaCycle) print(n int) {
	span := cy.end.Sub(cy.firstDue)
	fmt.Printf("cycle %d: %d connections fell due over %s; all refreshed %s after the first fell due (%s after the last), %.0f refreshes/s on average, at most %d in one second\n",
		cy.num, n, round(cy.lastDue.Sub(cy.firstDue)), round(span), round(cy.end.Sub(cy.lastDue)),
		float64(cy.refreshes)/span.Seconds(), cy.peak)
	fmt.Printf("  most connections due and not yet refreshed at one time: %d\n", cy.maxBacklog)
	if len(cy.lag) > 0 {
		fmt.Printf("  lag (refreshed_at − due time, per connection): %s\n", cy.lag.summary())
	}
	if cy.cpuOK {
		fmt.Printf("  server CPU: %.1f µs per refresh (%.1f s, all instances)", us(cy.cpuServer, cy.refreshes), cy.cpuServer.Seconds())
		if cy.pgOK {
			fmt.Printf("; PostgreSQL backends: %.1f µs per refresh", us(cy.cpuPG, cy.refreshes))
		}
		fmt.Println()
	}
	for _, w := range cy.writes {
		fmt.Printf("  %s\n", w)
	}
}

// scrapeMetrics reads an instance's /metrics, by series (name{labels}).
func scrapeMetrics(base string) (map[string]float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %d", resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}
