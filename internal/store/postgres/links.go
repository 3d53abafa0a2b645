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

// Connect links are kept by store.LinkKey of their secret (a bearer
// credential for an hour, never stored) and by their public ID; their
// metadata, about a person, is sealed.

// CreateConnectLink stores a connect link (the caller makes its ID and its
// secret, the secret part of the URL); an ID or secret stored already is
// ECONFLICT. A zero CreatedAt is set to now. It prunes links that expired
// more than store.LinkKeep ago.
func (s *Store) CreateConnectLink(ctx context.Context, l onbehalf.ConnectLink) error {
	if err := store.CheckConnectLink(l); err != nil {
		return err
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = s.now()
	}
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		if _, err := tx.Exec(ctx, qPruneLinks.sql, s.clock().Add(-store.LinkKeep), store.LinkPruneBatch); err != nil {
			return nil, err
		}
		return nil, s.insertLink(ctx, tx, store.LinkRecord{Key: store.LinkKey(l.Secret), ID: l.ID,
			ExternalUserID: l.ExternalUserID, ReturnTo: l.ReturnTo, Metadata: l.Metadata,
			CreatedAt: l.CreatedAt, ExpiresAt: l.ExpiresAt, UsedAt: l.UsedAt, RevokedAt: l.RevokedAt,
			ConnectionID: l.ConnectionID, Browser: l.Browser})
	})
}

// insertLink inserts a link record, its metadata sealed; a key or ID
// stored already is ECONFLICT.
func (s *Store) insertLink(ctx context.Context, tx pgx.Tx, r store.LinkRecord) error {
	var sealed string
	if store.GivenJSON(r.Metadata) {
		var err error
		if sealed, err = s.keys.SealJSON(r.Metadata, store.LinkAD(r.Key)); err != nil {
			return err
		}
	}
	ok, err := one(tx.QueryRow(ctx, qInsertLink.sql, r.Key, r.ID, r.ExternalUserID, r.ReturnTo, nullTime(r.CreatedAt),
		micro(r.ExpiresAt), nullTime(r.UsedAt), nullTime(r.RevokedAt), r.ConnectionID, sealed, r.Browser), new(bool))
	if err != nil {
		return err
	}
	if !ok {
		return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link exists already.")
	}
	return nil
}

// scanLink reads a link row; secret is the caller's ("" when read by ID).
// It returns the row's key too.
func (s *Store) scanLink(row pgx.Row, secret string) (*onbehalf.ConnectLink, string, error) {
	l := &onbehalf.ConnectLink{Secret: secret}
	var created, used, revoked pgtype.Timestamptz
	var sealed, key string
	found, err := one(row, &l.ID, &l.ExternalUserID, &l.ReturnTo, &created, &l.ExpiresAt, &used, &revoked,
		&l.ConnectionID, &sealed, &l.Browser, &key)
	if err != nil {
		return nil, "", err
	}
	if !found {
		return nil, "", store.ErrNoLink()
	}
	l.ExpiresAt, l.CreatedAt, l.UsedAt, l.RevokedAt = l.ExpiresAt.UTC(), timeOf(created), timeOf(used), timeOf(revoked)
	if sealed != "" {
		if err := s.keys.OpenJSON(sealed, store.LinkAD(key), &l.Metadata); err != nil {
			return nil, "", err
		}
	}
	return l, key, nil
}

// ConnectLink returns the link with the given secret (ENOTFOUND when
// unknown).
func (s *Store) ConnectLink(ctx context.Context, secret string) (*onbehalf.ConnectLink, error) {
	return s.readLink(ctx, qLink.sql, store.LinkKey(secret), secret)
}

// ConnectLinkByID returns the link with the given ID (ENOTFOUND).
func (s *Store) ConnectLinkByID(ctx context.Context, id string) (*onbehalf.ConnectLink, error) {
	return s.readLink(ctx, qLinkByID.sql, id, "")
}

