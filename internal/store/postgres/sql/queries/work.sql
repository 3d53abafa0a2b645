-- Work shared between instances: keep-alive claims (due.go), refresh
-- leases (lease.go) and delivery claims (deliveries.go).

-- Claims, for owner $2 until $4, up to $5 connections due before $1 that
-- no other owner's claim holds at $3. SKIP LOCKED passes over rows another
-- instance is claiming (or saving) right now; the claim is rechecked on
-- the locked row, so two claimers never get one row. The owner's own
-- claims that still hold past $6 (half a claim from now) are returned
-- without rewriting their row: every keep-alive pass lists its claims
-- again, and rewriting each wide row on every pass cost the database far
-- more than the refreshes did.
-- name: claim_due
WITH due AS (
    SELECT id, due_at, COALESCE(keepalive_owner = $2 AND keepalive_until > $6, false) AS held
    FROM connections
    WHERE due_at IS NOT NULL AND due_at < $1
      AND (keepalive_until IS NULL OR keepalive_until <= $3 OR keepalive_owner = $2)
    ORDER BY due_at, id
    LIMIT $5
    FOR NO KEY UPDATE SKIP LOCKED
), renewed AS (
    UPDATE connections c SET keepalive_owner = $2, keepalive_until = $4
    FROM due WHERE c.id = due.id AND NOT due.held
    RETURNING c.id, c.due_at
)
SELECT id, due_at FROM renewed
UNION ALL
SELECT id, due_at FROM due WHERE held;

-- Lists without claiming (DueBefore).
-- name: due_before
SELECT id, due_at FROM connections
WHERE due_at IS NOT NULL AND due_at < $1
ORDER BY due_at, id LIMIT $2;

-- Takes or extends the refresh lease of connection $1 for owner $2 until
-- $4, unless another owner holds it beyond $3. One statement: concurrent
-- takers queue on the row and see each other's result.
-- The lease's holder before lock_refresh (row locked until the commit).
-- name: lease_holder
SELECT owner FROM refresh_leases WHERE conn_id = $1 FOR UPDATE;

-- name: lock_refresh
INSERT INTO refresh_leases AS l (conn_id, owner, until) VALUES ($1, $2, $4)
ON CONFLICT (conn_id) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until
WHERE l.owner = EXCLUDED.owner OR l.until <= $3
RETURNING true;

-- name: unlock_refresh
DELETE FROM refresh_leases WHERE conn_id = $1 AND owner = $2;

-- Leases whose holders died long ago.
-- name: sweep_leases
DELETE FROM refresh_leases WHERE until < $1;

-- Claims the first $3 pending events (by seq) due at $1, leasing them
-- until $2: the lease end is their new due time, so no other instance
-- claims them meanwhile, and a deliverer that dies lets them fall due
-- again.
-- name: claim_deliveries
WITH due AS (
    SELECT seq FROM events
    WHERE pending AND due_at <= $1
    ORDER BY seq
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE events e SET due_at = $2
FROM due WHERE e.seq = due.seq
RETURNING e.seq, e.id, e.type, e.time, e.sealed_data, e.attempts, e.first_tried;

-- name: delivery_done
UPDATE events SET pending = false, due_at = NULL, done_at = $2
WHERE id = $1 AND pending;

-- name: delivery_failed
UPDATE events SET attempts = attempts + 1, first_tried = coalesce(first_tried, $2), last_tried = $2,
    last_error = $4, due_at = $3
WHERE id = $1 AND pending;

-- name: event_exists
SELECT true FROM events WHERE id = $1;

-- name: pending_deliveries
SELECT count(*) FROM events WHERE pending;
