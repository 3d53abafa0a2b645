package bolt

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// keySchemaVersion is the meta key holding the schema version.
var keySchemaVersion = []byte("schema_version")

// SchemaVersion is the version of the on-disk layout this code writes.
// 1: tokens in clear. 2: tokens sealed, by_expiry index, key use counts.
// 3: external user IDs and sealed metadata, listing indexes, counts by
// state, bots, the event outbox, API keys and connect links.
const SchemaVersion = 3

// migrations[v] upgrades a database from schema v to v+1, inside one
// write transaction. Each is idempotent: a later one may rebuild what an
// earlier one wrote with today's code.
var migrations = map[int]func(s *Store, tx *bbolt.Tx) error{
	1: migrateV1,
	2: migrateV2,
}

// readSchema reads the schema version (0: a new, empty database) and the
// key use counts, without writing.
func (s *Store) readSchema() (version int, used map[string]int, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		meta, conns := tx.Bucket(bucketMeta), tx.Bucket(bucketConnections)
		used = map[string]int{}
		if meta != nil {
			used = keyUse(meta)
			if v := meta.Get(keySchemaVersion); v != nil {
				n, err := strconv.Atoi(string(v))
				if err != nil {
					return fmt.Errorf("unreadable schema version %q", v)
				}
				version = n
				return nil
			}
			if k, _ := meta.Cursor().Seek([]byte(secretPrefix)); k != nil && strings.HasPrefix(string(k), secretPrefix) {
				version = 1 // secrets in clear, before schema versions
			}
		}
		if conns != nil {
			if k, _ := conns.Cursor().First(); k != nil {
				version = 1
			}
		}
		return nil
	})
	return version, used, err
}

// migrate creates the missing buckets (marking a new database with the
// current schema), then runs the migrations from version up to
// SchemaVersion, each in its own transaction that also records the new
// version. A database that needs neither is not written to.
func (s *Store) migrate(version int) error {
	var missing bool
	if err := s.view(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			missing = missing || tx.Bucket(b) == nil
		}
		return nil
	}); err != nil {
		return err
	}
	if missing || version == 0 {
		err := s.update(func(tx *bbolt.Tx) error {
			for _, b := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			if version == 0 {
				return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte(strconv.Itoa(SchemaVersion)))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if version == 0 {
			version = SchemaVersion
		}
	}
	for v := version; v < SchemaVersion; v++ {
		m, ok := migrations[v]
		if !ok {
			return fmt.Errorf("no migration from schema %d", v)
		}
		err := s.update(func(tx *bbolt.Tx) error {
			if err := m(s, tx); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte(strconv.Itoa(v+1)))
		})
		if err != nil {
			return fmt.Errorf("migrating schema %d to %d: %w", v, v+1, err)
		}
	}
	return nil
}

// migrateV1 seals the clear-text tokens and secrets of schema 1 and builds
// the due index.
func migrateV1(s *Store, tx *bbolt.Tx) error {
	recs, err := allRecords(tx)
	if err != nil {
		return err
	}
	for i := range recs {
		c := recs[i].Connection // schema 1 kept the token in clear here
		if err := s.put(tx, nil, &c); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	for _, name := range []string{"obf_callback_secret", "session_secret"} {
		key := []byte(secretPrefix + name)
		v := meta.Get(key)
		if v == nil {
			continue
		}
		sealed, err := s.sealBytes(tx, "", v, store.SecretAD(name))
		if err != nil {
			return err
		}
		if err := meta.Put(key, []byte(sealed)); err != nil {
			return err
		}
	}
	return nil
}

// migrateV2 builds what schema 3 indexes about the connections of schema
// 2: the listing index by creation time and the counts by state (schema 2
// had no external user IDs). The records themselves stay as they are: what
// they seal is a subset of what schema 3 seals.
func migrateV2(s *Store, tx *bbolt.Tx) error {
	recs, err := allRecords(tx)
	if err != nil {
		return err
	}
	counts := map[onbehalf.ConnState]int{}
	for i := range recs {
		r := &recs[i]
		if err := tx.Bucket(bucketConnsByCreated).Put(timeKey(r.CreatedAt, r.ID), []byte(r.State)); err != nil {
			return err
		}
		if r.ExternalUserID != "" {
			if err := tx.Bucket(bucketConnsByExternal).Put(externalKey(r), []byte(r.State)); err != nil {
				return err
			}
		}
		counts[r.State]++
	}
	meta := tx.Bucket(bucketMeta)
	for _, st := range []onbehalf.ConnState{onbehalf.StateConnected, onbehalf.StateDisconnected} {
		if err := meta.Delete([]byte(countPrefix + string(st))); err != nil {
			return err
		}
		if err := addCount(meta, countPrefix+string(st), counts[st]); err != nil {
			return err
		}
	}
	return nil
}

// allRecords reads every connection record as stored (nothing unsealed).
func allRecords(tx *bbolt.Tx) ([]record, error) {
	var recs []record
	err := tx.Bucket(bucketConnections).ForEach(func(k, v []byte) error {
		var r record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decoding connection %s: %w", k, err)
		}
		recs = append(recs, r)
		return nil
	})
	return recs, err
}
