package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
)

// Connection returns the connection with the given ID: one round trip,
// and no decryption when the decoded connection is cached at the row's
// version (the token callback's hot path).
func (s *Store) Connection(ctx context.Context, id string) (*onbehalf.Connection, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed()
	}
	held := s.cache.entry(id)
	r, found, err := scanConn(s.pool.QueryRow(ctx, qConnectionByID.sql, id, held.version))
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	if !found {
		s.cache.drop(id)
		return nil, store.ErrNoConnection()
	}
	return s.decode(&r, &held)
}

// ConnectionByZoomUser returns the connection of a Zoom user.
func (s *Store) ConnectionByZoomUser(ctx context.Context, zoomUserID string) (*onbehalf.Connection, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed()
	}
	r, found, err := scanConn(s.pool.QueryRow(ctx, qConnectionByZoomUser.sql, zoomUserID))
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	if !found {
		return nil, store.ErrNoZoomUser()
	}
	return s.decode(&r, nil)
}

// Connect stores a fresh grant (store.Grant says how) and writes
// connection.created or connection.reconnected with it. The Zoom user's
// row is locked while the grant is applied, so that concurrent grants of
// one user, on any instance, make one connection.
func (s *Store) Connect(ctx context.Context, a onbehalf.Authorization) (*onbehalf.Connection, bool, error) {
	if err := store.CheckAuthorization(a); err != nil {
		return nil, false, err
	}
	a.Token.Expiry = micro(a.Token.Expiry)
	var c *onbehalf.Connection
	var created bool
	var version int64
	var held error
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		now := s.clock()
		held = nil
		for range 3 {
			r, found, err := scanConn(tx.QueryRow(ctx, qConnectionByZoomUserForUpdate.sql, a.User.ID))
			if err != nil {
				return nil, err
			}
			if found {
				old, err := s.decode(&r, nil)
				if err != nil {
					return nil, err
				}
				if store.Holds(old, a) {
					// Nothing moves: the holder only gets the fresh pair,
					// committed with the conflict's events.
					n := store.Renew(old, a, now)
					if version, err = s.updateConnection(ctx, tx, &n); err != nil {
						return nil, err
					}
					c, held = &n, onbehalf.ErrConnectConflict(&n, a.ExternalUserID)
					return store.ConflictEvents(old, &n, a.ExternalUserID, now), nil
				}
				n, previous := store.Grant(old, a, "", now)
				if version, err = s.updateConnection(ctx, tx, &n); err != nil {
					return nil, err
				}
				c, created = &n, false
				return []onbehalf.Event{store.ConnectionEvent(onbehalf.EventConnectionReconnected, now, &n, previous)}, nil
			}
			id, err := store.NewID()
			if err != nil {
				return nil, err
			}
			n, _ := store.Grant(nil, a, id, now)
			ok, v, err := s.insertConnection(ctx, tx, &n)
			if err != nil {
				return nil, err
			}
			if ok {
				c, created, version = &n, true, v
				return []onbehalf.Event{store.ConnectionEvent(onbehalf.EventConnectionCreated, now, &n, "")}, nil
			}
			// Another instance stored this Zoom user meanwhile: read it
			// again, locked.
		}
		return nil, errors.New("the Zoom user's connection kept changing during Connect")
	})
	if err != nil {
		return nil, false, err
	}
	s.cache.put(c.ID, version, partsOf(c))
	if held != nil {
		return nil, false, held
	}
	return c, created, nil
}

// insertConnection inserts a new connection; ok is false when the Zoom
// user has one already (stored by another transaction meanwhile).
func (s *Store) insertConnection(ctx context.Context, tx pgx.Tx, c *onbehalf.Connection) (ok bool, version int64, err error) {
	tok, prof, err := s.sealConn(c)
	if err != nil {
		return false, 0, err
	}
	ok, err = one(tx.QueryRow(ctx, qInsertConnection.sql, c.ID, c.ZoomUserID, c.ExternalUserID, string(c.State), tok, prof,
		s.refreshHash(c), dueOf(c), c.CreatedAt, c.UpdatedAt, nullTime(c.RefreshedAt), nullTime(c.MintedAt),
		nullTime(c.DisconnectedAt), c.DisconnectedReason, nullTime(c.GrantedAt)), &version)
	return ok, version, err
}

// updateConnection rewrites a known connection (Connect) and returns its
// new version.
func (s *Store) updateConnection(ctx context.Context, tx pgx.Tx, c *onbehalf.Connection) (int64, error) {
	args, err := s.updateValues(c)
	if err != nil {
		return 0, err
	}
	var version int64
	err = tx.QueryRow(ctx, qUpdateConnection.sql, args...).Scan(&version)
	return version, err
}

