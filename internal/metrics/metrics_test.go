package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/onbehalf/onbehalf/internal/metrics"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// scrape GETs the handler and returns the body in the text format.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want the text format", ct)
	}
	return string(body)
}

// wantLines fails unless every line is in the scraped text.
func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(text, "\n"+l+"\n") {
			t.Errorf("missing line %q", l)
		}
	}
	if t.Failed() {
		t.Logf("scraped:\n%s", text)
	}
}

// noLines fails if a series whose line starts with a prefix is scraped.
func noLines(t *testing.T, text string, prefixes ...string) {
	t.Helper()
	for _, p := range prefixes {
		if strings.Contains(text, "\n"+p) {
			t.Errorf("unexpected series %q", p)
		}
	}
}

func TestTokenRequests(t *testing.T) {
	m := metrics.New(metrics.Options{})
	obf := []onbehalf.TokenKind{onbehalf.KindOBF}
	m.ObserveTokenRequest("recall", obf, 200, 3*time.Millisecond)
	m.ObserveTokenRequest("recall", obf, 200, 4*time.Millisecond)
	// Several kinds: one observation, kinds joined in canonical order.
	m.ObserveTokenRequest("recall", []onbehalf.TokenKind{onbehalf.KindJoin, onbehalf.KindOBF}, 502, 2*time.Second)
	m.ObserveTokenRequest("attendee", nil, 401, time.Millisecond)
	m.ObserveTokenRequest("", []onbehalf.TokenKind{"bogus"}, 0, time.Millisecond)

	const want = `
# HELP onbehalf_token_requests_total Token requests answered, by bot platform, kinds requested (joined) and HTTP status.
# TYPE onbehalf_token_requests_total counter
onbehalf_token_requests_total{kind="none",platform="attendee",status="401"} 1
onbehalf_token_requests_total{kind="none",platform="unknown",status="other"} 1
onbehalf_token_requests_total{kind="obf",platform="recall",status="200"} 2
onbehalf_token_requests_total{kind="obf,join",platform="recall",status="502"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "onbehalf_token_requests_total"); err != nil {
		t.Fatal(err)
	}
	text := scrape(t, m)
	wantLines(t, text,
		`onbehalf_token_request_duration_seconds_count{kind="obf",platform="recall",status_class="2xx"} 2`,
		`onbehalf_token_request_duration_seconds_sum{kind="obf",platform="recall",status_class="2xx"} 0.007`,
		`onbehalf_token_request_duration_seconds_bucket{kind="obf",platform="recall",status_class="2xx",le="0.0025"} 0`,
		`onbehalf_token_request_duration_seconds_bucket{kind="obf",platform="recall",status_class="2xx",le="0.005"} 2`,
		`onbehalf_token_request_duration_seconds_bucket{kind="obf,join",platform="recall",status_class="5xx",le="1"} 0`,
		`onbehalf_token_request_duration_seconds_bucket{kind="obf,join",platform="recall",status_class="5xx",le="2.5"} 1`,
		`onbehalf_token_request_duration_seconds_count{kind="none",platform="attendee",status_class="4xx"} 1`,
		`onbehalf_token_request_duration_seconds_count{kind="none",platform="unknown",status_class="other"} 1`,
	)
}

// fakeZoom answers with its fields after waiting delay.
type fakeZoom struct {
	delay   time.Duration
	tok     onbehalf.Token
	minted  string
	err     error
	calls   int
	gotKind onbehalf.TokenKind
}

func (f *fakeZoom) Refresh(ctx context.Context, refreshToken string) (onbehalf.Token, error) {
	f.calls++
	time.Sleep(f.delay)
	return f.tok, f.err
}

func (f *fakeZoom) MintToken(ctx context.Context, accessToken string, kind onbehalf.TokenKind, meetingID string) (string, error) {
	f.calls++
	f.gotKind = kind
	time.Sleep(f.delay)
	return f.minted, f.err
}

func TestInstrumentZoom(t *testing.T) {
	m := metrics.New(metrics.Options{})
	fz := &fakeZoom{delay: 30 * time.Millisecond, tok: onbehalf.Token{AccessToken: "a2", RefreshToken: "r2"}, minted: "obf-token"}
	z := m.InstrumentZoom(fz)

	// Results pass through unchanged.
	if tok, err := z.Refresh(t.Context(), "r1"); err != nil || tok.AccessToken != "a2" || tok.RefreshToken != "r2" {
		t.Fatalf("Refresh = %+v, %v", tok, err)
	}
	if tok, err := z.MintToken(t.Context(), "a2", onbehalf.KindOBF, "123"); err != nil || tok != "obf-token" || fz.gotKind != onbehalf.KindOBF {
		t.Fatalf("MintToken = %q, %v (kind %q)", tok, err, fz.gotKind)
	}
	fz.delay = 0
	dead := onbehalf.Errorf(onbehalf.EDISCONNECTED, "Zoom rejected the grant.")
	fz.err = dead
	if _, err := z.Refresh(t.Context(), "r2"); err != dead {
		t.Fatalf("Refresh error = %v, want the very error", err)
	}
	fz.err = errors.New("connection reset")
	if _, err := z.Refresh(t.Context(), "r2"); err == nil || err.Error() != "connection reset" {
		t.Fatalf("Refresh error = %v", err)
	}
	fz.err = &onbehalf.Error{Code: "made_up", Message: "?"}
	z.Refresh(t.Context(), "r2")
	fz.err = onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom said no.")
	z.MintToken(t.Context(), "a2", onbehalf.KindJoin, "123")
	z.MintToken(t.Context(), "a2", "bogus", "123")
	if fz.calls != 7 {
		t.Fatalf("%d calls reached Zoom, want 7", fz.calls)
	}

	text := scrape(t, m)
	wantLines(t, text,
		`onbehalf_zoom_refresh_duration_seconds_count{result="ok"} 1`,
		`onbehalf_zoom_refresh_duration_seconds_bucket{result="ok",le="0.025"} 0`,
		`onbehalf_zoom_refresh_duration_seconds_bucket{result="ok",le="60"} 1`,
		`onbehalf_zoom_refresh_duration_seconds_count{result="disconnected"} 1`,
		`onbehalf_zoom_refresh_duration_seconds_count{result="internal"} 1`,
		`onbehalf_zoom_refresh_duration_seconds_count{result="other"} 1`,
		`onbehalf_zoom_mint_duration_seconds_count{kind="obf",result="ok"} 1`,
		`onbehalf_zoom_mint_duration_seconds_bucket{kind="obf",result="ok",le="0.025"} 0`,
		`onbehalf_zoom_mint_duration_seconds_count{kind="join",result="upstream"} 1`,
		`onbehalf_zoom_mint_duration_seconds_count{kind="other",result="upstream"} 1`,
	)
	if n := testutil.CollectAndCount(m.Registry(), "onbehalf_zoom_refresh_duration_seconds"); n != 4 {
		t.Errorf("%d refresh series, want 4", n)
	}
}

func TestInstrumentZoomNil(t *testing.T) {
	if z := metrics.New(metrics.Options{}).InstrumentZoom(nil); z != nil {
		t.Fatalf("InstrumentZoom(nil) = %v, want nil", z)
	}
}

func TestHandlerServesRuntimeAndProcess(t *testing.T) {
	m := metrics.New(metrics.Options{})
	scrape(t, m)
	text := scrape(t, m)
	wantLines(t, text, `promhttp_metric_handler_requests_total{code="200"} 1`)
	for _, p := range []string{"go_goroutines ", "go_memstats_alloc_bytes ", "process_cpu_seconds_total ", "process_resident_memory_bytes "} {
		if !strings.Contains(text, "\n"+p) {
			t.Errorf("missing %s", p)
		}
	}
	// No source set: none of the scrape-time series.
	noLines(t, text, "onbehalf_connections{", "onbehalf_outbox_pending ", "onbehalf_keepalive_lag_seconds ", "onbehalf_refreshes_total{", "onbehalf_metrics_scrape_errors_total{")
}

func TestTwoInstancesDoNotCollide(t *testing.T) {
	a, b := metrics.New(metrics.Options{}), metrics.New(metrics.Options{})
	a.ObserveTokenRequest("recall", nil, 200, time.Millisecond)
	wantLines(t, scrape(t, a), `onbehalf_token_requests_total{kind="none",platform="recall",status="200"} 1`)
	noLines(t, scrape(t, b), "onbehalf_token_requests_total{")
}

func TestConcurrentObserveAndScrape(t *testing.T) {
	m := metrics.New(metrics.Options{})
	z := m.InstrumentZoom(&sharedZoom{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				m.ObserveTokenRequest("recall", []onbehalf.TokenKind{onbehalf.Kinds[i%3]}, 200, time.Millisecond)
				z.MintToken(context.Background(), "a", onbehalf.KindZAK, "")
			}
		})
	}
	for range 4 {
		wg.Go(func() { scrape(t, m) })
	}
	wg.Wait()
	wantLines(t, scrape(t, m), `onbehalf_zoom_mint_duration_seconds_count{kind="zak",result="ok"} 400`)
}

// sharedZoom is a Zoom safe for concurrent use.
type sharedZoom struct{}

func (sharedZoom) Refresh(context.Context, string) (onbehalf.Token, error) {
	return onbehalf.Token{}, nil
}
func (sharedZoom) MintToken(context.Context, string, onbehalf.TokenKind, string) (string, error) {
	return "t", nil
}
