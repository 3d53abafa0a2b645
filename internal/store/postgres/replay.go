package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
)

// ClaimDelivery records key until expires and reports whether it is new
// (false while the same key is recorded and not expired, by any
// instance: the key's row is the one place every instance claims it). It
// prunes up to store.ReplayPruneBatch expired keys on the way.
func (s *Store) ClaimDelivery(ctx context.Context, key string, expires time.Time) (bool, error) {
	if err := store.CheckReplayKey(key); err != nil {
		return false, err
	}
	var first bool
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		now := s.clock()
		if _, err := tx.Exec(ctx, qPruneReplayKeys.sql, now, store.ReplayPruneBatch); err != nil {
			return nil, err
		}
		var k string
		found, err := one(tx.QueryRow(ctx, qClaimReplayKey.sql, key, micro(expires), now), &k)
		if err != nil {
			return nil, err
		}
		first = found
		return nil, nil
	})
	return first, err
}

// ReleaseDelivery forgets key; an unknown key is no error.
func (s *Store) ReleaseDelivery(ctx context.Context, key string) error {
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		_, err := tx.Exec(ctx, qReleaseReplayKey.sql, key)
		return nil, err
	})
}
