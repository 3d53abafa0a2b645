// Package postgres is the PostgreSQL implementation of onbehalf.Store:
// everything the server keeps, in one database that several instances
// share behind a load balancer. It passes the conformance suite in
// internal/store/storetest, as the bbolt store does.
//
// The schema lives in embedded goose migrations (sql/migrations) that
// Open applies, under an advisory lock so that instances starting together
// migrate once; every other statement lives in sql/queries, by name.
// Every change is one transaction through Store.write, which also writes
// the change's event (the outbox) and turns a failure of the database into
// an ESTORAGE error an operator understands. No network call other than
// the database's ever happens inside a transaction, and no transaction is
// held open across a Zoom call: the refresh lease is a row (work.go), not
// a lock.
//
// Token pairs, personal data, event data, link metadata and server secrets
// are sealed with AES-256-GCM (package seal) with TOKEN_ENCRYPTION_KEY
// before they reach the database, which never holds the key; the record's
// ID is the associated data. The compare-and-swap of SaveToken compares a
// keyed hash of the refresh token (keys.go).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	"github.com/onbehalf/onbehalf/internal/store"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Options configure Open.
type Options struct {
	// Keys seal tokens and personal data: the first seals, all open
	// (rotation). Required (TOKEN_ENCRYPTION_KEY): every instance must
	// have the same keys, and they must not live in the database they
	// protect.
	Keys [][]byte
	// Now is the clock of every time the store records or compares
	// (refresh leases and keep-alive claims included); default time.Now.
	// Instances must keep their clocks in step (NTP): a lease is only as
	// good as the clocks that compare it, and the compare-and-swap of
	// SaveToken is the fence when they are not.
	Now func() time.Time
	// DeliverEvents says that new events are to be delivered (a webhook
	// receiver is configured); otherwise they are only logged, for the
	// event stream.
	DeliverEvents bool
	// CacheSize bounds how many decoded connections are kept in memory
	// for the token callback's reads; default 10,000, negative disables.
	CacheSize int
	// MaxConns is the size of the connection pool unless DATABASE_URL
	// says pool_max_conns; default 16.
	MaxConns int32
	// ProbeInterval is how often a store that cannot write tries again in
	// the background. Default 5s.
	ProbeInterval time.Duration
	// Logger receives the store's warnings; default slog.Default().
	Logger *slog.Logger
}

// Store is the PostgreSQL implementation of onbehalf.Store.
type Store struct {
	pool     *pgxpool.Pool
	where    string // the server and database, for messages (never the password)
	now      func() time.Time
	keys     *seal.Keyring
	hashKeys hashKeys
	cache    *connCache
	log      *slog.Logger
	deliver  bool

	registered atomic.Bool // the sealing key is in seal_keys
	health     store.Health
	fault      atomic.Pointer[fault] // injected write failure (tests)
	closed     atomic.Bool
	// EventWatch is told of every commit that wrote events.
	store.EventWatch

	stop chan struct{}
	wg   sync.WaitGroup
}

var _ onbehalf.Store = (*Store)(nil)

// Open connects to the database at url (postgres://…), migrates it to the
// current schema, and checks that every key that sealed data in it is
// among opts.Keys. It fails without keys.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if len(opts.Keys) == 0 {
		return nil, errors.New("postgres: no sealing key (TOKEN_ENCRYPTION_KEY)")
	}
	opts = withDefaults(opts)
	keys, err := seal.NewKeyring(opts.Keys...)
	if err != nil {
		return nil, fmt.Errorf("TOKEN_ENCRYPTION_KEY: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %s", redact(err.Error(), url))
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = opts.MaxConns
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "onbehalf"
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	s := &Store{
		where: describe(cfg), now: opts.Now, keys: keys, hashKeys: newHashKeys(opts.Keys),
		cache: newConnCache(opts.CacheSize), log: opts.Logger, deliver: opts.DeliverEvents,
		stop: make(chan struct{}),
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("PostgreSQL (%s): %s", s.where, redact(err.Error(), url))
	}
	if err := s.init(ctx); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("PostgreSQL (%s): %s", s.where, redact(err.Error(), url))
	}
	s.wg.Add(1)
	go s.probeLoop(opts.ProbeInterval)
	return s, nil
}

