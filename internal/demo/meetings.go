package demo

import (
	"context"
	"sync"
	"time"
)

// meetings are the fake Zoom's meetings: whether "you" (the demo user)
// are in each one, and the bots sent to it, as the meeting page shows
// them. Safe for concurrent use.
type meetings struct {
	mu      sync.Mutex
	present map[string]bool
	bots    map[string][]*meetingBot
	// changed is closed, and replaced, at every change.
	changed chan struct{}
}

// meetingBot is a bot as the meeting page shows it.
type meetingBot struct {
	Name, Platform string
	State          botState
}

// botState is where a fake bot is, in the meeting's words.
type botState string

// States of a fake bot.
const (
	stateComing  botState = "on its way"
	stateWaiting botState = "waiting for you to join"
	stateIn      botState = "in the meeting"
	stateLeft    botState = "left"
	stateFailed  botState = "could not join"
)

func newMeetings() *meetings {
	return &meetings{present: map[string]bool{}, bots: map[string][]*meetingBot{}, changed: make(chan struct{})}
}

// changeLocked wakes everyone waiting for a change; mu is held.
func (m *meetings) changeLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// setPresent puts you in the meeting id, or takes you out.
func (m *meetings) setPresent(id string, in bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.present[id] != in {
		m.present[id] = in
		m.changeLocked()
	}
}

// addBot adds a bot on its way to meeting id.
func (m *meetings) addBot(id, name, platform string) *meetingBot {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := &meetingBot{Name: name, Platform: platform, State: stateComing}
	m.bots[id] = append(m.bots[id], b)
	m.changeLocked()
	return b
}

// setState moves a bot.
func (m *meetings) setState(b *meetingBot, s botState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b.State = s
	m.changeLocked()
}

// snapshot returns whether you are in meeting id and copies of the bots
// in it or on their way, newest first (those that left or failed are
// gone, as in Zoom).
func (m *meetings) snapshot(id string) (bool, []meetingBot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.bots[id]
	out := make([]meetingBot, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		if b := list[i]; b.State != stateLeft && b.State != stateFailed {
			out = append(out, *b)
		}
	}
	return m.present[id], out
}

// waitPresent waits until your presence in meeting id is in, ctx is done
// or limit passed (0: no limit), and reports whether it is in.
func (m *meetings) waitPresent(ctx context.Context, id string, in bool, limit time.Duration) bool {
	var timeout <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		timeout = t.C
	}
	for {
		m.mu.Lock()
		now, changed := m.present[id], m.changed
		m.mu.Unlock()
		if now == in {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		case <-timeout:
			return false
		}
	}
}

// pending reports whether a bot of meeting id is still on its way: the
// meeting page refreshes itself until none is.
func (m *meetings) pending(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.bots[id] {
		if b.State == stateComing || b.State == stateWaiting || (b.State == stateIn && !m.present[id]) {
			return true
		}
	}
	return false
}
