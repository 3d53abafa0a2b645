package tokens

import (
	"context"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Refreshing ahead of a bot. Zoom asks apps to reuse an access token until
// it expires, so a connection's pair is refreshed when a token is needed,
// not on the clock. A bot is the one case where the need is known in
// advance: creating a bot, and the keep-alive's watcher of bots due soon,
// call RefreshAhead with the time the bot is expected to ask. It refreshes
// only when the access token would be inside the inline margin then (the
// bot's request would refresh inline, on the bot's time: Meeting BaaS
// wants its token within 15 s, Attendee asks once) and only within
// AheadLead of that time, so that the new token still lives when the bot
// asks: a bot due in two days refreshes nothing now. The refresh takes the
// same path as every other (one flight per connection, the store's lease
// across instances, compare-and-swap on the refresh token), so several
// instances watching one bot refresh its connection once: the others find
// the fresh pair and call nobody.

// AheadLead is how long before a bot is due its connection may be
// refreshed ahead. Zoom's access tokens live an hour, so a token
// refreshed this early still has half an hour left when the bot asks; it
// also leaves that long to act on a connection.at_risk when the refresh
// fails.
const AheadLead = 30 * time.Minute

// RefreshAhead refreshes a connection's pair when its access token would
// expire within the inline margin of due (when a bot is expected to ask)
// and due is at most AheadLead away; refreshed is false when nothing was
// needed yet. Errors are those of Refresh: EDISCONNECTED for a dead grant,
// EUNAVAILABLE during a cool-down, EUPSTREAM or ETIMEOUT when Zoom fails.
func (m *Manager) RefreshAhead(ctx context.Context, connID string, due time.Time) (refreshed bool, err error) {
	m.init()
	if due.Sub(m.now()) > AheadLead {
		return false, nil
	}
	c, err := m.current(ctx, connID)
	if err != nil {
		return false, err
	}
	if !c.Token.Expiry.Before(due.Add(m.margin())) {
		return false, nil
	}
	after, err := m.Refresh(ctx, connID, c.Token.AccessToken)
	if err != nil {
		return false, err
	}
	if after.Token.AccessToken == c.Token.AccessToken {
		return false, nil
	}
	m.stats.ahead.Add(1)
	return true, nil
}

// Failing returns the reason of the last failed refresh of a connection
// whose refreshes fail in this process (not a dead grant: that
// disconnects it), until one succeeds; ok is false when they do not.
func (m *Manager) Failing(connID string) (reason string, ok bool) {
	m.failing.mu.Lock()
	defer m.failing.mu.Unlock()
	e, ok := m.failing.m[connID]
	return e.reason, ok
}

// early reports whether a refresh of c now comes sooner than its token's
// lifetime needs: less than half of the replaced access token's lifetime
// after that token was issued (its last refresh, or its grant). Refreshes
// on use come after the token expired or entered the inline margin, and
// refreshes ahead of a bot within AheadLead of its expiry; an early one is
// a keep-alive run too often (KEEPALIVE_IDLE well under an hour) or Zoom
// rejecting a token it had just issued.
func early(c *onbehalf.Connection, now time.Time) bool {
	issued := c.RefreshedAt
	if c.GrantedAt.After(issued) {
		issued = c.GrantedAt
	}
	if issued.IsZero() || !c.Token.Expiry.After(issued) {
		return false
	}
	return now.Sub(issued) < c.Token.Expiry.Sub(issued)/2
}
