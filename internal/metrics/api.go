package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The integration API's and the bot platforms' series, fed as things
// happen (per instance: sum across instances):
//
//	onbehalf_api_requests_total{route,method,status}                 counter
//	onbehalf_api_request_duration_seconds{route,method,status_class} histogram
//	onbehalf_platform_create_bot_total{platform,result}               counter
//	onbehalf_platform_create_bot_duration_seconds{platform,result}    histogram
//
// route is the route's pattern ("/api/v1/bots/:id"), never a path with an
// ID in it; result is ok or the error code of the project's vocabulary
// (upstream: the platform said no; timeout: it did not answer).
//
// What to alert on: the API failing on the server's side, and a platform
// refusing bots.
//
//	sum(rate(onbehalf_api_requests_total{status=~"5.."}[5m]))
//	  / sum(rate(onbehalf_api_requests_total[5m])) > 0.05
//	sum by (platform) (rate(onbehalf_platform_create_bot_total{result!="ok"}[15m])) > 0
type apiSeries struct {
	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	createBot       *prometheus.CounterVec
	createBotTook   *prometheus.HistogramVec
}

// createBotBuckets cover a platform's create-bot call: a few hundred
// milliseconds, up to its timeout and beyond.
var createBotBuckets = []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// registerAPI registers the API's and the platforms' series.
func (m *Metrics) registerAPI() {
	m.api = apiSeries{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onbehalf_api_requests_total",
			Help: "Integration API requests answered, by route pattern, method and HTTP status.",
		}, []string{"route", "method", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "onbehalf_api_request_duration_seconds",
			Help:    "Time to answer an integration API request, by route pattern, method and status class (event streams: how long they stayed open).",
			Buckets: requestBuckets,
		}, []string{"route", "method", "status_class"}),
		createBot: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onbehalf_platform_create_bot_total",
			Help: "Create-bot calls to a bot platform, by platform and result (ok or error code).",
		}, []string{"platform", "result"}),
		createBotTook: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "onbehalf_platform_create_bot_duration_seconds",
			Help:    "Time a bot platform took to answer a create-bot call, by platform and result.",
			Buckets: createBotBuckets,
		}, []string{"platform", "result"}),
	}
	m.reg.MustRegister(m.api.requests, m.api.requestDuration, m.api.createBot, m.api.createBotTook)
}

// ObserveAPIRequest counts and times one API request (api.Observer).
// route is the route's pattern; "" (no route matched) is other.
func (m *Metrics) ObserveAPIRequest(route, method string, status int, took time.Duration) {
	if route == "" {
		route = otherValue
	}
	m.api.requests.WithLabelValues(route, methodLabel(method), statusLabel(status)).Inc()
	m.api.requestDuration.WithLabelValues(route, methodLabel(method), statusClass(status)).Observe(took.Seconds())
}

// ObserveCreateBot counts and times one create-bot call to a platform
// (bots.Observer).
func (m *Metrics) ObserveCreateBot(platform string, err error, took time.Duration) {
	result := resultLabel(err)
	m.api.createBot.WithLabelValues(platform, result).Inc()
	m.api.createBotTook.WithLabelValues(platform, result).Observe(took.Seconds())
}

// methodLabel keeps the method label to the methods the API serves.
func methodLabel(method string) string {
	switch method {
	case "GET", "POST", "PATCH", "DELETE", "PUT", "HEAD":
		return method
	}
	return otherValue
}
