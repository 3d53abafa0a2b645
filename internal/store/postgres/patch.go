package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
)

// UpdateConnection changes a connection's external user ID and metadata
// (see onbehalf.ConnectionStore); the grant is left alone. Two patches
// setting one external user ID are serialized by an advisory lock, so
// that only one connection gets it.
func (s *Store) UpdateConnection(ctx context.Context, id string, p onbehalf.ConnectionPatch) (*onbehalf.Connection, error) {
	var c onbehalf.Connection
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		if p.ExternalUserID != nil && *p.ExternalUserID != "" {
			if _, err := tx.Exec(ctx, qLockExternalUser.sql, *p.ExternalUserID); err != nil {
				return nil, err
			}
		}
		r, found, err := scanConn(tx.QueryRow(ctx, qConnectionForUpdate.sql, id))
		if err != nil {
			return nil, err
		} else if !found {
			return nil, store.ErrNoConnection()
		}
		old, err := s.decode(&r, nil)
		if err != nil {
			return nil, err
		}
		n, err := store.Patch(old, p, s.clock())
		if err != nil {
			return nil, err
		}
		if n.ExternalUserID != "" && n.ExternalUserID != old.ExternalUserID {
			var other string
			if taken, err := one(tx.QueryRow(ctx, qExternalUserHolder.sql, n.ExternalUserID, id), &other); err != nil {
				return nil, err
			} else if taken {
				return nil, store.ErrExternalUserTaken(&onbehalf.Connection{ID: other})
			}
		}
		_, prof, err := s.sealConn(&n)
		if err != nil {
			return nil, err
		}
		var version int64
		if err := tx.QueryRow(ctx, qUpdateProfile.sql, id, n.ExternalUserID, prof, n.UpdatedAt).Scan(&version); err != nil {
			return nil, err
		}
		c = n
		return nil, nil
	})
	s.cache.drop(id)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// NoteAPIKeyUsed moves a key's LastUsedAt forward to at.
func (s *Store) NoteAPIKeyUsed(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		_, err := tx.Exec(ctx, qNoteAPIKeyUsed.sql, id, micro(at))
		return nil, err
	})
}
