package tokens

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
)

// After a refresh fails for a reason other than a dead grant (Zoom
// answered 5xx or 429, did not answer in time, or could not be reached),
// the connection cools down: for Cooldown (or as long as a 429's
// Retry-After asks, up to MaxCooldown) every refresh of it in this process
// fails at once with EUNAVAILABLE (503) and a message that says why and
// when to try again, and Zoom is not called. A token request whose access
// token still lives is served with it meanwhile (Mint). The cool-down is
// per process: another instance may still try once, and its success ends
// nothing here until the cool-down runs out or this process refreshes.
//
// When a connection whose refreshes were failing refreshes again, the
// manager writes connection.recovered, once per recovery.

// Cool-down defaults.
const (
	// DefaultCooldown is the cool-down after a failed refresh
	// (ZOOM_FAILURE_COOLDOWN).
	DefaultCooldown = 30 * time.Second
	// MaxCooldown caps the wait a 429's Retry-After may ask for: a
	// connection is never held back longer than this by one answer.
	MaxCooldown = 15 * time.Minute
	// maxFailing bounds the in-memory map of failing connections.
	maxFailing = 10000
)

// EventAppender is a store that writes an event that goes with no stored
// change (the outbox without a transaction of its own): connection.recovered
// is about a failure that lived in memory only. Every onbehalf.Store has it
// (onbehalf.EventStore); a smaller Store without it (a test's) gets
// recoveries logged and counted but no event written.
type EventAppender interface {
	AppendEvent(ctx context.Context, e onbehalf.Event) error
}

// failing is a connection whose last refreshes failed (not a dead grant).
type failing struct {
	until  time.Time // end of the cool-down
	reason string    // the failure's user-safe message
	fails  int       // failures in a row
}

// failures tracks failing connections, and those that recovered lately;
// its zero value is ready.
type failures struct {
	mu sync.Mutex
	m  map[string]failing
	// recovered holds recent recoveries (for the person's page), bounded
	// like m.
	recovered map[string]recovery
}

// recovery is a connection whose failing refreshes worked again.
type recovery struct {
	at    time.Time
	fails int
}

// recoveryShown is how long a recovery is kept for the person's page.
const recoveryShown = 24 * time.Hour

// fail records a failed refresh of connID and returns the cool-down's end.
func (f *failures) fail(connID, reason string, now time.Time, d time.Duration) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = make(map[string]failing)
	}
	e, ok := f.m[connID]
	if !ok && len(f.m) >= maxFailing {
		// Drop the ones whose cool-down ran out long ago: their
		// recovery will not be reported, which beats growing forever.
		for k, v := range f.m {
			if now.Sub(v.until) > MaxCooldown {
				delete(f.m, k)
			}
		}
		if len(f.m) >= maxFailing {
			return now
		}
	}
	e.until, e.reason = now.Add(d), reason
	e.fails++
	f.m[connID] = e
	return e.until
}

// cooling returns connID's failure while its cool-down runs.
func (f *failures) cooling(connID string, now time.Time) (failing, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.m[connID]
	if !ok || !now.Before(e.until) {
		return failing{}, false
	}
	return e, true
}

// clear forgets connID's failures, remembers the recovery at now, and
// reports whether its refreshes were failing.
func (f *failures) clear(connID string, now time.Time) (failing, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.m[connID]
	delete(f.m, connID)
	if ok {
		if f.recovered == nil {
			f.recovered = make(map[string]recovery)
		}
		if len(f.recovered) >= maxFailing {
			for k, r := range f.recovered {
				if now.Sub(r.at) > recoveryShown {
					delete(f.recovered, k)
				}
			}
		}
		if len(f.recovered) < maxFailing {
			f.recovered[connID] = recovery{at: now, fails: e.fails}
		}
	}
	return e, ok
}

// forget drops what f knows of connID (a new grant, a disconnection, a
// deletion): no recovery to report.
func (f *failures) forget(connID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, connID)
	delete(f.recovered, connID)
}

