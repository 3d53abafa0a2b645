package tokens

import (
	"context"
	"crypto/rand"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
)

// pendingPairs holds rotated pairs whose commit failed (the store could
// not write), sealed with a key that lives in this process only, until
// they are committed.
type pendingPairs struct {
	keys *seal.Keyring
	mu   sync.Mutex
	m    map[string]pendingPair
}

// pendingPair is a rotated pair and the stored refresh token it replaces.
type pendingPair struct {
	from   string
	sealed string
}

func newPendingPairs() *pendingPairs {
	k, err := seal.NewKey()
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	kr, err := seal.NewKeyring(k)
	if err != nil {
		panic(err)
	}
	return &pendingPairs{keys: kr, m: make(map[string]pendingPair)}
}

// put keeps tok for connID, replacing from.
func (p *pendingPairs) put(connID, from string, tok onbehalf.Token) {
	sealed, err := p.keys.SealJSON(tok, connID)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.m[connID] = pendingPair{from: from, sealed: sealed}
	p.mu.Unlock()
}

// get returns the pending pair of connID when it replaces stored (the
// refresh token the store holds).
func (p *pendingPairs) get(connID, stored string) (onbehalf.Token, bool) {
	p.mu.Lock()
	e, ok := p.m[connID]
	p.mu.Unlock()
	if !ok || e.from != stored {
		return onbehalf.Token{}, false
	}
	return p.open(connID, e)
}

func (p *pendingPairs) open(connID string, e pendingPair) (onbehalf.Token, bool) {
	var tok onbehalf.Token
	return tok, p.keys.OpenJSON(e.sealed, connID, &tok) == nil
}

func (p *pendingPairs) has(connID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.m[connID]
	return ok
}

func (p *pendingPairs) drop(connID string) {
	p.mu.Lock()
	delete(p.m, connID)
	p.mu.Unlock()
}

func (p *pendingPairs) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

// snapshot returns the pending entries.
func (p *pendingPairs) snapshot() map[string]pendingPair {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]pendingPair, len(p.m))
	for k, v := range p.m {
		out[k] = v
	}
	return out
}

// commitPending tries to commit every pending pair, logging at ERROR each
// one that still cannot be.
func (m *Manager) commitPending(ctx context.Context) {
	for connID, e := range m.pending.snapshot() {
		tok, ok := m.pending.open(connID, e)
		if !ok {
			m.pending.drop(connID)
			continue
		}
		_, err := m.Store.SaveToken(ctx, connID, e.from, tok)
		switch onbehalf.ErrorCode(err) {
		case "":
			m.pending.drop(connID)
			m.logger().Info("saved a rotated Zoom token pair that could not be saved before", "conn", connID)
		case onbehalf.ECONFLICT:
			m.pending.drop(connID)
			m.logger().Debug("pending pair dropped: the connection changed meanwhile", "conn", connID)
		case onbehalf.ENOTFOUND, onbehalf.EDISCONNECTED:
			m.pending.drop(connID)
			m.revoke(ctx, connID, tok)
		default:
			m.logger().Error("still cannot save a rotated Zoom token pair (kept in memory; a crash now loses this connection)", "conn", connID, "err", err)
		}
	}
}

// retryLoop commits pending pairs every few seconds until Close.
func (m *Manager) retryLoop() {
	defer m.retrying.Done()
	t := time.NewTicker(retryEvery)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			if m.pending.len() > 0 {
				ctx, cancel := context.WithTimeout(context.Background(), m.refreshTimeout())
				m.commitPending(ctx)
				cancel()
			}
		}
	}
}

// randomID returns a short random identifier.
func randomID() string { return rand.Text()[:16] }
