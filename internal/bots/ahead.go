package bots

import (
	"context"
	"encoding/json"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// AheadRefresher refreshes a connection ahead of a bot that will ask for
// its token at due, when its access token would not last until then
// (the token manager's RefreshAhead: it does nothing for a bot due later
// than a fresh token would last, and nothing when the token lasts).
type AheadRefresher interface {
	RefreshAhead(ctx context.Context, connID string, due time.Time) (refreshed bool, err error)
}

// prepare reads the bot's scheduled join time from the platform's options
// (zero when it joins now) and refreshes the connection ahead of the
// bot's first token request, before the platform is called:
//
//   - a join time the platform cannot take is EINVALID, and no bot is
//     created;
//   - a connection whose grant Zoom refuses is EDISCONNECTED (reconnect
//     first), rather than a bot that could never get a token;
//   - any other refresh failure (Zoom down or slow) is logged and the bot
//     is created all the same: its token request refreshes inline, and
//     the keep-alive's watcher of bots due soon reports the connection at
//     risk if it still fails.
//
// A bot due later than AheadLead (tokens) refreshes nothing now: the
// watcher refreshes its connection once the bot comes that close.
func (s *Service) prepare(ctx context.Context, p onbehalf.Platform, c *onbehalf.Connection, options json.RawMessage) (time.Time, error) {
	now := s.now().UTC()
	joinAt, err := joinTime(p, options, now)
	if err != nil {
		return time.Time{}, err
	}
	if s.Ahead == nil {
		return joinAt, nil
	}
	due := (&onbehalf.Bot{JoinAt: joinAt, CreatedAt: now}).DueAt()
	refreshed, err := s.Ahead.RefreshAhead(ctx, c.ID, due)
	switch {
	case onbehalf.ErrorCode(err) == onbehalf.EDISCONNECTED:
		return time.Time{}, onbehalf.WrapError(err, onbehalf.EDISCONNECTED,
			"This Zoom connection stopped working ("+onbehalf.ErrorMessage(err)+"): reconnect Zoom first.")
	case err != nil:
		s.logger().Warn("refreshing the connection ahead of a bot failed; its token request will refresh inline", "conn", c.ID, "due", due, "err", err)
	case refreshed:
		s.logger().Debug("connection refreshed ahead of a bot", "conn", c.ID, "due", due)
	}
	return joinAt, nil
}

// joinTime returns the join time the options schedule the bot for on p,
// zero when p takes none or the options name none or a time not after
// now (the bot joins now; the platform says whether it accepts that).
func joinTime(p onbehalf.Platform, options json.RawMessage, now time.Time) (time.Time, error) {
	js, ok := onbehalf.AsPlatform[onbehalf.JoinScheduler](p)
	if !ok {
		return time.Time{}, nil
	}
	t, ok, err := js.JoinAt(options)
	if err != nil || !ok || !t.After(now) {
		return time.Time{}, err
	}
	return t.UTC().Truncate(time.Second), nil
}
