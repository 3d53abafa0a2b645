package bolt

import (
	"context"
	"slices"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// CreateAPIKey stores a key of the integration API: only its hash, by ID
// and by hash. The caller makes the ID; an ID or hash stored already is
// ECONFLICT. A zero CreatedAt is set to now.
func (s *Store) CreateAPIKey(ctx context.Context, k onbehalf.APIKey) error {
	if err := store.CheckAPIKey(k); err != nil {
		return err
	}
	return s.update(func(tx *bbolt.Tx) error {
		keys, byHash := tx.Bucket(bucketAPIKeys), tx.Bucket(bucketAPIKeysByHash)
		if keys.Get([]byte(k.ID)) != nil || byHash.Get(k.Hash) != nil {
			return onbehalf.Errorf(onbehalf.ECONFLICT, "This API key exists already.")
		}
		n := k
		if n.CreatedAt.IsZero() {
			n.CreatedAt = s.now()
		}
		n.CreatedAt = n.CreatedAt.UTC()
		if err := byHash.Put(n.Hash, []byte(n.ID)); err != nil {
			return err
		}
		return putJSON(keys, []byte(n.ID), &n)
	})
}

// APIKeys lists the API keys, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]onbehalf.APIKey, error) {
	var out []onbehalf.APIKey
	err := s.view(func(tx *bbolt.Tx) error {
		out = nil
		return tx.Bucket(bucketAPIKeys).ForEach(func(k, _ []byte) error {
			var key onbehalf.APIKey
			if _, err := getJSON(tx.Bucket(bucketAPIKeys), k, &key); err != nil {
				return err
			}
			out = append(out, key)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b onbehalf.APIKey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, err
}

// APIKeyByHash returns the key with the given hash (ENOTFOUND).
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (*onbehalf.APIKey, error) {
	var key onbehalf.APIKey
	err := s.view(func(tx *bbolt.Tx) error {
		id := tx.Bucket(bucketAPIKeysByHash).Get(hash)
		if len(hash) == 0 || id == nil {
			return store.ErrNoAPIKey()
		}
		if ok, err := getJSON(tx.Bucket(bucketAPIKeys), id, &key); err != nil {
			return err
		} else if !ok {
			return store.ErrNoAPIKey()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &key, nil
}

// RevokeAPIKey deletes a key by ID (ENOTFOUND).
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	return s.update(func(tx *bbolt.Tx) error {
		keys := tx.Bucket(bucketAPIKeys)
		var key onbehalf.APIKey
		if ok, err := getJSON(keys, []byte(id), &key); err != nil {
			return err
		} else if !ok {
			return store.ErrNoAPIKey()
		}
		if err := tx.Bucket(bucketAPIKeysByHash).Delete(key.Hash); err != nil {
			return err
		}
		return keys.Delete([]byte(id))
	})
}
