package tokens

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Presence: among a bot's candidates, those Zoom reports in a meeting are
// tried first. Zoom answers presence only to a grant that holds the
// optional onbehalf.PresenceScope, and its answer names no meeting, so it
// only orders the candidates: it never refuses one.

// PresenceZoom is implemented by a Zoom client that reads a user's
// presence (zoom.Client): whether Zoom says the user is in a meeting, and
// Zoom's status word.
type PresenceZoom interface {
	InMeeting(ctx context.Context, accessToken string) (bool, string, error)
}

// Presence answers are kept this long: a platform retrying every few
// seconds asks once per window, and a person who just joined is seen
// within it.
const PresenceTTL = 15 * time.Second

// presenceWait bounds a presence request: presence only orders the
// candidates, so a slow answer must not hold up the token.
const presenceWait = 2 * time.Second

// maxPresence bounds the presence cache.
const maxPresence = 10_000

// Presence is what Zoom said of a connection's user.
type Presence struct {
	// Known is false when the server could not ask (no presence scope,
	// no usable access token, Zoom failed): the candidate keeps its place.
	Known bool
	// InMeeting: Zoom reports the user in a meeting (any meeting).
	InMeeting bool
	// Status is Zoom's word ("In_A_Zoom_Meeting").
	Status string
}

// presenceCache holds recent answers by connection.
type presenceCache struct {
	mu sync.Mutex
	m  map[string]presenceEntry
}

type presenceEntry struct {
	p  Presence
	at time.Time
}

// Presence reports whether Zoom says the connection's user is in a
// meeting. It asks only when the grant holds onbehalf.PresenceScope, the
// Zoom client can ask and the access token is not about to expire (it
// never refreshes for presence); answers are cached for PresenceTTL.
func (m *Manager) Presence(ctx context.Context, connID string) Presence {
	m.init()
	pz, ok := m.Zoom.(PresenceZoom)
	if !ok {
		return Presence{}
	}
	now := m.now()
	if p, ok := m.presence.get(connID, now); ok {
		return p
	}
	c, err := m.current(ctx, connID)
	if err != nil || !granted(c, onbehalf.PresenceScope) || c.Token.Expiry.Sub(now) < m.margin() {
		return Presence{}
	}
	ctx, cancel := context.WithTimeout(ctx, presenceWait)
	defer cancel()
	in, status, err := pz.InMeeting(ctx, c.Token.AccessToken)
	if err != nil {
		m.logger().Debug("zoom presence failed", "conn", connID, "err", err)
		return Presence{}
	}
	p := Presence{Known: true, InMeeting: in, Status: status}
	m.presence.put(connID, p, now)
	return p
}

// granted reports whether the grant names scope (HasScope also accepts a
// grant whose scopes Zoom did not list; an optional scope must be named).
func granted(c *onbehalf.Connection, scope string) bool {
	return slices.Contains(strings.Fields(c.Token.Scope), scope)
}

func (pc *presenceCache) get(id string, now time.Time) (Presence, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.m[id]
	if !ok || now.Sub(e.at) >= PresenceTTL || now.Before(e.at) {
		return Presence{}, false
	}
	return e.p, true
}

func (pc *presenceCache) put(id string, p Presence, now time.Time) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.m == nil {
		pc.m = map[string]presenceEntry{}
	}
	if len(pc.m) >= maxPresence {
		for k, e := range pc.m { // drop the stale; if none, start over
			if now.Sub(e.at) >= PresenceTTL {
				delete(pc.m, k)
			}
		}
		if len(pc.m) >= maxPresence {
			clear(pc.m)
		}
	}
	pc.m[id] = presenceEntry{p: p, at: now}
}

// InMeeting reports whether Zoom says the connection's user is in a
// meeting, and whether it could tell (tokenserve.Presence).
func (m *Manager) InMeeting(ctx context.Context, connID string) (in, known bool) {
	p := m.Presence(ctx, connID)
	return p.InMeeting, p.Known
}