// updateValues returns the arguments of update_connection for c, its
// token and personal data sealed.
func (s *Store) updateValues(c *onbehalf.Connection) ([]any, error) {
	tok, prof, err := s.sealConn(c)
	if err != nil {
		return nil, err
	}
	return []any{c.ID, c.ExternalUserID, string(c.State), tok, prof, s.refreshHash(c),
		dueOf(c), c.UpdatedAt, nullTime(c.RefreshedAt), nullTime(c.DisconnectedAt), c.DisconnectedReason, nullTime(c.GrantedAt)}, nil
}

// refreshHash is the refresh_hash column of a connection: the keyed hash
// of its refresh token while connected, else NULL.
func (s *Store) refreshHash(c *onbehalf.Connection) any {
	if c.State != onbehalf.StateConnected {
		return nil
	}
	return s.hashKeys.current(c.ID, c.Token.RefreshToken)
}

// SaveToken commits a refreshed pair if the stored refresh token is still
// from: one UPDATE whose WHERE clause compares the refresh token's keyed
// hash (ECONFLICT otherwise: a reconnect or another refresh came first,
// on any instance, and this pair is stale). A disconnected connection is
// EDISCONNECTED and is not revived; a deleted one is ENOTFOUND.
func (s *Store) SaveToken(ctx context.Context, id, from string, tok onbehalf.Token) (*onbehalf.Connection, error) {
	if tok.RefreshToken == "" {
		return nil, store.ErrNoSaveWithoutRefresh()
	}
	tok.Expiry = micro(tok.Expiry)
	var c *onbehalf.Connection
	var version int64
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		now := s.clock()
		sealed, err := s.keys.SealJSON(tok, tokenAD(id))
		if err != nil {
			return nil, err
		}
		r, found, err := scanConn(tx.QueryRow(ctx, qSaveToken.sql, id, s.hashKeys.all(id, from), sealed,
			s.hashKeys.current(id, tok.RefreshToken), tok.Expiry, now))
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, s.whyNot(ctx, tx, id)
		}
		if c, err = s.decode(&r, nil); err != nil {
			return nil, err
		}
		version = r.version
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	s.cache.put(c.ID, version, partsOf(c))
	return c, nil
}

// whyNot says why a compare-and-swap on a connection's refresh token
// matched no row: deleted, disconnected, or another token stored.
func (s *Store) whyNot(ctx context.Context, tx pgx.Tx, id string) error {
	var state string
	found, err := one(tx.QueryRow(ctx, qConnectionState.sql, id), &state)
	switch {
	case err != nil:
		return err
	case !found:
		return store.ErrNoConnection()
	case state != string(onbehalf.StateConnected):
		return store.ErrDisconnected()
	}
	return store.ErrStale()
}

// MarkDisconnected wipes the pair and records when and why, if the stored
// refresh token is still from (ECONFLICT otherwise: the grant that failed
// is not the stored one, so a reconnect survives). A connection already
// disconnected is returned as it is, with no new event. It writes
// connection.disconnected.
func (s *Store) MarkDisconnected(ctx context.Context, id, from, reason string) (*onbehalf.Connection, error) {
	var c *onbehalf.Connection
	var version int64
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		now := s.clock()
		r, found, err := scanConn(tx.QueryRow(ctx, qMarkDisconnected.sql, id, s.hashKeys.all(id, from), now, reason))
		if err != nil {
			return nil, err
		}
		if !found {
			if err := s.whyNot(ctx, tx, id); onbehalf.ErrorCode(err) != onbehalf.EDISCONNECTED {
				return nil, err
			}
			if r, found, err = scanConn(tx.QueryRow(ctx, qConnectionForUpdate.sql, id)); err != nil || !found {
				return nil, errors.Join(err, store.ErrNoConnection())
			}
			if c, err = s.decode(&r, nil); err != nil {
				return nil, err
			}
			return nil, errNoChange
		}
		if c, err = s.decode(&r, nil); err != nil {
			return nil, err
		}
		version = r.version
		return []onbehalf.Event{onbehalf.ConnectionEvent(onbehalf.EventConnectionDisconnected, now, c)}, nil
	})
	if err != nil {
		return nil, err
	}
	if version > 0 {
		s.cache.drop(c.ID) // its tokens leave memory at once
	}
	return c, nil
}

// DeleteConnection deletes a connection, its tokens, its personal data and
// its index entries, writes connection.deleted, and returns the connection
// as it was (with its tokens, so that the caller can revoke them at Zoom).
func (s *Store) DeleteConnection(ctx context.Context, id string) (*onbehalf.Connection, error) {
	return s.deleteWith(ctx, qDeleteConnection, id, store.ErrNoConnection)
}

