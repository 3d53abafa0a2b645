// Package tokens is the token manager: it mints Zoom tokens for a
// connection and keeps the connection's rotating token pair alive.
//
// Zoom rotates refresh tokens, so a refresh must never run twice with the
// same refresh token and its result must never be lost. The manager
// therefore funnels every refresh of a connection through one singleflight
// key, re-reads the stored pair inside it (someone may have refreshed
// already), and commits the new pair to the store before any caller uses the
// new access token. The refresh runs detached from the caller's context: a
// bot platform hanging up mid-refresh must not throw away a rotated pair.
package tokens

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"golang.org/x/sync/singleflight"
)

// DefaultMargin is how long before expiry an access token is refreshed.
const DefaultMargin = 5 * time.Minute

// KeepAliveMinInterval is the least time between two keep-alive refreshes
// of one connection: when Zoom's tokens live shorter than the keep-alive
// margin, the scheduler must not refresh them over and over (callbacks
// still refresh inline when the token is about to expire).
const KeepAliveMinInterval = 10 * time.Minute

// Manager mints tokens and refreshes token pairs. The zero value is not
// usable; set Store and Zoom.
type Manager struct {
	Store onbehalf.ConnectionStore
	Zoom  onbehalf.Zoom
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Margin: refresh when the access token expires within it. Default 5m.
	Margin time.Duration
	// Logger gets refresh events; never a token. Default slog.Default().
	Logger *slog.Logger

	group singleflight.Group

	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup
}

var (
	_ onbehalf.TokenMinter = (*Manager)(nil)
	_ onbehalf.Refresher   = (*Manager)(nil)
)

// Mint mints a token of the given kind for a connection. It refreshes the
// pair first when the access token is about to expire, and once more (then
// retries once) when Zoom rejects the access token.
//
// Errors: ENOTFOUND (unknown connection), ECONFLICT (connection dead:
// reconnect), EUPSTREAM (Zoom said no), ETIMEOUT (Zoom did not answer).
func (m *Manager) Mint(ctx context.Context, connID string, kind onbehalf.TokenKind, meetingID string) (string, error) {
	c, err := m.Store.Connection(ctx, connID)
	if err != nil {
		return "", err
	}
	if !c.Connected() {
		return "", disconnected(c)
	}
	if c.Token.Expiry.Sub(m.now()) < m.margin() {
		if c, err = m.Refresh(ctx, connID, c.Token.AccessToken); err != nil {
			return "", err
		}
	}
	tok, err := m.Zoom.MintToken(ctx, c.Token.AccessToken, kind, meetingID)
	if onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED {
		return tok, err
	}
	// Zoom rejected an access token it issued (password or scope change,
	// or simply revoked early): refresh once and retry once.
	m.logger().Debug("zoom rejected access token; refreshing", "conn", connID)
	if c, err = m.Refresh(ctx, connID, c.Token.AccessToken); err != nil {
		return "", err
	}
	tok, err = m.Zoom.MintToken(ctx, c.Token.AccessToken, kind, meetingID)
	if onbehalf.ErrorCode(err) == onbehalf.EUNAUTHORIZED {
		// Still rejected with a brand-new token: that is Zoom's problem to
		// report (likely a missing scope), not the caller's credentials.
		err = &onbehalf.Error{Code: onbehalf.EUPSTREAM, Message: onbehalf.ErrorMessage(err), Err: err}
	}
	return tok, err
}

// Refresh refreshes a connection's token pair unless it was already
// refreshed since the caller read it: stale is the access token the caller
// saw. Concurrent calls for one connection share one refresh. It returns
// the connection with a usable pair.
func (m *Manager) Refresh(ctx context.Context, connID, stale string) (*onbehalf.Connection, error) {
	// Checked here too: a caller arriving after Close must not join the
	// result of a flight that finished during it.
	if err := m.checkOpen(); err != nil {
		return nil, err
	}
	ch := m.group.DoChan(connID, func() (any, error) {
		if err := m.begin(); err != nil {
			return nil, err
		}
		defer m.inflight.Done()
		return m.refresh(context.WithoutCancel(ctx), connID, stale)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*onbehalf.Connection), nil
	case <-ctx.Done():
		// The refresh goes on and its result is committed; only this
		// caller stops waiting.
		return nil, onbehalf.WrapError(ctx.Err(), onbehalf.ETIMEOUT, "Timed out waiting for the Zoom token refresh.")
	}
}

