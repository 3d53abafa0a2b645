package bolt

import (
	"context"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// leases are the refresh leases of one process. bbolt serves one process,
// so the lease needs no database; it is still kept faithfully (owner,
// expiry by the store's clock) so that callers behave the same on every
// store and the conformance suite can check it.
type leases struct {
	mu sync.Mutex
	m  map[string]lease
}

// lease is who holds a connection's refresh lease, and until when.
type lease struct {
	owner string
	until time.Time
}

// leaseSweepAt is the number of leases above which expired ones are
// swept when a lease is taken.
const leaseSweepAt = 1024

// LockRefresh takes the connection's refresh lease for owner until ttl
// from now; Held is false while another owner holds an unexpired lease,
// Abandoned true when it takes over another owner's lease that ran out.
// The holder taking it again extends it.
func (s *Store) LockRefresh(ctx context.Context, id, owner string, ttl time.Duration) (onbehalf.RefreshLease, error) {
	now := s.now()
	l := &s.leases
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]lease{}
	}
	cur, held := l.m[id]
	if held && cur.owner != owner && now.Before(cur.until) {
		return onbehalf.RefreshLease{}, nil
	}
	if len(l.m) >= leaseSweepAt {
		for k, v := range l.m {
			if !now.Before(v.until) {
				delete(l.m, k)
			}
		}
	}
	l.m[id] = lease{owner: owner, until: now.Add(ttl)}
	return onbehalf.RefreshLease{Held: true, Abandoned: held && cur.owner != owner}, nil
}

// UnlockRefresh gives the lease back, if owner holds it.
func (s *Store) UnlockRefresh(ctx context.Context, id, owner string) error {
	l := &s.leases
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, held := l.m[id]; held && cur.owner == owner {
		delete(l.m, id)
	}
	return nil
}
