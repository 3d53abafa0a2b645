-- Bots and their timelines (bots.go). data is the whole bot as JSON.

-- name: insert_bot
INSERT INTO bots (id, platform, platform_bot_id, connection_id, created_at, data)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT DO NOTHING
RETURNING true;

-- name: bot_by_id
SELECT data FROM bots WHERE id = $1;

-- name: bot_by_platform_id
SELECT data FROM bots WHERE platform = $1 AND platform_bot_id = $2;

-- name: bot_by_platform_id_for_update
SELECT data FROM bots WHERE platform = $1 AND platform_bot_id = $2 FOR UPDATE;

-- Locks the bots of a batch of token fetches in ID order, so that two
-- batches never deadlock.
-- name: bots_for_update
SELECT data FROM bots WHERE id = ANY($1) ORDER BY id FOR UPDATE;

-- name: update_bot
UPDATE bots SET data = $2 WHERE id = $1;

-- Newest first, before the cursor ($2, $3), at most $4 rows (NULL: all);
-- $5 true when there is no cursor. One statement per filter, so that each
-- uses its index.
-- name: list_bots
SELECT data FROM bots
WHERE ($1 = '' OR platform = $1) AND ($5 OR (created_at, id) < ($2, $3))
ORDER BY created_at DESC, id DESC LIMIT $4;

-- name: list_bots_by_connection
SELECT data FROM bots
WHERE connection_id = $6 AND ($1 = '' OR platform = $1) AND ($5 OR (created_at, id) < ($2, $3))
ORDER BY connection_id DESC, created_at DESC, id DESC LIMIT $4;
