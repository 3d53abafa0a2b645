package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	"github.com/onbehalf/onbehalf/internal/store"
)

// Secret returns the secret stored under name (sealed at rest), creating
// it with generate on first use: instances generating one secret at once
// agree on the first one stored. A secret sealed with an older key is
// sealed again with the current one (rotation); if that write fails the
// secret is still returned.
func (s *Store) Secret(ctx context.Context, name string, generate func() (string, error)) (string, error) {
	if s.closed.Load() {
		return "", store.ErrClosed()
	}
	var sealed string
	found, err := one(s.pool.QueryRow(ctx, qSecret.sql, name), &sealed)
	if err != nil {
		return "", s.readErr(ctx, err)
	}
	if !found {
		if generate == nil {
			return "", onbehalf.Errorf(onbehalf.ENOTFOUND, "No secret %s.", name)
		}
		v, err := generate()
		if err != nil {
			return "", err
		}
		if sealed, err = s.storeSecret(ctx, name, v); err != nil {
			return "", err
		}
	}
	v, err := s.keys.Open(sealed, []byte(store.SecretAD(name)))
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", name, err)
	}
	if seal.SealedKeyID(sealed) != s.keys.Current() {
		_ = s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
			fresh, err := s.keys.Seal(v, []byte(store.SecretAD(name)))
			if err != nil {
				return nil, err
			}
			_, err = tx.Exec(ctx, qResealSecret.sql, name, sealed, fresh)
			return nil, err
		})
	}
	return string(v), nil
}

// storeSecret stores a new secret unless another caller stored one
// first, and returns the sealed value stored.
func (s *Store) storeSecret(ctx context.Context, name, v string) (string, error) {
	var sealed string
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		fresh, err := s.keys.Seal([]byte(v), []byte(store.SecretAD(name)))
		if err != nil {
			return nil, err
		}
		ok, err := one(tx.QueryRow(ctx, qInsertSecret.sql, name, fresh), new(bool))
		if err != nil {
			return nil, err
		}
		if ok {
			sealed = fresh
			return nil, nil
		}
		if err := tx.QueryRow(ctx, qSecret.sql, name).Scan(&sealed); err != nil {
			return nil, err
		}
		return nil, errNoChange
	})
	return sealed, err
}

// Meta returns a setting ("" and false when unset).
func (s *Store) Meta(ctx context.Context, name string) (string, bool, error) {
	if s.closed.Load() {
		return "", false, store.ErrClosed()
	}
	var v string
	found, err := one(s.pool.QueryRow(ctx, qSetting.sql, name), &v)
	return v, found, s.readErr(ctx, err)
}

// SetMeta writes a setting.
func (s *Store) SetMeta(ctx context.Context, name, value string) error {
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		_, err := tx.Exec(ctx, qSetSetting.sql, name, value)
		return nil, err
	})
}
