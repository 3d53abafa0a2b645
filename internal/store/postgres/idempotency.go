package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
)

// BeginIdempotent claims key unless a live record holds it (see
// onbehalf.IdempotencyStore): the key's row is the one place every
// instance claims it. It prunes up to store.IdemPruneBatch expired
// records on the way.
func (s *Store) BeginIdempotent(ctx context.Context, key string, hash []byte, lockUntil, expires time.Time) (*onbehalf.IdempotentRecord, error) {
	if err := store.CheckIdemKey(key); err != nil {
		return nil, err
	}
	var held *onbehalf.IdempotentRecord
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		held = nil
		now := s.clock()
		if _, err := tx.Exec(ctx, qPruneIdemKeys.sql, now, store.IdemPruneBatch); err != nil {
			return nil, err
		}
		var k string
		claimed, err := one(tx.QueryRow(ctx, qBeginIdemKey.sql, key, hash, micro(lockUntil), micro(expires), now), &k)
		if err != nil || claimed {
			return nil, err
		}
		var rec onbehalf.IdempotentRecord
		var resp []byte
		var locked, exp pgtype.Timestamptz
		found, err := one(tx.QueryRow(ctx, qIdemKey.sql, key), &rec.Hash, &resp, &locked, &exp)
		if err != nil {
			return nil, err
		} else if !found {
			return nil, errNoChange
		}
		rec.LockedUntil, rec.ExpiresAt = timeOf(locked), timeOf(exp)
		if resp != nil {
			rec.Done = true
			if err := s.openIdem(key, resp, &rec.Response); err != nil {
				return nil, err
			}
		}
		held = &rec
		return nil, nil
	})
	return held, err
}

// The response column holds the answer sealed (it may hold a person's
// email and name), as a JSON string; a record written before answers were
// sealed holds it in clear, as a JSON object, until it expires.

// openIdem reads a stored answer into r.
func (s *Store) openIdem(key string, stored []byte, r *onbehalf.IdempotentResponse) error {
	var sealed string
	if json.Unmarshal(stored, &sealed) != nil {
		return json.Unmarshal(stored, r) // in clear, from before sealing
	}
	return s.keys.OpenJSON(sealed, store.IdemAD(key), r)
}

// FinishIdempotent stores the answer of the run that claimed key, sealed.
func (s *Store) FinishIdempotent(ctx context.Context, key string, r onbehalf.IdempotentResponse) error {
	sealed, err := s.keys.SealJSON(r, store.IdemAD(key))
	if err != nil {
		return err
	}
	b, err := json.Marshal(sealed)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		var k string
		found, err := one(tx.QueryRow(ctx, qFinishIdemKey.sql, key, b), &k)
		if err == nil && !found {
			err = onbehalf.Errorf(onbehalf.ENOTFOUND, "No such idempotency key.")
		}
		return nil, err
	})
}

// ReleaseIdempotent forgets key; an unknown key is no error.
func (s *Store) ReleaseIdempotent(ctx context.Context, key string) error {
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		_, err := tx.Exec(ctx, qReleaseIdemKey.sql, key)
		return nil, err
	})
}
