package postgres

import (
	"bytes"
	"sync"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// defaultCacheSize bounds the decoded-connection cache (about 1 KB an
// entry).
const defaultCacheSize = 10_000

// sealedParts is what a connection row seals, opened.
type sealedParts struct {
	token   onbehalf.Token
	profile profile
}

// connCache keeps the opened sealed columns of connections by row
// version: the token callback's read (Store.Connection) sends the version
// it holds, and the database leaves the sealed columns out when the row
// still has it, so that a read costs one round trip and no decryption.
// Every write of a sealed column increments the version (sql/queries), so
// a stale entry is never used, on this instance or another: it is only
// replaced. Writes through this store update or drop the entry anyway, so
// that tokens of deleted or disconnected connections leave memory at once.
type connCache struct {
	mu  sync.RWMutex
	max int
	m   map[string]cacheEntry
}

type cacheEntry struct {
	version int64
	parts   sealedParts
}

func newConnCache(max int) *connCache {
	return &connCache{max: max, m: make(map[string]cacheEntry)}
}

// entry returns a copy of what is cached for id (version -1: nothing),
// for the read query to compare and to use when it matches.
func (c *connCache) entry(id string) cacheEntry {
	if c.max <= 0 {
		return cacheEntry{version: -1}
	}
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok {
		return cacheEntry{version: -1}
	}
	e.parts.profile.Metadata = bytes.Clone(e.parts.profile.Metadata)
	return e
}

// get returns a copy of the parts cached for id at version.
func (c *connCache) get(id string, version int64) (sealedParts, bool) {
	if c.max <= 0 {
		return sealedParts{}, false
	}
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || e.version != version {
		return sealedParts{}, false
	}
	p := e.parts
	p.profile.Metadata = bytes.Clone(p.profile.Metadata) // the one field a caller could change in place
	return p, true
}

// put remembers the parts of id at version, unless a newer version is
// cached already. When full, an arbitrary entry goes.
func (c *connCache) put(id string, version int64, p sealedParts) {
	if c.max <= 0 {
		return
	}
	p.profile.Metadata = bytes.Clone(p.profile.Metadata)
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.m[id]
	if ok && old.version > version {
		return
	}
	if !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[id] = cacheEntry{version: version, parts: p}
}

// drop forgets a connection.
func (c *connCache) drop(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}
