package bolt

import (
	"context"
	"slices"
	"strings"
	"time"

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

// linkRecord is a connect link as stored, keyed by store.LinkKey of its ID
// (the ID is a bearer credential for an hour, so a copy of the file cannot
// start a flow with it). The metadata (about a person) is sealed.
type linkRecord struct {
	ExternalUserID string    `json:"external_user_id"`
	ReturnTo       string    `json:"return_to,omitempty"`
	ExpiresAt      time.Time `json:"expires_at"`
	UsedAt         time.Time `json:"used_at,omitzero"`
	Sealed         string    `json:"sealed,omitempty"`
	// Browser is the hash the link is bound to (BindConnectLink).
	Browser []byte `json:"browser,omitempty"`
}

// CreateConnectLink stores a connect link (the caller makes its ID, the
// secret part of the URL); an ID stored already is ECONFLICT. It prunes
// links that expired more than store.LinkKeep ago.
func (s *Store) CreateConnectLink(ctx context.Context, l onbehalf.ConnectLink) error {
	if err := store.CheckConnectLink(l); err != nil {
		return err
	}
	key := store.LinkKey(l.ID)
	return s.update(func(tx *bbolt.Tx) error {
		links := tx.Bucket(bucketLinks)
		if links.Get([]byte(key)) != nil {
			return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link exists already.")
		}
		if err := s.pruneLinks(tx, s.now().Add(-store.LinkKeep)); err != nil {
			return err
		}
		r := linkRecord{ExternalUserID: l.ExternalUserID, ReturnTo: l.ReturnTo, ExpiresAt: l.ExpiresAt.UTC(), UsedAt: l.UsedAt.UTC()}
		if store.GivenJSON(l.Metadata) {
			var err error
			if r.Sealed, err = s.sealJSON(tx, "", l.Metadata, store.LinkAD(key)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketLinksByExpiry).Put(timeKey(r.ExpiresAt, key), nil); err != nil {
			return err
		}
		return putJSON(links, []byte(key), &r)
	})
}

// pruneLinks deletes up to store.LinkPruneBatch links that expired before
// cutoff.
func (s *Store) pruneLinks(tx *bbolt.Tx, cutoff time.Time) error {
	var dead [][]byte
	end := timeKey(cutoff, "")
	scanIndex(tx.Bucket(bucketLinksByExpiry), nil, nil, false, func(k, _ []byte) bool {
		if string(k) >= string(end) {
			return false
		}
		dead = append(dead, append([]byte(nil), k...))
		return len(dead) < store.LinkPruneBatch
	})
	links, meta := tx.Bucket(bucketLinks), tx.Bucket(bucketMeta)
	for _, k := range dead {
		_, key := splitTimeKey(k)
		var r linkRecord
		if _, err := getJSON(links, []byte(key), &r); err != nil {
			return err
		}
		if err := countKey(meta, r.Sealed, ""); err != nil {
			return err
		}
		if err := links.Delete([]byte(key)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketLinksByExpiry).Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// loadLink reads the link with the given ID inside tx.
func (s *Store) loadLink(tx *bbolt.Tx, id string) (*linkRecord, *onbehalf.ConnectLink, error) {
	key := store.LinkKey(id)
	var r linkRecord
	if ok, err := getJSON(tx.Bucket(bucketLinks), []byte(key), &r); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, store.ErrNoLink()
	}
	l := &onbehalf.ConnectLink{ID: id, ExternalUserID: r.ExternalUserID, ReturnTo: r.ReturnTo, ExpiresAt: r.ExpiresAt, UsedAt: r.UsedAt, Browser: r.Browser}
	if r.Sealed != "" {
		if err := s.keys.OpenJSON(r.Sealed, store.LinkAD(key), &l.Metadata); err != nil {
			return nil, nil, err
		}
	}
	return &r, l, nil
}

// ConnectLink returns a link (ENOTFOUND when unknown).
func (s *Store) ConnectLink(ctx context.Context, id string) (*onbehalf.ConnectLink, error) {
	var l *onbehalf.ConnectLink
	err := s.view(func(tx *bbolt.Tx) (err error) {
		_, l, err = s.loadLink(tx, id)
		return err
	})
	return l, err
}

// UseConnectLink marks a link used at now and returns it: a link works
// once, within its lifetime (used or expired: ECONFLICT; unknown:
// ENOTFOUND).
func (s *Store) UseConnectLink(ctx context.Context, id string, now time.Time) (*onbehalf.ConnectLink, error) {
	var l *onbehalf.ConnectLink
	err := s.update(func(tx *bbolt.Tx) error {
		r, link, err := s.loadLink(tx, id)
		if err != nil {
			return err
		}
		if err := store.CheckLinkUse(r.UsedAt, r.ExpiresAt, now); err != nil {
			return err
		}
		r.UsedAt = now.UTC()
		link.UsedAt = r.UsedAt
		l = link
		return putJSON(tx.Bucket(bucketLinks), []byte(store.LinkKey(id)), r)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// BindConnectLink binds a link to the browser that opens it first (a hash
// of its per-browser value): later calls pass with the same hash and are
// ECONFLICT with another (store.CheckLinkBind), as are used or expired
// links; unknown ones are ENOTFOUND.
func (s *Store) BindConnectLink(ctx context.Context, id string, browser []byte, now time.Time) (*onbehalf.ConnectLink, error) {
	var l *onbehalf.ConnectLink
	err := s.update(func(tx *bbolt.Tx) error {
		r, link, err := s.loadLink(tx, id)
		if err != nil {
			return err
		}
		if err := store.CheckLinkUse(r.UsedAt, r.ExpiresAt, now); err != nil {
			return err
		}
		if err := store.CheckLinkBind(r.Browser, browser); err != nil {
			return err
		}
		l = link
		if r.Browser != nil {
			return nil
		}
		r.Browser = slices.Clone(browser)
		l.Browser = r.Browser
		return putJSON(tx.Bucket(bucketLinks), []byte(store.LinkKey(id)), r)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}
