package keepalive

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// The watcher of bots due soon runs beside the scheduler, in every
// instance that runs the keep-alive (KEEPALIVE), once a minute. It does the
// two things that depend on when a bot will ask for its token, which the
// scheduler (it lists connections by token expiry, not bots) cannot see:
//
//   - it refreshes a bot's connection ahead of the bot (the token
//     manager's RefreshAhead, which does nothing until the bot is close
//     enough for a fresh token to last, nor when the token lasts): a bot
//     scheduled two days ahead costs no refresh at launch, and one refresh
//     about half an hour before it joins, the same one its own request
//     would otherwise make inline;
//   - when a bot is due within Window (AT_RISK_WINDOW) and its connection
//     is disconnected or deleted, its refreshes fail (in this process, or
//     the refresh ahead just failed), or its grant lacks a scope the bot's
//     kinds need (onbehalf.BotRisk), it writes connection.at_risk, once
//     per bot across instances: the claim goes through the store's replay
//     keys (ClaimDelivery), the event through its outbox (AppendEvent), so
//     webhooks and the event stream get it like any other.
//
// Why not inside the scheduler's pass: the pass lists connections by
// token expiry, which says nothing of bots; the watcher lists bots, and
// only those created since its last look (newest first, down to where it
// stopped, with a small overlap for the clocks of several instances), so a
// minute's look costs the bots created in that minute. It keeps the bots
// still to come in memory, reading back Lookback at start (bots scheduled
// further ahead than that, made before this instance started, are watched
// by the instances that saw them made). Both share the refresh path, so a
// bot's connection refreshed by either, or by a token request, is not
// refreshed again.

// Watcher defaults.
const (
	// DefaultAtRiskWindow is how long before a bot is due its connection
	// is checked (AT_RISK_WINDOW).
	DefaultAtRiskWindow = 2 * time.Hour
	// DefaultWatchEvery is how often the watcher looks.
	DefaultWatchEvery = time.Minute
	// DefaultLookback is how far back the first look reads bots.
	DefaultLookback = 30 * 24 * time.Hour
	// watchOverlap is how far before its last look the watcher reads
	// again: bots stored by another instance whose clock runs behind, or
	// committed after the look.
	watchOverlap = 2 * time.Minute
	// watchPage is how many bots one listing call reads.
	watchPage = 500
	// maxWatched bounds the bots kept in memory.
	maxWatched = 100000
)

// WatchStore is what the watcher needs from the store.
type WatchStore interface {
	ListBots(ctx context.Context, f onbehalf.BotFilter) ([]*onbehalf.Bot, string, error)
	Bot(ctx context.Context, id string) (*onbehalf.Bot, error)
	Connection(ctx context.Context, id string) (*onbehalf.Connection, error)
	ClaimDelivery(ctx context.Context, key string, expires time.Time) (bool, error)
	ReleaseDelivery(ctx context.Context, key string) error
	AppendEvent(ctx context.Context, e onbehalf.Event) error
}

// AheadRefresher is the token manager as the watcher uses it.
type AheadRefresher interface {
	// RefreshAhead refreshes a connection when its access token would
	// not last until due, once due is close enough.
	RefreshAhead(ctx context.Context, connID string, due time.Time) (bool, error)
	// Failing returns the reason of a connection's failing refreshes.
	Failing(connID string) (string, bool)
}

// Watcher watches the bots due soon. Set Store and Refresher; every other
// field has a default. Fields must not change once Run or Check started.
type Watcher struct {
	Store     WatchStore
	Refresher AheadRefresher
	// Window: a bot due within it whose connection is at risk makes a
	// connection.at_risk. Default DefaultAtRiskWindow.
	Window time.Duration
	// Every is how often Run looks; default DefaultWatchEvery.
	Every time.Duration
	// Lookback is how far back the first look reads bots; default
	// DefaultLookback.
	Lookback time.Duration
	// Concurrency bounds the refreshes ahead in flight; default
	// DefaultConcurrency.
	Concurrency int
	// Notify is called after an event was written; nil for none.
	Notify func()
	// Now and Sleep are the clock (defaults: time.Now and a timer).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger gets what happened, never a token.
	Logger *slog.Logger

	mu      sync.Mutex // one look at a time; guards what follows
	watched map[string]*watchedBot
	looked  time.Time // start of the last complete look
	full    bool      // warned that maxWatched was reached
}

