// Package tokens is the token manager: it mints Zoom tokens for a
// connection and keeps the connection's rotating token pair alive.
//
// Zoom rotates refresh tokens, so a refresh must never run twice with the
// same refresh token and its result must never be lost. The manager
// therefore funnels every refresh of a connection through one flight per
// process (a keyed lock that connecting and disconnecting take too) and one
// lease across processes (the store's RefreshLocker), re-reads the stored
// pair inside it (someone may have refreshed already), and commits the new
// pair with a compare-and-swap on the refresh token it replaces before any
// caller uses it. A stale result (the person reconnected meanwhile) is
// dropped. The refresh runs detached from its callers, with its own
// deadline: a bot platform hanging up must not throw away a rotated pair.
//
// When the store cannot write (disk full), the manager starts no refresh
// it could not commit (the circuit is open): callbacks are served while
// the access token lives, then answered 503. A rotated pair whose commit
// failed is kept sealed in memory, served from, and committed again until
// it lands.
package tokens

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// DefaultMargin is how long before expiry an access token is refreshed.
const DefaultMargin = 5 * time.Minute

// KeepAliveMinInterval is the least time between two keep-alive refreshes
// of one connection: when Zoom's tokens live shorter than the keep-alive
// margin, the scheduler must not refresh them over and over (callbacks
// still refresh inline when the token is about to expire).
const KeepAliveMinInterval = 10 * time.Minute

// Defaults of a Manager.
const (
	// DefaultWait is how long a caller waits for a refresh (ZOOM_TIMEOUT).
	DefaultWait = 10 * time.Second
	// DefaultRefreshTimeout bounds a refresh (ZOOM_REFRESH_TIMEOUT).
	DefaultRefreshTimeout = 60 * time.Second
	// retryEvery is how often uncommitted pairs are committed again.
	retryEvery = 5 * time.Second
	// leasePoll is how often a process waiting for another process's
	// refresh looks at the store.
	leasePoll = 50 * time.Millisecond
)

// Store is what the manager needs from the store.
type Store interface {
	onbehalf.ConnectionStore
	onbehalf.RefreshLocker
	Writable(ctx context.Context) error
}

// Revoker revokes a Zoom grant (POST /oauth/revoke).
type Revoker interface {
	Revoke(ctx context.Context, token string) error
}

// Manager mints tokens and refreshes token pairs. Set Store and Zoom; every
// other field has a default. Fields must not change once it is in use.
type Manager struct {
	Store Store
	Zoom  onbehalf.Zoom
	// Revoker revokes grants nobody holds any more (a pair rotated for a
	// connection deleted meanwhile) and the grants of deleted
	// connections; nil skips revocation.
	Revoker Revoker
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Margin: refresh when the access token expires within it. Default 5m.
	Margin time.Duration
	// Wait bounds how long a caller waits for a refresh (its 504);
	// RefreshTimeout bounds the refresh itself, which goes on after the
	// caller gave up. Defaults DefaultWait and DefaultRefreshTimeout.
	Wait, RefreshTimeout time.Duration
	// Cooldown is how long refreshes of a connection fail fast after one
	// failed for a reason other than a dead grant (cooldown.go); a 429's
	// Retry-After replaces it, up to MaxCooldown. Default DefaultCooldown;
	// negative turns the cool-down off.
	Cooldown time.Duration
	// Notify, when set, is called after an event was written on its own
	// (connection.recovered), to wake the event stream and the webhook
	// delivery.
	Notify func()
	// Owner names this process in refresh leases; default a random ID.
	Owner string
	// LeaseTTL is how long a refresh lease lasts unless renewed (lease.go):
	// the longest a process that dies mid-refresh blocks its connection.
	// Default DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Logger gets refresh events; never a token. Default slog.Default().
	Logger *slog.Logger

	initOnce sync.Once
	locks    keyedLocks
	pending  *pendingPairs
	flights  flights
	failing  failures
	presence presenceCache // presence.go
	// uncertain holds, by connection, an uncertainRefresh: the last
	// refresh whose answer never arrived (Zoom may have rotated it).
	uncertain sync.Map

	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup
	stop     chan struct{}
	retrying sync.WaitGroup

	stats counters
}

