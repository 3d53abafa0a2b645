package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// deliveryKey is an event's entry in the deliveries index: when it is due
// (its next attempt, or the end of its lease), then its sequence number.
func deliveryKey(due time.Time, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(timeKey(due, ""), seq)
}

// ClaimDeliveries returns up to limit pending events due at now (next
// attempt at or before now, lease over) in Seq order, and leases them
// until now+lease: an event whose deliverer dies is due again when the
// lease ends.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]onbehalf.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	end := timeKey(now.Add(time.Nanosecond), "")
	due := func(tx *bbolt.Tx) []uint64 {
		var seqs []uint64
		scanIndex(tx.Bucket(bucketDeliveries), nil, nil, false, func(k, _ []byte) bool {
			if bytes.Compare(k, end) >= 0 || len(k) != 16 {
				return false
			}
			seqs = append(seqs, binary.BigEndian.Uint64(k[8:]))
			return true
		})
		return seqs
	}
	var found bool
	if err := s.view(func(tx *bbolt.Tx) error { found = len(due(tx)) > 0; return nil }); err != nil || !found {
		return nil, err
	}
	var out []onbehalf.Delivery
	err := s.update(func(tx *bbolt.Tx) error {
		out = nil
		seqs := due(tx)
		slices.Sort(seqs)
		if len(seqs) > limit {
			seqs = seqs[:limit]
		}
		if len(seqs) == 0 {
			return errNoChange
		}
		until := now.Add(lease).UTC()
		for _, seq := range seqs {
			var r eventRecord
			if ok, err := getJSON(tx.Bucket(bucketEvents), seqKey(seq), &r); err != nil {
				return err
			} else if !ok {
				continue
			}
			ev, err := s.event(&r)
			if err != nil {
				return err
			}
			out = append(out, onbehalf.Delivery{Event: ev, Attempts: r.Attempts, FirstTried: r.FirstTried})
			r.Leased = true
			if err := reschedule(tx, &r, until); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// reschedule moves a pending event's entry in the deliveries index to due
// and writes the record.
func reschedule(tx *bbolt.Tx, r *eventRecord, due time.Time) error {
	b := tx.Bucket(bucketDeliveries)
	if err := b.Delete(deliveryKey(r.Due, uint64(r.Seq))); err != nil {
		return err
	}
	r.Due = due.UTC()
	if err := b.Put(deliveryKey(r.Due, uint64(r.Seq)), nil); err != nil {
		return err
	}
	return saveEvent(tx, r)
}

// DeliveryDone ends an event's delivery (delivered, or given up). An event
// whose delivery is already over is left as it is; an unknown ID is
// ENOTFOUND.
func (s *Store) DeliveryDone(ctx context.Context, id string, at time.Time) error {
	return s.updatePending(id, func(tx *bbolt.Tx, r *eventRecord) error {
		if err := tx.Bucket(bucketDeliveries).Delete(deliveryKey(r.Due, uint64(r.Seq))); err != nil {
			return err
		}
		r.Pending, r.Leased, r.Due, r.DoneAt = false, false, time.Time{}, at.UTC()
		return saveEvent(tx, r)
	})
}

// DeliveryFailed records a failed attempt at at and schedules the next one
// at next; the first failure's time is kept (retries stop 24 h after it).
// An event whose delivery is over (another deliverer finished it after
// this one's lease ran out) is left as it is.
func (s *Store) DeliveryFailed(ctx context.Context, id string, at, next time.Time, reason string) error {
	return s.updatePending(id, func(tx *bbolt.Tx, r *eventRecord) error {
		r.Attempts++
		if r.FirstTried.IsZero() {
			r.FirstTried = at.UTC()
		}
		r.LastTried, r.LastError, r.Leased = at.UTC(), store.DeliveryReason(reason), false
		return reschedule(tx, r, next)
	})
}

// updatePending runs fn on the record of an event still pending delivery;
// an event whose delivery is over is left alone, an unknown one is
// ENOTFOUND.
func (s *Store) updatePending(id string, fn func(tx *bbolt.Tx, r *eventRecord) error) error {
	return s.update(func(tx *bbolt.Tx) error {
		r, err := loadEvent(tx, id)
		if err != nil {
			return err
		}
		if !r.Pending {
			return errNoChange
		}
		return fn(tx, r)
	})
}

// PendingDeliveries counts the events not yet delivered.
func (s *Store) PendingDeliveries(ctx context.Context) (int, error) {
	var n int
	err := s.view(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketDeliveries).Stats().KeyN
		return nil
	})
	return n, err
}
