package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// target is one request a client repeats: a token URL of onbehalf, or the
// fake's token endpoint with a bearer token (direct runs).
type target struct {
	url    string
	bearer string
	// group attributes latencies (scale runs compare two servers).
	group int
}

// answer kinds.
const (
	// shapeOnbehalf: the body of a 200 is the bare token; a failed mint is
	// a 502 from onbehalf.
	shapeOnbehalf = iota
	// shapeDirect: the body of a 200 is {"token":"…"}; a failed mint is the
	// fake's 500.
	shapeDirect
)

// run is the outcome of one load run.
type run struct {
	name    string
	c       int
	elapsed time.Duration
	// n counts every request sent, answered or not.
	n int
	// tokens are the tokens of the 200 answers, checked after the run
	// against the fake's minted tokens (verify).
	tokens []string
	// ok counts 200 answers whose body is exactly a minted token never
	// answered before; set by verify.
	ok int
	// upstream counts the answers to the fake's injected failures: 502
	// from onbehalf, 500 from the fake itself. Acceptable only with
	// -fail-every.
	upstream int
	// wrong counts every other answer: another status, a 200 whose body is
	// not exactly a minted token or repeats one, a failure that carries a
	// token.
	wrong int
	// wrongStatus counts wrong answers by status code.
	wrongStatus map[int]int
	// transport counts requests that got no HTTP answer.
	transport int
	// example is one wrong answer, for the report.
	example string
	lat     []time.Duration // sorted
	// groupLat holds the latencies by target group, sorted.
	groupLat [][]time.Duration
	// CPU time used during the run: this process (load generator, fakes,
	// and the server in in-process mode) and the server child.
	cpuSelf, cpuServer time.Duration
	// cpuServerSys is the system (kernel) part of cpuServer.
	cpuServerSys time.Duration
	serverCPUOK  bool
	// cpuPG is the CPU time of the PostgreSQL backends of the bench
	// database (pgOK: measured).
	cpuPG time.Duration
	pgOK  bool
	// cpuOthers is the CPU time the rest of the machine used meanwhile
	// (other processes): figures taken while it is high are noisy.
	cpuOthers time.Duration
	// mints is how many mint calls the fake received during the run.
	mints int
}

// worker is one client's share of a run.
type worker struct {
	tokens            []string
	lat               []time.Duration
	groupLat          [][]time.Duration
	groups            []int // group of each target
	upstream, wrong   int
	transport         int
	wrongStatus       map[int]int
	example           string
	buf               bytes.Buffer
	shape             int
	reqs              []*http.Request
	client            *http.Client
	next, nTargets    int
	budget            *atomic.Int64
	deadline, hardEnd time.Time
}

