-- API keys, connect links, secrets, settings, the schema and the store's
-- own bookkeeping (apikeys.go, links.go, meta.go, keys.go, schema.go).

-- name: ping
SELECT 1;

-- name: insert_api_key
INSERT INTO api_keys (id, name, hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING
RETURNING true;

-- name: api_keys
SELECT id, name, hash, prefix, created_at, last_used_at FROM api_keys ORDER BY created_at, id;

-- name: api_key_by_hash
SELECT id, name, hash, prefix, created_at, last_used_at FROM api_keys WHERE hash = $1;

-- name: note_api_key_used
UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2);

-- name: delete_api_key
DELETE FROM api_keys WHERE id = $1;

-- name: insert_link
INSERT INTO connect_links (key, id, external_user_id, return_to, created_at, expires_at, used_at, revoked_at, connection_id, sealed_metadata, browser_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT DO NOTHING
RETURNING true;

-- Deletes up to $2 links that expired before $1.
-- name: prune_links
DELETE FROM connect_links WHERE key IN (
    SELECT key FROM connect_links WHERE expires_at < $1 ORDER BY expires_at LIMIT $2
);

-- name: link
SELECT id, external_user_id, return_to, created_at, expires_at, used_at, revoked_at, connection_id, sealed_metadata, browser_hash, key FROM connect_links WHERE key = $1;

-- name: link_for_update
SELECT id, external_user_id, return_to, created_at, expires_at, used_at, revoked_at, connection_id, sealed_metadata, browser_hash, key FROM connect_links WHERE key = $1 FOR UPDATE;

-- name: link_by_id
SELECT id, external_user_id, return_to, created_at, expires_at, used_at, revoked_at, connection_id, sealed_metadata, browser_hash, key FROM connect_links WHERE id = $1;

-- name: link_by_id_for_update
SELECT id, external_user_id, return_to, created_at, expires_at, used_at, revoked_at, connection_id, sealed_metadata, browser_hash, key FROM connect_links WHERE id = $1 FOR UPDATE;

-- name: use_link
UPDATE connect_links SET used_at = $2 WHERE key = $1;

-- Records the connection a used link made (LinkConnectLink).
-- name: link_connection
UPDATE connect_links SET connection_id = $2 WHERE key = $1;

-- name: revoke_link
UPDATE connect_links SET revoked_at = $2 WHERE key = $1;

-- Binds a link to the browser that opened it first (BindConnectLink).
-- name: bind_link
UPDATE connect_links SET browser_hash = $2 WHERE key = $1 AND browser_hash IS NULL;

-- name: secret
SELECT sealed FROM secrets WHERE name = $1;

-- name: insert_secret
INSERT INTO secrets (name, sealed) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING true;

-- Seals a secret again with the current key, unless it changed meanwhile.
-- name: reseal_secret
UPDATE secrets SET sealed = $3 WHERE name = $1 AND sealed = $2;

-- name: setting
SELECT value FROM settings WHERE name = $1;

-- name: set_setting
INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value;

-- name: probe
INSERT INTO store_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at;

-- Fault injection (FailWrites): the server itself fails the transaction
-- with the SQLSTATE set just before.
-- name: fail_set_code
SELECT set_config('onbehalf.fail_sqlstate', $1, true);

-- name: fail
DO $$ BEGIN
    RAISE EXCEPTION 'write failure injected by FailWrites' USING ERRCODE = current_setting('onbehalf.fail_sqlstate');
END $$;

-- name: seal_keys
SELECT key_id FROM seal_keys ORDER BY key_id;

-- name: register_seal_key
INSERT INTO seal_keys (key_id) VALUES ($1) ON CONFLICT (key_id) DO NOTHING;

-- name: forget_seal_key
DELETE FROM seal_keys WHERE key_id = $1;

-- How many sealed values use the key whose values start with $1 ("id:%").
-- name: seal_key_uses
SELECT (SELECT count(*) FROM connections WHERE sealed_token LIKE $1)
     + (SELECT count(*) FROM connections WHERE sealed_profile LIKE $1)
     + (SELECT count(*) FROM events WHERE sealed_data LIKE $1)
     + (SELECT count(*) FROM connect_links WHERE sealed_metadata LIKE $1)
     + (SELECT count(*) FROM idempotency_keys WHERE jsonb_typeof(response) = 'string' AND response #>> '{}' LIKE $1)
     + (SELECT count(*) FROM secrets WHERE sealed LIKE $1);

-- name: schema_table_exists
SELECT to_regclass($1) IS NOT NULL;

-- name: schema_version
SELECT coalesce(max(version_id), 0) FROM onbehalf_schema_version;
