package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
)

// Counts counts what a store holds, by kind (Import's report and its
// refusal of a database that is not empty).
type Counts struct {
	Connections, Bots, Events, APIKeys, Links, Secrets, Settings int
	// LastEventSeq is the event sequence reached (pruned events count).
	LastEventSeq int64
}

// empty reports whether nothing is stored.
func (c Counts) empty() bool {
	return c.Connections+c.Bots+c.Events+c.APIKeys+c.Links+c.Secrets+c.Settings == 0 && c.LastEventSeq == 0
}

// String lists the counts in words.
func (c Counts) String() string {
	return fmt.Sprintf("%d connections, %d bots, %d events (sequence at %d), %d API keys, %d connect links, %d secrets, %d settings",
		c.Connections, c.Bots, c.Events, c.LastEventSeq, c.APIKeys, c.Links, c.Secrets, c.Settings)
}

// Count counts what the database holds.
func (s *Store) Count(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.pool.QueryRow(ctx, qImportCounts.sql).Scan(&c.Connections, &c.Bots, &c.Events, &c.APIKeys, &c.Links, &c.Secrets, &c.Settings, &c.LastEventSeq)
	return c, s.readErr(ctx, err)
}

// importBatch is how many rows of one kind Import sends at a time.
const importBatch = 2000

// Import fills an empty database with a whole store in one transaction:
// fill writes every record into the sink it is given (a source store's
// Export), in clear; Import seals them with this store's keys and copies
// them in (COPY), keeping every ID, time, event sequence number and
// delivery state. The tables are locked against every other writer
// meanwhile. A database that holds anything is refused before anything is
// written, and a failure writes nothing, so Import can be run again. It
// returns what it imported.
func (s *Store) Import(ctx context.Context, fill func(ctx context.Context, sink store.Sink) error) (Counts, error) {
	var got Counts
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		if _, err := tx.Exec(ctx, qLockForImport.sql); err != nil {
			return nil, err
		}
		var have Counts
		if err := tx.QueryRow(ctx, qImportCounts.sql).Scan(&have.Connections, &have.Bots, &have.Events, &have.APIKeys,
			&have.Links, &have.Secrets, &have.Settings, &have.LastEventSeq); err != nil {
			return nil, err
		}
		if !have.empty() {
			return nil, onbehalf.Errorf(onbehalf.ECONFLICT, "The PostgreSQL database (%s) is not empty: it holds %s. The copy goes into an empty database only: drop and create it again (or use a new one), then run the copy again.", s.where, have)
		}
		im := &importer{s: s, tx: tx, rows: map[string][][]any{}}
		if err := fill(ctx, im); err != nil {
			return nil, err
		}
		if err := im.flushAll(ctx); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, qImportEventSeq.sql, im.lastSeq); err != nil {
			return nil, err
		}
		got = im.counts
		return nil, tx.QueryRow(ctx, qLastEventSeq.sql).Scan(&got.LastEventSeq)
	})
	return got, err
}

// importer is Import's sink: rows are sealed as they come and copied in
// batches.
type importer struct {
	s       *Store
	tx      pgx.Tx
	rows    map[string][][]any // by table
	counts  Counts
	lastSeq int64
}

// tables and their columns, in the order Import flushes them.
var importTables = []struct {
	name    string
	columns []string
}{
	{"connections", connColumns},
	{"bots", []string{"id", "platform", "platform_bot_id", "connection_id", "created_at", "data"}},
	{"events", []string{"seq", "id", "type", "time", "sealed_data", "pending", "due_at", "attempts", "first_tried", "last_tried", "last_error", "done_at"}},
	{"api_keys", []string{"id", "name", "hash", "prefix", "created_at"}},
	{"connect_links", []string{"key", "id", "external_user_id", "return_to", "created_at", "expires_at", "used_at", "revoked_at", "connection_id", "sealed_metadata", "browser_hash"}},
	{"secrets", []string{"name", "sealed"}},
	{"settings", []string{"name", "value"}},
}

// add queues a row of table and flushes the table's rows when there are
// enough.
func (im *importer) add(ctx context.Context, table string, row []any) error {
	im.rows[table] = append(im.rows[table], row)
	if len(im.rows[table]) < importBatch {
		return nil
	}
	return im.flush(ctx, table)
}

