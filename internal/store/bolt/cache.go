package bolt

import (
	"bytes"
	"sync"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// defaultCacheSize bounds the decoded-connection cache (about 1.2 KB an
// entry).
const defaultCacheSize = 10_000

// connCache keeps decoded connections next to the exact stored bytes they
// were decoded from. A read whose stored bytes equal the cached ones skips
// the JSON decoding and the decryption: that is the token callback's hot
// path. No invalidation is needed for correctness (every write changes the
// stored bytes: a fresh nonce, a new UpdatedAt), but writes drop the entry
// anyway, so that tokens of deleted or disconnected connections leave
// memory at once.
type connCache struct {
	mu  sync.RWMutex
	max int
	m   map[string]cacheEntry
}

type cacheEntry struct {
	raw  []byte
	conn onbehalf.Connection
}

func newConnCache(max int) *connCache {
	return &connCache{max: max, m: make(map[string]cacheEntry)}
}

// get returns a copy of the connection decoded from raw, if cached.
func (c *connCache) get(id string, raw []byte) (onbehalf.Connection, bool) {
	if c.max <= 0 {
		return onbehalf.Connection{}, false
	}
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || !bytes.Equal(e.raw, raw) {
		return onbehalf.Connection{}, false
	}
	conn := e.conn
	conn.Metadata = bytes.Clone(conn.Metadata) // the one field a caller could change in place
	return conn, true
}

// put remembers conn as decoded from raw (copied: bbolt's memory is only
// valid inside its transaction). When full, an arbitrary entry goes.
func (c *connCache) put(id string, raw []byte, conn onbehalf.Connection) {
	if c.max <= 0 {
		return
	}
	conn.Metadata = bytes.Clone(conn.Metadata)
	e := cacheEntry{raw: bytes.Clone(raw), conn: conn}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[id]; !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[id] = e
}

// rebase moves a cached connection decoded from old to the bytes new
// that a write made of it, with change applied, so that a write that
// touches only the clear part of a record (NoteMinted) does not cost the
// next reader a decryption.
func (c *connCache) rebase(id string, old, new []byte, change func(*onbehalf.Connection)) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || !bytes.Equal(e.raw, old) {
		return
	}
	change(&e.conn)
	e.raw = new
	c.m[id] = e
}

// drop forgets a connection.
func (c *connCache) drop(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}