// watchedBot is a bot still to come.
type watchedBot struct {
	bot      *onbehalf.Bot // without its timeline
	due      time.Time
	ahead    bool // its connection was refreshed ahead
	reported bool // connection.at_risk was written (here or elsewhere)
	// zoomUserID and externalUserID are the connection's, when read.
	zoomUserID, externalUserID string
}

// WatchStats says what one look did.
type WatchStats struct {
	// Watched is how many bots still to come are kept; Due how many of
	// them are due within Window.
	Watched, Due int
	// Ahead is how many connections were refreshed ahead; AtRisk how many
	// connection.at_risk events were written.
	Ahead, AtRisk int
}

// Run looks every Every until ctx ends, then returns nil.
func (w *Watcher) Run(ctx context.Context) error {
	log := w.logger()
	for {
		st, err := w.Check(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			log.Warn("watching bots due soon: listing bots failed", "err", err)
		} else if st.Ahead+st.AtRisk > 0 {
			log.Debug("bots due soon", "watched", st.Watched, "due", st.Due, "refreshed_ahead", st.Ahead, "at_risk", st.AtRisk)
		}
		if err := w.sleep(ctx, w.every()); err != nil {
			return nil
		}
	}
}

// Check looks once: it reads the bots created since the last look, then
// refreshes ahead and checks the connections of those due within Window.
// An error means the bots could not be listed; the bots already known
// are still checked.
func (w *Watcher) Check(ctx context.Context) (WatchStats, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	lerr := w.look(ctx, now)
	var due []*watchedBot
	for id, e := range w.watched {
		switch {
		case e.due.Before(now):
			delete(w.watched, id) // it asked by now, or will refresh inline
		case !e.due.After(now.Add(w.window())):
			due = append(due, e)
		}
	}
	slices.SortFunc(due, func(a, b *watchedBot) int { return a.due.Compare(b.due) })
	st := WatchStats{Watched: len(w.watched), Due: len(due)}

	var (
		wg   sync.WaitGroup
		stMu sync.Mutex
		sem  = make(chan struct{}, w.concurrency())
	)
	for _, e := range due {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return st, lerr
		}
		wg.Go(func() {
			defer func() { <-sem }()
			ahead, risky, gone := w.check(ctx, e, now)
			stMu.Lock()
			defer stMu.Unlock()
			if ahead {
				st.Ahead++
			}
			if risky {
				st.AtRisk++
			}
			if gone {
				delete(w.watched, e.bot.ID)
			}
		})
	}
	wg.Wait()
	return st, lerr
}

