-- Replay keys (replay.go): signed deliveries acted on, until their
-- signature would be stale.

-- Expired keys go a batch at a time, as new ones come.
-- name: prune_replay_keys
DELETE FROM replay_keys WHERE key IN (
    SELECT key FROM replay_keys WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2
);

-- A new key, or one whose time ran out; nothing while it holds.
-- name: claim_replay_key
INSERT INTO replay_keys (key, expires_at) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE replay_keys.expires_at <= $3
RETURNING key;

-- name: release_replay_key
DELETE FROM replay_keys WHERE key = $1;
