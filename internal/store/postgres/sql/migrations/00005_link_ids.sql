-- Connect links get a public ID (for the API's GET and revoke), distinct
-- from the bearer secret whose hash keys them; when they were created,
-- revoked, and which connection they made.

-- +goose Up
ALTER TABLE connect_links
    ADD COLUMN id            text COLLATE "C",
    ADD COLUMN created_at    timestamptz,
    ADD COLUMN revoked_at    timestamptz,
    ADD COLUMN connection_id text NOT NULL DEFAULT '';
-- Links made before IDs: "cl_" and the first 32 hex digits of their key
-- (store.LegacyLinkID), the shape of the IDs made since.
UPDATE connect_links SET id = 'cl_' || left(key, 32) WHERE id IS NULL;
ALTER TABLE connect_links ALTER COLUMN id SET NOT NULL;
CREATE UNIQUE INDEX connect_links_id ON connect_links (id);

-- +goose Down
DROP INDEX connect_links_id;
ALTER TABLE connect_links
    DROP COLUMN id,
    DROP COLUMN created_at,
    DROP COLUMN revoked_at,
    DROP COLUMN connection_id;