// look reads the bots created since the last look (Lookback on the first)
// and keeps those still to come.
func (w *Watcher) look(ctx context.Context, now time.Time) error {
	if w.watched == nil {
		w.watched = make(map[string]*watchedBot)
	}
	since := now.Add(-w.lookback())
	if !w.looked.IsZero() {
		since = w.looked.Add(-watchOverlap)
	}
	for cursor := ""; ; {
		list, next, err := w.Store.ListBots(ctx, onbehalf.BotFilter{Limit: watchPage, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, b := range list {
			if b.CreatedAt.Before(since) {
				next = ""
				break
			}
			w.keep(b, now)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	w.looked = now
	return nil
}

// keep watches b if it is still to come.
func (w *Watcher) keep(b *onbehalf.Bot, now time.Time) {
	if _, ok := w.watched[b.ID]; ok || !b.StillToJoin() || !b.DueAt().After(now) {
		return
	}
	if len(w.watched) >= maxWatched {
		if !w.full {
			w.full = true
			w.logger().Warn("watching bots due soon: too many bots to come; newer ones are not watched", "max", maxWatched)
		}
		return
	}
	slim := *b
	slim.Timeline = nil
	w.watched[b.ID] = &watchedBot{bot: &slim, due: b.DueAt()}
}

// check refreshes e's connection ahead when due and writes
// connection.at_risk when it is at risk; gone reports a bot that no longer
// needs watching (over, or deleted).
func (w *Watcher) check(ctx context.Context, e *watchedBot, now time.Time) (ahead, risky, gone bool) {
	connID := e.bot.ConnectionID
	var code, reason string
	if !e.ahead {
		ok, err := w.Refresher.RefreshAhead(ctx, connID, e.due)
		switch onbehalf.ErrorCode(err) {
		case "":
			e.ahead, ahead = ok, ok
		case onbehalf.EDISCONNECTED, onbehalf.ENOTFOUND:
			// BotRisk below says it from the connection.
		default:
			code, reason = onbehalf.AtRiskRefreshFailing,
				"Refreshing the Zoom connection ahead of the bot failed ("+onbehalf.ErrorMessage(err)+"): the bot may get no token if Zoom does not recover before it joins."
		}
	}
	if e.reported {
		return ahead, false, false
	}
	if code == "" {
		c, err := w.Store.Connection(ctx, connID)
		switch {
		case onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND:
			c = nil
		case err != nil:
			w.logger().Warn("watching bots due soon: reading a connection failed", "conn", connID, "err", err)
			return ahead, false, false
		}
		failing, _ := w.Refresher.Failing(connID)
		code, reason = onbehalf.BotRisk(e.bot, c, failing)
		if code == "" {
			return ahead, false, false
		}
		if c != nil {
			e.zoomUserID, e.externalUserID = c.ZoomUserID, c.ExternalUserID
		}
	}
	risky, gone = w.report(ctx, e, code, reason, now)
	return ahead, risky, gone
}

// report writes connection.at_risk for e unless another look (here or in
// another instance) did; gone reports a bot that needs no more watching.
func (w *Watcher) report(ctx context.Context, e *watchedBot, code, reason string, now time.Time) (written, gone bool) {
	log := w.logger()
	b, err := w.Store.Bot(ctx, e.bot.ID)
	switch {
	case onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND:
		return false, true
	case err != nil:
		log.Warn("watching bots due soon: reading a bot failed", "bot", e.bot.ID, "err", err)
		return false, false
	case !b.StillToJoin():
		return false, true
	}
	key := onbehalf.EventConnectionAtRisk + ":" + b.ID
	first, err := w.Store.ClaimDelivery(ctx, key, e.due.Add(w.window()))
	if err != nil {
		log.Warn("watching bots due soon: claiming an at-risk report failed", "bot", b.ID, "err", err)
		return false, false
	}
	e.reported = true
	if !first {
		return false, false
	}
	ev := onbehalf.NewEvent(onbehalf.EventConnectionAtRisk, now, onbehalf.AtRiskEventData{
		ConnectionID: b.ConnectionID, ZoomUserID: e.zoomUserID, ExternalUserID: cmp.Or(b.ExternalUserID, e.externalUserID), BotID: b.ID, Platform: b.Platform,
		MeetingID: b.MeetingID, DueAt: e.due.UTC(), Code: code, Reason: reason,
	})
	if err := w.Store.AppendEvent(ctx, ev); err != nil {
		e.reported = false
		if rerr := w.Store.ReleaseDelivery(context.WithoutCancel(ctx), key); rerr != nil {
			log.Warn("watching bots due soon: releasing an at-risk claim failed", "bot", b.ID, "err", rerr)
		}
		log.Warn("could not write connection.at_risk; trying again at the next look", "bot", b.ID, "err", err)
		return false, false
	}
	log.Info("connection at risk for a bot due soon", "conn", b.ConnectionID, "bot", b.ID, "due", e.due, "code", code)
	if w.Notify != nil {
		w.Notify()
	}
	return true, false
}

func (w *Watcher) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Watcher) sleep(ctx context.Context, d time.Duration) error {
	if w.Sleep != nil {
		return w.Sleep(ctx, d)
	}
	return (&Scheduler{}).sleep(ctx, d)
}

func (w *Watcher) window() time.Duration   { return cmp.Or(max(w.Window, 0), DefaultAtRiskWindow) }
func (w *Watcher) every() time.Duration    { return cmp.Or(max(w.Every, 0), DefaultWatchEvery) }
func (w *Watcher) lookback() time.Duration { return cmp.Or(max(w.Lookback, 0), DefaultLookback) }
func (w *Watcher) concurrency() int        { return cmp.Or(max(w.Concurrency, 0), DefaultConcurrency) }

func (w *Watcher) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}
