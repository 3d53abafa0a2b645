package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Histogram buckets, in seconds.
var (
	// requestBuckets cover a token request: a millisecond when the token
	// is minted from a fresh pair on a fast path, up to the caller's wait
	// for a refresh (ZOOM_TIMEOUT, 10s by default) and beyond.
	requestBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	// zoomBuckets cover one Zoom call: tens of milliseconds to the
	// refresh's own deadline (ZOOM_REFRESH_TIMEOUT, 60s by default).
	zoomBuckets = []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
)

// Label values that keep the cardinality bounded.
const (
	// noKind labels a token request refused before it said which kinds
	// it wants.
	noKind = "none"
	// otherValue labels anything outside a label's known values.
	otherValue = "other"
	// resultOK labels a Zoom call that succeeded.
	resultOK = "ok"
)

// errorCodes is the project's error vocabulary: the values a result label
// may take besides ok.
var errorCodes = map[string]bool{
	onbehalf.ECONFLICT: true, onbehalf.EDISCONNECTED: true, onbehalf.EINTERNAL: true,
	onbehalf.EINVALID: true, onbehalf.ENOTFOUND: true, onbehalf.ESTORAGE: true,
	onbehalf.EUNAUTHORIZED: true, onbehalf.EUNAVAILABLE: true, onbehalf.EUPSTREAM: true,
	onbehalf.ETIMEOUT: true, onbehalf.ETOOMANY: true,
}

// registerEvents registers the series fed as things happen.
func (m *Metrics) registerEvents() {
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onbehalf_token_requests_total",
		Help: "Token requests answered, by bot platform, kinds requested (joined) and HTTP status.",
	}, []string{"platform", "kind", "status"})
	m.requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "onbehalf_token_request_duration_seconds",
		Help:    "Time to answer a token request, by bot platform, kinds requested (joined) and status class.",
		Buckets: requestBuckets,
	}, []string{"platform", "kind", "status_class"})
	m.refreshDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    NameZoomRefreshDuration,
		Help:    "Time Zoom took to refresh a token pair, by result (ok or error code).",
		Buckets: zoomBuckets,
	}, []string{"result"})
	m.mintDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    NameZoomMintDuration,
		Help:    "Time Zoom took to mint a token, by kind and result (ok or error code).",
		Buckets: zoomBuckets,
	}, []string{"kind", "result"})
	m.reg.MustRegister(m.requests, m.requestDuration, m.refreshDuration, m.mintDuration)
}

// ObserveTokenRequest counts and times one token request; it implements
// tokenserve.Observer. A request for several kinds is one observation
// labelled with the kinds joined in canonical order ("obf,join").
func (m *Metrics) ObserveTokenRequest(platform string, kinds []onbehalf.TokenKind, status int, took time.Duration) {
	if platform == "" {
		platform = "unknown"
	}
	kind := kindsLabel(kinds)
	m.requests.WithLabelValues(platform, kind, statusLabel(status)).Inc()
	m.requestDuration.WithLabelValues(platform, kind, statusClass(status)).Observe(took.Seconds())
}

// InstrumentZoom returns z timed: every Refresh and MintToken is observed
// in onbehalf_zoom_refresh_duration_seconds and
// onbehalf_zoom_mint_duration_seconds; calls, results and errors pass
// through unchanged. A nil z stays nil.
func (m *Metrics) InstrumentZoom(z onbehalf.Zoom) onbehalf.Zoom {
	if z == nil {
		return nil
	}
	return &instrumentedZoom{z: z, m: m}
}

// instrumentedZoom times the calls of the Zoom it wraps.
type instrumentedZoom struct {
	z onbehalf.Zoom
	m *Metrics
}

// Refresh implements onbehalf.Zoom.
func (iz *instrumentedZoom) Refresh(ctx context.Context, refreshToken string) (onbehalf.Token, error) {
	start := time.Now()
	tok, err := iz.z.Refresh(ctx, refreshToken)
	iz.m.refreshDuration.WithLabelValues(resultLabel(err)).Observe(time.Since(start).Seconds())
	return tok, err
}

// MintToken implements onbehalf.Zoom.
func (iz *instrumentedZoom) MintToken(ctx context.Context, accessToken string, kind onbehalf.TokenKind, meetingID string) (string, error) {
	start := time.Now()
	tok, err := iz.z.MintToken(ctx, accessToken, kind, meetingID)
	iz.m.mintDuration.WithLabelValues(kindLabel(kind), resultLabel(err)).Observe(time.Since(start).Seconds())
	return tok, err
}

// kindsLabel is the kind label of a request: its kinds joined in canonical
// order (at most seven combinations), or none.
func kindsLabel(kinds []onbehalf.TokenKind) string {
	if s := onbehalf.KindsString(kinds); s != "" {
		return s
	}
	return noKind
}

// kindLabel is the kind label of one mint.
func kindLabel(k onbehalf.TokenKind) string {
	if k.Valid() {
		return string(k)
	}
	return otherValue
}

// resultLabel is ok, or err's code when it is one of the vocabulary's.
func resultLabel(err error) string {
	if err == nil {
		return resultOK
	}
	if code := onbehalf.ErrorCode(err); errorCodes[code] {
		return code
	}
	return otherValue
}

// statusLabel is an HTTP status as a label ("200"); anything outside
// 100–599 is other.
func statusLabel(status int) string {
	if status < 100 || status > 599 {
		return otherValue
	}
	return strconv.Itoa(status)
}

// statusClass is an HTTP status's class ("2xx").
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return otherValue
	}
	return strconv.Itoa(status/100) + "xx"
}
