package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
)

// addEvents writes evs inside tx, the transaction of the change they
// report (the outbox), as its last statements: it gives each its ID and
// sequence number and queues it for delivery when events are delivered.
// Taking the numbers locks event_seq's row until the commit, so events
// commit in seq order (a reader resuming after a seq never misses one
// that commits later with a lower seq); being last, the lock is held for
// one round trip and the commit, and never while the transaction waits
// for another row.
func (s *Store) addEvents(ctx context.Context, tx pgx.Tx, evs []onbehalf.Event) error {
	if len(evs) == 0 {
		return nil
	}
	var last int64
	if err := tx.QueryRow(ctx, qTakeEventSeqs.sql, len(evs)).Scan(&last); err != nil {
		return err
	}
	n := len(evs)
	seqs, ids, types, sealed := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	times, pending, due := make([]time.Time, n), make([]bool, n), make([]*time.Time, n)
	for i, ev := range evs {
		id, err := store.NewEventID()
		if err != nil {
			return err
		}
		data := ev.Data
		if len(data) == 0 {
			data = json.RawMessage("{}")
		}
		if sealed[i], err = s.keys.SealJSON(data, store.EventAD(id)); err != nil {
			return err
		}
		seqs[i], ids[i], types[i], times[i] = last-int64(n-1-i), id, ev.Type, micro(ev.Time)
		if s.deliver {
			pending[i], due[i] = true, &times[i]
		}
	}
	_, err := tx.Exec(ctx, qInsertEvents.sql, seqs, ids, types, times, sealed, pending, due)
	return err
}

// AppendEvent writes an event that goes with no stored change, in a
// transaction of its own (onbehalf.EventStore).
func (s *Store) AppendEvent(ctx context.Context, ev onbehalf.Event) error {
	if ev.Time.IsZero() {
		ev.Time = s.clock()
	}
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) { return []onbehalf.Event{ev}, nil })
}

// event returns a stored event, its data unsealed.
func (s *Store) event(seq int64, id, typ string, t time.Time, sealed string) (onbehalf.Event, error) {
	var data json.RawMessage
	if err := s.keys.OpenJSON(sealed, store.EventAD(id), &data); err != nil {
		return onbehalf.Event{}, err
	}
	return onbehalf.Event{ID: id, Seq: seq, Type: typ, Time: t.UTC(), Data: data}, nil
}

// EventsAfter returns the events whose Seq is greater than after, oldest
// first, at most limit (all when limit is 0 or less).
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]onbehalf.Event, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed()
	}
	var lim any
	if limit > 0 {
		lim = limit
	}
	rows, err := s.pool.Query(ctx, qEventsAfter.sql, after, lim)
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	defer rows.Close()
	var out []onbehalf.Event
	for rows.Next() {
		var seq int64
		var id, typ, sealed string
		var t time.Time
		if err := rows.Scan(&seq, &id, &typ, &t, &sealed); err != nil {
			return nil, s.readErr(ctx, err)
		}
		ev, err := s.event(seq, id, typ, t, sealed)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, s.readErr(ctx, rows.Err())
}

// LastEventSeq returns the Seq of the newest event written (0 when none
// ever was); pruning never lowers it.
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	if s.closed.Load() {
		return 0, store.ErrClosed()
	}
	var seq int64
	err := s.pool.QueryRow(ctx, qLastEventSeq.sql).Scan(&seq)
	return seq, s.readErr(ctx, err)
}

// EventSeq returns the Seq of the event with the given ID (ENOTFOUND when
// it is not kept).
func (s *Store) EventSeq(ctx context.Context, id string) (int64, error) {
	if s.closed.Load() {
		return 0, store.ErrClosed()
	}
	var seq int64
	err := s.pool.QueryRow(ctx, qEventSeq.sql, id).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, store.ErrNoEvent()
	}
	return seq, s.readErr(ctx, err)
}

// pruneBatch is the number of events PruneEvents deletes per transaction,
// so that a large backlog never makes one huge write.
const pruneBatch = 1000

// PruneEvents deletes the events older than before whose delivery is over
// (never a pending one), oldest first, in transactions of pruneBatch.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		var n int
		err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
			tag, err := tx.Exec(ctx, qPruneEvents.sql, micro(before), pruneBatch)
			if err != nil {
				return nil, err
			}
			if n = int(tag.RowsAffected()); n == 0 {
				return nil, errNoChange
			}
			return nil, nil
		})
		if err != nil {
			return total, err
		}
		if total += n; n < pruneBatch {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
