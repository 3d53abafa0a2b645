package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	bolt "go.etcd.io/bbolt"
)

// record is a connection as stored: the token pair and the personal data
// are sealed into Sealed, and Due (the access token's expiry, not a secret)
// keys the due index.
type record struct {
	onbehalf.Connection
	Sealed string    `json:"sealed,omitempty"`
	Due    time.Time `json:"due,omitzero"`
}

// sealedPart is what a record seals.
type sealedPart struct {
	Token       onbehalf.Token `json:"token,omitzero"`
	Email       string         `json:"email,omitempty"`
	DisplayName string         `json:"display_name,omitempty"`
	AccountID   string         `json:"account_id,omitempty"`
}

// Connection returns the connection with the given ID.
func (s *Store) Connection(ctx context.Context, id string) (*onbehalf.Connection, error) {
	var c onbehalf.Connection
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketConnections).Get([]byte(id))
		if raw == nil {
			return onbehalf.Errorf(onbehalf.ENOTFOUND, "No such connection.")
		}
		if cached, ok := s.cache.get(id, raw); ok {
			c = cached
			return nil
		}
		r, err := s.decode(id, raw)
		if err != nil {
			return err
		}
		c = r.Connection
		s.cache.put(id, raw, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// CountConnections returns the number of stored connections.
func (s *Store) CountConnections(ctx context.Context) (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketConnections).Stats().KeyN
		return nil
	})
	return n, err
}

// UpsertConnection stores a freshly authorized connection for a Zoom user,
// keeping (and reviving) the connection that user already had, if any.
func (s *Store) UpsertConnection(ctx context.Context, u onbehalf.ZoomUser, tok onbehalf.Token) (*onbehalf.Connection, error) {
	if u.ID == "" {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, "Zoom user has no ID.")
	}
	now := s.now().UTC()
	var c *onbehalf.Connection
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		c, err = s.upsert(tx, u, tok, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// upsert stores a freshly authorized connection inside tx: the Zoom user's
// existing connection keeps its ID and is revived, else a new ID is made.
func (s *Store) upsert(tx *bolt.Tx, u onbehalf.ZoomUser, tok onbehalf.Token, now time.Time) (*onbehalf.Connection, error) {
	index := tx.Bucket(bucketByZoomUser)
	var old *record
	var c onbehalf.Connection
	if id := index.Get([]byte(u.ID)); id != nil {
		r, err := s.load(tx, string(id))
		if err != nil && onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
			return nil, err
		}
		if err == nil {
			old, c = r, r.Connection
		}
	}
	if old == nil {
		id, err := NewID()
		if err != nil {
			return nil, err
		}
		c = onbehalf.Connection{ID: id, CreatedAt: now}
	}
	c.ZoomUserID, c.AccountID, c.Email, c.DisplayName = u.ID, u.AccountID, u.Email, u.Name()
	c.State, c.Token = onbehalf.StateConnected, tok
	c.UpdatedAt, c.RefreshedAt = now, now
	c.DisconnectedAt, c.DisconnectedReason = time.Time{}, ""
	if err := index.Put([]byte(u.ID), []byte(c.ID)); err != nil {
		return nil, err
	}
	if err := s.save(tx, old, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// SaveToken commits a refreshed token pair. The connection must still be
// connected: a connection disconnected or deleted while the refresh was in
// flight is not revived.
func (s *Store) SaveToken(ctx context.Context, id string, tok onbehalf.Token) (*onbehalf.Connection, error) {
	var c onbehalf.Connection
	err := s.db.Update(func(tx *bolt.Tx) error {
		old, err := s.load(tx, id)
		if err != nil {
			return err
		}
		if old.State != onbehalf.StateConnected {
			return onbehalf.Errorf(onbehalf.ECONFLICT, "The Zoom connection was disconnected.")
		}
		now := s.now().UTC()
		c = old.Connection
		c.Token, c.UpdatedAt, c.RefreshedAt = tok, now, now
		return s.save(tx, old, &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// MarkDisconnected wipes a connection's tokens and records when and why.
// The record, its ID and the Zoom user index stay, so the same user
// authorizing again revives the same connection.
func (s *Store) MarkDisconnected(ctx context.Context, id, reason string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		old, err := s.load(tx, id)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		c := old.Connection
		c.State, c.Token = onbehalf.StateDisconnected, onbehalf.Token{}
		c.UpdatedAt, c.DisconnectedAt, c.DisconnectedReason = now, now, reason
		return s.save(tx, old, &c)
	})
}

// DeleteConnection deletes a connection, its tokens and personal data, and
// its index entries. It returns the connection as it was (with its tokens,
// so that the caller can revoke them at Zoom).
func (s *Store) DeleteConnection(ctx context.Context, id string) (*onbehalf.Connection, error) {
	var c *onbehalf.Connection
	err := s.db.Update(func(tx *bolt.Tx) error {
		r, err := s.load(tx, id)
		if err != nil {
			return err
		}
		c = &r.Connection
		return s.delete(tx, r)
	})
	return c, err
}

// DeleteByZoomUser deletes the connection of a Zoom user (deauthorization)
// and returns its ID.
func (s *Store) DeleteByZoomUser(ctx context.Context, zoomUserID string) (string, error) {
	var id string
	err := s.db.Update(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketByZoomUser).Get([]byte(zoomUserID))
		if v == nil {
			return onbehalf.Errorf(onbehalf.ENOTFOUND, "No connection for this Zoom user.")
		}
		id = string(v)
		r, err := s.load(tx, id)
		if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
			return tx.Bucket(bucketByZoomUser).Delete([]byte(zoomUserID))
		} else if err != nil {
			return err
		}
		return s.delete(tx, r)
	})
	return id, err
}

// DueBefore lists connected connections whose access token expires before
// the given time, soonest first, at most limit.
func (s *Store) DueBefore(ctx context.Context, before time.Time, limit int) ([]onbehalf.Due, error) {
	var out []onbehalf.Due
	end := uint64(before.UnixNano())
	err := s.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketByExpiry).Cursor()
		for k, _ := cur.First(); k != nil && len(out) < limit; k, _ = cur.Next() {
			if len(k) < 8 {
				continue
			}
			at := binary.BigEndian.Uint64(k[:8])
			if at >= end {
				break
			}
			out = append(out, onbehalf.Due{ConnID: string(k[8:]), Expiry: time.Unix(0, int64(at)).UTC()})
		}
		return nil
	})
	return out, err
}

