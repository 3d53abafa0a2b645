package tokens

import (
	"context"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Refresh refreshes a connection's token pair unless it was refreshed
// since the caller read it: stale is the access token the caller saw.
// Concurrent calls for one connection share one refresh. It returns the
// connection with a usable pair. The caller waits at most Wait (then
// ETIMEOUT); the refresh itself goes on up to RefreshTimeout and its
// result is committed.
func (m *Manager) Refresh(ctx context.Context, connID, stale string) (*onbehalf.Connection, error) {
	m.init()
	// Checked here too: a caller arriving after Close must not join the
	// result of a flight that finished during it.
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return nil, onbehalf.Errorf(onbehalf.EUNAVAILABLE, "The server is shutting down.")
	}
	// A refresh failed moments ago: fail fast instead of asking Zoom
	// again (cooldown.go).
	if err := m.coolingErr(connID); err != nil {
		return nil, err
	}
	ch := m.flights.DoChan(connID, func() (any, error) {
		if err := m.begin(); err != nil {
			return nil, err
		}
		defer m.inflight.Done()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.refreshTimeout())
		defer cancel()
		return m.refresh(rctx, connID, stale)
	})
	timer := time.NewTimer(m.wait())
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*onbehalf.Connection), nil
	case <-ctx.Done():
		return nil, onbehalf.WrapError(ctx.Err(), onbehalf.ETIMEOUT, "Timed out waiting for the Zoom token refresh.")
	case <-timer.C:
		// The refresh goes on and its result is committed; only this
		// caller stops waiting.
		return nil, onbehalf.Errorf(onbehalf.ETIMEOUT, "Zoom did not answer the token refresh in time; it goes on in the background, try again in a moment.")
	}
}

// fresh reports whether c's pair is not the one the caller saw and lives
// beyond the margin: someone refreshed it meanwhile.
func (m *Manager) fresh(c *onbehalf.Connection, stale string) bool {
	return c.Token.AccessToken != stale && c.Token.Expiry.Sub(m.now()) >= m.margin()
}

// refresh runs inside the connection's flight.
func (m *Manager) refresh(ctx context.Context, connID, stale string) (*onbehalf.Connection, error) {
	unlock, err := m.locks.lock(ctx, connID)
	if err != nil {
		return nil, onbehalf.WrapError(err, onbehalf.ETIMEOUT, "Timed out waiting for the connection to be free.")
	}
	defer unlock()
	c, err := m.current(ctx, connID)
	if err != nil || m.fresh(c, stale) {
		return c, err
	}
	// Never start a refresh that cannot be committed: Zoom kills the old
	// refresh token the moment it answers.
	if err := m.Store.Writable(ctx); err != nil {
		return nil, onbehalf.WrapError(err, onbehalf.EUNAVAILABLE,
			onbehalf.ErrorMessage(err)+" The Zoom token cannot be refreshed until the store can write again.")
	}
	if m.pending.has(connID) {
		// A rotated pair waits to be committed: commit it first, it is
		// the pair to refresh from.
		m.commitPending(ctx)
		if c, err = m.current(ctx, connID); err != nil || m.fresh(c, stale) {
			return c, err
		}
		if m.pending.has(connID) {
			return nil, onbehalf.Errorf(onbehalf.EUNAVAILABLE, "A refreshed Zoom token could not be saved yet; try again in a moment.")
		}
	}
	held, c, err := m.lease(ctx, connID, stale)
	if err != nil || held == nil {
		return c, err
	}
	defer held.release()
	zctx, stop := m.keepLease(ctx, connID, held.taken)
	defer stop()
	return m.rotate(ctx, zctx, c)
}

