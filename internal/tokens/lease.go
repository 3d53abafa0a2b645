package tokens

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// The cross-process refresh lease (onbehalf.RefreshLocker) is short and
// renewed while its refresh runs, so that:
//
//   - an instance killed in the middle of a refresh blocks its connection
//     for one lease at most (DefaultLeaseTTL, 10 s), not for a whole
//     ZOOM_REFRESH_TIMEOUT: the others take over once it runs out;
//   - a slow Zoom never lets a second live instance in: the holder renews
//     every third of the lease for as long as its Zoom call runs;
//   - a holder that cannot renew (the store is unreachable, or another
//     owner has the lease) abandons its Zoom call before its lease may
//     end, so that two live instances never spend one refresh token at
//     once. An abandoned call counts as a refresh whose answer never
//     arrived (Zoom may have rotated).
//
// Taking over a lease that ran out without being given back (its holder
// died) marks the refresh token read under it as uncertain, as a refresh
// whose answer never arrived: if Zoom then refuses it, the connection is
// counted as lost after an uncertain refresh and its reason says so.

// DefaultLeaseTTL is how long a refresh lease lasts unless renewed: the
// longest an instance that dies mid-refresh blocks its connection.
const DefaultLeaseTTL = 10 * time.Second

// errLeaseLost and errLeaseRunsOut end a Zoom call whose lease could not
// be kept.
var (
	errLeaseLost    = errors.New("tokens: another instance took the refresh lease")
	errLeaseRunsOut = errors.New("tokens: the refresh lease could not be renewed in time")
)

// heldLease is a refresh lease this process holds.
type heldLease struct {
	// taken is when the lease was asked for: its end is taken + ttl at
	// the latest (by this process's clock, which runs as the store's).
	taken   time.Time
	release func()
}

// lease takes the connection's cross-process refresh lease. When another
// process holds it, it waits until that process's refresh shows in the
// store (returning the fresh connection and a nil lease) or the lease
// frees. It returns the connection as read under the lease.
func (m *Manager) lease(ctx context.Context, connID, stale string) (*heldLease, *onbehalf.Connection, error) {
	for {
		taken := time.Now()
		l, err := m.Store.LockRefresh(ctx, connID, m.Owner, m.leaseTTL())
		if err != nil {
			return nil, nil, err
		}
		// Read again: the last holder may have committed just now.
		c, err := m.current(ctx, connID)
		if l.Held {
			unlock := func() { _ = m.Store.UnlockRefresh(context.WithoutCancel(ctx), connID, m.Owner) }
			if err != nil || m.fresh(c, stale) {
				unlock()
				return nil, c, err
			}
			if l.Abandoned {
				// Its holder died, perhaps after Zoom rotated this
				// refresh token for it.
				m.stats.abandonedLeases.Add(1)
				m.uncertain.Store(connID, uncertainRefresh{from: c.Token.RefreshToken, why: diedMid})
				m.logger().Warn("took over the refresh lease of an instance that stopped in the middle of a refresh", "conn", connID)
			}
			m.stats.leasesTaken.Add(1)
			return &heldLease{taken: taken, release: unlock}, c, nil
		}
		if err != nil || m.fresh(c, stale) {
			return nil, c, err
		}
		t := time.NewTimer(leasePoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, onbehalf.WrapError(ctx.Err(), onbehalf.ETIMEOUT, "Timed out waiting for another instance's Zoom token refresh.")
		case <-t.C:
		}
	}
}

// keepLease renews the lease taken at taken every third of its ttl until
// stop is called. The context it returns, for the Zoom call, ends when
// the lease is lost or could run out (a fifth of the ttl before its end,
// for the clocks of two instances and the call's own teardown).
func (m *Manager) keepLease(ctx context.Context, connID string, taken time.Time) (zctx context.Context, stop func()) {
	ttl := m.leaseTTL()
	zctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		end := taken.Add(ttl - ttl/5)
		deadline := time.NewTimer(time.Until(end))
		defer deadline.Stop()
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-deadline.C:
				m.logger().Warn("could not renew the refresh lease; abandoning the Zoom call", "conn", connID)
				cancel(errLeaseRunsOut)
				return
			case <-tick.C:
			}
			start := time.Now()
			rctx, rcancel := context.WithDeadline(ctx, end)
			l, err := m.Store.LockRefresh(rctx, connID, m.Owner, ttl)
			rcancel()
			switch {
			case err != nil:
				m.logger().Warn("renewing the refresh lease", "conn", connID, "err", err)
			case !l.Held:
				m.logger().Warn("another instance took the refresh lease; abandoning the Zoom call", "conn", connID)
				cancel(errLeaseLost)
				return
			default:
				m.stats.leaseRenewals.Add(1)
				end = start.Add(ttl - ttl/5)
				deadline.Reset(time.Until(end))
			}
		}
	}()
	return zctx, func() {
		close(done)
		wg.Wait()
		cancel(nil)
	}
}

func (m *Manager) leaseTTL() time.Duration {
	if m.LeaseTTL > 0 {
		return m.LeaseTTL
	}
	return DefaultLeaseTTL
}
