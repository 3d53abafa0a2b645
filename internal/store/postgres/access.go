package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
)

// CreateAPIKey stores a key of the integration API: only its hash. The
// caller makes the ID; an ID or hash stored already is ECONFLICT. A zero
// CreatedAt is set to now.
func (s *Store) CreateAPIKey(ctx context.Context, k onbehalf.APIKey) error {
	if err := store.CheckAPIKey(k); err != nil {
		return err
	}
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		at := k.CreatedAt
		if at.IsZero() {
			at = s.clock()
		}
		ok, err := one(tx.QueryRow(ctx, qInsertAPIKey.sql, k.ID, k.Name, k.Hash, k.Prefix, micro(at)), new(bool))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, onbehalf.Errorf(onbehalf.ECONFLICT, "This API key exists already.")
		}
		return nil, nil
	})
}

// scanAPIKey reads an API key row.
func scanAPIKey(row pgx.Row) (onbehalf.APIKey, bool, error) {
	var k onbehalf.APIKey
	var used pgtype.Timestamptz
	found, err := one(row, &k.ID, &k.Name, &k.Hash, &k.Prefix, &k.CreatedAt, &used)
	k.CreatedAt, k.LastUsedAt = k.CreatedAt.UTC(), timeOf(used)
	return k, found, err
}

// APIKeys lists the API keys, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]onbehalf.APIKey, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed()
	}
	rows, err := s.pool.Query(ctx, qAPIKeys.sql)
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	defer rows.Close()
	var out []onbehalf.APIKey
	for rows.Next() {
		k, _, err := scanAPIKey(rows)
		if err != nil {
			return nil, s.readErr(ctx, err)
		}
		out = append(out, k)
	}
	return out, s.readErr(ctx, rows.Err())
}

// APIKeyByHash returns the key with the given hash (ENOTFOUND).
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (*onbehalf.APIKey, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed()
	}
	if len(hash) == 0 {
		return nil, store.ErrNoAPIKey()
	}
	k, found, err := scanAPIKey(s.pool.QueryRow(ctx, qAPIKeyByHash.sql, hash))
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	if !found {
		return nil, store.ErrNoAPIKey()
	}
	return &k, nil
}

// RevokeAPIKey deletes a key by ID (ENOTFOUND).
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		tag, err := tx.Exec(ctx, qDeleteAPIKey.sql, id)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 0 {
			return nil, store.ErrNoAPIKey()
		}
		return nil, nil
	})
}