// flush copies the queued rows of table in.
func (im *importer) flush(ctx context.Context, table string) error {
	rows := im.rows[table]
	if len(rows) == 0 {
		return nil
	}
	for _, t := range importTables {
		if t.name == table {
			if _, err := im.tx.CopyFrom(ctx, pgx.Identifier{table}, t.columns, pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("copying %s: %w", strings.ReplaceAll(table, "_", " "), err)
			}
		}
	}
	im.rows[table] = rows[:0]
	return nil
}

// flushAll copies every queued row in.
func (im *importer) flushAll(ctx context.Context) error {
	for _, t := range importTables {
		if err := im.flush(ctx, t.name); err != nil {
			return err
		}
	}
	return nil
}

// Connection queues a connection, sealed.
func (im *importer) Connection(ctx context.Context, c *onbehalf.Connection) error {
	n := *c
	n.Token.Expiry = micro(n.Token.Expiry)
	row, err := im.s.connValues(&n)
	if err != nil {
		return err
	}
	im.counts.Connections++
	return im.add(ctx, "connections", row)
}

// Bot queues a bot with its timeline.
func (im *importer) Bot(ctx context.Context, b *onbehalf.Bot) error {
	n := *b
	n.CreatedAt = micro(n.CreatedAt)
	data, err := json.Marshal(&n)
	if err != nil {
		return err
	}
	im.counts.Bots++
	return im.add(ctx, "bots", []any{n.ID, n.Platform, n.PlatformBotID, n.ConnectionID, n.CreatedAt, data})
}

// Event queues an event with its ID, Seq and delivery state.
func (im *importer) Event(ctx context.Context, e store.EventRecord) error {
	data := e.Event.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	sealed, err := im.s.keys.SealJSON(data, store.EventAD(e.Event.ID))
	if err != nil {
		return err
	}
	d := e.Delivery
	var due any
	if d.Pending {
		due = micro(d.Due)
	}
	im.counts.Events++
	im.lastSeq = max(im.lastSeq, e.Event.Seq)
	return im.add(ctx, "events", []any{e.Event.Seq, e.Event.ID, e.Event.Type, micro(e.Event.Time), sealed, d.Pending, due,
		d.Attempts, nullTime(d.FirstTried), nullTime(d.LastTried), store.DeliveryReason(d.LastError), nullTime(d.DoneAt)})
}

// EventSeq keeps the source's sequence, pruned events included.
func (im *importer) EventSeq(ctx context.Context, last int64) error {
	im.lastSeq = max(im.lastSeq, last)
	return nil
}

// APIKey queues an API key.
func (im *importer) APIKey(ctx context.Context, k onbehalf.APIKey) error {
	if err := store.CheckAPIKey(k); err != nil {
		return err
	}
	im.counts.APIKeys++
	return im.add(ctx, "api_keys", []any{k.ID, k.Name, k.Hash, k.Prefix, micro(k.CreatedAt)})
}

// Link queues a connect link, its metadata sealed.
func (im *importer) Link(ctx context.Context, l store.LinkRecord) error {
	var sealed string
	if store.GivenJSON(l.Metadata) {
		var err error
		if sealed, err = im.s.keys.SealJSON(l.Metadata, store.LinkAD(l.Key)); err != nil {
			return err
		}
	}
	im.counts.Links++
	return im.add(ctx, "connect_links", []any{l.Key, cmp.Or(l.ID, store.LegacyLinkID(l.Key)), l.ExternalUserID, l.ReturnTo,
		nullTime(l.CreatedAt), micro(l.ExpiresAt), nullTime(l.UsedAt), nullTime(l.RevokedAt), l.ConnectionID, sealed, l.Browser})
}

// Secret queues a server secret, sealed.
func (im *importer) Secret(ctx context.Context, name, value string) error {
	sealed, err := im.s.keys.Seal([]byte(value), []byte(store.SecretAD(name)))
	if err != nil {
		return err
	}
	im.counts.Secrets++
	return im.add(ctx, "secrets", []any{name, sealed})
}

// Setting queues a setting.
func (im *importer) Setting(ctx context.Context, name, value string) error {
	im.counts.Settings++
	return im.add(ctx, "settings", []any{name, value})
}