// begin counts a refresh in flight, or fails once Close was called; the
// caller calls m.inflight.Done when the refresh is over.
func (m *Manager) begin() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.closedErr(); err != nil {
		return err
	}
	m.inflight.Add(1)
	return nil
}

// checkOpen fails once Close was called.
func (m *Manager) checkOpen() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closedErr()
}

// closedErr is the error of a closed manager; m.mu is held.
func (m *Manager) closedErr() error {
	if m.closed {
		return onbehalf.Errorf(onbehalf.EUNAVAILABLE, "The server is shutting down.")
	}
	return nil
}

// Close stops new refreshes and waits for those in flight to be committed.
// Call it before closing the store: a refresh whose new pair cannot be
// saved loses the connection.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.inflight.Wait()
}

// RefreshIfExpiring refreshes a connection's pair when its access token
// expires before the given time; the keep-alive scheduler calls it. It
// reads the connection again first, so a connection that a callback
// refreshed meanwhile is skipped, and so is one refreshed less than
// KeepAliveMinInterval ago.
func (m *Manager) RefreshIfExpiring(ctx context.Context, connID string, before time.Time) (bool, error) {
	c, err := m.Store.Connection(ctx, connID)
	if err != nil {
		return false, err
	}
	if !c.Connected() {
		return false, disconnected(c)
	}
	if !c.Token.Expiry.Before(before) || m.now().Sub(c.RefreshedAt) < KeepAliveMinInterval {
		return false, nil
	}
	after, err := m.Refresh(ctx, connID, c.Token.AccessToken)
	if err != nil {
		return false, err
	}
	return after.Token.AccessToken != c.Token.AccessToken, nil
}

// refresh runs inside the singleflight for connID.
func (m *Manager) refresh(ctx context.Context, connID, stale string) (*onbehalf.Connection, error) {
	c, err := m.Store.Connection(ctx, connID)
	if err != nil {
		return nil, err
	}
	if !c.Connected() {
		return nil, disconnected(c)
	}
	if c.Token.AccessToken != stale && c.Token.Expiry.Sub(m.now()) >= m.margin() {
		return c, nil // refreshed by someone else since the caller looked
	}
	tok, err := m.Zoom.Refresh(ctx, c.Token.RefreshToken)
	if err != nil {
		if onbehalf.ErrorCode(err) == onbehalf.ECONFLICT {
			reason := onbehalf.ErrorMessage(err)
			m.logger().Warn("zoom rejected refresh token; connection disconnected", "conn", connID, "reason", reason)
			if merr := m.Store.MarkDisconnected(ctx, connID, reason); merr != nil {
				m.logger().Error("marking connection disconnected", "conn", connID, "err", merr)
			}
			return nil, onbehalf.Errorf(onbehalf.ECONFLICT, "%s", reason)
		}
		m.logger().Warn("zoom token refresh failed", "conn", connID, "err", err)
		return nil, err
	}
	saved, err := m.Store.SaveToken(ctx, connID, tok)
	if err != nil {
		// The old refresh token is dead at Zoom and the new one is not on
		// disk: this is the one window where a connection can be lost.
		m.logger().Error("could not save rotated Zoom token pair", "conn", connID, "err", err)
		if onbehalf.ErrorCode(err) == onbehalf.ECONFLICT || onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
			return nil, err
		}
		return nil, onbehalf.WrapError(err, onbehalf.EINTERNAL, "Could not save the refreshed Zoom token.")
	}
	m.logger().Debug("zoom token refreshed", "conn", connID, "expires", saved.Token.Expiry)
	return saved, nil
}

func disconnected(c *onbehalf.Connection) error {
	reason := c.DisconnectedReason
	if reason == "" {
		reason = "Zoom connection is disconnected."
	}
	return onbehalf.Errorf(onbehalf.ECONFLICT, "%s", reason)
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Manager) margin() time.Duration {
	if m.Margin > 0 {
		return m.Margin
	}
	return DefaultMargin
}

func (m *Manager) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}
