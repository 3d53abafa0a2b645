// Package ratelimit holds bounded tables of token buckets
// (golang.org/x/time/rate) keyed by strings: client IPs, connections, API
// keys. Time is always passed in, so tests use a fake clock.
package ratelimit

import (
	"container/list"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"golang.org/x/time/rate"
)

// PerMinute returns a table allowing n requests per minute per key, with a
// burst of a minute's worth, for at most maxKeys keys; nil when n is 0
// (off).
func PerMinute(n, maxKeys int) *Table {
	if n <= 0 {
		return nil
	}
	return New(rate.Limit(float64(n)/60), n, maxKeys)
}

// IPKey is the rate-limit key of a client IP: the address itself for IPv4,
// its /64 for IPv6 (one host usually owns a whole /64, so per-address keys
// would let it rotate freely).
func IPKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a.Is4() { // already in its one canonical form: no new string
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// Table is a table of token buckets keyed by string, bounded in size. An
// entry idle long enough to have refilled is the same as a new
// one, so it is dropped; when the table is full, the least recently used
// entry is dropped (that key starts again with a full bucket). Memory stays
// bounded whatever keys clients make up.
type Table struct {
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

// New returns a table refilling at r per second up to burst, for at most
// maxKeys keys.
func New(r rate.Limit, burst, maxKeys int) *Table {
	return &Table{
		limit: r, burst: burst, max: maxKeys,
		idle: time.Duration(float64(burst) / float64(r) * float64(time.Second)),
		lru:  list.New(), m: make(map[string]*list.Element),
	}
}

// Allow takes a token for key at now. When none is left it takes nothing
// and returns how long until one is.
func (l *Table) Allow(key string, now time.Time) (ok bool, wait time.Duration) {
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

// Budget returns what key has left at now: whole requests, and how long
// until its bucket is full again (a key not held has the whole burst).
// It takes nothing: replies tell clients their budget with it.
func (l *Table) Budget(key string, now time.Time) (remaining int, full time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.m[key]
	if !ok {
		return l.burst, 0
	}
	tokens := max(e.Value.(*bucket).lim.TokensAt(now), 0)
	return int(tokens), time.Duration((float64(l.burst) - tokens) / float64(l.limit) * float64(time.Second))
}

// Burst returns how many requests a key may make at once: the quota.
func (l *Table) Burst() int { return l.burst }

// drop removes an entry; l.mu is held.
func (l *Table) drop(e *list.Element) {
	l.lru.Remove(e)
	delete(l.m, e.Value.(*bucket).key)
}

// Len returns the number of keys held.
func (l *Table) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// TooMany returns the ETOOMANY error of a refused request that may try
// again after wait, its message ending with the whole seconds to wait. The
// HTTP layer sets Retry-After from RetryAfter.
func TooMany(wait time.Duration, msg string) error {
	secs := RetryAfter(wait)
	return &onbehalf.Error{Code: onbehalf.ETOOMANY, Message: fmt.Sprintf("%s Try again in %d s.", msg, secs), Err: retryAfter(secs)}
}

// RetryAfter returns wait in whole seconds, rounded up, at least 1.
func RetryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}

// retryAfter carries the seconds to wait inside an ETOOMANY error.
type retryAfter int

func (r retryAfter) Error() string { return "retry after " + strconv.Itoa(int(r)) + " s" }

// RetryAfterOf returns the seconds to wait of an error made by TooMany, or
// 0.
func RetryAfterOf(err error) int {
	if r, ok := errors.AsType[retryAfter](err); ok {
		return int(r)
	}
	return 0
}
