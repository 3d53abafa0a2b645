package tokens

import (
	"context"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Connect stores a fresh grant of a Zoom user (the OAuth callback, the
// API's code exchange), after any refresh of that user's connection in
// this process has finished: connecting, disconnecting and refreshing one
// connection are serialized. It reports whether the connection is new.
func (m *Manager) Connect(ctx context.Context, a onbehalf.Authorization) (*onbehalf.Connection, bool, error) {
	m.init()
	if old, err := m.Store.ConnectionByZoomUser(ctx, a.User.ID); err == nil {
		unlock, err := m.locks.lock(ctx, old.ID)
		if err != nil {
			return nil, false, onbehalf.WrapError(err, onbehalf.ETIMEOUT, "Timed out waiting for the connection's token refresh.")
		}
		defer unlock()
	}
	c, created, err := m.Store.Connect(ctx, a)
	if err == nil {
		m.pending.drop(c.ID)
		m.uncertain.Delete(c.ID)
		m.failing.forget(c.ID)
	}
	return c, created, err
}

// Disconnect deletes a connection (tokens and personal data) and revokes
// its grant at Zoom, after any refresh of it in this process has finished.
// It returns the deleted connection; revokeErr says whether Zoom could be
// told (the connection is deleted either way).
func (m *Manager) Disconnect(ctx context.Context, id string) (c *onbehalf.Connection, revokeErr, err error) {
	m.init()
	unlock, err := m.locks.lock(ctx, id)
	if err != nil {
		return nil, nil, onbehalf.WrapError(err, onbehalf.ETIMEOUT, "Timed out waiting for the connection's token refresh.")
	}
	defer unlock()
	c, err = m.Store.DeleteConnection(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	newest := c.Token
	if tok, ok := m.pending.get(id, c.Token.RefreshToken); ok {
		newest = tok
	}
	m.pending.drop(id)
	m.uncertain.Delete(id)
	m.failing.forget(id)
	return c, m.revokeErr(ctx, newest), nil
}

// Deauthorize deletes the connection of a Zoom user who removed the app
// at the given time (Zoom's app_deauthorized): the grant is gone at Zoom
// already. A connection granted since is kept (ECONFLICT): the event was
// about an earlier grant.
func (m *Manager) Deauthorize(ctx context.Context, zoomUserID string, at time.Time) (*onbehalf.Connection, error) {
	m.init()
	old, err := m.Store.ConnectionByZoomUser(ctx, zoomUserID)
	if err != nil {
		return nil, err
	}
	unlock, err := m.locks.lock(ctx, old.ID)
	if err != nil {
		return nil, onbehalf.WrapError(err, onbehalf.ETIMEOUT, "Timed out waiting for the connection's token refresh.")
	}
	defer unlock()
	c, err := m.Store.DeleteByZoomUser(ctx, zoomUserID, at)
	if err == nil {
		m.pending.drop(c.ID)
		m.uncertain.Delete(c.ID)
		m.failing.forget(c.ID)
	}
	return c, err
}

// revoke revokes the grant tok belongs to, logging a failure.
func (m *Manager) revoke(ctx context.Context, connID string, tok onbehalf.Token) {
	if err := m.revokeErr(ctx, tok); err != nil {
		m.logger().Warn("revoking a Zoom grant failed", "conn", connID, "err", err)
	}
}

// revokeErr revokes the grant tok belongs to (through its access token, or
// its refresh token when it has none).
func (m *Manager) revokeErr(ctx context.Context, tok onbehalf.Token) error {
	t := tok.AccessToken
	if t == "" {
		t = tok.RefreshToken
	}
	if m.Revoker == nil || t == "" {
		return nil
	}
	return m.Revoker.Revoke(context.WithoutCancel(ctx), t)
}
