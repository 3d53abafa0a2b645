// Package store keeps connections and server secrets in one bbolt file.
//
// Buckets are created in one transaction at open; values are JSON written
// through save/load; every change touching several keys is one Update; a
// missing key is an *onbehalf.Error with code ENOTFOUND. No network call ever
// happens inside a write transaction.
package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bucket names.
var (
	bucketConnections = []byte("connections")
	bucketByZoomUser  = []byte("by_zoom_user")
	bucketMeta        = []byte("meta")
)

// Meta keys.
var keySchemaVersion = []byte("schema_version")

// SchemaVersion is the version of the on-disk layout this code writes.
const SchemaVersion = 1

// Options configure Open.
type Options struct {
	// Timeout is how long Open waits for the file lock held by another
	// process before it gives up. Default 2s.
	Timeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Store is the bbolt-backed implementation of onbehalf.ConnectionStore.
type Store struct {
	db  *bolt.DB
	now func() time.Time
}

var _ onbehalf.ConnectionStore = (*Store)(nil)

// Open opens (creating if needed) the database at path and its folder.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
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
	s := &Store{db: db, now: opts.Now}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return s, nil
}

// init creates the buckets and checks the schema version, in one Update.
func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketConnections, bucketByZoomUser, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(keySchemaVersion)
		if v == nil {
			return meta.Put(keySchemaVersion, []byte(strconv.Itoa(SchemaVersion)))
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("unreadable schema version %q", v)
		}
		if n > SchemaVersion {
			return fmt.Errorf("written by a newer onbehalf (schema %d, this build reads up to %d): upgrade onbehalf", n, SchemaVersion)
		}
		return nil
	})
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database can be read.
func (s *Store) Ping(ctx context.Context) error {
	return s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketConnections) == nil {
			return errors.New("connections bucket missing")
		}
		return nil
	})
}

// Connection returns the connection with the given ID.
func (s *Store) Connection(ctx context.Context, id string) (*onbehalf.Connection, error) {
	var c onbehalf.Connection
	err := s.db.View(func(tx *bolt.Tx) error {
		return load(tx.Bucket(bucketConnections), id, &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// CountConnections returns the number of stored connections.
func (s *Store) CountConnections(ctx context.Context) (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketConnections).Stats().KeyN
		return nil
	})
	return n, err
}

// UpsertConnection stores a freshly authorized connection for a Zoom user,
// keeping the ID of the connection that user already had, if any.
func (s *Store) UpsertConnection(ctx context.Context, u onbehalf.ZoomUser, tok onbehalf.Token) (*onbehalf.Connection, error) {
	if u.ID == "" {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, "Zoom user has no ID.")
	}
	now := s.now().UTC()
	var c onbehalf.Connection
	err := s.db.Update(func(tx *bolt.Tx) error {
		conns, index := tx.Bucket(bucketConnections), tx.Bucket(bucketByZoomUser)
		if id := index.Get([]byte(u.ID)); id != nil {
			if err := load(conns, string(id), &c); err != nil && onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
				return err
			}
			c.ID = string(id)
		}
		if c.ID == "" {
			id, err := NewID()
			if err != nil {
				return err
			}
			c = onbehalf.Connection{ID: id}
		}
		if c.CreatedAt.IsZero() {
			c.CreatedAt = now
		}
		c.ZoomUserID, c.AccountID, c.Email, c.DisplayName = u.ID, u.AccountID, u.Email, u.Name()
		c.State, c.Token = onbehalf.StateConnected, tok
		c.UpdatedAt, c.RefreshedAt = now, now
		c.DisconnectedAt, c.DisconnectedReason = time.Time{}, ""
		if err := index.Put([]byte(u.ID), []byte(c.ID)); err != nil {
			return err
		}
		return save(conns, c.ID, &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// SaveToken commits a refreshed token pair. The connection must still be
// connected: a connection disconnected or deleted while the refresh was in
// flight is not revived.
func (s *Store) SaveToken(ctx context.Context, id string, tok onbehalf.Token) (*onbehalf.Connection, error) {
	var c onbehalf.Connection
	err := s.db.Update(func(tx *bolt.Tx) error {
		conns := tx.Bucket(bucketConnections)
		if err := load(conns, id, &c); err != nil {
			return err
		}
		if c.State != onbehalf.StateConnected {
			return onbehalf.Errorf(onbehalf.ECONFLICT, "The Zoom connection was disconnected.")
		}
		now := s.now().UTC()
		c.Token, c.UpdatedAt, c.RefreshedAt = tok, now, now
		return save(conns, id, &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// MarkDisconnected wipes a connection's tokens and records why.
func (s *Store) MarkDisconnected(ctx context.Context, id, reason string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		conns := tx.Bucket(bucketConnections)
		var c onbehalf.Connection
		if err := load(conns, id, &c); err != nil {
			return err
		}
		now := s.now().UTC()
		c.State, c.Token = onbehalf.StateDisconnected, onbehalf.Token{}
		c.UpdatedAt, c.DisconnectedAt, c.DisconnectedReason = now, now, reason
		return save(conns, id, &c)
	})
}

// Secret returns the secret stored under name in the meta bucket, creating
// it with generate on first use. Concurrent callers get the same value.
func (s *Store) Secret(name string, generate func() (string, error)) (string, error) {
	key := []byte("secret:" + name)
	var v string
	err := s.db.View(func(tx *bolt.Tx) error {
		v = string(tx.Bucket(bucketMeta).Get(key))
		return nil
	})
	if err != nil || v != "" {
		return v, err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if old := meta.Get(key); old != nil {
			v = string(old)
			return nil
		}
		gen, err := generate()
		if err != nil {
			return err
		}
		v = gen
		return meta.Put(key, []byte(v))
	})
	return v, err
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

// save writes v as JSON under key.
func save(b *bolt.Bucket, key string, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), buf)
}

// load reads the JSON under key into v; a missing key is ENOTFOUND.
func load(b *bolt.Bucket, key string, v any) error {
	buf := b.Get([]byte(key))
	if buf == nil {
		return onbehalf.Errorf(onbehalf.ENOTFOUND, "No such connection.")
	}
	if err := json.Unmarshal(buf, v); err != nil {
		return fmt.Errorf("decoding record %s: %w", key, err)
	}
	return nil
}
