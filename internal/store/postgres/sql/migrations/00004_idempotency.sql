-- Answers of API requests made with an Idempotency-Key
-- (IdempotencyStore), kept 24 h so that a retry to any instance is
-- answered as the first request was.

-- +goose Up

-- key is a hash of the API key and the header; hash is the request's
-- fingerprint; a run not done by locked_until (its instance died) no
-- longer holds the key. response is NULL until the run is done.
CREATE TABLE idempotency_keys (
    key          text COLLATE "C" PRIMARY KEY,
    hash         bytea NOT NULL,
    response     jsonb,
    locked_until timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- When each API key was last accepted (NULL: never, or before this).
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;

-- +goose Down
ALTER TABLE api_keys DROP COLUMN last_used_at;
DROP TABLE idempotency_keys;
