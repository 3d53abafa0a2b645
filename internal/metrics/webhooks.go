package metrics

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The outgoing webhooks' series, fed as the deliverer works (per instance:
// sum across instances):
//
//	onbehalf_webhook_attempts_total{result}         counter (ok, failed)
//	onbehalf_webhook_failures_total{reason}         counter
//	onbehalf_webhook_given_up_total                 counter
//	onbehalf_webhook_delivery_seconds               histogram
//
// reason is why an attempt failed, in a few words: http_4xx, http_5xx,
// timeout, connection_refused, … (never the URL or the receiver's body).
// onbehalf_webhook_delivery_seconds is how long after the event an
// attempt succeeded: the product's lag, retries included.
//
// What to alert on: the receiver refusing (the outbox grows, see
// onbehalf_outbox_pending), and events given up (lost to the receiver).
//
//	sum(rate(onbehalf_webhook_attempts_total{result="failed"}[15m]))
//	  / sum(rate(onbehalf_webhook_attempts_total[15m])) > 0.5
//	increase(onbehalf_webhook_given_up_total[1h]) > 0
type webhookSeries struct {
	attempts *prometheus.CounterVec
	failures *prometheus.CounterVec
	givenUp  prometheus.Counter
	latency  prometheus.Histogram
}

// deliveryBuckets cover an event's way to the receiver: milliseconds when
// the first attempt succeeds, up to the 24 hours of retries.
var deliveryBuckets = []float64{.01, .05, .1, .5, 1, 5, 30, 60, 300, 1800, 3600, 6 * 3600, 24 * 3600}

// registerWebhooks registers the webhooks' series.
func (m *Metrics) registerWebhooks() {
	m.webhooks = webhookSeries{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onbehalf_webhook_attempts_total",
			Help: "Webhook delivery attempts, by result (ok: the receiver answered 2xx; failed).",
		}, []string{"result"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onbehalf_webhook_failures_total",
			Help: "Failed webhook delivery attempts, by reason (http_5xx, timeout, connection_refused, …).",
		}, []string{"reason"}),
		givenUp: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onbehalf_webhook_given_up_total",
			Help: "Events given up after their retries (24 h of failures): the receiver never got them.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "onbehalf_webhook_delivery_seconds",
			Help:    "Time from an event to its delivery (the receiver's 2xx), retries included.",
			Buckets: deliveryBuckets,
		}),
	}
	m.reg.MustRegister(m.webhooks.attempts, m.webhooks.failures, m.webhooks.givenUp, m.webhooks.latency)
}

// ObserveAttempt counts one delivery attempt (events.Observer): reason is
// "" when the receiver answered 2xx, else the deliverer's few words.
func (m *Metrics) ObserveAttempt(reason string) {
	if reason == "" {
		m.webhooks.attempts.WithLabelValues(resultOK).Inc()
		return
	}
	m.webhooks.attempts.WithLabelValues("failed").Inc()
	m.webhooks.failures.WithLabelValues(reasonLabel(reason)).Inc()
}

// ObserveDelivered times an event delivered since it happened
// (events.Observer).
func (m *Metrics) ObserveDelivered(sinceEvent time.Duration) {
	m.webhooks.latency.Observe(max(sinceEvent, 0).Seconds())
}

// ObserveGivenUp counts an event given up (events.Observer).
func (m *Metrics) ObserveGivenUp() { m.webhooks.givenUp.Inc() }

// maxReason bounds a reason label; the deliverer's reasons are a few
// words from a fixed list.
const maxReason = 32

// reasonLabel writes a failure's reason as a label: "HTTP 503" is
// http_5xx, other reasons in lower case with underscores.
func reasonLabel(reason string) string {
	if code, ok := strings.CutPrefix(reason, "HTTP "); ok && len(code) == 3 {
		return "http_" + code[:1] + "xx"
	}
	r := strings.ToLower(strings.Join(strings.Fields(reason), "_"))
	if r == "" || len(r) > maxReason {
		return otherValue
	}
	return r
}
