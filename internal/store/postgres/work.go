package postgres

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
)

// The keep-alive's work is shared between instances by claims, not by
// dividing the list:
//
// ClaimDue lists the connected connections whose access token expires
// before a time, soonest first, but only those that no other owner has
// claimed, and claims what it returns for the owner until the claim's
// length from now. Rows are picked with FOR NO KEY UPDATE SKIP LOCKED and
// the claim is written in the same statement, so that two instances
// listing at once never get the same connection; one whose claim is still
// running sees its own claims again (and renews them once less than half
// is left), so its next pass finds what it put off (jitter, backoff).
// SaveToken, MarkDisconnected and Connect end the claim: after a refresh
// the next cycle is anybody's. An instance that dies leaves its claims to
// run out, after which another takes them.
//
// A claim only spreads the work: it is not what keeps one refresh token
// from being spent twice. That is the refresh lease, the re-read under it
// (tokens.Manager) and the compare-and-swap of SaveToken, so a claim that
// runs out while its instance still works (a very slow pass) costs
// duplicated work (the other instance waits on the lease, then finds the
// pair fresh and skips it), never a second refresh.
//
// DueBefore, for those that only look (the keep-alive lag metric), claims
// nothing.

// ClaimDue lists and claims, for owner until claim from now, connected
// connections whose access token expires before the given time, soonest
// first, at most limit; connections claimed by another owner are left
// out. When the claim cannot be written (the database cannot write), it
// lists without claiming: the keep-alive cannot refresh anyway (it checks
// Writable).
func (s *Store) ClaimDue(ctx context.Context, owner string, before time.Time, limit int, claim time.Duration) ([]onbehalf.Due, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []onbehalf.Due
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		now := s.clock()
		rows, err := tx.Query(ctx, qClaimDue.sql, before, owner, now, now.Add(claim), limit, now.Add(claim/2))
		if err != nil {
			return nil, err
		}
		if out, err = scanDue(rows); err != nil {
			return nil, err
		}
		if len(out) == 0 {
			return nil, errNoChange
		}
		return nil, nil
	})
	if onbehalf.ErrorCode(err) == onbehalf.ESTORAGE {
		s.log.Warn("store: could not claim due connections; listing them unclaimed", "err", err)
		return s.DueBefore(ctx, before, limit)
	}
	return out, err
}

// scanDue reads (id, due_at) rows, soonest first.
func scanDue(rows pgx.Rows) ([]onbehalf.Due, error) {
	defer rows.Close()
	var out []onbehalf.Due
	for rows.Next() {
		var d onbehalf.Due
		if err := rows.Scan(&d.ConnID, &d.Expiry); err != nil {
			return nil, err
		}
		d.Expiry = d.Expiry.UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b onbehalf.Due) int {
		if c := a.Expiry.Compare(b.Expiry); c != 0 {
			return c
		}
		return strings.Compare(a.ConnID, b.ConnID)
	})
	return out, nil
}

// DueBefore lists connected connections whose access token expires before
// the given time, soonest first, at most limit, whoever claimed them; it
// claims nothing.
func (s *Store) DueBefore(ctx context.Context, before time.Time, limit int) ([]onbehalf.Due, error) {
	if limit <= 0 {
		return nil, nil
	}
	if s.closed.Load() {
		return nil, store.ErrClosed()
	}
	rows, err := s.pool.Query(ctx, qDueBefore.sql, before, limit)
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	out, err := scanDue(rows)
	return out, s.readErr(ctx, err)
}

// The refresh lease (onbehalf.RefreshLocker) is a row in refresh_leases:
// owner and expiry, taken and extended by one conditional upsert, given
// back by a conditional delete. It is not a lock held by a session:
//
//   - a transaction-scoped lock (SELECT … FOR UPDATE, pg_advisory_xact_lock)
//     would have to stay open across the Zoom call, pinning a pooled
//     connection and a snapshot for up to ZOOM_REFRESH_TIMEOUT;
//   - a session-level advisory lock pins a pooled connection just as well,
//     dies silently with that connection (a network blip, a restarted
//     pooler) while the holder goes on, does not work through a pooler in
//     transaction mode, and cannot expire by the store's clock, which the
//     conformance suite checks;
//
// while a row costs two short statements per refresh, survives any
// connection, is visible to an operator (SELECT * FROM refresh_leases),
// and expires on its own when its holder dies (kill -9): another instance
// takes over once the lease has run out (tokens: a 10 s lease renewed
// every 3 s while the refresh runs, so a dead holder blocks its
// connection for 10 s at most). Taking over a lease that ran out is
// reported (Abandoned): the dead holder may have spent the refresh token
// at Zoom, which a later invalid_grant is then blamed on.
// A lease is not a guarantee (two clocks may disagree, a holder may stall
// past its lease): the compare-and-swap of SaveToken is the fence, so a
// holder that lost its lease cannot overwrite the pair of the one that
// took it over.

