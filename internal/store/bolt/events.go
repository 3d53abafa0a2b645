package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// eventRecord is an event as stored, keyed by its sequence number: the
// data is sealed (it names people: external user IDs, metadata), bound to
// the event's ID. While Pending, the event has an entry in the deliveries
// index at Due: its next attempt, or the end of its lease.
type eventRecord struct {
	ID     string    `json:"id"`
	Seq    int64     `json:"seq"`
	Type   string    `json:"type"`
	Time   time.Time `json:"time"`
	Sealed string    `json:"sealed"`

	Pending    bool      `json:"pending,omitempty"`
	Due        time.Time `json:"due,omitzero"`
	Leased     bool      `json:"leased,omitempty"`
	Attempts   int       `json:"attempts,omitempty"`
	FirstTried time.Time `json:"first_tried,omitzero"`
	LastTried  time.Time `json:"last_tried,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
	DoneAt     time.Time `json:"done_at,omitzero"`
}

// addEvent writes ev inside tx, the transaction of the change it reports
// (the outbox): it gives ev its ID and sequence number, and queues it for
// delivery when events are delivered.
func (s *Store) addEvent(tx *bbolt.Tx, ev onbehalf.Event) error {
	id, err := store.NewEventID()
	if err != nil {
		return err
	}
	events := tx.Bucket(bucketEvents)
	seq, err := events.NextSequence()
	if err != nil {
		return err
	}
	data := ev.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	sealed, err := s.sealJSON(tx, "", data, store.EventAD(id))
	if err != nil {
		return err
	}
	r := eventRecord{ID: id, Seq: int64(seq), Type: ev.Type, Time: ev.Time.UTC(), Sealed: sealed}
	if s.deliver {
		r.Pending, r.Due = true, r.Time
		if err := tx.Bucket(bucketDeliveries).Put(deliveryKey(r.Due, seq), nil); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketEventIDs).Put([]byte(id), seqKey(seq)); err != nil {
		return err
	}
	tx.OnCommit(s.Committed) // once per event: waking a reader is idempotent
	return putJSON(events, seqKey(seq), &r)
}

// AppendEvent writes an event that goes with no stored change, in a
// transaction of its own (onbehalf.EventStore).
func (s *Store) AppendEvent(ctx context.Context, ev onbehalf.Event) error {
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	return s.update(func(tx *bbolt.Tx) error { return s.addEvent(tx, ev) })
}

// event returns the event of a stored record, its data unsealed.
func (s *Store) event(r *eventRecord) (onbehalf.Event, error) {
	var data json.RawMessage
	if err := s.keys.OpenJSON(r.Sealed, store.EventAD(r.ID), &data); err != nil {
		return onbehalf.Event{}, err
	}
	return onbehalf.Event{ID: r.ID, Seq: r.Seq, Type: r.Type, Time: r.Time, Data: data}, nil
}

// EventsAfter returns the events whose Seq is greater than after, oldest
// first, at most limit (all when limit is 0 or less).
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]onbehalf.Event, error) {
	var out []onbehalf.Event
	err := s.view(func(tx *bbolt.Tx) error {
		out = nil
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(seqKey(uint64(max(after, 0)) + 1)); k != nil; k, v = c.Next() {
			if limit > 0 && len(out) >= limit {
				break
			}
			var r eventRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decoding event %d: %w", binary.BigEndian.Uint64(k), err)
			}
			ev, err := s.event(&r)
			if err != nil {
				return err
			}
			out = append(out, ev)
		}
		return nil
	})
	return out, err
}

// LastEventSeq returns the Seq of the newest event written (0 when none
// ever was).
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.view(func(tx *bbolt.Tx) error {
		seq = int64(tx.Bucket(bucketEvents).Sequence())
		return nil
	})
	return seq, err
}

// EventSeq returns the Seq of the event with the given ID (ENOTFOUND when
// it is not kept).
func (s *Store) EventSeq(ctx context.Context, id string) (int64, error) {
	var seq int64
	err := s.view(func(tx *bbolt.Tx) error {
		r, err := loadEvent(tx, id)
		if err == nil {
			seq = r.Seq
		}
		return err
	})
	return seq, err
}

// loadEvent reads the record of the event with the given ID inside tx.
func loadEvent(tx *bbolt.Tx, id string) (*eventRecord, error) {
	seq := tx.Bucket(bucketEventIDs).Get([]byte(id))
	if seq == nil {
		return nil, store.ErrNoEvent()
	}
	var r eventRecord
	if ok, err := getJSON(tx.Bucket(bucketEvents), seq, &r); err != nil {
		return nil, err
	} else if !ok {
		return nil, store.ErrNoEvent()
	}
	return &r, nil
}

// saveEvent writes an event record back.
func saveEvent(tx *bbolt.Tx, r *eventRecord) error {
	return putJSON(tx.Bucket(bucketEvents), seqKey(uint64(r.Seq)), r)
}

// PruneEvents deletes the events older than before whose delivery is over
// (never a pending one), oldest first, stopping at the first event that
// is not older. It works in transactions of pruneBatch events, so that a
// large backlog never makes one huge write.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	total := 0
	var from uint64
	for {
		n, next, err := s.pruneBatch(before, from)
		total += n
		if err != nil || next == 0 {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
		from = next
	}
}

// pruneBatch is the number of events PruneEvents reads per transaction.
const pruneBatch = 1000

// pruneBatch prunes from the event with sequence number from on; next is
// where the next batch starts (0: done).
func (s *Store) pruneBatch(before time.Time, from uint64) (n int, next uint64, err error) {
	err = s.update(func(tx *bbolt.Tx) error {
		n, next = 0, 0
		events := tx.Bucket(bucketEvents)
		c := events.Cursor()
		var dead [][]byte
		var recs []eventRecord
		read := 0
		for k, v := c.Seek(seqKey(from)); k != nil; k, v = c.Next() {
			if read++; read > pruneBatch {
				next = binary.BigEndian.Uint64(k)
				break
			}
			var r eventRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if !r.Time.Before(before) {
				break
			}
			if !r.Pending {
				dead, recs = append(dead, append([]byte(nil), k...)), append(recs, r)
			}
		}
		if len(dead) == 0 {
			return errNoChange
		}
		meta := tx.Bucket(bucketMeta)
		for i, k := range dead {
			if err := events.Delete(k); err != nil {
				return err
			}
			if err := tx.Bucket(bucketEventIDs).Delete([]byte(recs[i].ID)); err != nil {
				return err
			}
			if err := countKey(meta, recs[i].Sealed, ""); err != nil {
				return err
			}
		}
		n = len(dead)
		return nil
	})
	return n, next, err
}
