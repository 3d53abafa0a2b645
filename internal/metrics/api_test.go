package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/metrics"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// The API's requests are counted by route pattern and status, timed by
// status class; create-bot calls by platform and result; webhooks by
// attempt result, failure reason, give-up and delivery latency. The
// series pass promtool's lint.
func TestAPIPlatformAndWebhookSeries(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.ObserveAPIRequest("/api/v1/bots/:id", "GET", 200, 3*time.Millisecond)
	m.ObserveAPIRequest("/api/v1/bots/:id", "GET", 404, time.Millisecond)
	m.ObserveAPIRequest("", "BREW", 999, time.Millisecond)
	m.ObserveCreateBot("recall", nil, 300*time.Millisecond)
	m.ObserveCreateBot("attendee", onbehalf.Errorf(onbehalf.EUPSTREAM, "no"), 2*time.Second)
	m.ObserveAttempt("HTTP 503")
	m.ObserveAttempt("HTTP 500")
	m.ObserveAttempt("connection refused")
	m.ObserveAttempt(strings.Repeat("x", 100))
	m.ObserveAttempt("")
	m.ObserveDelivered(40 * time.Millisecond)
	m.ObserveGivenUp()
	text := scrape(t, m)
	wantLines(t, text,
		`onbehalf_api_requests_total{method="GET",route="/api/v1/bots/:id",status="200"} 1`,
		`onbehalf_api_requests_total{method="GET",route="/api/v1/bots/:id",status="404"} 1`,
		`onbehalf_api_requests_total{method="other",route="other",status="other"} 1`,
		`onbehalf_api_request_duration_seconds_count{method="GET",route="/api/v1/bots/:id",status_class="4xx"} 1`,
		`onbehalf_platform_create_bot_total{platform="recall",result="ok"} 1`,
		`onbehalf_platform_create_bot_total{platform="attendee",result="upstream"} 1`,
		`onbehalf_platform_create_bot_duration_seconds_bucket{platform="attendee",result="upstream",le="2.5"} 1`,
		`onbehalf_webhook_attempts_total{result="failed"} 4`,
		`onbehalf_webhook_attempts_total{result="ok"} 1`,
		`onbehalf_webhook_failures_total{reason="http_5xx"} 2`,
		`onbehalf_webhook_failures_total{reason="connection_refused"} 1`,
		`onbehalf_webhook_failures_total{reason="other"} 1`,
		`onbehalf_webhook_given_up_total 1`,
		`onbehalf_webhook_delivery_seconds_bucket{le="0.05"} 1`,
	)
	lint(t, m)
}
