// Package store keeps connections and server secrets in one bbolt file.
//
// Buckets are created in one transaction at open; values are JSON written
// through save/load; every change touching several keys is one Update; a
// missing key is an *onbehalf.Error with code ENOTFOUND. No network call ever
// happens inside a write transaction.
//
// Token pairs and server secrets are sealed with AES-256-GCM (package seal)
// before they reach the file; the connection ID is the associated data.
package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bucket names.
var (
	bucketConnections = []byte("connections")
	bucketByZoomUser  = []byte("by_zoom_user")
	bucketByExpiry    = []byte("by_expiry")
	bucketMeta        = []byte("meta")
)

// Meta keys.
var keySchemaVersion = []byte("schema_version")

// SchemaVersion is the version of the on-disk layout this code writes.
// 1: tokens in clear. 2: tokens sealed, by_expiry index, key use counts.
const SchemaVersion = 2

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
}

// Store is the bbolt-backed implementation of onbehalf.ConnectionStore.
type Store struct {
	db    *bolt.DB
	now   func() time.Time
	keys  *seal.Keyring
	cache *connCache
}

var (
	_ onbehalf.ConnectionStore = (*Store)(nil)
	_ onbehalf.DueLister       = (*Store)(nil)
)

// Open opens (creating if needed) the database at path and its folder,
// migrates it to the current schema and checks that every key that sealed
// data in it is available.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.KeyFile == "" {
		opts.KeyFile = path + ".key"
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating database folder %s: %w", dir, err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("database %s is locked by another process (is another onbehalf running on it?): gave up after %s", path, opts.Timeout)
	} else if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = defaultCacheSize
	}
	s := &Store{db: db, now: opts.Now, cache: newConnCache(opts.CacheSize)}
	if err := s.init(opts); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return s, nil
}

// init creates the buckets, loads the keys, migrates and checks the keys.
func (s *Store) init(opts Options) error {
	var version int
	var used map[string]int
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketConnections, bucketByZoomUser, bucketByExpiry, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keySchemaVersion); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return fmt.Errorf("unreadable schema version %q", v)
			}
			version = n
		} else if tx.Bucket(bucketConnections).Stats().KeyN == 0 {
			version = SchemaVersion // a new database
			if err := meta.Put(keySchemaVersion, []byte(strconv.Itoa(version))); err != nil {
				return err
			}
		} else {
			version = 1
		}
		used = keyUse(meta)
		return nil
	})
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

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the database file path.
func (s *Store) Path() string { return s.db.Path() }

// Ping checks that the database can be read.
func (s *Store) Ping(ctx context.Context) error {
	return s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketConnections) == nil {
			return errors.New("connections bucket missing")
		}
		return nil
	})
}

// Secret returns the secret stored under name in the meta bucket (sealed),
// creating it with generate on first use.
func (s *Store) Secret(name string, generate func() (string, error)) (string, error) {
	key := []byte("secret:" + name)
	ad := []byte("meta:" + name)
	var sealed string
	if err := s.db.View(func(tx *bolt.Tx) error {
		sealed = string(tx.Bucket(bucketMeta).Get(key))
		return nil
	}); err != nil {
		return "", err
	}
	if sealed == "" {
		err := s.db.Update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if old := meta.Get(key); old != nil {
				sealed = string(old)
				return nil
			}
			v, err := generate()
			if err != nil {
				return err
			}
			if sealed, err = s.keys.Seal([]byte(v), ad); err != nil {
				return err
			}
			if err := countKey(meta, "", sealed); err != nil {
				return err
			}
			return meta.Put(key, []byte(sealed))
		})
		if err != nil {
			return "", err
		}
	}
	v, err := s.keys.Open(sealed, ad)
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", name, err)
	}
	if seal.SealedKeyID(sealed) != s.keys.Current() {
		// Re-seal with the newest key (rotation).
		_ = s.db.Update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if string(meta.Get(key)) != sealed {
				return nil
			}
			fresh, err := s.keys.Seal(v, ad)
			if err != nil {
				return err
			}
			if err := countKey(meta, sealed, fresh); err != nil {
				return err
			}
			return meta.Put(key, []byte(fresh))
		})
	}
	return string(v), nil
}

// NewID returns a random, opaque connection ID: 16 bytes from crypto/rand
// as 22 characters of unpadded base64url.
func NewID() (string, error) {
	return RandomString(16)
}

// RandomString returns n random bytes as unpadded base64url.
func RandomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// expiryKey is the by_expiry index key: big-endian unix nanoseconds, then
// the connection ID, so a cursor walks connections soonest first.
func expiryKey(t time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	return append(k, id...)
}
