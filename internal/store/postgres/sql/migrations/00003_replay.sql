-- Replayed Zoom webhooks: when each connection's current grant
-- was stored, and the deliveries every instance has acted on.

-- +goose Up

-- granted_at is NULL for connections stored before it was recorded: a
-- deauthorization then applies whatever its time, as it did before.
ALTER TABLE connections ADD COLUMN granted_at timestamptz;

-- Signed deliveries acted on (ReplayStore), kept until their signature
-- would be stale; key is a hash of the signed content.
CREATE TABLE replay_keys (
    key        text COLLATE "C" PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX replay_keys_expiry ON replay_keys (expires_at);

-- +goose Down
DROP TABLE replay_keys;
ALTER TABLE connections DROP COLUMN granted_at;
