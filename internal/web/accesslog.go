package web

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/logging"
)

// summaryEvery is how often refused requests are summed up at INFO.
const summaryEvery = time.Minute

// requestID gives every request an ID: the client's X-Request-ID when it
// is a short token (a proxy's), else a new one. It is sent back and is on
// every log line of the request.
func (s *Server) requestID(c *gin.Context) {
	var id string
	if v := c.Request.Header["X-Request-Id"]; len(v) > 0 { // canonical key: no allocation
		id = v[0]
	}
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Writer.Header()["X-Request-Id"] = []string{id} // canonical already: no Set on the hot path
	c.Request = c.Request.WithContext(logging.WithRequestID(c.Request.Context(), id))
	c.Next()
}

// requestIDPrefix makes this process's request IDs unlike another's;
// requestIDSeq numbers them. IDs need to be unique, not unguessable, and a
// counter is cheaper than the random source on every request.
var (
	requestIDPrefix = rand.Text()[:8]
	requestIDSeq    atomic.Uint64
)

// newRequestID returns a new request ID: 16 characters, the process
// prefix and a base-32 sequence number.
func newRequestID() string {
	var b [16]byte
	copy(b[:], requestIDPrefix)
	n := requestIDSeq.Add(1)
	for i := len(b) - 1; i >= len(requestIDPrefix); i-- {
		b[i] = base32Digits[n&31]
		n >>= 5
	}
	return string(b[:])
}

// base32Digits are those of rand.Text (RFC 4648), so that an ID is one
// alphabet throughout.
const base32Digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// validRequestID accepts 1–64 characters of [A-Za-z0-9._-].
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// accessLog logs every request: method, path (never the query: token URLs
// carry secrets), status and duration. Refused requests (4xx) and served
// token requests and health checks are logged at debug only, so that junk
// from the internet and busy bots cannot fill the log; refused requests
// are summed up at INFO once a minute instead.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	switch {
	case status >= 400 && status < 500:
		level = slog.LevelDebug
		s.quiet.refused(status)
	case isProbe(c.FullPath()) || c.Request.Method == "HEAD" || s.tokenPaths[c.FullPath()]:
		level = slog.LevelDebug
	}
	ctx := c.Request.Context()
	if !s.log.Enabled(ctx, level) {
		return
	}
	s.log.LogAttrs(ctx, level, "http",
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", status),
		slog.Duration("took", time.Since(start)),
		slog.String("ip", c.ClientIP()))
}

// quietLog counts refused requests and logs a summary at most once per
// summaryEvery.
type quietLog struct {
	log  *slog.Logger
	now  func() time.Time
	mu   sync.Mutex
	n    map[int]int
	last time.Time
}

func newQuietLog(l *slog.Logger, now func() time.Time) *quietLog {
	return &quietLog{log: l, now: now, n: map[int]int{}, last: now()}
}

// refused counts one refused request and, when a period is over, logs the
// summary of the period.
func (q *quietLog) refused(status int) {
	q.mu.Lock()
	q.n[status]++
	now := q.now()
	if now.Sub(q.last) < summaryEvery {
		q.mu.Unlock()
		return
	}
	counts, since := q.n, q.last
	q.n, q.last = map[int]int{}, now
	q.mu.Unlock()
	var parts []string
	total := 0
	for st, n := range counts {
		parts = append(parts, fmt.Sprintf("%d×%d", n, st))
		total += n
	}
	sort.Strings(parts)
	q.log.Info("refused requests (logged one by one at debug level)", "count", total, "by_status", strings.Join(parts, " "), "since", since.UTC().Format(time.RFC3339))
}