// state returns what f knows of connID at now.
func (f *failures) state(connID string, now time.Time) onbehalf.RefreshState {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s onbehalf.RefreshState
	if e, ok := f.m[connID]; ok {
		s.Failing, s.Fails, s.Reason, s.Until = true, e.fails, onbehalf.Inner(e.reason), e.until
	}
	if r, ok := f.recovered[connID]; ok && now.Sub(r.at) <= recoveryShown {
		s.RecoveredAt, s.RecoveredAfter = r.at, r.fails
	}
	return s
}

// RefreshState returns what this instance knows of connID's recent Zoom
// refreshes: failing now, or recovered lately (the person's page).
func (m *Manager) RefreshState(connID string) onbehalf.RefreshState {
	return m.failing.state(connID, m.now())
}

// coolingCount returns how many connections are in a cool-down now.
func (f *failures) coolingCount(now time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, e := range f.m {
		if now.Before(e.until) {
			n++
		}
	}
	return n
}

// coolingErr returns the fast error of a connection in its cool-down, or
// nil.
func (m *Manager) coolingErr(connID string) error {
	now := m.now()
	e, ok := m.failing.cooling(connID, now)
	if !ok {
		return nil
	}
	m.stats.cooldownRejections.Add(1)
	wait := e.until.Sub(now)
	secs := ratelimit.RetryAfter(wait)
	return &onbehalf.Error{Code: onbehalf.EUNAVAILABLE,
		Message: "The last Zoom token refresh of this connection failed (" + onbehalf.Inner(e.reason) + "); to spare Zoom, it is not tried again before " +
			e.until.UTC().Format("15:04:05") + " UTC. Try again in " + strconv.Itoa(secs) + " s.",
		// Carries the wait, so that the HTTP layers set Retry-After.
		Err: ratelimit.TooMany(wait, "Zoom refresh cool-down."),
	}
}

// refreshFailedFor opens connID's cool-down after a failed refresh that
// did not kill the grant.
func (m *Manager) refreshFailedFor(connID string, err error) {
	d := m.cooldown()
	if d <= 0 {
		return
	}
	if secs := ratelimit.RetryAfterOf(err); secs > 0 {
		d = min(time.Duration(secs)*time.Second, MaxCooldown)
	}
	until := m.failing.fail(connID, onbehalf.ErrorMessage(err), m.now(), d)
	m.logger().Info("zoom refresh failed; connection cools down", "conn", connID, "until", until)
}

// refreshed ends connID's failures after a successful refresh and, when
// its refreshes were failing, writes connection.recovered.
func (m *Manager) refreshed(ctx context.Context, c *onbehalf.Connection) {
	e, ok := m.failing.clear(c.ID, m.now())
	if !ok {
		return
	}
	m.stats.recoveries.Add(1)
	m.logger().Info("zoom token refresh works again", "conn", c.ID, "failures", e.fails)
	ea, ok := m.Store.(EventAppender)
	if !ok {
		return
	}
	ev := onbehalf.NewEvent(onbehalf.EventConnectionRecovered, m.now(), onbehalf.ConnectionEventData{
		ConnectionID: c.ID, ZoomUserID: c.ZoomUserID, ExternalUserID: c.ExternalUserID, Metadata: c.Metadata, State: c.State,
		Reason: "Zoom token refreshes work again after " + strconv.Itoa(e.fails) + " failed (the last: " + onbehalf.Inner(e.reason) + ").",
	})
	if err := ea.AppendEvent(context.WithoutCancel(ctx), ev); err != nil {
		m.logger().Warn("could not write connection.recovered", "conn", c.ID, "err", err)
		return
	}
	if m.Notify != nil {
		m.Notify()
	}
}

func (m *Manager) cooldown() time.Duration {
	if m.Cooldown != 0 {
		return m.Cooldown
	}
	return DefaultCooldown
}
