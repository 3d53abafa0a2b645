package bolt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	bbolt "go.etcd.io/bbolt"
)

// linkKeep is how long an expired connect link is kept (and answers
// "expired" rather than "unknown") before it is pruned.
const linkKeep = 24 * time.Hour

// linkPruneBatch bounds how many expired links one CreateConnectLink
// prunes, so that pruning never makes a large write.
const linkPruneBatch = 100

// linkRecord is a connect link as stored, keyed by the SHA-256 of its ID:
// the ID is a bearer credential for an hour, so a copy of the file cannot
// start a flow with it. The metadata (about a person) is sealed.
type linkRecord struct {
	ExternalUserID string    `json:"external_user_id"`
	ReturnTo       string    `json:"return_to,omitempty"`
	ExpiresAt      time.Time `json:"expires_at"`
	UsedAt         time.Time `json:"used_at,omitzero"`
	Sealed         string    `json:"sealed,omitempty"`
}

// linkKey is the key of the link with the given ID (hex, to be readable in
// the expiry index).
func linkKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// linkAD binds a link's sealed metadata to it.
func linkAD(key string) string { return "link:" + key }

// errNoLink is the error of an unknown connect link.
func errNoLink() error { return onbehalf.Errorf(onbehalf.ENOTFOUND, "No such connect link.") }

// CreateConnectLink stores a connect link (the caller makes its ID, the
// secret part of the URL); an ID stored already is ECONFLICT. It prunes
// links that expired more than linkKeep ago.
func (s *Store) CreateConnectLink(ctx context.Context, l onbehalf.ConnectLink) error {
	switch {
	case l.ID == "":
		return onbehalf.FieldError("id", "The connect link has no ID.")
	case l.ExpiresAt.IsZero():
		return onbehalf.FieldError("expires_at", "The connect link has no expiry.")
	case givenJSON(l.Metadata) && !json.Valid(l.Metadata):
		return onbehalf.FieldError("metadata", "metadata is not valid JSON.")
	}
	key := linkKey(l.ID)
	return s.update(func(tx *bbolt.Tx) error {
		links := tx.Bucket(bucketLinks)
		if links.Get([]byte(key)) != nil {
			return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link exists already.")
		}
		if err := s.pruneLinks(tx, s.now().Add(-linkKeep)); err != nil {
			return err
		}
		r := linkRecord{ExternalUserID: l.ExternalUserID, ReturnTo: l.ReturnTo, ExpiresAt: l.ExpiresAt.UTC(), UsedAt: l.UsedAt.UTC()}
		if givenJSON(l.Metadata) {
			var err error
			if r.Sealed, err = s.sealJSON(tx, "", l.Metadata, linkAD(key)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketLinksByExpiry).Put(timeKey(r.ExpiresAt, key), nil); err != nil {
			return err
		}
		return putJSON(links, []byte(key), &r)
	})
}

// pruneLinks deletes up to linkPruneBatch links that expired before
// cutoff.
func (s *Store) pruneLinks(tx *bbolt.Tx, cutoff time.Time) error {
	var dead [][]byte
	end := timeKey(cutoff, "")
	scanIndex(tx.Bucket(bucketLinksByExpiry), nil, nil, false, func(k, _ []byte) bool {
		if string(k) >= string(end) {
			return false
		}
		dead = append(dead, append([]byte(nil), k...))
		return len(dead) < linkPruneBatch
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
	key := linkKey(id)
	var r linkRecord
	if ok, err := getJSON(tx.Bucket(bucketLinks), []byte(key), &r); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, errNoLink()
	}
	l := &onbehalf.ConnectLink{ID: id, ExternalUserID: r.ExternalUserID, ReturnTo: r.ReturnTo, ExpiresAt: r.ExpiresAt, UsedAt: r.UsedAt}
	if r.Sealed != "" {
		if err := s.unsealJSON(r.Sealed, linkAD(key), &l.Metadata); err != nil {
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
		switch {
		case !r.UsedAt.IsZero():
			return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link was used already: ask for a new one.")
		case !now.Before(r.ExpiresAt):
			return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link has expired: ask for a new one.")
		}
		r.UsedAt = now.UTC()
		link.UsedAt = r.UsedAt
		l = link
		return putJSON(tx.Bucket(bucketLinks), []byte(linkKey(id)), r)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}
