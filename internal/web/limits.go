package web

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Request size limits, checked for every route before any handler runs.
const (
	// maxQueryBytes bounds the raw query string. Token URLs need a few
	// hundred bytes (plus what platforms append); Zoom's OAuth redirect,
	// less than 2 KiB.
	maxQueryBytes = 8 << 10
	// maxBodyBytes bounds any request body; handlers may set less.
	maxBodyBytes = 1 << 20
)

// limitRequest refuses oversized query strings and caps request bodies.
func (s *Server) limitRequest(c *gin.Context) {
	if len(c.Request.URL.RawQuery) > maxQueryBytes {
		c.Abort()
		err := onbehalf.Errorf(onbehalf.EINVALID, "The query string is too long (more than %d bytes).", maxQueryBytes)
		plain(c, onbehalf.HTTPStatus(err), onbehalf.ErrorMessage(err))
		return
	}
	if c.Request.ContentLength > maxBodyBytes {
		c.Abort()
		err := onbehalf.Errorf(onbehalf.EINVALID, "The request body is too large (more than %d bytes).", maxBodyBytes)
		plain(c, http.StatusRequestEntityTooLarge, onbehalf.ErrorMessage(err))
		return
	}
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	}
	c.Next()
}

// botWindow is the rolling window of BOTS_PER_HOUR.
const botWindow = time.Hour

// botBudget bounds the bots one connection sends from the launch page in
// a rolling hour. The bots are counted in the store (ListBots, newest
// first), so every instance sees the others' bots; launches still in
// flight on this instance are counted too, so that a burst of parallel
// posts cannot all pass the same count. (Launches in flight on other
// instances at the same moment may each pass: at most one extra bot per
// instance.)
type botBudget struct {
	limit int
	store Store
	now   func() time.Time

	mu    sync.Mutex
	conns map[string]*budgetEntry
}

// budgetEntry serializes the check of one connection and counts its
// launches in flight; refs counts the requests holding it.
type budgetEntry struct {
	mu             sync.Mutex
	inflight, refs int
}

// reserve takes one bot from connID's budget, or says when the next one
// may go: ETOOMANY (429) with retryAt. The caller calls release once the
// launch ended, stored or not.
func (b *botBudget) reserve(ctx context.Context, connID string) (release func(), retryAt time.Time, err error) {
	if b.limit <= 0 {
		return func() {}, time.Time{}, nil
	}
	b.mu.Lock()
	e := b.conns[connID]
	if e == nil {
		e = &budgetEntry{}
		b.conns[connID] = e
	}
	e.refs++
	b.mu.Unlock()
	drop := func() {
		b.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(b.conns, connID)
		}
		b.mu.Unlock()
	}

	e.mu.Lock()
	now := b.now()
	recent, err := b.recent(ctx, connID, now)
	if err == nil && len(recent)+e.inflight >= b.limit {
		// The next bot may go once the (limit-inflight)-th newest bot of
		// the window is older than the window.
		retryAt = now.Add(botWindow)
		if i := b.limit - e.inflight - 1; i >= 0 && i < len(recent) {
			retryAt = recent[i].Add(botWindow)
		}
		err = onbehalf.Errorf(onbehalf.ETOOMANY, "You sent %d bots in the last hour, the most this server allows (BOTS_PER_HOUR=%d). You can send the next one at %s UTC (in %s).",
			len(recent)+e.inflight, b.limit, retryAt.UTC().Format("15:04"), waitWords(retryAt.Sub(now)))
	}
	if err != nil {
		e.mu.Unlock()
		drop()
		return nil, retryAt, err
	}
	e.inflight++
	e.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			e.mu.Lock()
			e.inflight--
			e.mu.Unlock()
			drop()
		})
	}, time.Time{}, nil
}

// recent returns the creation times of connID's bots within the window
// before now, newest first, at most limit of them.
func (b *botBudget) recent(ctx context.Context, connID string, now time.Time) ([]time.Time, error) {
	var out []time.Time
	cursor := ""
	for {
		page, next, err := b.store.ListBots(ctx, onbehalf.BotFilter{ConnectionID: connID, Limit: min(b.limit, botsShown), Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, bot := range page {
			if !bot.CreatedAt.After(now.Add(-botWindow)) || len(out) >= b.limit {
				return out, nil
			}
			out = append(out, bot.CreatedAt)
		}
		if next == "" || len(page) == 0 {
			return out, nil
		}
		cursor = next
	}
}

// waitWords says a wait in minutes ("1 minute", "42 minutes").
func waitWords(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "1 minute"
	}
	return strconv.Itoa(m) + " minutes"
}
