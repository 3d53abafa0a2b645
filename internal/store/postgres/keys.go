package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/onbehalf/onbehalf/internal/seal"
)

// The compare-and-swap of SaveToken and MarkDisconnected compares refresh
// tokens, but sealed values cannot be compared in the database (a fresh
// nonce makes every seal different) and the token must never be stored in
// clear. So each connection also keeps refresh_hash: HMAC-SHA-256 of its
// ID and refresh token under a key derived from the sealing key that
// sealed the token. A write hashes with the current key; a compare tries
// the hash under every key of the keyring, so that rotation needs no
// rewrite. Without the keys the hash reveals nothing, and it is bound to
// its row.

// hashKeys are the refresh-token hash keys, one per sealing key, the
// current one first.
type hashKeys [][]byte

// newHashKeys derives a hash key from each sealing key (duplicates
// dropped, order kept).
func newHashKeys(keys [][]byte) hashKeys {
	var out hashKeys
	seen := map[string]bool{}
	for _, k := range keys {
		id := seal.KeyID(k)
		if seen[id] {
			continue
		}
		seen[id] = true
		m := hmac.New(sha256.New, k)
		m.Write([]byte("onbehalf refresh token hash v1"))
		out = append(out, m.Sum(nil))
	}
	return out
}

// sum returns the hash of a connection's refresh token under key.
func (h hashKeys) sum(key []byte, connID, refreshToken string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(connID))
	m.Write([]byte{0})
	m.Write([]byte(refreshToken))
	return m.Sum(nil)
}

// current returns the hash a write stores.
func (h hashKeys) current(connID, refreshToken string) []byte {
	return h.sum(h[0], connID, refreshToken)
}

// all returns the hash under every key, for a compare.
func (h hashKeys) all(connID, refreshToken string) [][]byte {
	out := make([][]byte, len(h))
	for i, k := range h {
		out[i] = h.sum(k, connID, refreshToken)
	}
	return out
}

// Keys that sealed values may use are registered in seal_keys before the
// first value sealed with them commits (register, or the write
// transaction that seals first). Open checks each registered key that is
// not configured: when any value still uses it, Open refuses to start
// with the count, as the bbolt store does with its key use counts; when
// none does, the key is forgotten. Counters updated on every write would
// make every instance's writes queue on one row; a registry written once
// per key costs nothing after that, and the count it triggers is exact.

// checkKeys refuses to open when a value is sealed with a key that is
// not configured.
func (s *Store) checkKeys(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, qSealKeys.sql)
	if err != nil {
		return fmt.Errorf("reading the sealing keys: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("reading the sealing keys: %w", err)
	}
	for _, id := range ids {
		if s.keys.Has(id) {
			continue
		}
		var n int64
		if err := s.pool.QueryRow(ctx, qSealKeyUses.sql, id+":%").Scan(&n); err != nil {
			return fmt.Errorf("counting the values sealed with key %s: %w", id, err)
		}
		if n > 0 {
			return fmt.Errorf("%d value(s) are sealed with key %s, which is not configured: set TOKEN_ENCRYPTION_KEY to the new key followed by the old one (comma-separated), on every instance. Refusing to start rather than lose connections", n, id)
		}
		if _, err := s.pool.Exec(ctx, qForgetSealKey.sql, id); err != nil {
			s.log.Warn("store: could not forget an unused sealing key", "key", id, "err", err)
		} else {
			s.log.Info("store: no value is sealed with this key any more: forgotten", "key", id)
		}
	}
	return nil
}

// register records the sealing key in seal_keys, unless it is already;
// a failure (a database that cannot write) leaves it to the first write.
func (s *Store) register(ctx context.Context) {
	if _, err := s.pool.Exec(ctx, qRegisterSealKey.sql, s.keys.Current()); err == nil {
		s.registered.Store(true)
	}
}

// registerIn records the sealing key inside a write transaction that
// seals, when it is not registered yet; the caller marks it registered
// once the transaction commits.
func (s *Store) registerIn(ctx context.Context, tx pgx.Tx) error {
	if s.registered.Load() {
		return nil
	}
	_, err := tx.Exec(ctx, qRegisterSealKey.sql, s.keys.Current())
	return err
}
