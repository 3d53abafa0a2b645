package bolt

import (
	"context"
	"time"

	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// Replay keys live in bucketReplay (key → timeKey(expiry, key)) and in
// bucketReplayByExpiry (timeKey(expiry, key) → nothing), the index that
// pruning walks, oldest first.

// ClaimDelivery records key until expires and reports whether it is new
// (false while the same key is recorded and not expired). It prunes up to
// store.ReplayPruneBatch expired keys on the way.
func (s *Store) ClaimDelivery(ctx context.Context, key string, expires time.Time) (bool, error) {
	if err := store.CheckReplayKey(key); err != nil {
		return false, err
	}
	first := false
	err := s.update(func(tx *bbolt.Tx) error {
		now := s.now()
		if err := pruneReplay(tx, now); err != nil {
			return err
		}
		keys, idx := tx.Bucket(bucketReplay), tx.Bucket(bucketReplayByExpiry)
		if old := keys.Get([]byte(key)); old != nil {
			if at, _ := splitTimeKey(old); at.After(now) {
				first = false
				return errNoChange
			}
			if err := idx.Delete(old); err != nil {
				return err
			}
		}
		first = true
		tk := timeKey(expires.UTC(), key)
		if err := idx.Put(tk, nil); err != nil {
			return err
		}
		return keys.Put([]byte(key), tk)
	})
	return first, err
}

// ReleaseDelivery forgets key; an unknown key is no error.
func (s *Store) ReleaseDelivery(ctx context.Context, key string) error {
	return s.update(func(tx *bbolt.Tx) error {
		keys := tx.Bucket(bucketReplay)
		tk := keys.Get([]byte(key))
		if tk == nil {
			return errNoChange
		}
		if err := tx.Bucket(bucketReplayByExpiry).Delete(tk); err != nil {
			return err
		}
		return keys.Delete([]byte(key))
	})
}

// pruneReplay deletes up to store.ReplayPruneBatch keys expired at now.
func pruneReplay(tx *bbolt.Tx, now time.Time) error {
	keys := tx.Bucket(bucketReplay)
	return pruneExpired(tx.Bucket(bucketReplayByExpiry), now, store.ReplayPruneBatch, func(key string, k []byte) error {
		if string(keys.Get([]byte(key))) == string(k) {
			return keys.Delete([]byte(key))
		}
		return nil
	})
}

// pruneExpired deletes up to batch entries of an expiry index (time key →
// nothing) that expired at now, and calls drop with each one's key and
// index entry so that the record it indexes goes too (when it still
// points at that entry).
func pruneExpired(idx *bbolt.Bucket, now time.Time, batch int, drop func(key string, entry []byte) error) error {
	end := string(timeKey(now, ""))
	var dead [][]byte
	scanIndex(idx, nil, nil, false, func(k, _ []byte) bool {
		if string(k) > end {
			return false
		}
		dead = append(dead, append([]byte(nil), k...))
		return len(dead) < batch
	})
	for _, k := range dead {
		_, key := splitTimeKey(k)
		if err := idx.Delete(k); err != nil {
			return err
		}
		if err := drop(key, k); err != nil {
			return err
		}
	}
	return nil
}