// save writes c, replacing old (nil for a new record): it seals the token,
// moves the due index entry and keeps the key use counts.
func (s *Store) save(tx *bolt.Tx, old *record, c *onbehalf.Connection) error {
	s.cache.drop(c.ID)
	r := record{Connection: *c}
	part := sealedPart{Token: c.Token, Email: c.Email, DisplayName: c.DisplayName, AccountID: c.AccountID}
	r.Token, r.Email, r.DisplayName, r.AccountID = onbehalf.Token{}, "", "", ""
	if part != (sealedPart{}) {
		plain, err := json.Marshal(part)
		if err != nil {
			return err
		}
		if r.Sealed, err = s.keys.Seal(plain, []byte(c.ID)); err != nil {
			return err
		}
	}
	if c.State == onbehalf.StateConnected && c.Token.RefreshToken != "" {
		r.Due = c.Token.Expiry.UTC()
	}
	byExpiry := tx.Bucket(bucketByExpiry)
	var oldSealed string
	if old != nil {
		oldSealed = old.Sealed
		if !old.Due.IsZero() {
			if err := byExpiry.Delete(expiryKey(old.Due, old.ID)); err != nil {
				return err
			}
		}
	}
	if !r.Due.IsZero() {
		if err := byExpiry.Put(expiryKey(r.Due, r.ID), nil); err != nil {
			return err
		}
	}
	if err := countKey(tx.Bucket(bucketMeta), oldSealed, r.Sealed); err != nil {
		return err
	}
	buf, err := json.Marshal(&r)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketConnections).Put([]byte(r.ID), buf)
}

// delete removes a record and every index entry pointing to it.
func (s *Store) delete(tx *bolt.Tx, r *record) error {
	s.cache.drop(r.ID)
	if !r.Due.IsZero() {
		if err := tx.Bucket(bucketByExpiry).Delete(expiryKey(r.Due, r.ID)); err != nil {
			return err
		}
	}
	if err := countKey(tx.Bucket(bucketMeta), r.Sealed, ""); err != nil {
		return err
	}
	index := tx.Bucket(bucketByZoomUser)
	if v := index.Get([]byte(r.ZoomUserID)); string(v) == r.ID {
		if err := index.Delete([]byte(r.ZoomUserID)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketConnections).Delete([]byte(r.ID))
}

// load reads and unseals a record; a missing key is ENOTFOUND.
func (s *Store) load(tx *bolt.Tx, id string) (*record, error) {
	buf := tx.Bucket(bucketConnections).Get([]byte(id))
	if buf == nil {
		return nil, onbehalf.Errorf(onbehalf.ENOTFOUND, "No such connection.")
	}
	return s.decode(id, buf)
}

// decode unseals a stored record.
func (s *Store) decode(id string, buf []byte) (*record, error) {
	var r record
	if err := json.Unmarshal(buf, &r); err != nil {
		return nil, fmt.Errorf("decoding connection %s: %w", id, err)
	}
	if r.Sealed != "" {
		plain, err := s.keys.Open(r.Sealed, []byte(r.ID))
		if err != nil {
			return nil, fmt.Errorf("connection %s: %w", id, err)
		}
		var part sealedPart
		if err := json.Unmarshal(plain, &part); err != nil {
			return nil, fmt.Errorf("decoding sealed part of connection %s: %w", id, err)
		}
		r.Token, r.Email, r.DisplayName, r.AccountID = part.Token, part.Email, part.DisplayName, part.AccountID
	}
	return &r, nil
}
