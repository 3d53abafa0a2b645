package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// Connection returns the connection with the given ID.
func (s *Store) Connection(ctx context.Context, id string) (*onbehalf.Connection, error) {
	var c *onbehalf.Connection
	err := s.view(func(tx *bbolt.Tx) (err error) {
		c, err = s.read(tx, id)
		return err
	})
	return c, err
}

// ConnectionByZoomUser returns the connection of a Zoom user.
func (s *Store) ConnectionByZoomUser(ctx context.Context, zoomUserID string) (*onbehalf.Connection, error) {
	var c *onbehalf.Connection
	err := s.view(func(tx *bbolt.Tx) (err error) {
		id := tx.Bucket(bucketByZoomUser).Get([]byte(zoomUserID))
		if id == nil {
			return store.ErrNoZoomUser()
		}
		c, err = s.read(tx, string(id))
		return err
	})
	return c, err
}

// Connect stores a fresh grant and writes connection.created or
// connection.reconnected with it. The Zoom user's existing connection
// keeps its ID and creation time and is revived; the external user ID and
// metadata are replaced when given. A connection never moves from one
// external user to another: a grant naming another than it has is
// refused as onbehalf.Store.Connect says (connection.conflict).
func (s *Store) Connect(ctx context.Context, a onbehalf.Authorization) (*onbehalf.Connection, bool, error) {
	if err := store.CheckAuthorization(a); err != nil {
		return nil, false, err
	}
	var c *onbehalf.Connection
	var created bool
	var held error
	err := s.update(func(tx *bbolt.Tx) error {
		now := s.now().UTC()
		held = nil
		if done, err := s.renewHeld(tx, a, now); done || err != nil {
			held = err
			if done {
				return nil // the renewal and its events are committed
			}
			return err
		}
		var previous string
		var err error
		if c, created, previous, err = s.connect(tx, a, now); err != nil {
			return err
		}
		typ := onbehalf.EventConnectionReconnected
		if created {
			typ = onbehalf.EventConnectionCreated
		}
		return s.addEvent(tx, store.ConnectionEvent(typ, now, c, previous))
	})
	if err != nil {
		return nil, false, err
	}
	if held != nil {
		return nil, false, held
	}
	return c, created, nil
}

// renewHeld applies a grant that names another external user than the
// Zoom user's connection has (store.Holds): the connection only gets the
// fresh pair (store.Renew) and the conflict's events. done says it was
// such a grant; err is then onbehalf.ErrConnectConflict's.
func (s *Store) renewHeld(tx *bbolt.Tx, a onbehalf.Authorization, now time.Time) (done bool, err error) {
	id := tx.Bucket(bucketByZoomUser).Get([]byte(a.User.ID))
	if id == nil {
		return false, nil
	}
	old, err := s.load(tx, string(id))
	if err != nil || !store.Holds(&old.Connection, a) {
		if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
			err = nil
		}
		return false, err
	}
	n := store.Renew(&old.Connection, a, now)
	if err := s.put(tx, old, &n); err != nil {
		return false, err
	}
	for _, ev := range store.ConflictEvents(&old.Connection, &n, a.ExternalUserID, now) {
		if err := s.addEvent(tx, ev); err != nil {
			return false, err
		}
	}
	return true, onbehalf.ErrConnectConflict(&n, a.ExternalUserID)
}

// connect stores a fresh grant inside tx (see Connect; store.Grant says
// how) without its event.
func (s *Store) connect(tx *bbolt.Tx, a onbehalf.Authorization, now time.Time) (c *onbehalf.Connection, created bool, previous string, err error) {
	var old *record
	if id := tx.Bucket(bucketByZoomUser).Get([]byte(a.User.ID)); id != nil {
		r, err := s.load(tx, string(id))
		if err != nil && onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
			return nil, false, "", err
		}
		old = r
	}
	var n onbehalf.Connection
	if old != nil {
		n, previous = store.Grant(&old.Connection, a, "", now)
	} else {
		id, err := store.NewID()
		if err != nil {
			return nil, false, "", err
		}
		n, _ = store.Grant(nil, a, id, now)
	}
	if err := s.put(tx, old, &n); err != nil {
		return nil, false, "", err
	}
	return &n, old == nil, previous, nil
}

