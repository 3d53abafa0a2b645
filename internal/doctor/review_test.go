package doctor

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// metricsRouter sends requests for one host (a fake server's /metrics)
// straight to it, the rest through next.
type metricsRouter struct {
	host string
	next http.RoundTripper
}

func (m metricsRouter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == m.host {
		return http.DefaultTransport.RoundTrip(r)
	}
	return m.next.RoundTrip(r)
}

// TestReviewReadsMetrics: with METRICS=true, the review reads the running
// server's /metrics: refreshes within half a token's lifetime and a
// share of failing Zoom calls above 5% are warnings; none, and a small
// share, pass.
func TestReviewReadsMetrics(t *testing.T) {
	w := newWorld(t)
	var body atomic.Value
	ms := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(rw, r)
			return
		}
		rw.Write([]byte(body.Load().(string)))
	}))
	t.Cleanup(ms.Close)
	client := &http.Client{Transport: metricsRouter{host: host(ms.URL), next: router{w: w}}}
	e := w.env.with("METRICS", "true").with("METRICS_ADDR", host(ms.URL))
	run := func() string {
		out, _ := runWith(t, Options{Getenv: e.get, HTTP: client, LookupIP: publicLookup})
		return out
	}

	body.Store(`# HELP onbehalf_refreshes_total Token pair refreshes by result.
# TYPE onbehalf_refreshes_total counter
onbehalf_refreshes_total{result="ok"} 40
onbehalf_refreshes_total{result="failed"} 1
onbehalf_refreshes_early_total 0
onbehalf_refreshes_ahead_total 3
onbehalf_zoom_refresh_duration_seconds_count{result="ok"} 40
onbehalf_zoom_refresh_duration_seconds_count{result="upstream"} 1
onbehalf_zoom_mint_duration_seconds_count{kind="obf",result="ok"} 59
`)
	out := run()
	mustContain(t, out, "✓ No connection refreshed more often than its token lifetime needs: 40 refreshes since the server started (3 refreshes ahead of a bot)",
		"✓ 1.0% of Zoom calls failed since the server started (1 of 100 calls), under 5%.")

	body.Store(`onbehalf_refreshes_total{result="ok"} 40
onbehalf_refreshes_early_total 12
onbehalf_refreshes_ahead_total 0
onbehalf_zoom_refresh_duration_seconds_count{result="ok"} 40
onbehalf_zoom_refresh_duration_seconds_count{result="timeout"} 3
onbehalf_zoom_mint_duration_seconds_count{kind="obf",result="ok"} 50
onbehalf_zoom_mint_duration_seconds_count{kind="obf",result="upstream"} 7
`)
	out = run()
	mustContain(t, out, "⚠ 12 of 40 refreshes came within half a token's lifetime",
		"⚠ 10.0% of Zoom calls failed since the server started (10 of 100 calls: upstream 7, timeout 3)")

	e = e.with("KEEPALIVE_IDLE", "30m")
	out = run()
	mustContain(t, out, "⚠ KEEPALIVE_IDLE=30m0s refreshes an idle connection more often than its access token lives")

	ms.Close()
	out = run()
	if !strings.Contains(out, "Refresh spacing and failing Zoom calls not checked: no server answered at http://"+host(ms.URL)+"/metrics") {
		t.Fatalf("report with no server:\n%s", out)
	}
}

// TestKeepAliveRate: doctor warns when one instance's keep-alive rate
// cannot refresh every connected connection once per KEEPALIVE_IDLE (with
// room kept for retries), and stays quiet below that or when the count is
// unknown.
func TestKeepAliveRate(t *testing.T) {
	for _, c := range []struct {
		connected int64
		rate      float64
		warn      bool
	}{
		{-1, 0, false},
		{100_000, 0, false},   // 1.2/s against the default 20
		{1_000_000, 10, true}, // 11.6/s against 10
		{1_000_000, 0, false}, // 11.6/s against the default 20
		{2_000_000, 0, true},  // 23.1/s against the default 20
	} {
		var out strings.Builder
		d := &doctor{r: &report{w: &out}, connected: c.connected}
		d.cfg.KeepAliveRate = c.rate
		d.checkKeepAliveRate(24 * time.Hour)
		if got := strings.Contains(out.String(), "raise KEEPALIVE_RATE"); got != c.warn {
			t.Errorf("%d connections, rate %g: warned %v, want %v:\n%s", c.connected, c.rate, got, c.warn, out.String())
		}
	}
}
