-- Import of a whole store into an empty database (restore.go).

-- Blocks every writer (readers go on) until the import commits, so that no
-- instance writes into the database while it is filled.
-- name: lock_for_import
LOCK TABLE connections, bots, events, event_seq, api_keys, connect_links, secrets, settings IN EXCLUSIVE MODE;

-- name: import_counts
SELECT (SELECT count(*) FROM connections), (SELECT count(*) FROM bots), (SELECT count(*) FROM events),
       (SELECT count(*) FROM api_keys), (SELECT count(*) FROM connect_links), (SELECT count(*) FROM secrets),
       (SELECT count(*) FROM settings), (SELECT last FROM event_seq WHERE id = 1);

-- The sequence never goes below the source's, nor below an imported event.
-- name: import_event_seq
UPDATE event_seq SET last = greatest(last, $1, (SELECT coalesce(max(seq), 0) FROM events)) WHERE id = 1;
