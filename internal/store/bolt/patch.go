package bolt

import (
	"context"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// UpdateConnection changes a connection's external user ID and metadata
// (see onbehalf.ConnectionStore); the grant is left alone.
func (s *Store) UpdateConnection(ctx context.Context, id string, p onbehalf.ConnectionPatch) (*onbehalf.Connection, error) {
	var c onbehalf.Connection
	err := s.update(func(tx *bbolt.Tx) error {
		old, err := s.load(tx, id)
		if err != nil {
			return err
		}
		n, err := store.Patch(&old.Connection, p, s.now().UTC())
		if err != nil {
			return err
		}
		if n.ExternalUserID != "" && n.ExternalUserID != old.ExternalUserID {
			if other, err := s.holder(tx, n.ExternalUserID, id); err != nil || other != nil {
				if other != nil {
					return store.ErrExternalUserTaken(other)
				}
				return err
			}
		}
		c = n
		return s.put(tx, old, &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// holder returns a connection other than id with the external user ID
// ext, or nil.
func (s *Store) holder(tx *bbolt.Tx, ext, id string) (*onbehalf.Connection, error) {
	var found string
	scanIndex(tx.Bucket(bucketConnsByExternal), prefixKey(nil, ext), nil, false, func(k, _ []byte) bool {
		if _, cid := splitTimeKey(k); cid != id {
			found = cid
		}
		return found == ""
	})
	if found == "" {
		return nil, nil
	}
	return s.read(tx, found)
}

// NoteAPIKeyUsed moves a key's LastUsedAt forward to at.
func (s *Store) NoteAPIKeyUsed(ctx context.Context, id string, at time.Time) error {
	return s.update(func(tx *bbolt.Tx) error {
		keys := tx.Bucket(bucketAPIKeys)
		var k onbehalf.APIKey
		if found, err := getJSON(keys, []byte(id), &k); err != nil {
			return err
		} else if !found || !at.After(k.LastUsedAt) {
			return errNoChange
		}
		k.LastUsedAt = at.UTC()
		return putJSON(keys, []byte(id), &k)
	})
}
