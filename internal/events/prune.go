package events

import (
	"context"
	"log/slog"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Defaults of a Pruner.
const (
	// DefaultKeep is how long events stay in the store after they
	// happened: long enough for an event stream to resume after a
	// weekend, short enough that the log never grows without bound.
	DefaultKeep = 7 * 24 * time.Hour
	// DefaultPruneEvery is how often old events are deleted.
	DefaultPruneEvery = time.Hour
)

// Pruner deletes old events whose delivery is over, so that the event log
// stays small. Set Store; every other field has a default. It runs
// whether or not webhooks are delivered: the event stream reads the same
// log.
type Pruner struct {
	// Store holds the events.
	Store onbehalf.EventStore
	// Keep is how long events are kept (DefaultKeep). An event still
	// being delivered is never deleted.
	Keep time.Duration
	// Every is how often Run prunes (DefaultPruneEvery).
	Every time.Duration
	// Now is the clock (time.Now).
	Now func() time.Time
	// Logger gets what was deleted and failures. Default slog.Default().
	Logger *slog.Logger
}

// Run prunes at once, then every Every, until ctx ends; it returns nil
// then.
func (p *Pruner) Run(ctx context.Context) error {
	every := p.Every
	if every <= 0 {
		every = DefaultPruneEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if _, err := p.Prune(ctx); err != nil && ctx.Err() == nil {
			p.logger().Warn("events: could not delete old events", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Prune deletes the events older than Keep whose delivery is over and
// reports how many.
func (p *Pruner) Prune(ctx context.Context) (int, error) {
	keep, now := p.Keep, p.Now
	if keep <= 0 {
		keep = DefaultKeep
	}
	if now == nil {
		now = time.Now
	}
	n, err := p.Store.PruneEvents(ctx, now().Add(-keep))
	if n > 0 {
		p.logger().Info("events: deleted old events", "count", n, "older_than", keep)
	}
	return n, err
}

// logger returns the Logger or the default one.
func (p *Pruner) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}