// newTransport returns a keep-alive transport for c sequential clients.
func newTransport(c int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * c,
		MaxIdleConnsPerHost: 2 * c,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// load runs c clients against targets for d (at most maxReq requests in
// all): each client sends its next request when the previous answer is
// read, over its own keep-alive connection.
func load(name string, targets []target, shape, c int, d time.Duration, maxReq int) (*run, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("%s: no targets", name)
	}
	tr := newTransport(c)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var budget atomic.Int64
	budget.Store(int64(maxReq))
	start := time.Now()
	deadline := start.Add(d)
	nGroups := 0
	groups := make([]int, len(targets))
	for i, t := range targets {
		groups[i] = t.group
		nGroups = max(nGroups, t.group+1)
	}
	ws := make([]*worker, c)
	for i := range ws {
		w := &worker{shape: shape, client: client, next: i % len(targets), nTargets: len(targets),
			budget: &budget, deadline: deadline, hardEnd: deadline.Add(30 * time.Second),
			reqs: make([]*http.Request, len(targets)), wrongStatus: map[int]int{},
			groups: groups, groupLat: make([][]time.Duration, nGroups)}
		for j, t := range targets {
			req, err := http.NewRequest(http.MethodGet, t.url, nil)
			if err != nil {
				return nil, err
			}
			if t.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+t.bearer)
			}
			w.reqs[j] = req
		}
		ws[i] = w
	}
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(w.loop)
	}
	wg.Wait()
	r := &run{name: name, c: c, elapsed: time.Since(start), wrongStatus: map[int]int{}, groupLat: make([][]time.Duration, nGroups)}
	for _, w := range ws {
		for g, l := range w.groupLat {
			r.groupLat[g] = append(r.groupLat[g], l...)
		}
		r.n += len(w.lat)
		r.tokens = append(r.tokens, w.tokens...)
		r.lat = append(r.lat, w.lat...)
		r.upstream += w.upstream
		r.wrong += w.wrong
		r.transport += w.transport
		for k, v := range w.wrongStatus {
			r.wrongStatus[k] += v
		}
		if r.example == "" {
			r.example = w.example
		}
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	for _, l := range r.groupLat {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
	return r, nil
}

// loop sends requests until the deadline or the shared budget runs out.
func (w *worker) loop() {
	for {
		now := time.Now()
		if now.After(w.deadline) || now.After(w.hardEnd) || w.budget.Add(-1) < 0 {
			return
		}
		req, g := w.reqs[w.next], w.groups[w.next]
		w.next = (w.next + 1) % w.nTargets
		resp, err := w.client.Do(req)
		if err != nil {
			w.record(g, time.Since(now))
			w.transport++
			if w.example == "" {
				w.example = "transport error: " + err.Error()
			}
			time.Sleep(time.Millisecond) // a dead server must not spin the loop
			continue
		}
		w.buf.Reset()
		_, rerr := w.buf.ReadFrom(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		w.record(g, time.Since(now))
		if rerr != nil {
			w.transport++
			continue
		}
		w.classify(resp.StatusCode, w.buf.Bytes())
	}
}

// record keeps one latency.
func (w *worker) record(group int, d time.Duration) {
	w.lat = append(w.lat, d)
	w.groupLat[group] = append(w.groupLat[group], d)
}

// direct-shape success body: {"token":"…"}.
var (
	directPrefix = []byte(`{"token":"`)
	directSuffix = []byte(`"}`)
)

// classify sorts one answer; the tokens of 200 answers are kept for verify.
func (w *worker) classify(status int, body []byte) {
	switch {
	case status == http.StatusOK && w.shape == shapeOnbehalf && len(body) > 0:
		w.tokens = append(w.tokens, string(body))
		return
	case status == http.StatusOK && w.shape == shapeDirect &&
		bytes.HasPrefix(body, directPrefix) && bytes.HasSuffix(body, directSuffix) && len(body) > len(directPrefix)+len(directSuffix):
		w.tokens = append(w.tokens, string(body[len(directPrefix):len(body)-len(directSuffix)]))
		return
	case status == http.StatusBadGateway && w.shape == shapeOnbehalf && len(body) > 0 && !bytes.Contains(body, []byte("obf_")),
		status == http.StatusInternalServerError && w.shape == shapeDirect && bytes.Contains(body, []byte(`"code":500`)):
		w.upstream++
		return
	}
	w.wrong++
	w.wrongStatus[status]++
	if w.example == "" {
		w.example = fmt.Sprintf("HTTP %d %.120q", status, body)
	}
}

// verifier checks answered tokens against the fake's minted tokens: each
// must have been minted and may be answered once only, across all runs.
type verifier struct {
	minted func() []string
	seen   map[string]struct{}
}

// verify sets r.ok and adds the bad tokens to r.wrong.
func (v *verifier) verify(r *run) {
	minted := v.minted()
	set := make(map[string]struct{}, len(minted))
	for _, t := range minted {
		set[t] = struct{}{}
	}
	for _, t := range r.tokens {
		_, isMinted := set[t]
		_, dup := v.seen[t]
		if isMinted && !dup {
			v.seen[t] = struct{}{}
			r.ok++
			continue
		}
		r.wrong++
		r.wrongStatus[200]++
		if r.example == "" || !strings.HasPrefix(r.example, "HTTP 200") {
			what := "never minted"
			if dup {
				what = "answered twice"
			}
			r.example = fmt.Sprintf("HTTP 200 with a token %s (%.12s…)", what, t)
		}
	}
	r.tokens = nil
}

// pct returns the p-th percentile latency of a sorted slice.
func pct(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	i := int(float64(len(lat))*p/100+0.5) - 1
	i = max(0, min(i, len(lat)-1))
	return lat[i]
}

// rps is the answered requests per second.
func (r *run) rps() float64 { return float64(r.n) / r.elapsed.Seconds() }

// print writes one run's figures.
func (r *run) print(failEvery int) {
	fmt.Printf("%s: %d clients, %.1fs\n", r.name, r.c, r.elapsed.Seconds())
	fmt.Printf("  requests %d, %.0f req/s\n", r.n, r.rps())
	fmt.Printf("  latency %s\n", durations(r.lat).summary())
	errs := r.n - r.ok
	fmt.Printf("  200 with an exact minted token: %d; errors: %d", r.ok, errs)
	if r.upstream > 0 || failEvery > 0 {
		fmt.Printf(" (injected mint failures answered %s: %d)", map[bool]string{true: "500", false: "502"}[strings.Contains(r.name, "direct")], r.upstream)
	}
	fmt.Println()
	fmt.Printf("  wrong answers: %d", r.wrong)
	if len(r.wrongStatus) > 0 {
		fmt.Printf(" by status %v", r.wrongStatus)
	}
	fmt.Printf("; transport errors: %d\n", r.transport)
	if r.example != "" {
		fmt.Printf("  e.g. %s\n", r.example)
	}
	if r.n > 0 {
		fmt.Printf("  fake mint calls per request: %.3f\n", float64(r.mints)/float64(r.n))
		fmt.Printf("  CPU of this process: %.1f µs/request", us(r.cpuSelf, r.n))
		if r.serverCPUOK {
			fmt.Printf("; CPU of the server process: %.1f µs/request (%.1f µs system)", us(r.cpuServer, r.n), us(r.cpuServerSys, r.n))
		}
		if r.pgOK {
			fmt.Printf("; CPU of PostgreSQL: %.1f µs/request", us(r.cpuPG, r.n))
		}
		fmt.Println()
		fmt.Printf("  other processes used %.2f CPUs meanwhile (of %d)\n", max(0, r.cpuOthers.Seconds()/r.elapsed.Seconds()), onlineCPUs())
	}
}

// round shortens a duration for printing.
func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= 100*time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d.Round(100 * time.Nanosecond)
}
