// Package bolt is the bbolt implementation of onbehalf.Store: everything
// the server keeps, in one file, for one process. It is the
// zero-configuration default and passes the conformance suite in
// internal/store/storetest.
//
// Buckets are created in one transaction at open; values are JSON written
// through putJSON/getJSON; every change is one write transaction that goes
// through Store.update, which also writes the change's event (the outbox)
// and turns a failed commit into an ESTORAGE error an operator
// understands. No network call ever happens inside a write transaction.
//
// Token pairs, personal data, event data and server secrets are sealed with
// AES-256-GCM (package seal) before they reach the file; the record's ID is
// the associated data.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bucket names (what each holds: see Store). Schema 2 had the first
// four; schema 3 added the rest.
var (
	bucketConnections = []byte("connections")
	bucketByZoomUser  = []byte("by_zoom_user")
	bucketByExpiry    = []byte("by_expiry")
	bucketMeta        = []byte("meta")

	bucketConnsByCreated  = []byte("conns_by_created")
	bucketConnsByExternal = []byte("conns_by_external")
	bucketBots            = []byte("bots")
	bucketBotsByPlatform  = []byte("bots_by_platform")
	bucketBotsByCreated   = []byte("bots_by_created")
	bucketBotsByConn      = []byte("bots_by_connection")
	bucketEvents          = []byte("events")
	bucketEventIDs        = []byte("event_ids")
	bucketDeliveries      = []byte("deliveries")
	bucketAPIKeys         = []byte("api_keys")
	bucketAPIKeysByHash   = []byte("api_keys_by_hash")
	bucketLinks           = []byte("connect_links")
	bucketLinksByExpiry   = []byte("connect_links_by_expiry")
	bucketLinksByID       = []byte("connect_links_by_id")
	bucketReplay          = []byte("replay")
	bucketReplayByExpiry  = []byte("replay_by_expiry")
	bucketIdem            = []byte("idempotency")
	bucketIdemByExpiry    = []byte("idempotency_by_expiry")
)

// allBuckets is every bucket Open makes sure exists.
var allBuckets = [][]byte{
	bucketConnections, bucketByZoomUser, bucketByExpiry, bucketMeta,
	bucketConnsByCreated, bucketConnsByExternal,
	bucketBots, bucketBotsByPlatform, bucketBotsByCreated, bucketBotsByConn,
	bucketEvents, bucketEventIDs, bucketDeliveries,
	bucketAPIKeys, bucketAPIKeysByHash, bucketLinks, bucketLinksByExpiry,
	bucketLinksByID, bucketReplay, bucketReplayByExpiry,
	bucketIdem, bucketIdemByExpiry,
}

// DefaultReserveBytes is the size of the emergency reserve file: room for
// thousands of token commits once the disk is full.
const DefaultReserveBytes = 16 << 20

// NoReserve, as Options.ReserveBytes, keeps no emergency reserve.
const NoReserve = -1

// Options configure Open.
type Options struct {
	// Timeout is how long Open waits for the file lock held by another
	// process before it gives up. Default 2s.
	Timeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Keys seal tokens: the first seals, all open (rotation). When empty,
	// the key in KeyFile is used, generated on first start.
	Keys [][]byte
	// KeyFile holds a generated key (base64, mode 0600). Default: the
	// database path + ".key". Its key is also used to open values when Keys
	// are given, so moving from the file to TOKEN_ENCRYPTION_KEY just works.
	KeyFile string
	// CacheSize bounds how many decoded connections are kept in memory
	// for the token callback's reads; default 10,000, negative disables.
	CacheSize int
	// DeliverEvents says that new events are to be delivered (a webhook
	// receiver is configured); otherwise they are only logged, for the
	// event stream.
	DeliverEvents bool
	// ReserveBytes is the size of the emergency reserve file kept at
	// path + ".reserve" and freed when the disk fills up: 0 means
	// DefaultReserveBytes, NoReserve (negative) keeps none.
	ReserveBytes int64
	// ProbeInterval is how often a store that cannot write (or has used
	// its reserve) tries again in the background. Default 5s.
	ProbeInterval time.Duration
	// Logger receives the store's warnings; default slog.Default().
	Logger *slog.Logger
}

