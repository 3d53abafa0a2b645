package doctor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
)

// pgVersionTable is goose's table of applied migrations in the PostgreSQL
// store (internal/store/postgres names it the same way).
const pgVersionTable = "onbehalf_schema_version"

// pgTimeout bounds the whole PostgreSQL check.
const pgTimeout = 15 * time.Second

// checkPostgres connects to DATABASE_URL in a read-only session
// (default_transaction_read_only=on, so that nothing this check runs can
// write), and reports the server's version, whether it is a standby,
// whether the schema is migrated (or can be), and whether the configured
// sealing keys cover the keys the database has registered. Unlike
// postgres.Open it never migrates.
func (d *doctor) checkPostgres(ctx context.Context) {
	cc, err := pgx.ParseConfig(d.cfg.DatabaseURL)
	if err != nil {
		d.r.fail("DATABASE_URL cannot be read: %v", err)
		return
	}
	where := fmt.Sprintf("database %q on %s:%d as user %q", cc.Database, cc.Host, cc.Port, cc.User)
	cc.ConnectTimeout = 5 * time.Second
	cc.RuntimeParams["application_name"] = "onbehalf doctor"
	cc.RuntimeParams["default_transaction_read_only"] = "on"
	ctx, cancel := context.WithTimeout(ctx, pgTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		d.r.fail("Cannot connect to %s: %v", where, err)
		return
	}
	defer conn.Close(context.Background())
	if err := conn.Ping(ctx); err != nil {
		d.r.fail("Connected to %s, but it does not answer: %v", where, err)
		return
	}
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		d.r.fail("Connected to %s, but cannot read its version: %v", where, err)
		return
	}
	d.r.ok("Connected to %s: PostgreSQL %s.", where, version)

	var standby bool
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&standby); err == nil && standby {
		d.r.fail("This server is a read-only standby: point DATABASE_URL at the primary.")
	}
	var schema *string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		d.r.fail("Cannot read the current schema: %v", err)
		return
	}
	if schema == nil {
		d.r.fail("No schema of the search_path exists for user %q: the server has nowhere to create its tables.", cc.User)
		return
	}
	var migrated bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", pgVersionTable).Scan(&migrated); err != nil {
		d.r.fail("Cannot look for the schema version table: %v", err)
		return
	}
	if !migrated {
		d.storedAPIKeys = 0
		var canCreate bool
		err := conn.QueryRow(ctx, "SELECT has_schema_privilege(current_schema(), 'CREATE')").Scan(&canCreate)
		switch {
		case err != nil:
			d.r.warn("Not migrated yet: the server migrates on start (could not tell whether user %q may create tables: %v).", cc.User, err)
		case canCreate:
			d.r.ok("Not migrated yet: the server migrates on start (user %q may create tables in schema %q).", cc.User, *schema)
		default:
			d.r.fail("Not migrated yet, and user %q may not create tables in schema %q: the server cannot migrate. Grant it CREATE on the schema, or start the server once as the schema's owner.", cc.User, *schema)
		}
		return
	}
	var applied int64
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version_id), 0) FROM "+pgVersionTable).Scan(&applied); err != nil {
		d.r.fail("Cannot read the schema version: %v", err)
		return
	}
	d.r.ok("Migrated: schema version %d (schema %q); the server applies newer migrations itself on start.", applied, *schema)
	d.inspectPostgres(ctx, conn)
}

// inspectPostgres counts what a migrated database holds and compares the
// sealing keys it registered with the configured ones. Read-only.
func (d *doctor) inspectPostgres(ctx context.Context, conn *pgx.Conn) {
	rows, err := conn.Query(ctx, "SELECT state, count(*) FROM connections GROUP BY state")
	if err == nil {
		n := map[onbehalf.ConnState]int64{}
		var state string
		var c int64
		_, err = pgx.ForEachRow(rows, []any{&state, &c}, func() error { n[onbehalf.ConnState(state)] = c; return nil })
		if err == nil {
			d.r.info("%d connected and %d disconnected Zoom connection(s).", n[onbehalf.StateConnected], n[onbehalf.StateDisconnected])
			d.connected = n[onbehalf.StateConnected]
		}
	}
	var keys int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM api_keys").Scan(&keys); err == nil {
		d.storedAPIKeys = keys
	}
	if len(d.cfg.TokenEncryptionKeys) == 0 {
		return
	}
	ring, err := seal.NewKeyring(d.cfg.TokenEncryptionKeys...)
	if err != nil {
		return
	}
	rows, err = conn.Query(ctx, "SELECT key_id FROM seal_keys ORDER BY key_id")
	if err != nil {
		return
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	var missing []string
	for _, id := range ids {
		if !ring.Has(id) {
			missing = append(missing, id)
		}
	}
	switch {
	case len(ids) == 0:
		d.r.info("No sealing key registered yet: the first start registers TOKEN_ENCRYPTION_KEY's first key (%s).", ring.Current())
	case len(missing) == 0:
		d.r.ok("TOKEN_ENCRYPTION_KEY holds every sealing key the database registered (%s).", strings.Join(ids, ", "))
	default:
		d.r.warn("The database registered sealing key(s) %s, which TOKEN_ENCRYPTION_KEY lacks: if any value still uses them the server refuses to start. Add the old key after the new one (comma-separated).", strings.Join(missing, ", "))
	}
}