// SaveToken commits a refreshed pair if the stored refresh token is still
// from (ECONFLICT otherwise: a reconnect or another refresh came first, and
// this pair is stale). A disconnected connection is EDISCONNECTED and is
// not revived; a deleted one is ENOTFOUND.
func (s *Store) SaveToken(ctx context.Context, id, from string, tok onbehalf.Token) (*onbehalf.Connection, error) {
	if tok.RefreshToken == "" {
		return nil, store.ErrNoSaveWithoutRefresh()
	}
	var c onbehalf.Connection
	err := s.update(func(tx *bbolt.Tx) error {
		old, err := s.loadCurrent(tx, id, from)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		c = old.Connection
		c.Token, c.UpdatedAt, c.RefreshedAt = tok, now, now
		return s.put(tx, old, &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// loadCurrent loads a connection that must still be connected with the
// refresh token from: the compare of the compare-and-swap.
func (s *Store) loadCurrent(tx *bbolt.Tx, id, from string) (*record, error) {
	old, err := s.load(tx, id)
	if err != nil {
		return nil, err
	}
	if old.State != onbehalf.StateConnected {
		return old, store.ErrDisconnected()
	}
	if old.Token.RefreshToken != from {
		return old, store.ErrStale()
	}
	return old, nil
}

// MarkDisconnected wipes the pair and records when and why, if the stored
// refresh token is still from (ECONFLICT otherwise: the grant that failed
// is not the stored one, so a reconnect survives). A connection already
// disconnected is returned as it is, with no new event. It writes
// connection.disconnected.
func (s *Store) MarkDisconnected(ctx context.Context, id, from, reason string) (*onbehalf.Connection, error) {
	var c onbehalf.Connection
	err := s.update(func(tx *bbolt.Tx) error {
		old, err := s.loadCurrent(tx, id, from)
		if onbehalf.ErrorCode(err) == onbehalf.EDISCONNECTED {
			c = old.Connection
			return errNoChange
		} else if err != nil {
			return err
		}
		now := s.now().UTC()
		c = old.Connection
		c.State, c.Token = onbehalf.StateDisconnected, onbehalf.Token{}
		c.UpdatedAt, c.DisconnectedAt, c.DisconnectedReason = now, now, reason
		if err := s.put(tx, old, &c); err != nil {
			return err
		}
		return s.addEvent(tx, onbehalf.ConnectionEvent(onbehalf.EventConnectionDisconnected, now, &c))
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// DeleteConnection deletes a connection, its tokens, its personal data and
// its index entries, writes connection.deleted, and returns the connection
// as it was (with its tokens, so that the caller can revoke them at Zoom).
func (s *Store) DeleteConnection(ctx context.Context, id string) (*onbehalf.Connection, error) {
	return s.deleteWith(func(tx *bbolt.Tx) (string, error) { return id, nil })
}

// DeleteByZoomUser deletes the connection of a Zoom user
// (deauthorization), as DeleteConnection, unless it was granted since at
// (ECONFLICT, nothing written).
func (s *Store) DeleteByZoomUser(ctx context.Context, zoomUserID string, at time.Time) (*onbehalf.Connection, error) {
	return s.deleteWith(func(tx *bbolt.Tx) (string, error) {
		id := tx.Bucket(bucketByZoomUser).Get([]byte(zoomUserID))
		if id == nil {
			return "", store.ErrNoZoomUser()
		}
		var r record
		if ok, err := getJSON(tx.Bucket(bucketConnections), id, &r); err != nil {
			return "", err
		} else if ok && r.GrantedSince(at) {
			return "", store.ErrNewerGrant()
		}
		return string(id), nil
	})
}

// deleteWith deletes the connection whose ID find returns inside the
// transaction.
func (s *Store) deleteWith(find func(tx *bbolt.Tx) (string, error)) (*onbehalf.Connection, error) {
	var c *onbehalf.Connection
	err := s.update(func(tx *bbolt.Tx) error {
		id, err := find(tx)
		if err != nil {
			return err
		}
		r, err := s.load(tx, id)
		if err != nil {
			return err
		}
		if err := s.remove(tx, r); err != nil {
			return err
		}
		c = &r.Connection
		return s.addEvent(tx, onbehalf.ConnectionEvent(onbehalf.EventConnectionDeleted, s.now().UTC(), c))
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// NoteMinted records when tokens were last minted for connections; unknown
// IDs are skipped. Only the clear part of each record changes (nothing is
// unsealed or sealed again), and cached connections follow.
func (s *Store) NoteMinted(ctx context.Context, at map[string]time.Time) error {
	type note struct {
		id       string
		old, new []byte
		at       time.Time
	}
	var notes []note
	err := s.update(func(tx *bbolt.Tx) error {
		notes = notes[:0]
		conns := tx.Bucket(bucketConnections)
		for id, t := range at {
			var r record
			if ok, err := getJSON(conns, []byte(id), &r); err != nil {
				return err
			} else if !ok || !t.After(r.MintedAt) {
				continue
			}
			old := bytes.Clone(conns.Get([]byte(id)))
			r.MintedAt = t.UTC()
			buf, err := json.Marshal(&r)
			if err != nil {
				return err
			}
			if err := conns.Put([]byte(id), buf); err != nil {
				return err
			}
			notes = append(notes, note{id, old, buf, r.MintedAt})
		}
		if len(notes) == 0 {
			return errNoChange
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, n := range notes {
		s.cache.rebase(n.id, n.old, n.new, func(c *onbehalf.Connection) { c.MintedAt = n.at })
	}
	return nil
}

// ImportConnections stores many grants in one write transaction and
// returns their connection IDs, in order. It exists for benchmarks and
// bulk imports (cmd/onbehalf-bench -scale): Connect commits and fsyncs
// once per connection, which takes minutes for 100,000 of them.
//
// Each grant is stored exactly as Connect stores it (same function): a
// Zoom user that already has a connection keeps its ID and is revived;
// tokens and personal data are sealed; every index, the counts and the key
// use counts are kept. Unlike Connect it writes no event: an import is not
// news for the product. Either every grant is stored or none is (a
// cancelled ctx stops the import and stores nothing).
func (s *Store) ImportConnections(ctx context.Context, items []onbehalf.Authorization) ([]string, error) {
	for _, it := range items {
		if err := store.CheckAuthorization(it); err != nil {
			return nil, err
		}
	}
	ids := make([]string, len(items))
	err := s.update(func(tx *bbolt.Tx) error {
		now := s.now().UTC()
		for i, it := range items {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			c, _, _, err := s.connect(tx, it, now)
			if err != nil {
				return err
			}
			ids[i] = c.ID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}
