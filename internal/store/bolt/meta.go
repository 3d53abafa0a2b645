package bolt

import (
	"context"
	"fmt"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// Prefixes of meta keys: generated secrets (sealed) and settings (clear).
const (
	secretPrefix  = "secret:"
	settingPrefix = "setting:"
)

// Secret returns the secret stored under name (sealed at rest), creating
// it with generate on first use. A secret sealed with an older key is
// sealed again with the current one (rotation); if that write fails the
// secret is still returned.
func (s *Store) Secret(ctx context.Context, name string, generate func() (string, error)) (string, error) {
	key := []byte(secretPrefix + name)
	var sealed string
	if err := s.view(func(tx *bbolt.Tx) error {
		sealed = string(tx.Bucket(bucketMeta).Get(key))
		return nil
	}); err != nil {
		return "", err
	}
	if sealed == "" {
		if generate == nil {
			return "", onbehalf.Errorf(onbehalf.ENOTFOUND, "No secret %s.", name)
		}
		err := s.update(func(tx *bbolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if old := meta.Get(key); old != nil {
				sealed = string(old)
				return errNoChange
			}
			v, err := generate()
			if err != nil {
				return err
			}
			if sealed, err = s.sealBytes(tx, "", []byte(v), store.SecretAD(name)); err != nil {
				return err
			}
			return meta.Put(key, []byte(sealed))
		})
		if err != nil {
			return "", err
		}
	}
	v, err := s.keys.Open(sealed, []byte(store.SecretAD(name)))
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", name, err)
	}
	if seal.SealedKeyID(sealed) != s.keys.Current() {
		_ = s.update(func(tx *bbolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if string(meta.Get(key)) != sealed {
				return errNoChange
			}
			fresh, err := s.sealBytes(tx, sealed, v, store.SecretAD(name))
			if err != nil {
				return err
			}
			return meta.Put(key, []byte(fresh))
		})
	}
	return string(v), nil
}

// Meta returns a setting ("" and false when unset).
func (s *Store) Meta(ctx context.Context, name string) (string, bool, error) {
	var v string
	var ok bool
	err := s.view(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bucketMeta).Get([]byte(settingPrefix + name))
		v, ok = string(raw), raw != nil
		return nil
	})
	return v, ok, err
}

// SetMeta writes a setting.
func (s *Store) SetMeta(ctx context.Context, name, value string) error {
	return s.update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put([]byte(settingPrefix+name), []byte(value))
	})
}
