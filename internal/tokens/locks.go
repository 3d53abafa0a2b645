package tokens

import (
	"context"
	"sync"

	"golang.org/x/sync/singleflight"
)

// flights joins concurrent refreshes of one connection into one.
type flights = singleflight.Group

// keyedLocks are mutexes by key, made on demand and dropped when free.
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyedLock
}

// keyedLock is one key's lock: a one-slot channel, and how many hold or
// wait for it.
type keyedLock struct {
	ch   chan struct{}
	refs int
}

// lock takes key's lock, waiting at most until ctx ends, and returns what
// releases it.
func (k *keyedLocks) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]*keyedLock)
	}
	l := k.m[key]
	if l == nil {
		l = &keyedLock{ch: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; k.put(key, l) }, nil
	case <-ctx.Done():
		k.put(key, l)
		return nil, ctx.Err()
	}
}

// put forgets one holder or waiter of key's lock.
func (k *keyedLocks) put(key string, l *keyedLock) {
	k.mu.Lock()
	if l.refs--; l.refs == 0 {
		delete(k.m, key)
	}
	k.mu.Unlock()
}
