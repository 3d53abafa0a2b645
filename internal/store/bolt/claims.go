package bolt

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	bbolt "go.etcd.io/bbolt"
)

// claims are the keep-alive claims of one process (onbehalf.DueClaimer).
// bbolt serves one process, which runs one keep-alive, so they need no
// database; they are still kept faithfully (owner, expiry by the store's
// clock) so that callers behave the same on every store and the
// conformance suite can check it.
//
// A claim is on a connection's entry in by_expiry (its ID and access token
// expiry), not on the connection: a write of its token pair moves or
// removes that entry, which ends the claim without SaveToken,
// MarkDisconnected or Connect having to know of claims.
type claims struct {
	mu sync.Mutex
	m  map[string]dueClaim // by connection ID
}

// dueClaim is who claimed a connection's due entry, and until when.
type dueClaim struct {
	owner  string
	expiry time.Time // the entry's expiry when claimed
	until  time.Time
}

// claimSweepAt is the number of claims above which those that ran out are
// swept when connections are claimed.
const claimSweepAt = 4096

// ClaimDue lists, as DueBefore, the connected connections whose access
// token expires before the given time that no other owner's claim holds,
// soonest first, at most limit, and claims them for owner until claim from
// now.
func (s *Store) ClaimDue(ctx context.Context, owner string, before time.Time, limit int, claim time.Duration) ([]onbehalf.Due, error) {
	if limit <= 0 {
		return nil, nil
	}
	c := &s.claims
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.now()
	if c.m == nil {
		c.m = map[string]dueClaim{}
	}
	if len(c.m) >= claimSweepAt {
		for k, v := range c.m {
			if !now.Before(v.until) {
				delete(c.m, k)
			}
		}
	}
	var out []onbehalf.Due
	end := timeKey(before, "")
	err := s.view(func(tx *bbolt.Tx) error {
		out = nil
		scanIndex(tx.Bucket(bucketByExpiry), nil, nil, false, func(k, _ []byte) bool {
			if bytes.Compare(k, end) >= 0 {
				return false
			}
			at, id := splitTimeKey(k)
			if cur, ok := c.m[id]; ok && cur.owner != owner && cur.expiry.Equal(at) && now.Before(cur.until) {
				return true
			}
			out = append(out, onbehalf.Due{ConnID: id, Expiry: at})
			return len(out) < limit
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, d := range out {
		c.m[d.ConnID] = dueClaim{owner: owner, expiry: d.Expiry, until: now.Add(claim)}
	}
	return out, nil
}
