-- Events (events.go). seq comes from the one row of event_seq, which a
-- transaction locks by taking numbers and holds until it commits: events
-- commit in seq order on every instance.

-- name: take_event_seqs
UPDATE event_seq SET last = last + $1 WHERE id = 1 RETURNING last;

-- name: insert_events
INSERT INTO events (seq, id, type, time, sealed_data, pending, due_at)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::boolean[], $7::timestamptz[]);

-- name: events_after
SELECT seq, id, type, time, sealed_data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2;

-- name: event_seq
SELECT seq FROM events WHERE id = $1;

-- name: last_event_seq
SELECT last FROM event_seq WHERE id = 1;

-- Deletes up to $2 events older than $1 whose delivery is over, oldest
-- first.
-- name: prune_events
DELETE FROM events WHERE seq IN (
    SELECT seq FROM events WHERE time < $1 AND NOT pending ORDER BY seq LIMIT $2
);
