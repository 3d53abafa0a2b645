package bolt

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// record is a connection as stored: the token pair and the personal data
// are sealed into Sealed, and Due (the access token's expiry, not a secret)
// keys the due index. The external user ID stays clear: it keys an index.
type record struct {
	onbehalf.Connection
	Sealed string    `json:"sealed,omitempty"`
	Due    time.Time `json:"due,omitzero"`
}

// sealedPart is what a record seals.
type sealedPart struct {
	Token       onbehalf.Token  `json:"token,omitzero"`
	Email       string          `json:"email,omitempty"`
	DisplayName string          `json:"display_name,omitempty"`
	AccountID   string          `json:"account_id,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
}

func (p *sealedPart) empty() bool {
	return p.Token == (onbehalf.Token{}) && p.Email == "" && p.DisplayName == "" && p.AccountID == "" && len(p.Metadata) == 0
}

// countPrefix prefixes the meta keys counting connections by state.
const countPrefix = "count:"

// put writes c, replacing old (nil for a new record): it seals the token
// and personal data, and keeps every index, the counts by state and the key
// use counts in step.
func (s *Store) put(tx *bbolt.Tx, old *record, c *onbehalf.Connection) error {
	s.cache.drop(c.ID)
	r := record{Connection: *c}
	part := sealedPart{Token: c.Token, Email: c.Email, DisplayName: c.DisplayName, AccountID: c.AccountID, Metadata: c.Metadata}
	r.Token, r.Email, r.DisplayName, r.AccountID, r.Metadata = onbehalf.Token{}, "", "", "", nil
	var oldSealed string
	if old != nil {
		oldSealed = old.Sealed
	}
	if !part.empty() {
		var err error
		if r.Sealed, err = s.sealJSON(tx, oldSealed, &part, c.ID); err != nil {
			return err
		}
	} else if err := countKey(tx.Bucket(bucketMeta), oldSealed, ""); err != nil {
		return err
	}
	if c.State == onbehalf.StateConnected && c.Token.RefreshToken != "" {
		r.Due = c.Token.Expiry.UTC()
	}
	if old != nil {
		if err := s.dropIndexes(tx, old, &r); err != nil {
			return err
		}
	}
	if err := s.addIndexes(tx, old, &r); err != nil {
		return err
	}
	return putJSON(tx.Bucket(bucketConnections), []byte(r.ID), &r)
}

// dropIndexes removes the index entries of old that r does not keep (all
// of them when r is the zero record) and moves old out of its state's
// count when the state changes.
func (s *Store) dropIndexes(tx *bbolt.Tx, old, r *record) error {
	if !old.Due.IsZero() && !old.Due.Equal(r.Due) {
		if err := tx.Bucket(bucketByExpiry).Delete(timeKey(old.Due, old.ID)); err != nil {
			return err
		}
	}
	if !old.CreatedAt.Equal(r.CreatedAt) {
		if err := tx.Bucket(bucketConnsByCreated).Delete(timeKey(old.CreatedAt, old.ID)); err != nil {
			return err
		}
	}
	if old.ExternalUserID != "" && old.ExternalUserID != r.ExternalUserID {
		if err := tx.Bucket(bucketConnsByExternal).Delete(externalKey(old)); err != nil {
			return err
		}
	}
	if old.State != r.State {
		return addCount(tx.Bucket(bucketMeta), countPrefix+string(old.State), -1)
	}
	return nil
}

// addIndexes writes the index entries of r (old is what it replaces, nil
// for a new record). The listing indexes hold the state as their value,
// so that a listing filtered by state reads no record it skips.
func (s *Store) addIndexes(tx *bbolt.Tx, old, r *record) error {
	if !r.Due.IsZero() {
		if err := tx.Bucket(bucketByExpiry).Put(timeKey(r.Due, r.ID), nil); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketConnsByCreated).Put(timeKey(r.CreatedAt, r.ID), []byte(r.State)); err != nil {
		return err
	}
	if r.ExternalUserID != "" {
		if err := tx.Bucket(bucketConnsByExternal).Put(externalKey(r), []byte(r.State)); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketByZoomUser).Put([]byte(r.ZoomUserID), []byte(r.ID)); err != nil {
		return err
	}
	if old == nil || old.State != r.State {
		return addCount(tx.Bucket(bucketMeta), countPrefix+string(r.State), +1)
	}
	return nil
}

// externalKey is a connection's entry in the external user index: the
// external user ID, then creation time and ID (oldest first).
func externalKey(r *record) []byte {
	return prefixKey(timeKey(r.CreatedAt, r.ID), r.ExternalUserID)
}

// remove deletes a record, every index entry pointing to it, and its
// share of the counts.
func (s *Store) remove(tx *bbolt.Tx, r *record) error {
	s.cache.drop(r.ID)
	if err := s.dropIndexes(tx, r, &record{}); err != nil {
		return err
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
func (s *Store) load(tx *bbolt.Tx, id string) (*record, error) {
	buf := tx.Bucket(bucketConnections).Get([]byte(id))
	if buf == nil {
		return nil, store.ErrNoConnection()
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
		var part sealedPart
		if err := s.keys.OpenJSON(r.Sealed, r.ID, &part); err != nil {
			return nil, fmt.Errorf("connection %s: %w", id, err)
		}
		r.Token, r.Email, r.DisplayName, r.AccountID, r.Metadata = part.Token, part.Email, part.DisplayName, part.AccountID, part.Metadata
	}
	return &r, nil
}

// read returns a connection for a reader, from the decoded-connection
// cache when the stored bytes are the ones it was decoded from.
func (s *Store) read(tx *bbolt.Tx, id string) (*onbehalf.Connection, error) {
	raw := tx.Bucket(bucketConnections).Get([]byte(id))
	if raw == nil {
		return nil, store.ErrNoConnection()
	}
	if c, ok := s.cache.get(id, raw); ok {
		return &c, nil
	}
	r, err := s.decode(id, raw)
	if err != nil {
		return nil, err
	}
	s.cache.put(id, raw, r.Connection)
	return &r.Connection, nil
}
