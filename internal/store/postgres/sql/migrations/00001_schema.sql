-- The schema of onbehalf's PostgreSQL store. IDs compare bytewise
-- (COLLATE "C"), as they do in the bbolt store. Tokens, personal data, event
-- data, link metadata and server secrets are sealed (AES-256-GCM, package
-- seal) with TOKEN_ENCRYPTION_KEY before they reach the database: sealed
-- columns hold "<key id>:<base64>", and the database never holds the key.

-- +goose Up

-- One row a Zoom user's grant. sealed_token seals the token pair,
-- sealed_profile the personal data (email, name, account, metadata).
-- refresh_hash is a keyed hash of the refresh token (HMAC-SHA-256, key
-- derived from the sealing key): the compare-and-swap of SaveToken and
-- MarkDisconnected compares it, so the token is never needed in clear.
-- due_at is the access token's expiry while connected (the keep-alive's
-- index); keepalive_owner/until is a keep-alive claim (DueBefore).
-- version changes whenever a sealed column does (the decoded-connection
-- cache's key).
CREATE TABLE connections (
    id                  text COLLATE "C" PRIMARY KEY,
    zoom_user_id        text COLLATE "C" NOT NULL UNIQUE,
    external_user_id    text COLLATE "C" NOT NULL DEFAULT '',
    state               text NOT NULL CHECK (state IN ('connected', 'disconnected')),
    sealed_token        text NOT NULL DEFAULT '',
    sealed_profile      text NOT NULL DEFAULT '',
    refresh_hash        bytea,
    due_at              timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    refreshed_at        timestamptz,
    minted_at           timestamptz,
    disconnected_at     timestamptz,
    disconnected_reason text NOT NULL DEFAULT '',
    version             bigint NOT NULL DEFAULT 1,
    keepalive_owner     text,
    keepalive_until     timestamptz
) WITH (fillfactor = 80);
CREATE INDEX connections_created ON connections (created_at, id);
CREATE INDEX connections_external ON connections (external_user_id, created_at, id) WHERE external_user_id <> '';
CREATE INDEX connections_due ON connections (due_at, id) WHERE due_at IS NOT NULL;

-- Refresh leases (RefreshLocker): one row per connection being refreshed,
-- by any ID (the lease does not need the connection to exist).
CREATE TABLE refresh_leases (
    conn_id text COLLATE "C" PRIMARY KEY,
    owner   text NOT NULL,
    until   timestamptz NOT NULL
);

-- Bots and their timelines: data is the whole bot as JSON (no token, no
-- personal data: kept in clear, as bbolt does).
CREATE TABLE bots (
    id              text COLLATE "C" PRIMARY KEY,
    platform        text COLLATE "C" NOT NULL,
    platform_bot_id text COLLATE "C" NOT NULL,
    connection_id   text COLLATE "C" NOT NULL,
    created_at      timestamptz NOT NULL,
    data            json NOT NULL,
    UNIQUE (platform, platform_bot_id)
);
CREATE INDEX bots_created ON bots (created_at, id);
CREATE INDEX bots_connection ON bots (connection_id, created_at, id);

-- The outbox and event log. seq comes from event_seq, whose one row every
-- event-writing transaction locks until it commits: events commit in seq
-- order, so a reader resuming after a seq never skips one still to come.
CREATE TABLE event_seq (
    id   int PRIMARY KEY CHECK (id = 1),
    last bigint NOT NULL
);
INSERT INTO event_seq (id, last) VALUES (1, 0);

CREATE TABLE events (
    seq         bigint PRIMARY KEY,
    id          text NOT NULL UNIQUE,
    type        text NOT NULL,
    time        timestamptz NOT NULL,
    sealed_data text NOT NULL,
    pending     boolean NOT NULL DEFAULT false,
    due_at      timestamptz,
    attempts    integer NOT NULL DEFAULT 0,
    first_tried timestamptz,
    last_tried  timestamptz,
    last_error  text NOT NULL DEFAULT '',
    done_at     timestamptz
);
CREATE INDEX events_pending ON events (due_at, seq) WHERE pending;

CREATE TABLE api_keys (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    prefix     text NOT NULL,
    created_at timestamptz NOT NULL
);

-- Connect links by key: the hex SHA-256 of the link's ID (a bearer
-- secret, never stored).
CREATE TABLE connect_links (
    key              text PRIMARY KEY,
    external_user_id text NOT NULL,
    return_to        text NOT NULL DEFAULT '',
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz,
    sealed_metadata  text NOT NULL DEFAULT ''
);
CREATE INDEX connect_links_expiry ON connect_links (expires_at);

CREATE TABLE secrets (
    name   text PRIMARY KEY,
    sealed text NOT NULL
);

CREATE TABLE settings (
    name  text PRIMARY KEY,
    value text NOT NULL
);

-- The sealing keys that values may use: a store registers its sealing
-- key before its first write, and Open refuses to start without a key
-- registered here that any value still uses.
CREATE TABLE seal_keys (
    key_id text PRIMARY KEY,
    since  timestamptz NOT NULL DEFAULT now()
);

-- What the background probe writes to find out whether writes work again.
CREATE TABLE store_probe (
    id int PRIMARY KEY CHECK (id = 1),
    at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE store_probe, seal_keys, settings, secrets, connect_links, api_keys, events, event_seq, bots, refresh_leases, connections;
