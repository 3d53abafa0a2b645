// Package clocktest is the one clock tests set by hand: pass its Now
// wherever a package takes a clock (Options.Now, Deps.Now), then move it
// with Set or Advance instead of sleeping. It is safe for concurrent use,
// so a server's goroutines may read it while the test moves it.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a time that moves only when told.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock at start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time; its method value fits every Now option.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t (backwards too: a clock that jumps back is
// something to test).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}
