-- A connect link is bound to the browser that opens it first:
-- browser_hash is the SHA-256 of that browser's random per-browser value
-- (BindConnectLink), NULL until the link is opened.

-- +goose Up
ALTER TABLE connect_links ADD COLUMN browser_hash bytea;

-- +goose Down
ALTER TABLE connect_links DROP COLUMN browser_hash;
