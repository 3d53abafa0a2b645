package web

import (
	"container/list"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"golang.org/x/time/rate"
)

// Request size limits, checked for every route before any handler runs.
const (
	// maxQueryBytes bounds the raw query string. Token URLs need a few
	// hundred bytes; Zoom's OAuth redirect, less than 2 KiB.
	maxQueryBytes = 4 << 10
	// maxBodyBytes bounds any request body; handlers may set less.
	maxBodyBytes = 1 << 20
	// maxSignedBody bounds the body a Recall signature is checked over.
	maxSignedBody = 64 << 10
)

// Failed-authorization budget per client IP, always on: a burst of
// failBurst failures, refilled at failRate per second. Past it, failing
// requests get 429 instead of 401; requests that pass are never limited by
// it.
const (
	failBurst = 30
	failRate  = 1
)

// maxLimiterKeys bounds each limiter's table (IPs or connection IDs).
const maxLimiterKeys = 10_000

// limitRequest refuses oversized query strings and caps request bodies.
func (s *Server) limitRequest(c *gin.Context) {
	if len(c.Request.URL.RawQuery) > maxQueryBytes {
		c.Abort()
		err := onbehalf.Errorf(onbehalf.EINVALID, "The query string is too long (more than %d bytes).", maxQueryBytes)
		plain(c, statusOf(err), onbehalf.ErrorMessage(err))
		return
	}
	if c.Request.ContentLength > maxBodyBytes {
		c.Abort()
		err := onbehalf.Errorf(onbehalf.EINVALID, "The request body is too large (more than %d bytes).", maxBodyBytes)
		plain(c, statusOf(err), onbehalf.ErrorMessage(err))
		return
	}
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	}
	c.Next()
}

// limits are the rate limits of the token callbacks. perIPLim and
// perConnLim are nil when turned off; failures is always on.
type limits struct {
	perIPLim, perConnLim, failures *limiter
}

// newLimits returns the limits for requests per minute per IP and per
// connection (0: off). Each allows a burst of one minute's worth.
func newLimits(perIPPerMinute, perConnPerMinute int) *limits {
	l := &limits{failures: newLimiter(failRate, failBurst, maxLimiterKeys)}
	if perIPPerMinute > 0 {
		l.perIPLim = newLimiter(rate.Limit(float64(perIPPerMinute)/60), perIPPerMinute, maxLimiterKeys)
	}
	if perConnPerMinute > 0 {
		l.perConnLim = newLimiter(rate.Limit(float64(perConnPerMinute)/60), perConnPerMinute, maxLimiterKeys)
	}
	return l
}

// perIP takes one request from the client IP's budget (RATE_LIMIT_PER_IP).
func (l *limits) perIP(c *gin.Context, now time.Time) error {
	if l.perIPLim == nil {
		return nil
	}
	if ok, wait := l.perIPLim.allow(ipKey(c.ClientIP()), now); !ok {
		return tooMany(c, wait, "Too many token requests from your address (RATE_LIMIT_PER_IP).")
	}
	return nil
}

// perConn takes one request from an authorized connection's budget
// (RATE_LIMIT_PER_CONNECTION). It runs after authorization, so nobody can
// spend another connection's budget with made-up requests.
func (l *limits) perConn(c *gin.Context, connID string, now time.Time) error {
	if l.perConnLim == nil {
		return nil
	}
	if ok, wait := l.perConnLim.allow(connID, now); !ok {
		return tooMany(c, wait, "Too many token requests for this connection (RATE_LIMIT_PER_CONNECTION).")
	}
	return nil
}

// failure records a failed authorization from the client IP. It returns nil
// while the IP has failures left (the caller answers 401), else a 429 error.
func (l *limits) failure(c *gin.Context, now time.Time) error {
	if ok, wait := l.failures.allow(ipKey(c.ClientIP()), now); !ok {
		return tooMany(c, wait, "Too many failed authorizations from your address.")
	}
	return nil
}

// tooMany sets Retry-After (whole seconds, rounded up) and returns an
// ETOOMANY error.
func tooMany(c *gin.Context, wait time.Duration, msg string) error {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Header("Retry-After", strconv.Itoa(secs))
	return onbehalf.Errorf(onbehalf.ETOOMANY, "%s Try again in %d s.", msg, secs)
}

// ipKey is the rate-limit key of a client IP: the address itself for IPv4,
// its /64 for IPv6 (one host usually owns a whole /64, so per-address keys
// would let it rotate freely).
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// limiter is a table of token buckets (golang.org/x/time/rate) keyed by
// string, bounded in size. Time is always passed in, so tests use a fake
// clock. An entry idle long enough to have refilled is the same as a new
// one, so it is dropped; when the table is full, the least recently used
// entry is dropped (that key starts again with a full bucket). Memory stays
// bounded whatever keys clients make up.
type limiter struct {
	limit rate.Limit
	burst int
	max   int
	idle  time.Duration // time for an empty bucket to refill

	mu  sync.Mutex
	lru *list.List // of *bucket, most recently used first
	m   map[string]*list.Element
}

// bucket is one key's limiter.
type bucket struct {
	key  string
	lim  *rate.Limiter
	seen time.Time
}

// newLimiter returns a limiter refilling at r per second up to burst, for
// at most maxKeys keys.
func newLimiter(r rate.Limit, burst, maxKeys int) *limiter {
	return &limiter{
		limit: r, burst: burst, max: maxKeys,
		idle: time.Duration(float64(burst) / float64(r) * float64(time.Second)),
		lru:  list.New(), m: make(map[string]*list.Element),
	}
}

// allow takes a token for key at now. When none is left it takes nothing
// and returns how long until one is.
func (l *limiter) allow(key string, now time.Time) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Least recently used last: drop idle entries from the back.
	for e := l.lru.Back(); e != nil && now.Sub(e.Value.(*bucket).seen) >= l.idle; e = l.lru.Back() {
		l.drop(e)
	}
	var b *bucket
	if e, found := l.m[key]; found {
		b = e.Value.(*bucket)
		l.lru.MoveToFront(e)
	} else {
		if l.lru.Len() >= l.max {
			l.drop(l.lru.Back())
		}
		b = &bucket{key: key, lim: rate.NewLimiter(l.limit, l.burst)}
		l.m[key] = l.lru.PushFront(b)
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// drop removes an entry; l.mu is held.
func (l *limiter) drop(e *list.Element) {
	l.lru.Remove(e)
	delete(l.m, e.Value.(*bucket).key)
}

// len returns the number of keys held.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}