// DeleteByZoomUser deletes the connection of a Zoom user
// (deauthorization), as DeleteConnection, unless it was granted since at
// (ECONFLICT, nothing written): the row is locked while that is checked,
// so that a reconnect on another instance comes before or after, whole.
func (s *Store) DeleteByZoomUser(ctx context.Context, zoomUserID string, at time.Time) (*onbehalf.Connection, error) {
	var c *onbehalf.Connection
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		r, found, err := scanConn(tx.QueryRow(ctx, qConnectionByZoomUserForUpdate.sql, zoomUserID))
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, store.ErrNoZoomUser()
		}
		if c, err = s.decode(&r, nil); err != nil {
			return nil, err
		}
		if c.GrantedSince(at) {
			return nil, store.ErrNewerGrant()
		}
		if _, err := tx.Exec(ctx, qDeleteConnection.sql, c.ID); err != nil {
			return nil, err
		}
		return []onbehalf.Event{onbehalf.ConnectionEvent(onbehalf.EventConnectionDeleted, s.clock(), c)}, nil
	})
	if err != nil {
		return nil, err
	}
	s.cache.drop(c.ID)
	return c, nil
}

// deleteWith runs a DELETE … RETURNING of one connection and writes its
// event.
func (s *Store) deleteWith(ctx context.Context, q namedQuery, arg string, notFound func() error) (*onbehalf.Connection, error) {
	var c *onbehalf.Connection
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		r, found, err := scanConn(tx.QueryRow(ctx, q.sql, arg))
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, notFound()
		}
		if c, err = s.decode(&r, nil); err != nil {
			return nil, err
		}
		return []onbehalf.Event{onbehalf.ConnectionEvent(onbehalf.EventConnectionDeleted, s.clock(), c)}, nil
	})
	if err != nil {
		return nil, err
	}
	s.cache.drop(c.ID)
	return c, nil
}

// NoteMinted records when tokens were last minted for connections; unknown
// IDs are skipped and MintedAt only moves forward. Only a clear column
// changes: the version stays, and so do cached decodings.
func (s *Store) NoteMinted(ctx context.Context, at map[string]time.Time) error {
	if len(at) == 0 {
		return nil
	}
	ids := make([]string, 0, len(at))
	times := make([]time.Time, 0, len(at))
	for id, t := range at {
		ids, times = append(ids, id), append(times, micro(t))
	}
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		tag, err := tx.Exec(ctx, qNoteMinted.sql, ids, times)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 0 {
			return nil, errNoChange
		}
		return nil, nil
	})
}

// CountConnections counts connections by state (every state present,
// zero included).
func (s *Store) CountConnections(ctx context.Context) (map[onbehalf.ConnState]int, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed()
	}
	out := map[onbehalf.ConnState]int{onbehalf.StateConnected: 0, onbehalf.StateDisconnected: 0}
	rows, err := s.pool.Query(ctx, qCountConnections.sql)
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, s.readErr(ctx, err)
		}
		out[onbehalf.ConnState(state)] = n
	}
	return out, s.readErr(ctx, rows.Err())
}

// ListConnections lists connections by filter, oldest first (by creation
// time, then ID), and the cursor of the next page ("" after the last).
// A Limit of 0 or less lists everything.
func (s *Store) ListConnections(ctx context.Context, f onbehalf.ConnectionFilter) ([]*onbehalf.Connection, string, error) {
	if f.State != "" && f.State != onbehalf.StateConnected && f.State != onbehalf.StateDisconnected {
		return nil, "", onbehalf.FieldError("state", "Unknown state %q: use connected or disconnected.", f.State)
	}
	at, after, err := cursorOf(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	if s.closed.Load() {
		return nil, "", store.ErrClosed()
	}
	limit := pageLimit(f.Limit)
	state := string(f.State)
	q, args := qListConnections, []any{state, at, after, limit}
	switch {
	case f.ZoomUserID != "":
		q, args = qListConnectionsByZoomUser, append(args, f.ZoomUserID, f.ExternalUserID)
	case f.ExternalUserID != "":
		q, args = qListConnectionsByExternalUser, append(args, f.ExternalUserID)
	}
	rows, err := s.pool.Query(ctx, q.sql, args...)
	if err != nil {
		return nil, "", s.readErr(ctx, err)
	}
	recs, err := scanConns(rows)
	if err != nil {
		return nil, "", s.readErr(ctx, err)
	}
	out := make([]*onbehalf.Connection, 0, len(recs))
	for i := range recs {
		c, err := s.decode(&recs[i], nil)
		if err != nil {
			return nil, "", err
		}
		out = append(out, c)
	}
	out, next := store.PageOf(out, f.Limit, func(x *onbehalf.Connection) (time.Time, string) { return x.CreatedAt, x.ID })
	return out, next, nil
}

// cursorOf reads a listing cursor: the position to list after (the zero
// time and "" for none, before every row).
func cursorOf(cursor string) (time.Time, string, error) {
	if cursor == "" {
		return time.Time{}, "", nil
	}
	return store.DecodeCursor(cursor)
}

// pageLimit is the LIMIT of a listing that reads one row past limit, to
// tell whether there is more (NULL: everything).
func pageLimit(limit int) any {
	if limit <= 0 {
		return nil
	}
	return limit + 1
}