// readLink reads one link with query q and its argument.
func (s *Store) readLink(ctx context.Context, q, arg, secret string) (*onbehalf.ConnectLink, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed()
	}
	l, _, err := s.scanLink(s.pool.QueryRow(ctx, q, arg), secret)
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	return l, nil
}

// changeLink runs change on the link the secret names (its row locked, so
// that instances racing on one link take turns) inside a write; change
// returns the statement that records what it changed ("" for none) with
// its argument.
func (s *Store) changeLink(ctx context.Context, secret string, change func(l *onbehalf.ConnectLink) (string, any, error)) (*onbehalf.ConnectLink, error) {
	key := store.LinkKey(secret)
	var l *onbehalf.ConnectLink
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		var err error
		if l, _, err = s.scanLink(tx.QueryRow(ctx, qLinkForUpdate.sql, key), secret); err != nil {
			return nil, err
		}
		q, arg, err := change(l)
		if err != nil || q == "" {
			return nil, err
		}
		_, err = tx.Exec(ctx, q, key, arg)
		return nil, err
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// UseConnectLink marks a link used at now and returns it: a link works
// once, within its lifetime, unless revoked (used, revoked or expired:
// ECONFLICT; unknown: ENOTFOUND), however many instances try at once.
func (s *Store) UseConnectLink(ctx context.Context, secret string, now time.Time) (*onbehalf.ConnectLink, error) {
	now = micro(now)
	return s.changeLink(ctx, secret, func(l *onbehalf.ConnectLink) (string, any, error) {
		if err := store.CheckLinkUse(l.UsedAt, l.RevokedAt, l.ExpiresAt, now); err != nil {
			return "", nil, err
		}
		l.UsedAt = now
		return qUseLink.sql, now, nil
	})
}

// LinkConnectLink records the connection a used link made (ENOTFOUND for
// an unknown link).
func (s *Store) LinkConnectLink(ctx context.Context, secret, connectionID string) error {
	if err := store.CheckLinkConnection(connectionID); err != nil {
		return err
	}
	_, err := s.changeLink(ctx, secret, func(l *onbehalf.ConnectLink) (string, any, error) {
		l.ConnectionID = connectionID
		return qLinkConnection.sql, connectionID, nil
	})
	return err
}

// RevokeConnectLink revokes a pending or expired link by ID at now (a
// revoked one stays as it is; used: ECONFLICT; unknown: ENOTFOUND).
func (s *Store) RevokeConnectLink(ctx context.Context, id string, now time.Time) (*onbehalf.ConnectLink, error) {
	now = micro(now)
	var l *onbehalf.ConnectLink
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		var key string
		var err error
		if l, key, err = s.scanLink(tx.QueryRow(ctx, qLinkByIDForUpdate.sql, id), ""); err != nil {
			return nil, err
		}
		if err := store.CheckLinkRevoke(l.UsedAt); err != nil || !l.RevokedAt.IsZero() {
			return nil, err
		}
		l.RevokedAt = now
		_, err = tx.Exec(ctx, qRevokeLink.sql, key, now)
		return nil, err
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// BindConnectLink binds a link to the browser that opens it first (a hash
// of its per-browser value): later calls pass with the same hash and are
// ECONFLICT with another (store.CheckLinkBind), as are used, revoked or
// expired links; unknown ones are ENOTFOUND. The row is locked, so two
// browsers opening a link at once on two instances bind it once.
func (s *Store) BindConnectLink(ctx context.Context, secret string, browser []byte, now time.Time) (*onbehalf.ConnectLink, error) {
	return s.changeLink(ctx, secret, func(l *onbehalf.ConnectLink) (string, any, error) {
		if err := store.CheckLinkUse(l.UsedAt, l.RevokedAt, l.ExpiresAt, now); err != nil {
			return "", nil, err
		}
		if err := store.CheckLinkBind(l.Browser, browser); err != nil {
			return "", nil, err
		}
		if l.Browser != nil {
			return "", nil, nil
		}
		l.Browser = slices.Clone(browser)
		return qBindLink.sql, l.Browser, nil
	})
}