// withDefaults fills in the options left zero.
func withDefaults(opts Options) Options {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = defaultCacheSize
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 16
	}
	if opts.ProbeInterval <= 0 {
		opts.ProbeInterval = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return opts
}

// init checks that the server answers, migrates the schema and checks the
// keys. It writes only when something is missing, so that a database that
// cannot write still opens and serves reads.
func (s *Store) init(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("cannot connect: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}
	if err := s.checkKeys(ctx); err != nil {
		return err
	}
	s.register(ctx)
	return nil
}

// describe names the server and database of a configuration for messages
// and logs: host:port/database, never the user's password.
func describe(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("database %s on %s:%d", c.Database, c.Host, c.Port)
}

// Close stops the background probe and closes the connection pool.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.stop)
	s.wg.Wait()
	s.pool.Close()
	return nil
}

// Ping checks that the database can be read.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed()
	}
	var n int
	return s.readErr(ctx, s.pool.QueryRow(ctx, qPing.sql).Scan(&n))
}

// readErr turns the failure of a read into the error callers get: a
// closed store is EUNAVAILABLE, a database that cannot be reached an
// EUNAVAILABLE error that says so; nil stays nil.
func (s *Store) readErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if s.closed.Load() {
		return store.ErrClosed()
	}
	var oe *onbehalf.Error
	if errors.As(err, &oe) {
		return err
	}
	if ctx.Err() != nil {
		return onbehalf.WrapError(err, onbehalf.ETIMEOUT, "The database did not answer in time.")
	}
	if e := s.storageError(err); e != nil {
		return onbehalf.WrapError(err, onbehalf.EUNAVAILABLE, e.Message)
	}
	return err
}

//go:embed sql/migrations/*.sql
var migrationFiles embed.FS

// versionTable is goose's table of applied migrations.
const versionTable = "onbehalf_schema_version"

// migrationLockID is the advisory lock instances take while they migrate
// (crc32 of "onbehalf schema"), so that instances starting together
// migrate once and the others wait.
const migrationLockID = 0x6f6e6268

// newProvider returns goose's migration provider over the embedded
// files, migrating under an advisory lock.
func newProvider(s *Store) (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "sql/migrations")
	if err != nil {
		return nil, err
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(s.pool), sub,
		goose.WithTableName(versionTable), goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(s.log.With("component", "migrations")))
}

// migrate applies the migrations this build has and the database lacks,
// and refuses a database a newer onbehalf migrated further. A database
// with nothing to apply is only read.
func (s *Store) migrate(ctx context.Context) error {
	p, err := newProvider(s)
	if err != nil {
		return err
	}
	defer p.Close()
	srcs := p.ListSources()
	target := srcs[len(srcs)-1].Version
	current, err := s.schemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if current > target {
		return fmt.Errorf("the database was migrated by a newer onbehalf (schema %d, this build knows up to %d): upgrade onbehalf", current, target)
	}
	if current == target {
		return nil
	}
	// Up takes the lock, then reads the version again: another instance
	// may have migrated meanwhile.
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrating the schema from %d to %d: %w", current, target, err)
	}
	for _, r := range results {
		s.log.Info("store: schema migrated", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	return nil
}

// schemaVersion reads the applied schema version without writing (0: a
// new database; goose creates its table under the lock).
func (s *Store) schemaVersion(ctx context.Context) (int64, error) {
	var exists bool
	if err := s.pool.QueryRow(ctx, qSchemaTableExists.sql, versionTable).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var v int64
	err := s.pool.QueryRow(ctx, qSchemaVersion.sql).Scan(&v)
	return v, err
}