// leaseSweepEvery is how often the probe loop deletes leases whose
// holders died; leaseSweepAge is how long past its end a lease is kept:
// longer than Zoom keeps an unused refresh token (90 days), so that the
// next refresh of a connection whose holder died, however late, still
// learns it (Abandoned). Only dead holders leave rows behind.
const (
	leaseSweepEvery = time.Minute
	leaseSweepAge   = 100 * 24 * time.Hour
)

// LockRefresh takes the connection's refresh lease for owner until ttl
// from now (by the store's clock); Held is false while another owner
// holds an unexpired lease, Abandoned true when it takes over another
// owner's lease that ran out (its row is only deleted by UnlockRefresh,
// or by the sweep long after). The holder taking it again extends it.
func (s *Store) LockRefresh(ctx context.Context, id, owner string, ttl time.Duration) (onbehalf.RefreshLease, error) {
	var l onbehalf.RefreshLease
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		now := s.clock()
		l = onbehalf.RefreshLease{}
		var prev string
		found, err := one(tx.QueryRow(ctx, qLeaseHolder.sql, id), &prev)
		if err != nil {
			return nil, err
		}
		if l.Held, err = one(tx.QueryRow(ctx, qLockRefresh.sql, id, owner, now, now.Add(ttl)), new(bool)); err != nil {
			return nil, err
		}
		if !l.Held {
			return nil, errNoChange
		}
		l.Abandoned = found && prev != owner
		return nil, nil
	})
	return l, err
}

// UnlockRefresh gives the lease back, if owner holds it.
func (s *Store) UnlockRefresh(ctx context.Context, id, owner string) error {
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		tag, err := tx.Exec(ctx, qUnlockRefresh.sql, id, owner)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 0 {
			return nil, errNoChange
		}
		return nil, nil
	})
}

// sweepLeases deletes leases that ended long ago (their holders died).
func (s *Store) sweepLeases(ctx context.Context) {
	_ = s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		tag, err := tx.Exec(ctx, qSweepLeases.sql, s.clock().Add(-leaseSweepAge))
		if err == nil && tag.RowsAffected() == 0 {
			return nil, errNoChange
		}
		return nil, err
	})
}

// ClaimDeliveries returns up to limit pending events due at now (next
// attempt at or before now, lease over) in Seq order, and leases them
// until now+lease: the rows are picked with FOR UPDATE SKIP LOCKED and
// their due time moved to the lease's end in the same statement, so that
// two instances claiming at once never get one event, and an event whose
// deliverer dies is due again when the lease ends.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]onbehalf.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	now = micro(now)
	var out []onbehalf.Delivery
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		out = out[:0]
		rows, err := tx.Query(ctx, qClaimDeliveries.sql, now, now.Add(lease), limit)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			var id, typ, sealed string
			var t time.Time
			var attempts int
			var first pgtype.Timestamptz
			if err := rows.Scan(&seq, &id, &typ, &t, &sealed, &attempts, &first); err != nil {
				return nil, err
			}
			ev, err := s.event(seq, id, typ, t, sealed)
			if err != nil {
				return nil, err
			}
			out = append(out, onbehalf.Delivery{Event: ev, Attempts: attempts, FirstTried: timeOf(first)})
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(out) == 0 {
			return nil, errNoChange
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b onbehalf.Delivery) int { return int(a.Event.Seq - b.Event.Seq) })
	return out, nil
}

// DeliveryDone ends an event's delivery (delivered, or given up). An event
// whose delivery is already over is left as it is; an unknown ID is
// ENOTFOUND.
func (s *Store) DeliveryDone(ctx context.Context, id string, at time.Time) error {
	return s.updatePending(ctx, id, qDeliveryDone, micro(at))
}

// DeliveryFailed records a failed attempt at at and schedules the next one
// at next; the first failure's time is kept (retries stop 24 h after it).
// An event whose delivery is over (another deliverer finished it after
// this one's lease ran out) is left as it is.
func (s *Store) DeliveryFailed(ctx context.Context, id string, at, next time.Time, reason string) error {
	return s.updatePending(ctx, id, qDeliveryFailed, micro(at), micro(next), store.DeliveryReason(reason))
}

// updatePending runs q on an event still pending delivery; an event whose
// delivery is over is left alone, an unknown one is ENOTFOUND.
func (s *Store) updatePending(ctx context.Context, id string, q namedQuery, args ...any) error {
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		tag, err := tx.Exec(ctx, q.sql, append([]any{id}, args...)...)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() > 0 {
			return nil, nil
		}
		found, err := one(tx.QueryRow(ctx, qEventExists.sql, id), new(bool))
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, store.ErrNoEvent()
		}
		return nil, errNoChange
	})
}

// PendingDeliveries counts the events not yet delivered.
func (s *Store) PendingDeliveries(ctx context.Context) (int, error) {
	if s.closed.Load() {
		return 0, store.ErrClosed()
	}
	var n int
	err := s.pool.QueryRow(ctx, qPendingDeliveries.sql).Scan(&n)
	return n, s.readErr(ctx, err)
}
