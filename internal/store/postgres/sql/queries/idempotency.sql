-- Idempotency keys (idempotency.go): answers of API requests made with
-- an Idempotency-Key. response is the answer sealed, as a JSON string (a
-- JSON object in clear in records written before answers were sealed).

-- Expired records go a batch at a time, as new keys come.
-- name: prune_idem_keys
DELETE FROM idempotency_keys WHERE key IN (
    SELECT key FROM idempotency_keys WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2
);

-- A new key, or one whose record expired or whose run was abandoned;
-- nothing while a live record holds it.
-- name: begin_idem_key
INSERT INTO idempotency_keys (key, hash, response, locked_until, expires_at) VALUES ($1, $2, NULL, $3, $4)
ON CONFLICT (key) DO UPDATE SET hash = EXCLUDED.hash, response = NULL,
    locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at
WHERE idempotency_keys.expires_at <= $5
   OR (idempotency_keys.response IS NULL AND idempotency_keys.locked_until <= $5)
RETURNING key;

-- name: idem_key
SELECT hash, response, locked_until, expires_at FROM idempotency_keys WHERE key = $1;

-- name: finish_idem_key
UPDATE idempotency_keys SET response = $2 WHERE key = $1 RETURNING key;

-- name: release_idem_key
DELETE FROM idempotency_keys WHERE key = $1;