// Store is the bbolt implementation of onbehalf.Store. Its file holds
// these buckets (bucket: key → value). Records are JSON; "sealed" marks
// what is sealed with AES-256-GCM bound to the record's ID. Index keys
// that sort by time are timeKey's (8 bytes of big-endian Unix nanoseconds,
// then an ID); prefixKey's parts are length-prefixed so that none runs
// into the next.
//
//	connections:          connection ID → record (the connection; token pair, email, name, account, metadata sealed; due time)
//	by_zoom_user:         Zoom user ID → connection ID
//	by_expiry:            timeKey(access token expiry, connection ID) → nil; connected connections with a refresh token only (DueBefore, ClaimDue)
//	conns_by_created:     timeKey(created, connection ID) → state
//	conns_by_external:    prefixKey(external user ID) + timeKey(created, connection ID) → state
//	bots:                 bot ID → onbehalf.Bot, its timeline included
//	bots_by_platform:     prefixKey(platform, platform bot ID) → bot ID
//	bots_by_created:      timeKey(created, bot ID) → platform
//	bots_by_connection:   prefixKey(connection ID) + timeKey(created, bot ID) → platform
//	events:               8-byte big-endian Seq → eventRecord (data sealed; delivery state)
//	event_ids:            event ID → 8-byte big-endian Seq
//	deliveries:           timeKey(due, "") + 8-byte Seq → nil; events pending delivery, by next attempt or lease end
//	api_keys:             API key ID → onbehalf.APIKey (hash only, never the key)
//	api_keys_by_hash:     SHA-256 of the key → API key ID
//	connect_links:        store.LinkKey(link ID), a hash → linkRecord (metadata sealed; the browser it is bound to, hashed)
//	connect_links_by_expiry: timeKey(expiry, link key) → nil
//	replay:               delivery key → timeKey(expiry, delivery key) (its replay_by_expiry entry)
//	replay_by_expiry:     timeKey(expiry, delivery key) → nil
//	idempotency:          idempotency key → idemRecord (request hash, lock, stored answer, its index key)
//	idempotency_by_expiry: timeKey(expiry, idempotency key) → nil
//	meta:                 "schema_version" → decimal; "count:<state>" → decimal connections in that state;
//	                      "keyuse:<key ID>" → decimal sealed values under that key; "secret:<name>" → sealed
//	                      server secret; "setting:<name>" → value; "probe_at" → RFC 3339 time of the last write probe
//
// Keep-alive claims and refresh leases are in memory (claims, leases):
// one process serves the file.
type Store struct {
	db      *bbolt.DB
	path    string
	now     func() time.Time
	keys    *seal.Keyring
	cache   *connCache
	log     *slog.Logger
	deliver bool

	dir     string                // the database's folder, named in storage errors
	health  store.Health          // whether the last write failed
	fault   atomic.Pointer[fault] // injected write failure (tests)
	reserve *reserve
	leases  leases
	// EventWatch is told of every commit that wrote events.
	store.EventWatch
	claims claims

	stop chan struct{}
	wg   sync.WaitGroup
}

var _ onbehalf.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and its folder,
// migrates it to the current schema, checks that every key that sealed
// data in it is available, and sets up the emergency reserve.
func Open(path string, opts Options) (*Store, error) {
	opts = withDefaults(path, opts)
	dir := filepath.Dir(path)
	if err := makeDir(dir); err != nil {
		return nil, fmt.Errorf("creating database folder %s: %w", dir, err)
	}
	_, statErr := os.Stat(path)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: opts.Timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("database %s is locked by another process (is another onbehalf running on it?): gave up after %s", path, opts.Timeout)
	} else if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		if err := syncDir(dir); err != nil {
			opts.Logger.Warn("store: could not fsync the database folder after creating the database", "dir", dir, "err", err)
		}
	}
	s := &Store{
		db: db, path: path, now: opts.Now, cache: newConnCache(opts.CacheSize),
		log: opts.Logger, deliver: opts.DeliverEvents, stop: make(chan struct{}),
	}
	s.dir = dir
	s.reserve = newReserve(path+".reserve", opts.ReserveBytes, opts.Logger)
	if err := s.init(opts); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	s.reserve.ensure()
	s.wg.Add(1)
	go s.probeLoop(opts.ProbeInterval)
	return s, nil
}

// withDefaults fills in the options left zero.
func withDefaults(path string, opts Options) Options {
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.KeyFile == "" {
		opts.KeyFile = path + ".key"
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = defaultCacheSize
	}
	if opts.ReserveBytes == 0 {
		opts.ReserveBytes = DefaultReserveBytes
	}
	if opts.ProbeInterval <= 0 {
		opts.ProbeInterval = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return opts
}

// makeDir creates the database folder (mode 0700) and makes its entry
// durable in the parent folder.
func makeDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// init creates the buckets, loads the keys, migrates and checks the keys.
// It writes only when something is missing, so that a store whose disk is
// full still opens and serves reads.
func (s *Store) init(opts Options) error {
	version, used, err := s.readSchema()
	if err != nil {
		return err
	}
	if version > SchemaVersion {
		return fmt.Errorf("written by a newer onbehalf (schema %d, this build reads up to %d): upgrade onbehalf", version, SchemaVersion)
	}
	if s.keys, err = loadKeys(opts, len(used) > 0); err != nil {
		return err
	}
	for id, n := range used {
		if n > 0 && !s.keys.Has(id) {
			return fmt.Errorf("%d value(s) are sealed with key %s, which is not configured: set TOKEN_ENCRYPTION_KEY to the new key followed by the old one (comma-separated), or restore the key file %s. Refusing to start rather than lose connections", n, id, opts.KeyFile)
		}
	}
	return s.migrate(version)
}

// Close stops the background probe and closes the database.
func (s *Store) Close() error {
	select {
	case <-s.stop:
		return nil
	default:
	}
	close(s.stop)
	s.wg.Wait()
	return s.db.Close()
}

// Path returns the database file path.
func (s *Store) Path() string { return s.path }

// Ping checks that the database can be read.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketConnections) == nil {
			return errors.New("connections bucket missing")
		}
		return nil
	})
}

// view runs a read transaction; a closed store is EUNAVAILABLE.
func (s *Store) view(fn func(tx *bbolt.Tx) error) error {
	err := s.db.View(fn)
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return store.ErrClosed()
	}
	return err
}
