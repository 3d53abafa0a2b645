package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// OpenReadOnly opens the database at path for reading only (onbehalf
// migrate): the file is opened read-only and never written, no key file is
// generated, no emergency reserve is made and no schema is migrated. The
// database must have the current schema (an older one is upgraded by
// starting onbehalf on it once). Like Open it waits opts.Timeout for the
// lock of a running onbehalf, and it checks that every key that sealed
// data in the file is available. Writes through the store fail.
func OpenReadOnly(path string, opts Options) (*Store, error) {
	opts = withDefaults(path, opts)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no database at %s: %w", path, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: opts.Timeout, ReadOnly: true})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("database %s is locked by a running onbehalf: stop it first, so that the copy holds its last state (gave up after %s)", path, opts.Timeout)
	} else if err != nil {
		return nil, fmt.Errorf("opening database %s read-only: %w", path, err)
	}
	s := &Store{
		db: db, path: path, now: opts.Now, cache: newConnCache(-1), log: opts.Logger, deliver: opts.DeliverEvents,
		stop: make(chan struct{}), reserve: newReserve(path+".reserve", NoReserve, opts.Logger),
	}
	s.dir = filepath.Dir(path)
	if err := s.initReadOnly(opts); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return s, nil
}

// initReadOnly checks the schema and loads the keys without writing.
func (s *Store) initReadOnly(opts Options) error {
	version, used, err := s.readSchema()
	if err != nil {
		return err
	}
	switch {
	case version > SchemaVersion:
		return fmt.Errorf("written by a newer onbehalf (schema %d, this build reads up to %d): upgrade onbehalf", version, SchemaVersion)
	case version != 0 && version < SchemaVersion:
		return fmt.Errorf("schema %d is older than this build's %d: start this onbehalf on it once (it upgrades the file), stop it, then copy", version, SchemaVersion)
	}
	keys := append([][]byte(nil), opts.Keys...)
	fileKey, err := readKeyFile(opts.KeyFile)
	switch {
	case err == nil:
		keys = append(keys, fileKey)
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	if len(keys) == 0 {
		if len(used) > 0 {
			return fmt.Errorf("the key file %s is missing and TOKEN_ENCRYPTION_KEY is not set, but the database holds sealed values: restore the key file or set the key that sealed them", opts.KeyFile)
		}
		if keys, err = randomKey(); err != nil { // nothing to open
			return err
		}
	}
	if s.keys, err = seal.NewKeyring(keys...); err != nil {
		return err
	}
	for id, n := range used {
		if n > 0 && !s.keys.Has(id) {
			return fmt.Errorf("%d value(s) are sealed with key %s, which is not configured: set TOKEN_ENCRYPTION_KEY to every key the database used (comma-separated), or keep the key file %s next to it", n, id, opts.KeyFile)
		}
	}
	return nil
}

// randomKey returns a one-key list for a keyring that never opens
// anything.
func randomKey() ([][]byte, error) {
	k, err := seal.NewKey()
	return [][]byte{k}, err
}

// Export hands everything the database holds to sink, in clear, from one
// read transaction (a consistent snapshot): connections (tokens and
// personal data included), bots with their timelines, events in Seq order
// with their delivery state and the last sequence number, API keys,
// connect links by key, secrets and settings. An event being delivered
// (leased) is exported as pending, due when its lease ends. It stops at the
// first error of sink or ctx.
func (s *Store) Export(ctx context.Context, sink store.Sink) error {
	return s.view(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketConnections) == nil {
			return nil // a new, empty database
		}
		for _, step := range []func(context.Context, *bbolt.Tx, store.Sink) error{
			s.exportConnections, exportBots, s.exportEvents, exportAPIKeys, s.exportLinks, s.exportMeta,
		} {
			if err := step(ctx, tx, sink); err != nil {
				return err
			}
		}
		return nil
	})
}

// exportConnections exports every connection, unsealed.
func (s *Store) exportConnections(ctx context.Context, tx *bbolt.Tx, sink store.Sink) error {
	return tx.Bucket(bucketConnections).ForEach(func(k, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := s.decode(string(k), v)
		if err != nil {
			return err
		}
		c := r.Connection
		return sink.Connection(ctx, &c)
	})
}

// exportBots exports every bot.
func exportBots(ctx context.Context, tx *bbolt.Tx, sink store.Sink) error {
	return tx.Bucket(bucketBots).ForEach(func(k, v []byte) error {
		var b onbehalf.Bot
		if err := json.Unmarshal(v, &b); err != nil {
			return fmt.Errorf("decoding bot %s: %w", k, err)
		}
		return sink.Bot(ctx, &b)
	})
}

// exportEvents exports every event in Seq order with its delivery state,
// then the last sequence number.
func (s *Store) exportEvents(ctx context.Context, tx *bbolt.Tx, sink store.Sink) error {
	events := tx.Bucket(bucketEvents)
	err := events.ForEach(func(k, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var r eventRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decoding event %x: %w", k, err)
		}
		ev, err := s.event(&r)
		if err != nil {
			return err
		}
		return sink.Event(ctx, store.EventRecord{Event: ev, Delivery: store.Delivery{
			Pending: r.Pending, Due: r.Due, Attempts: r.Attempts, FirstTried: r.FirstTried,
			LastTried: r.LastTried, LastError: r.LastError, DoneAt: r.DoneAt,
		}})
	})
	if err != nil {
		return err
	}
	return sink.EventSeq(ctx, int64(events.Sequence()))
}

// exportAPIKeys exports every API key.
func exportAPIKeys(ctx context.Context, tx *bbolt.Tx, sink store.Sink) error {
	return tx.Bucket(bucketAPIKeys).ForEach(func(k, v []byte) error {
		var key onbehalf.APIKey
		if err := json.Unmarshal(v, &key); err != nil {
			return fmt.Errorf("decoding API key %s: %w", k, err)
		}
		return sink.APIKey(ctx, key)
	})
}

// exportLinks exports every connect link by key, its metadata unsealed.
func (s *Store) exportLinks(ctx context.Context, tx *bbolt.Tx, sink store.Sink) error {
	return tx.Bucket(bucketLinks).ForEach(func(k, v []byte) error {
		var r linkRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decoding connect link %s: %w", k, err)
		}
		l := store.LinkRecord{Key: string(k), ID: r.id(string(k)), ExternalUserID: r.ExternalUserID, ReturnTo: r.ReturnTo,
			CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, UsedAt: r.UsedAt, RevokedAt: r.RevokedAt,
			ConnectionID: r.ConnectionID, Browser: r.Browser}
		if r.Sealed != "" {
			if err := s.keys.OpenJSON(r.Sealed, store.LinkAD(string(k)), &l.Metadata); err != nil {
				return err
			}
		}
		return sink.Link(ctx, l)
	})
}

// exportMeta exports the secrets, unsealed, and the settings.
func (s *Store) exportMeta(ctx context.Context, tx *bbolt.Tx, sink store.Sink) error {
	return tx.Bucket(bucketMeta).ForEach(func(k, v []byte) error {
		key := string(k)
		switch {
		case strings.HasPrefix(key, secretPrefix):
			name := key[len(secretPrefix):]
			plain, err := s.keys.Open(string(v), []byte(store.SecretAD(name)))
			if err != nil {
				return fmt.Errorf("secret %s: %w", name, err)
			}
			return sink.Secret(ctx, name, string(plain))
		case strings.HasPrefix(key, settingPrefix):
			return sink.Setting(ctx, key[len(settingPrefix):], string(v))
		}
		return nil
	})
}
