package web

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
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
	id := c.GetHeader("X-Request-ID")
	if !validRequestID(id) {
		id = rand.Text()[:16]
	}
	c.Header("X-Request-ID", id)
	c.Request = c.Request.WithContext(logging.WithRequestID(c.Request.Context(), id))
	c.Next()
}

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
	case c.FullPath() == "/healthz" || c.Request.Method == "HEAD" || s.isTokenPath(c.FullPath()):
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

// isTokenPath reports whether a route pattern is a platform's token route.
func (s *Server) isTokenPath(p string) bool {
	for _, pl := range s.opts.Platforms {
		for _, rt := range pl.TokenRoutes() {
			if rt.Path == p {
				return true
			}
		}
	}
	return false
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