// rotate spends c's refresh token at Zoom and commits the new pair with a
// compare-and-swap on the refresh token it replaces. The Zoom call runs
// under zctx, which ends when the refresh lease may end (lease.go); what
// follows Zoom's answer runs under ctx: the answer must be kept.
func (m *Manager) rotate(ctx, zctx context.Context, c *onbehalf.Connection) (*onbehalf.Connection, error) {
	connID, from := c.ID, c.Token.RefreshToken
	tok, err := m.Zoom.Refresh(zctx, from)
	if err != nil {
		return m.refreshFailed(ctx, connID, from, err)
	}
	m.uncertain.Delete(connID)
	if tok.RefreshToken == "" || tok.RefreshToken == from {
		m.stats.noRefresh.Add(1)
		m.logger().Warn("Zoom answered a token refresh without a new refresh token; keeping the old one", "conn", connID)
		tok.RefreshToken = from
	}
	saved, err := m.Store.SaveToken(ctx, connID, from, tok)
	switch onbehalf.ErrorCode(err) {
	case "":
		m.stats.ok.Add(1)
		if early(c, m.now()) {
			m.stats.early.Add(1)
		}
		m.logger().Debug("zoom token refreshed", "conn", connID, "expires", saved.Token.Expiry)
		m.refreshed(ctx, saved)
		return saved, nil
	case onbehalf.ECONFLICT:
		// The person connected again while Zoom answered: the new grant
		// is stored, and Zoom killed the one this pair belongs to.
		m.stats.stale.Add(1)
		m.failing.forget(connID)
		m.logger().Debug("stale refresh result dropped: the connection changed meanwhile", "conn", connID)
		return m.current(ctx, connID)
	case onbehalf.ENOTFOUND, onbehalf.EDISCONNECTED:
		m.failing.forget(connID)
		// Deleted or disconnected during the refresh: the pair is alive at
		// Zoom and nobody holds it. Revoke it.
		m.stats.stale.Add(1)
		m.logger().Info("connection went away during a refresh; revoking the pair it got", "conn", connID)
		m.revoke(ctx, connID, tok)
		return nil, err
	}
	// The store could not write: keep the pair, serve from it, commit it
	// later. A crash before then loses the connection (README).
	m.stats.uncommitted.Add(1)
	m.pending.put(connID, from, tok)
	m.logger().Error("could not save the rotated Zoom token pair; keeping it in memory and retrying", "conn", connID, "err", err)
	c.Token = tok
	m.refreshed(ctx, c) // Zoom works again; the event may not be writable yet
	return c, nil
}

// uncertainRefresh is a refresh of a connection whose answer never
// arrived: from is the refresh token it spent, why says what happened in
// the words a disconnected reason ends with.
type uncertainRefresh struct{ from, why string }

// The endings of a disconnected reason after an uncertain refresh.
const (
	noAnswer = "An earlier refresh got no answer from Zoom, which had likely rotated the token already."
	diedMid  = "Another instance stopped in the middle of refreshing it (killed or crashed), after Zoom had likely rotated the token for it."
)

// refreshFailed handles a refresh Zoom refused or never answered.
func (m *Manager) refreshFailed(ctx context.Context, connID, from string, err error) (*onbehalf.Connection, error) {
	if onbehalf.ErrorCode(err) != onbehalf.EDISCONNECTED {
		m.stats.failed.Add(1)
		if code := onbehalf.ErrorCode(err); code == onbehalf.ETIMEOUT || code == onbehalf.EUPSTREAM {
			// Zoom may have rotated without the answer reaching us.
			m.uncertain.Store(connID, uncertainRefresh{from: from, why: noAnswer})
		}
		m.logger().Warn("zoom token refresh failed", "conn", connID, "err", err)
		m.refreshFailedFor(connID, err)
		return nil, err
	}
	m.failing.forget(connID) // dead: connection.disconnected says the rest
	reason := onbehalf.ErrorMessage(err)
	if prev, ok := m.uncertain.LoadAndDelete(connID); ok && prev.(uncertainRefresh).from == from {
		m.stats.lostAfterUncertain.Add(1)
		reason += " " + prev.(uncertainRefresh).why
		m.logger().Error("connection lost after a refresh whose answer never arrived", "conn", connID)
	}
	_, merr := m.Store.MarkDisconnected(ctx, connID, from, reason)
	switch onbehalf.ErrorCode(merr) {
	case "":
		m.stats.dead.Add(1)
		m.logger().Warn("zoom rejected the refresh token; connection disconnected", "conn", connID, "reason", reason)
	case onbehalf.ECONFLICT:
		// Zoom refused the old grant because the person connected again:
		// the new grant stands.
		m.stats.stale.Add(1)
		m.logger().Debug("stale refresh rejection dropped: the connection changed meanwhile", "conn", connID)
		return m.current(ctx, connID)
	case onbehalf.ENOTFOUND, onbehalf.EDISCONNECTED:
		return nil, merr
	default:
		m.logger().Error("marking connection disconnected", "conn", connID, "err", merr)
	}
	return nil, onbehalf.Errorf(onbehalf.EDISCONNECTED, "%s", reason)
}
