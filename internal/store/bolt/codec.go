package bolt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// putJSON stores v as JSON under key.
func putJSON(b *bbolt.Bucket, key []byte, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, buf)
}

// getJSON decodes the JSON stored under key into v; it reports whether
// the key exists.
func getJSON(b *bbolt.Bucket, key []byte, v any) (bool, error) {
	buf := b.Get(key)
	if buf == nil {
		return false, nil
	}
	if err := json.Unmarshal(buf, v); err != nil {
		return true, fmt.Errorf("decoding %s %q: %w", b.Tx().DB().Path(), key, err)
	}
	return true, nil
}

// sealJSON seals v as JSON bound to ad with the current key, and moves the
// key use count from the value it replaces (old, "" for none).
func (s *Store) sealJSON(tx *bbolt.Tx, old string, v any, ad string) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return s.sealBytes(tx, old, plain, ad)
}

// sealBytes seals plain bound to ad with the current key, and moves the
// key use count from the value it replaces (old, "" for none).
func (s *Store) sealBytes(tx *bbolt.Tx, old string, plain []byte, ad string) (string, error) {
	sealed, err := s.keys.Seal(plain, []byte(ad))
	if err != nil {
		return "", err
	}
	return sealed, countKey(tx.Bucket(bucketMeta), old, sealed)
}

// timeKey is an index key that sorts by time, then ID: big-endian unix
// nanoseconds (times before 1970 count as 1970), then the ID.
func timeKey(t time.Time, id string) []byte {
	var n int64
	if t.After(epoch) {
		n = t.UnixNano()
	}
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(n))
	return append(k, id...)
}

// epoch is the earliest time an index key tells apart.
var epoch = time.Unix(0, 0)

// splitTimeKey reads a key written by timeKey.
func splitTimeKey(k []byte) (time.Time, string) {
	if len(k) < 8 {
		return time.Time{}, ""
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(), string(k[8:])
}

// prefixKey is an index key made of length-prefixed parts, so that no
// part can run into the next (an external user ID "a" never matches the
// entries of "a\x00b"); a suffix (a timeKey) may follow.
func prefixKey(suffix []byte, parts ...string) []byte {
	n := len(suffix)
	for _, p := range parts {
		n += 2 + len(p)
	}
	k := make([]byte, 0, n)
	for _, p := range parts {
		k = binary.BigEndian.AppendUint16(k, uint16(len(p)))
		k = append(k, p...)
	}
	return append(k, suffix...)
}

// seqKey is the key of an event: its sequence number, big-endian.
func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}
