package main

import (
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"
)

// burstReq is one request of a burst: a GET of url (with a bearer token
// for direct requests to the fake) for connection conn.
type burstReq struct {
	url    string
	bearer string
	conn   int
}

// burstResult is what one request of a burst got.
type burstResult struct {
	// late is how long after its planned time the request was sent.
	late time.Duration
	// lat is from just before the request was sent to its whole answer.
	lat    time.Duration
	status int
	body   string
	err    error
}

// burstClient is the HTTP client of bursts: with reuse, one keep-alive
// pool (as a reverse proxy in front of onbehalf keeps its connections to
// it), else a new TCP connection per request (as bots, each on its own
// machine, fetch their token).
func burstClient(reuse bool) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		DisableKeepAlives:   !reuse,
		DisableCompression:  true,
		MaxIdleConns:        8192,
		MaxIdleConnsPerHost: 8192,
		IdleConnTimeout:     5 * time.Minute,
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// sendBurst sends the requests open loop with client: request i leaves at
// start + i*window/len(reqs), each from its own goroutine, whether or not
// earlier answers have come. It returns when every request is answered or
// has failed (10 s timeout each), with the results in the order of reqs
// and how long the sending took.
func sendBurst(client *http.Client, reqs []burstReq, window time.Duration) ([]burstResult, time.Duration) {
	prepared := make([]*http.Request, len(reqs))
	for i, r := range reqs {
		req, err := http.NewRequest(http.MethodGet, r.url, nil)
		if err != nil {
			panic(err) // the bench built the URL
		}
		if r.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+r.bearer)
		}
		prepared[i] = req
	}
	out := make([]burstResult, len(reqs))
	var wg sync.WaitGroup
	start := time.Now().Add(5 * time.Millisecond)
	step := window / time.Duration(max(len(reqs), 1))
	for i := range reqs {
		at := start.Add(time.Duration(i) * step)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			res := &out[i]
			t0 := time.Now()
			res.late = t0.Sub(at)
			resp, err := client.Do(prepared[i])
			if err != nil {
				res.lat, res.err = time.Since(t0), err
				return
			}
			b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			res.lat = time.Since(t0)
			res.status, res.body, res.err = resp.StatusCode, string(b), err
		})
	}
	sent := time.Since(start)
	wg.Wait()
	return out, sent
}

// durations is a sortable list of latencies.
type durations []time.Duration

// sorted returns a sorted copy.
func (d durations) sorted() durations {
	s := append(durations(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

// summary is "p50 … p90 … p99 … max …" of the latencies.
func (d durations) summary() string {
	s := d.sorted()
	if len(s) == 0 {
		return "(none)"
	}
	return "p50 " + round(pct(s, 50)).String() + "  p90 " + round(pct(s, 90)).String() +
		"  p99 " + round(pct(s, 99)).String() + "  max " + round(pct(s, 100)).String()
}
