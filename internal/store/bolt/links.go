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

// linkRecord is a connect link as stored, keyed by store.LinkKey of its
// secret (a bearer credential for an hour, so a copy of the file cannot
// start a flow with it), with bucketLinksByID mapping its ID to that key.
// The metadata (about a person) is sealed. A record written before links
// had IDs has none: it is named by store.LegacyLinkID of its key.
type linkRecord struct {
	ID             string    `json:"id,omitempty"`
	ExternalUserID string    `json:"external_user_id"`
	ReturnTo       string    `json:"return_to,omitempty"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
	ExpiresAt      time.Time `json:"expires_at"`
	UsedAt         time.Time `json:"used_at,omitzero"`
	RevokedAt      time.Time `json:"revoked_at,omitzero"`
	ConnectionID   string    `json:"connection_id,omitempty"`
	Sealed         string    `json:"sealed,omitempty"`
	// Browser is the hash the link is bound to (BindConnectLink).
	Browser []byte `json:"browser,omitempty"`
}

// id is the record's ID, a legacy record's included.
func (r *linkRecord) id(key string) string {
	if r.ID != "" {
		return r.ID
	}
	return store.LegacyLinkID(key)
}

// CreateConnectLink stores a connect link (the caller makes its ID and its
// secret, the secret part of the URL); an ID or secret stored already is
// ECONFLICT. A zero CreatedAt is set to now. It prunes links that expired
// more than store.LinkKeep ago.
func (s *Store) CreateConnectLink(ctx context.Context, l onbehalf.ConnectLink) error {
	if err := store.CheckConnectLink(l); err != nil {
		return err
	}
	key := store.LinkKey(l.Secret)
	return s.update(func(tx *bbolt.Tx) error {
		links, byID := tx.Bucket(bucketLinks), tx.Bucket(bucketLinksByID)
		if links.Get([]byte(key)) != nil || byID.Get([]byte(l.ID)) != nil || s.legacyKey(tx, l.ID) != "" {
			return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link exists already.")
		}
		if err := s.pruneLinks(tx, s.now().Add(-store.LinkKeep)); err != nil {
			return err
		}
		r := linkRecord{ID: l.ID, ExternalUserID: l.ExternalUserID, ReturnTo: l.ReturnTo,
			CreatedAt: cmpTime(l.CreatedAt, s.now()).UTC(), ExpiresAt: l.ExpiresAt.UTC(), UsedAt: l.UsedAt.UTC(),
			RevokedAt: l.RevokedAt.UTC(), ConnectionID: l.ConnectionID, Browser: slices.Clone(l.Browser)}
		if store.GivenJSON(l.Metadata) {
			var err error
			if r.Sealed, err = s.sealJSON(tx, "", l.Metadata, store.LinkAD(key)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketLinksByExpiry).Put(timeKey(r.ExpiresAt, key), nil); err != nil {
			return err
		}
		if err := byID.Put([]byte(r.ID), []byte(key)); err != nil {
			return err
		}
		return putJSON(links, []byte(key), &r)
	})
}

// cmpTime is t, or def when t is zero.
func cmpTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
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
		if r.ID != "" {
			if err := tx.Bucket(bucketLinksByID).Delete([]byte(r.ID)); err != nil {
				return err
			}
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

// legacyKey is the key of the link stored without an ID that id names
// (store.LegacyLinkID), "" when there is none.
func (s *Store) legacyKey(tx *bbolt.Tx, id string) string {
	prefix := store.LegacyLinkKeyPrefix(id)
	if prefix == "" {
		return ""
	}
	k, _ := tx.Bucket(bucketLinks).Cursor().Seek([]byte(prefix))
	if k == nil || !strings.HasPrefix(string(k), prefix) {
		return ""
	}
	var r linkRecord
	if ok, err := getJSON(tx.Bucket(bucketLinks), k, &r); err != nil || !ok || r.ID != "" {
		return ""
	}
	return string(k)
}

// loadLink reads the link stored under key inside tx; secret is the
// caller's ("" when read by ID).
func (s *Store) loadLink(tx *bbolt.Tx, key, secret string) (*linkRecord, *onbehalf.ConnectLink, error) {
	var r linkRecord
	if ok, err := getJSON(tx.Bucket(bucketLinks), []byte(key), &r); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, store.ErrNoLink()
	}
	l := &onbehalf.ConnectLink{ID: r.id(key), Secret: secret, ExternalUserID: r.ExternalUserID, ReturnTo: r.ReturnTo,
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, UsedAt: r.UsedAt, RevokedAt: r.RevokedAt,
		ConnectionID: r.ConnectionID, Browser: r.Browser}
	if r.Sealed != "" {
		if err := s.keys.OpenJSON(r.Sealed, store.LinkAD(key), &l.Metadata); err != nil {
			return nil, nil, err
		}
	}
	return &r, l, nil
}

// keyByID is the key of the link with the given ID ("" when unknown).
func (s *Store) keyByID(tx *bbolt.Tx, id string) string {
	if k := tx.Bucket(bucketLinksByID).Get([]byte(id)); k != nil {
		return string(k)
	}
	return s.legacyKey(tx, id)
}

// ConnectLink returns the link with the given secret (ENOTFOUND when
// unknown).
func (s *Store) ConnectLink(ctx context.Context, secret string) (*onbehalf.ConnectLink, error) {
	var l *onbehalf.ConnectLink
	err := s.view(func(tx *bbolt.Tx) (err error) {
		_, l, err = s.loadLink(tx, store.LinkKey(secret), secret)
		return err
	})
	return l, err
}

// ConnectLinkByID returns the link with the given ID (ENOTFOUND).
func (s *Store) ConnectLinkByID(ctx context.Context, id string) (*onbehalf.ConnectLink, error) {
	var l *onbehalf.ConnectLink
	err := s.view(func(tx *bbolt.Tx) (err error) {
		key := s.keyByID(tx, id)
		if key == "" {
			return store.ErrNoLink()
		}
		_, l, err = s.loadLink(tx, key, "")
		return err
	})
	return l, err
}

// changeLink runs change on the link stored under key inside a write and
// stores the record when change reports it changed.
func (s *Store) changeLink(key, secret string, change func(r *linkRecord, l *onbehalf.ConnectLink) (bool, error)) (*onbehalf.ConnectLink, error) {
	var l *onbehalf.ConnectLink
	err := s.update(func(tx *bbolt.Tx) error {
		if key == "" {
			return store.ErrNoLink()
		}
		r, link, err := s.loadLink(tx, key, secret)
		if err != nil {
			return err
		}
		changed, err := change(r, link)
		if err != nil {
			return err
		}
		l = link
		if !changed {
			return nil
		}
		return putJSON(tx.Bucket(bucketLinks), []byte(key), r)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// UseConnectLink marks a link used at now and returns it: a link works
// once, within its lifetime, unless revoked (used, revoked or expired:
// ECONFLICT; unknown: ENOTFOUND).
func (s *Store) UseConnectLink(ctx context.Context, secret string, now time.Time) (*onbehalf.ConnectLink, error) {
	return s.changeLink(store.LinkKey(secret), secret, func(r *linkRecord, l *onbehalf.ConnectLink) (bool, error) {
		if err := store.CheckLinkUse(r.UsedAt, r.RevokedAt, r.ExpiresAt, now); err != nil {
			return false, err
		}
		r.UsedAt = now.UTC()
		l.UsedAt = r.UsedAt
		return true, nil
	})
}

// LinkConnectLink records the connection a used link made (ENOTFOUND for
// an unknown link).
func (s *Store) LinkConnectLink(ctx context.Context, secret, connectionID string) error {
	if err := store.CheckLinkConnection(connectionID); err != nil {
		return err
	}
	_, err := s.changeLink(store.LinkKey(secret), secret, func(r *linkRecord, l *onbehalf.ConnectLink) (bool, error) {
		r.ConnectionID, l.ConnectionID = connectionID, connectionID
		return true, nil
	})
	return err
}

// RevokeConnectLink revokes a pending or expired link by ID at now (a
// revoked one stays as it is; used: ECONFLICT; unknown: ENOTFOUND).
func (s *Store) RevokeConnectLink(ctx context.Context, id string, now time.Time) (*onbehalf.ConnectLink, error) {
	var key string
	if err := s.view(func(tx *bbolt.Tx) error { key = s.keyByID(tx, id); return nil }); err != nil {
		return nil, err
	}
	return s.changeLink(key, "", func(r *linkRecord, l *onbehalf.ConnectLink) (bool, error) {
		if err := store.CheckLinkRevoke(r.UsedAt); err != nil || !r.RevokedAt.IsZero() {
			return false, err
		}
		r.RevokedAt = now.UTC()
		l.RevokedAt = r.RevokedAt
		return true, nil
	})
}

// BindConnectLink binds a link to the browser that opens it first (a hash
// of its per-browser value): later calls pass with the same hash and are
// ECONFLICT with another (store.CheckLinkBind), as are used, revoked or
// expired links; unknown ones are ENOTFOUND.
func (s *Store) BindConnectLink(ctx context.Context, secret string, browser []byte, now time.Time) (*onbehalf.ConnectLink, error) {
	return s.changeLink(store.LinkKey(secret), secret, func(r *linkRecord, l *onbehalf.ConnectLink) (bool, error) {
		if err := store.CheckLinkUse(r.UsedAt, r.RevokedAt, r.ExpiresAt, now); err != nil {
			return false, err
		}
		if err := store.CheckLinkBind(r.Browser, browser); err != nil {
			return false, err
		}
		if r.Browser != nil {
			return false, nil
		}
		r.Browser = slices.Clone(browser)
		l.Browser = r.Browser
		return true, nil
	})
}
