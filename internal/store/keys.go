package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/onbehalf/onbehalf/internal/seal"
	bolt "go.etcd.io/bbolt"
)

// keyCountPrefix prefixes the meta keys that count, per key ID, how many
// sealed values use that key, so that Open can refuse to start when a key
// that is still needed is missing.
const keyCountPrefix = "keyuse:"

// loadKeys builds the keyring: the configured keys first, then the key
// file's key. The key file is generated only when there is nothing to open
// yet (sealed says whether the database holds, or will hold after the
// migration, sealed values).
func loadKeys(opts Options, sealed bool) (*seal.Keyring, error) {
	keys := append([][]byte(nil), opts.Keys...)
	fileKey, err := readKeyFile(opts.KeyFile)
	switch {
	case err == nil:
		keys = append(keys, fileKey)
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	case len(keys) == 0 && sealed:
		return nil, fmt.Errorf("the key file %s is missing but the database holds sealed tokens: restore the key file or set TOKEN_ENCRYPTION_KEY to the key that sealed them. Refusing to start rather than lose connections", opts.KeyFile)
	case len(keys) == 0:
		k, err := seal.NewKey()
		if err != nil {
			return nil, err
		}
		if err := writeKeyFile(opts.KeyFile, k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return seal.NewKeyring(keys...)
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != seal.KeySize {
		return nil, fmt.Errorf("key file %s: not 32 bytes of base64", path)
	}
	return k, nil
}

// writeKeyFile creates the key file with mode 0600; it never overwrites.
func writeKeyFile(path string, k []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// keyUse returns the key use counts stored in meta.
func keyUse(meta *bolt.Bucket) map[string]int {
	out := map[string]int{}
	c := meta.Cursor()
	prefix := []byte(keyCountPrefix)
	for k, v := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), keyCountPrefix); k, v = c.Next() {
		n, _ := strconv.Atoi(string(v))
		out[string(k[len(prefix):])] = n
	}
	return out
}

// countKey moves one use from the key of old to the key of new (either may
// be "" for none).
func countKey(meta *bolt.Bucket, old, new string) error {
	from, to := seal.SealedKeyID(old), seal.SealedKeyID(new)
	if from == to {
		return nil
	}
	add := func(id string, d int) error {
		if id == "" {
			return nil
		}
		k := []byte(keyCountPrefix + id)
		n, _ := strconv.Atoi(string(meta.Get(k)))
		if n += d; n <= 0 {
			return meta.Delete(k)
		}
		return meta.Put(k, []byte(strconv.Itoa(n)))
	}
	if err := add(from, -1); err != nil {
		return err
	}
	return add(to, +1)
}

// migrations[v] upgrades a database from schema v to v+1, inside one
// write transaction.
var migrations = map[int]func(s *Store, tx *bolt.Tx) error{
	1: migrateV1,
}

// migrate runs the migrations from version up to SchemaVersion, each in its
// own transaction that also records the new version.
func (s *Store) migrate(version int) error {
	for v := version; v < SchemaVersion; v++ {
		m, ok := migrations[v]
		if !ok {
			return fmt.Errorf("no migration from schema %d", v)
		}
		err := s.db.Update(func(tx *bolt.Tx) error {
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
func migrateV1(s *Store, tx *bolt.Tx) error {
	conns := tx.Bucket(bucketConnections)
	var recs []record
	err := conns.ForEach(func(k, v []byte) error {
		var r record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decoding connection %s: %w", k, err)
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return err
	}
	for i := range recs {
		c := recs[i].Connection // schema 1 kept the token in clear here
		if err := s.save(tx, nil, &c); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	for _, name := range []string{"obf_callback_secret", "session_secret"} {
		key := []byte("secret:" + name)
		v := meta.Get(key)
		if v == nil {
			continue
		}
		sealed, err := s.keys.Seal(v, []byte("meta:"+name))
		if err != nil {
			return err
		}
		if err := countKey(meta, "", sealed); err != nil {
			return err
		}
		if err := meta.Put(key, []byte(sealed)); err != nil {
			return err
		}
	}
	return nil
}
