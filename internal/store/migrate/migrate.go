// Package migrate moves a bbolt install to PostgreSQL (onbehalf migrate):
// every connection, secret, setting, API key, connect link, bot with its
// timeline, and event with its delivery state, into an empty database, in
// one transaction, leaving the bbolt file untouched.
//
// Tokens and personal data are opened with the bbolt store's keys (its key
// file or TOKEN_ENCRYPTION_KEY) and sealed again with the PostgreSQL
// store's (TOKEN_ENCRYPTION_KEY, required there). Copying the sealed
// values as they are would save little time and tie the PostgreSQL
// database to the bbolt key file, which usually lies next to the bbolt
// file and is not configured on the new instances; it would also bind the
// values to bbolt's layout (one sealed value per connection, where
// PostgreSQL seals the pair apart from the personal data).
package migrate

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/store/postgres"
)

// progressEvery is how many connections go by between progress lines.
const progressEvery = 10_000

// Copy copies everything from holds into to, which must be empty (a
// database that holds anything is refused before anything is written, and
// a copy that fails writes nothing: it can be run again). from should be
// opened with bolt.OpenReadOnly, after the server that used it stopped.
// After the copy it checks through to's public API that the counts, the
// event sequence and the pending deliveries match the source's. It
// returns what it copied.
func Copy(ctx context.Context, from *bolt.Store, to *postgres.Store, log *slog.Logger) (postgres.Counts, error) {
	if log == nil {
		log = slog.Default()
	}
	start := time.Now()
	log.Info("migrate: copying the bbolt database to PostgreSQL", "from", from.Path())
	var seen tally
	counts, err := to.Import(ctx, func(ctx context.Context, sink store.Sink) error {
		return from.Export(ctx, &progress{Sink: sink, log: log, seen: &seen})
	})
	if err != nil {
		return counts, fmt.Errorf("copying: %w", err)
	}
	if err := verify(ctx, from, to, seen); err != nil {
		return counts, fmt.Errorf("checking the copy: %w", err)
	}
	log.Info("migrate: done", "connections", counts.Connections, "bots", counts.Bots, "events", counts.Events,
		"pending_deliveries", seen.pending, "api_keys", counts.APIKeys, "connect_links", counts.Links,
		"secrets", counts.Secrets, "settings", counts.Settings, "last_event_seq", counts.LastEventSeq,
		"took", time.Since(start).Round(time.Millisecond))
	return counts, nil
}

// tally is what the source exported, for the check.
type tally struct {
	states  map[onbehalf.ConnState]int
	pending int
	lastSeq int64
}

// progress passes records on to the target's sink, counting them and
// logging the progress of the connections.
type progress struct {
	store.Sink
	log  *slog.Logger
	seen *tally
}

// Connection counts and passes on a connection.
func (p *progress) Connection(ctx context.Context, c *onbehalf.Connection) error {
	if p.seen.states == nil {
		p.seen.states = map[onbehalf.ConnState]int{}
	}
	p.seen.states[c.State]++
	if n := p.seen.states[onbehalf.StateConnected] + p.seen.states[onbehalf.StateDisconnected]; n%progressEvery == 0 {
		p.log.Info("migrate: connections copied so far", "n", n)
	}
	return p.Sink.Connection(ctx, c)
}

// Event counts and passes on an event.
func (p *progress) Event(ctx context.Context, e store.EventRecord) error {
	if e.Delivery.Pending {
		p.seen.pending++
	}
	return p.Sink.Event(ctx, e)
}

// EventSeq notes and passes on the last sequence number.
func (p *progress) EventSeq(ctx context.Context, last int64) error {
	p.seen.lastSeq = last
	return p.Sink.EventSeq(ctx, last)
}

// verify reads the copy back through the target's public API and
// compares it with the source.
func verify(ctx context.Context, from *bolt.Store, to *postgres.Store, seen tally) error {
	counts, err := to.CountConnections(ctx)
	if err != nil {
		return err
	}
	for _, st := range []onbehalf.ConnState{onbehalf.StateConnected, onbehalf.StateDisconnected} {
		if counts[st] != seen.states[st] {
			return fmt.Errorf("%d %s connections in PostgreSQL, %d in bbolt", counts[st], st, seen.states[st])
		}
	}
	srcCounts, err := from.CountConnections(ctx)
	if err != nil {
		return err
	}
	for st, n := range srcCounts {
		if counts[st] != n {
			return fmt.Errorf("%d %s connections in PostgreSQL, bbolt counts %d", counts[st], st, n)
		}
	}
	last, err := to.LastEventSeq(ctx)
	if err != nil {
		return err
	}
	if last < seen.lastSeq {
		return fmt.Errorf("event sequence at %d in PostgreSQL, %d in bbolt", last, seen.lastSeq)
	}
	pending, err := to.PendingDeliveries(ctx)
	if err != nil {
		return err
	}
	if pending != seen.pending {
		return fmt.Errorf("%d pending deliveries in PostgreSQL, %d in bbolt", pending, seen.pending)
	}
	return nil
}