var (
	_ onbehalf.TokenMinter = (*Manager)(nil)
	_ onbehalf.Refresher   = (*Manager)(nil)
)

// Mint mints a token of the given kind for a connection. It refreshes the
// pair first when the access token is about to expire, and once more (then
// retries once) when Zoom rejects the access token.
//
// Errors: ENOTFOUND (unknown connection), EDISCONNECTED (the grant is dead:
// reconnect), EUNAVAILABLE (the token expired and the store cannot write,
// so no refresh may start, or the connection cools down after a failed
// refresh: cooldown.go), EUPSTREAM (Zoom said no), ETIMEOUT.
func (m *Manager) Mint(ctx context.Context, connID string, kind onbehalf.TokenKind, meetingID string) (string, error) {
	m.init()
	c, err := m.current(ctx, connID)
	if err != nil {
		return "", err
	}
	if c.Token.Expiry.Sub(m.now()) < m.margin() {
		r, err := m.Refresh(ctx, connID, c.Token.AccessToken)
		switch {
		case err == nil:
			c = r
		case onbehalf.ErrorCode(err) == onbehalf.EUNAVAILABLE && m.now().Before(c.Token.Expiry):
			// No refresh while the store cannot write: the access token
			// still lives, so serve with it.
		default:
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
		err = onbehalf.Recode(err, onbehalf.EUPSTREAM)
	}
	return tok, err
}

// current returns the connection with its newest pair: the stored one, or
// a rotated pair not yet committed.
func (m *Manager) current(ctx context.Context, connID string) (*onbehalf.Connection, error) {
	c, err := m.Store.Connection(ctx, connID)
	if err != nil {
		return nil, err
	}
	if !c.Connected() {
		return nil, disconnected(c)
	}
	if tok, ok := m.pending.get(connID, c.Token.RefreshToken); ok {
		c.Token = tok
	}
	return c, nil
}

// RefreshIfExpiring refreshes a connection's pair when its access token
// expires before the given time; the keep-alive scheduler calls it, with a
// time in the past for a connection nobody used for KEEPALIVE_IDLE (its
// token was issued that long ago). It reads the connection again first,
// so a connection that a token request refreshed meanwhile is skipped, and
// so is one refreshed less than KeepAliveMinInterval ago. A connection in
// its cool-down (cooldown.go) is EUNAVAILABLE, with no call to Zoom.
func (m *Manager) RefreshIfExpiring(ctx context.Context, connID string, before time.Time) (bool, error) {
	m.init()
	c, err := m.current(ctx, connID)
	if err != nil {
		return false, err
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

// Close stops new refreshes, waits for those in flight to be committed and
// tries once more to commit the pairs that could not be. Call it before
// closing the store.
func (m *Manager) Close() {
	m.init()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	close(m.stop)
	m.mu.Unlock()
	m.inflight.Wait()
	m.retrying.Wait()
	m.commitPending(context.Background())
	if n := m.pending.len(); n > 0 {
		m.logger().Error("shutting down with rotated Zoom token pairs that could not be saved: these connections are lost unless the store becomes writable before the process exits", "connections", n)
	}
}

// init sets up what the zero value lacks.
func (m *Manager) init() {
	m.initOnce.Do(func() {
		m.pending = newPendingPairs()
		m.stop = make(chan struct{})
		if m.Owner == "" {
			m.Owner = "onbehalf-" + randomID()
		}
		m.retrying.Add(1)
		go m.retryLoop()
	})
}

// begin counts a refresh in flight, or fails once Close was called; the
// caller calls m.inflight.Done when the refresh is over.
func (m *Manager) begin() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return onbehalf.Errorf(onbehalf.EUNAVAILABLE, "The server is shutting down.")
	}
	m.inflight.Add(1)
	return nil
}

// Stats are the manager's counters since start.
type Stats struct {
	// Refreshes by result: ok, stale (dropped: the connection changed
	// meanwhile), disconnected (Zoom rejected the grant), failed (Zoom or
	// the network failed; the connection is kept), uncommitted (rotated
	// but the store could not write; kept in memory).
	Refreshes map[string]int64
	// NoRefreshToken counts answers without a new refresh token.
	NoRefreshToken int64
	// LostAfterUncertain counts connections that Zoom declared dead right
	// after a refresh whose answer never arrived: Zoom had rotated the
	// pair, the new one was lost on the way (README, "What can be lost").
	LostAfterUncertain int64
	// Pending is the number of rotated pairs not yet committed.
	Pending int
	// CooldownRejections counts refreshes refused without calling Zoom
	// because the connection's last refresh failed moments ago.
	CooldownRejections int64
	// Recoveries counts connections whose refreshes were failing and work
	// again (connection.recovered).
	Recoveries int64
	// Cooling is the number of connections in a cool-down now.
	Cooling int
	// AbandonedLeases counts refresh leases taken over from a process
	// that stopped in the middle of a refresh; LeaseRenewals counts the
	// renewals of leases held while Zoom answers.
	AbandonedLeases, LeaseRenewals int64
	// AheadRefreshes counts refreshes made ahead of a bot (RefreshAhead).
	AheadRefreshes int64
	// EarlyRefreshes counts committed refreshes that came less than half
	// of the replaced token's lifetime after it was issued: more often
	// than the token's lifetime needs (ahead.go).
	EarlyRefreshes int64
	// LeasesTaken counts the refresh leases this process took to call
	// Zoom (taken over ones included).
	LeasesTaken int64
}

// counters back Stats.
type counters struct {
	ok, stale, dead, failed, uncommitted atomic.Int64
	noRefresh, lostAfterUncertain        atomic.Int64
	cooldownRejections, recoveries       atomic.Int64
	abandonedLeases, leaseRenewals       atomic.Int64
	ahead, early                         atomic.Int64
	leasesTaken                          atomic.Int64
}

// Stats returns the manager's counters.
func (m *Manager) Stats() Stats {
	m.init()
	return Stats{
		Refreshes: map[string]int64{
			"ok": m.stats.ok.Load(), "stale": m.stats.stale.Load(), "disconnected": m.stats.dead.Load(),
			"failed": m.stats.failed.Load(), "uncommitted": m.stats.uncommitted.Load(),
		},
		NoRefreshToken:     m.stats.noRefresh.Load(),
		LostAfterUncertain: m.stats.lostAfterUncertain.Load(),
		Pending:            m.pending.len(),
		CooldownRejections: m.stats.cooldownRejections.Load(),
		Recoveries:         m.stats.recoveries.Load(),
		Cooling:            m.failing.coolingCount(m.now()),
		AbandonedLeases:    m.stats.abandonedLeases.Load(),
		LeaseRenewals:      m.stats.leaseRenewals.Load(),
		AheadRefreshes:     m.stats.ahead.Load(),
		EarlyRefreshes:     m.stats.early.Load(),
		LeasesTaken:        m.stats.leasesTaken.Load(),
	}
}

func disconnected(c *onbehalf.Connection) error {
	reason := c.DisconnectedReason
	if reason == "" {
		reason = "Zoom connection is disconnected."
	}
	return onbehalf.Errorf(onbehalf.EDISCONNECTED, "%s", reason)
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

func (m *Manager) wait() time.Duration {
	if m.Wait > 0 {
		return m.Wait
	}
	return DefaultWait
}

func (m *Manager) refreshTimeout() time.Duration {
	if m.RefreshTimeout > 0 {
		return m.RefreshTimeout
	}
	return DefaultRefreshTimeout
}

func (m *Manager) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}
