package postgres

import (
	"context"
	"slices"
	"time"

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

// Connect links are kept by store.LinkKey of their ID (a bearer secret for
// an hour, never stored); their metadata, about a person, is sealed.

// CreateConnectLink stores a connect link (the caller makes its ID, the
// secret part of the URL); an ID stored already is ECONFLICT. It prunes
// links that expired more than store.LinkKeep ago.
func (s *Store) CreateConnectLink(ctx context.Context, l onbehalf.ConnectLink) error {
	if err := store.CheckConnectLink(l); err != nil {
		return err
	}
	key := store.LinkKey(l.ID)
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		if _, err := tx.Exec(ctx, qPruneLinks.sql, s.clock().Add(-store.LinkKeep), store.LinkPruneBatch); err != nil {
			return nil, err
		}
		return nil, s.insertLink(ctx, tx, store.LinkRecord{Key: key, ExternalUserID: l.ExternalUserID, ReturnTo: l.ReturnTo,
			Metadata: l.Metadata, ExpiresAt: l.ExpiresAt, UsedAt: l.UsedAt})
	})
}

// insertLink inserts a link record, its metadata sealed; a key stored
// already is ECONFLICT.
func (s *Store) insertLink(ctx context.Context, tx pgx.Tx, r store.LinkRecord) error {
	var sealed string
	if store.GivenJSON(r.Metadata) {
		var err error
		if sealed, err = s.keys.SealJSON(r.Metadata, store.LinkAD(r.Key)); err != nil {
			return err
		}
	}
	ok, err := one(tx.QueryRow(ctx, qInsertLink.sql, r.Key, r.ExternalUserID, r.ReturnTo, micro(r.ExpiresAt),
		nullTime(r.UsedAt), sealed), new(bool))
	if err != nil {
		return err
	}
	if !ok {
		return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link exists already.")
	}
	return nil
}

// scanLink reads a link row into the link with the given ID.
func (s *Store) scanLink(row pgx.Row, id string) (*onbehalf.ConnectLink, error) {
	l := &onbehalf.ConnectLink{ID: id}
	var used pgtype.Timestamptz
	var sealed string
	found, err := one(row, &l.ExternalUserID, &l.ReturnTo, &l.ExpiresAt, &used, &sealed, &l.Browser)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, store.ErrNoLink()
	}
	l.ExpiresAt, l.UsedAt = l.ExpiresAt.UTC(), timeOf(used)
	if sealed != "" {
		if err := s.keys.OpenJSON(sealed, store.LinkAD(store.LinkKey(id)), &l.Metadata); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// ConnectLink returns a link (ENOTFOUND when unknown).
func (s *Store) ConnectLink(ctx context.Context, id string) (*onbehalf.ConnectLink, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed()
	}
	l, err := s.scanLink(s.pool.QueryRow(ctx, qLink.sql, store.LinkKey(id)), id)
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	return l, nil
}

// UseConnectLink marks a link used at now and returns it: a link works
// once, within its lifetime (used or expired: ECONFLICT; unknown:
// ENOTFOUND), however many instances try at once.
func (s *Store) UseConnectLink(ctx context.Context, id string, now time.Time) (*onbehalf.ConnectLink, error) {
	key := store.LinkKey(id)
	now = micro(now)
	var l *onbehalf.ConnectLink
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		var err error
		if l, err = s.scanLink(tx.QueryRow(ctx, qLinkForUpdate.sql, key), id); err != nil {
			return nil, err
		}
		if err := store.CheckLinkUse(l.UsedAt, l.ExpiresAt, now); err != nil {
			return nil, err
		}
		l.UsedAt = now
		_, err = tx.Exec(ctx, qUseLink.sql, key, now)
		return nil, err
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// BindConnectLink binds a link to the browser that opens it first (a hash
// of its per-browser value): later calls pass with the same hash and are
// ECONFLICT with another (store.CheckLinkBind), as are used or expired
// links; unknown ones are ENOTFOUND. The row is locked, so two browsers
// opening a link at once on two instances bind it once.
func (s *Store) BindConnectLink(ctx context.Context, id string, browser []byte, now time.Time) (*onbehalf.ConnectLink, error) {
	key := store.LinkKey(id)
	var l *onbehalf.ConnectLink
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		var err error
		if l, err = s.scanLink(tx.QueryRow(ctx, qLinkForUpdate.sql, key), id); err != nil {
			return nil, err
		}
		if err := store.CheckLinkUse(l.UsedAt, l.ExpiresAt, now); err != nil {
			return nil, err
		}
		if err := store.CheckLinkBind(l.Browser, browser); err != nil {
			return nil, err
		}
		if l.Browser != nil {
			return nil, nil
		}
		l.Browser = slices.Clone(browser)
		_, err = tx.Exec(ctx, qBindLink.sql, key, l.Browser)
		return nil, err
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}
