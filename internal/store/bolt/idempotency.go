package bolt

import (
	"context"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// Idempotency records live in bucketIdem (key → idemRecord as JSON) and
// in bucketIdemByExpiry (timeKey(expiry, key) → nothing), the index that
// pruning walks, oldest first.

// idemRecord is a stored idempotency record and its index key. The
// answer (a connection's email and name, say) is sealed; records written
// before answers were sealed hold it in clear in Response until they
// expire.
type idemRecord struct {
	Hash        []byte                       `json:"hash"`
	Done        bool                         `json:"done"`
	Sealed      string                       `json:"sealed,omitempty"`
	Response    *onbehalf.IdempotentResponse `json:"response,omitempty"`
	LockedUntil time.Time                    `json:"locked_until"`
	ExpiresAt   time.Time                    `json:"expires_at"`
	Index       []byte                       `json:"index"`
}

// openIdem returns the record as the store interface shows it, its answer
// unsealed.
func (s *Store) openIdem(key string, r *idemRecord) (*onbehalf.IdempotentRecord, error) {
	rec := &onbehalf.IdempotentRecord{Hash: r.Hash, Done: r.Done, LockedUntil: r.LockedUntil, ExpiresAt: r.ExpiresAt}
	switch {
	case r.Sealed != "":
		if err := s.keys.OpenJSON(r.Sealed, store.IdemAD(key), &rec.Response); err != nil {
			return nil, err
		}
	case r.Response != nil:
		rec.Response = *r.Response
	}
	return rec, nil
}

// BeginIdempotent claims key unless a live record holds it (see
// onbehalf.IdempotencyStore). It prunes up to store.IdemPruneBatch
// expired records on the way.
func (s *Store) BeginIdempotent(ctx context.Context, key string, hash []byte, lockUntil, expires time.Time) (*onbehalf.IdempotentRecord, error) {
	if err := store.CheckIdemKey(key); err != nil {
		return nil, err
	}
	var held *onbehalf.IdempotentRecord
	err := s.update(func(tx *bbolt.Tx) error {
		held = nil
		now := s.now()
		if err := pruneIdem(tx, now); err != nil {
			return err
		}
		b, idx := tx.Bucket(bucketIdem), tx.Bucket(bucketIdemByExpiry)
		var old idemRecord
		found, err := getJSON(b, []byte(key), &old)
		if err != nil {
			return err
		}
		if found {
			live := old.ExpiresAt.After(now) && (old.Done || old.LockedUntil.After(now))
			if live {
				if held, err = s.openIdem(key, &old); err != nil {
					return err
				}
				return errNoChange
			}
			if err := idx.Delete(old.Index); err != nil {
				return err
			}
			if err := countKey(tx.Bucket(bucketMeta), old.Sealed, ""); err != nil {
				return err
			}
		}
		rec := idemRecord{Hash: hash, LockedUntil: lockUntil.UTC(), ExpiresAt: expires.UTC()}
		rec.Index = timeKey(rec.ExpiresAt, key)
		if err := idx.Put(rec.Index, nil); err != nil {
			return err
		}
		return putJSON(b, []byte(key), rec)
	})
	return held, err
}

// FinishIdempotent stores the answer of the run that claimed key.
func (s *Store) FinishIdempotent(ctx context.Context, key string, r onbehalf.IdempotentResponse) error {
	return s.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketIdem)
		var rec idemRecord
		found, err := getJSON(b, []byte(key), &rec)
		if err != nil {
			return err
		} else if !found {
			return onbehalf.Errorf(onbehalf.ENOTFOUND, "No such idempotency key.")
		}
		if rec.Sealed, err = s.sealJSON(tx, rec.Sealed, r, store.IdemAD(key)); err != nil {
			return err
		}
		rec.Done, rec.Response = true, nil
		return putJSON(b, []byte(key), rec)
	})
}

// ReleaseIdempotent forgets key; an unknown key is no error.
func (s *Store) ReleaseIdempotent(ctx context.Context, key string) error {
	return s.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketIdem)
		var rec idemRecord
		found, err := getJSON(b, []byte(key), &rec)
		if err != nil {
			return err
		} else if !found {
			return errNoChange
		}
		if err := tx.Bucket(bucketIdemByExpiry).Delete(rec.Index); err != nil {
			return err
		}
		if err := countKey(tx.Bucket(bucketMeta), rec.Sealed, ""); err != nil {
			return err
		}
		return b.Delete([]byte(key))
	})
}

// pruneIdem deletes up to store.IdemPruneBatch records expired at now.
func pruneIdem(tx *bbolt.Tx, now time.Time) error {
	b := tx.Bucket(bucketIdem)
	return pruneExpired(tx.Bucket(bucketIdemByExpiry), now, store.IdemPruneBatch, func(key string, k []byte) error {
		var rec idemRecord
		if found, err := getJSON(b, []byte(key), &rec); err != nil || !found || string(rec.Index) != string(k) {
			return err
		}
		if err := countKey(tx.Bucket(bucketMeta), rec.Sealed, ""); err != nil {
			return err
		}
		return b.Delete([]byte(key))
	})
}
