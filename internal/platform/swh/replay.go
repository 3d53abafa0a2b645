package swh

import (
	"sync"
	"time"
)

// replayCache remembers webhook-ids until their timestamps go stale. It is
// in memory and per process: with several instances behind a load
// balancer, or after a restart, a replay within the 5-minute window can
// reach an instance that has not seen the ID (README, "Many instances").
// It holds at most max claims; beyond that the oldest is forgotten early.
// Only requests with a valid signature are claimed, so nobody without the
// secret can fill it.
type replayCache struct {
	mu    sync.Mutex
	max   int
	m     map[string]*claim
	queue []queued // in claim order
}

// claim is what the cache knows of one ID.
type claim struct {
	until time.Time
	// released: the request failed; the ID may be used again, for bound
	// only (the same URL), so that its headers cannot open another.
	released bool
	bound    string
}

// queued is an ID and the time until which it is remembered.
type queued struct {
	id    string
	until time.Time
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, m: make(map[string]*claim)}
}

// claim remembers id until the given time for bind and reports whether it
// may be used at now: new, no longer remembered, or released for the same
// bind.
func (r *replayCache) claim(id string, until, now time.Time, bind string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.queue) > 0 && (!r.queue[0].until.After(now) || len(r.queue) >= r.max) {
		r.pop()
	}
	if c, ok := r.m[id]; ok && c.until.After(now) {
		if !c.released || c.bound != bind {
			return false
		}
	}
	r.m[id] = &claim{until: until, bound: bind}
	r.queue = append(r.queue, queued{id, until})
	return true
}

// pop forgets the oldest claim, unless its ID was claimed again since.
func (r *replayCache) pop() {
	q := r.queue[0]
	r.queue = r.queue[1:]
	if c, ok := r.m[q.id]; ok && c.until.Equal(q.until) {
		delete(r.m, q.id)
	}
}

// release lets id be used again, for bind only.
func (r *replayCache) release(id, bind string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.m[id]; ok {
		c.released, c.bound = true, bind
	}
}

// len returns the number of IDs remembered.
func (r *replayCache) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}
