package keepalive

import "time"

// bucket is a token bucket driven by explicit times, so that a fake clock
// drives it in tests: tokens accrue at rate per second up to burst, and
// each start takes one. It is not safe for concurrent use.
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// configure sets the rate and burst; the bucket starts full.
func (b *bucket) configure(rate float64, burst int) {
	if b.rate == rate && b.burst == float64(burst) {
		return
	}
	b.rate, b.burst = rate, float64(burst)
	b.tokens, b.last = b.burst, time.Time{}
}

// reserve takes one token at now and returns how long to wait before the
// start it pays for may happen (0: at once). Tokens taken ahead of time
// make the bucket negative, so later callers wait longer.
func (b *bucket) reserve(now time.Time) time.Duration {
	if b.last.IsZero() {
		b.last = now
	}
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}
