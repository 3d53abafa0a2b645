-- Connections (connections.go, listing.go). Every statement that writes
-- sealed_token or sealed_profile increments version (the cache's key) and
-- ends a keep-alive claim.

-- fragment: conn_columns
id, zoom_user_id, external_user_id, state, sealed_token, sealed_profile,
created_at, updated_at, refreshed_at, minted_at, disconnected_at, disconnected_reason, version, granted_at

-- The token callback's read: the sealed columns are left out when the
-- caller's cached version ($2) is the row's.
-- name: connection_by_id
SELECT id, zoom_user_id, external_user_id, state,
       CASE WHEN version = $2 THEN NULL ELSE sealed_token END,
       CASE WHEN version = $2 THEN NULL ELSE sealed_profile END,
       created_at, updated_at, refreshed_at, minted_at, disconnected_at, disconnected_reason, version, granted_at
FROM connections WHERE id = $1;

-- name: connection_by_zoom_user
SELECT {{conn_columns}} FROM connections WHERE zoom_user_id = $1;

-- name: connection_for_update
SELECT {{conn_columns}} FROM connections WHERE id = $1 FOR UPDATE;

-- name: connection_by_zoom_user_for_update
SELECT {{conn_columns}} FROM connections WHERE zoom_user_id = $1 FOR UPDATE;

-- name: connection_state
SELECT state FROM connections WHERE id = $1;

-- A new connection; nothing when another transaction stored the Zoom
-- user meanwhile (the caller reads it again, locked).
-- name: insert_connection
INSERT INTO connections (id, zoom_user_id, external_user_id, state, sealed_token, sealed_profile, refresh_hash,
                         due_at, created_at, updated_at, refreshed_at, minted_at, disconnected_at, disconnected_reason, granted_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (zoom_user_id) DO NOTHING
RETURNING version;

-- Connect on a known connection (locked by connection_by_zoom_user_for_update).
-- name: update_connection
UPDATE connections SET
    external_user_id = $2, state = $3, sealed_token = $4, sealed_profile = $5, refresh_hash = $6, due_at = $7,
    updated_at = $8, refreshed_at = $9, disconnected_at = $10, disconnected_reason = $11, granted_at = $12,
    version = version + 1, keepalive_owner = NULL, keepalive_until = NULL
WHERE id = $1
RETURNING version;

-- The compare-and-swap of SaveToken: $2 holds the hash of the refresh
-- token it replaces under every configured key.
-- name: save_token
UPDATE connections SET
    sealed_token = $3, refresh_hash = $4, due_at = $5, updated_at = $6, refreshed_at = $6,
    version = version + 1, keepalive_owner = NULL, keepalive_until = NULL
WHERE id = $1 AND state = 'connected' AND refresh_hash = ANY($2)
RETURNING {{conn_columns}};

-- The compare-and-swap of MarkDisconnected: the pair goes, the record
-- and its personal data stay (a later grant revives it).
-- name: mark_disconnected
UPDATE connections SET
    state = 'disconnected', sealed_token = '', refresh_hash = NULL, due_at = NULL,
    updated_at = $3, disconnected_at = $3, disconnected_reason = $4,
    version = version + 1, keepalive_owner = NULL, keepalive_until = NULL
WHERE id = $1 AND state = 'connected' AND refresh_hash = ANY($2)
RETURNING {{conn_columns}};

-- name: delete_connection
DELETE FROM connections WHERE id = $1 RETURNING {{conn_columns}};

-- MintedAt only moves forward; rows are locked in ID order so that two
-- batches never deadlock.
-- name: note_minted
WITH v AS (
    SELECT id, max(at) AS at FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at) GROUP BY id
), locked AS (
    SELECT c.id FROM connections c JOIN v ON v.id = c.id
    WHERE c.minted_at IS NULL OR c.minted_at < v.at
    ORDER BY c.id FOR NO KEY UPDATE OF c
)
UPDATE connections c SET minted_at = v.at
FROM v, locked
WHERE c.id = v.id AND c.id = locked.id AND (c.minted_at IS NULL OR c.minted_at < v.at);

-- name: count_connections
SELECT state, count(*) FROM connections GROUP BY state;

-- Listings, oldest first, after the cursor ($2, $3), at most $4 rows
-- (NULL: all). One statement per filter, so that each uses its index.
-- name: list_connections
SELECT {{conn_columns}} FROM connections
WHERE ($1 = '' OR state = $1) AND (created_at, id) > ($2, $3)
ORDER BY created_at, id LIMIT $4;

-- name: list_connections_by_external_user
SELECT {{conn_columns}} FROM connections
WHERE external_user_id = $5 AND external_user_id <> '' AND ($1 = '' OR state = $1) AND (created_at, id) > ($2, $3)
ORDER BY external_user_id, created_at, id LIMIT $4;

-- name: list_connections_by_zoom_user
SELECT {{conn_columns}} FROM connections
WHERE zoom_user_id = $5 AND ($6 = '' OR external_user_id = $6) AND ($1 = '' OR state = $1) AND (created_at, id) > ($2, $3)
ORDER BY created_at, id LIMIT $4;

-- name: connections_by_zoom_users_for_update
SELECT {{conn_columns}} FROM connections WHERE zoom_user_id = ANY($1) ORDER BY zoom_user_id FOR UPDATE;

-- PATCH of a connection's product fields: the grant stays.
-- name: update_profile
UPDATE connections SET
    external_user_id = $2, sealed_profile = $3, updated_at = $4,
    version = version + 1, keepalive_owner = NULL, keepalive_until = NULL
WHERE id = $1
RETURNING version;

-- Another connection with an external user ID, for the patch's check.
-- name: external_user_holder
SELECT id FROM connections WHERE external_user_id = $1 AND id <> $2 LIMIT 1;

-- Serializes the patches that set one external user ID.
-- name: lock_external_user
SELECT pg_advisory_xact_lock(hashtext('onbehalf external user ' || $1::text));
