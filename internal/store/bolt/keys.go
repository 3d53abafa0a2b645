package bolt

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/onbehalf/onbehalf/internal/seal"
	bbolt "go.etcd.io/bbolt"
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

// writeKeyFile creates the key file with mode 0600, durably (the file and
// its folder entry); it never overwrites.
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
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// keyUse returns the key use counts stored in meta.
func keyUse(meta *bbolt.Bucket) map[string]int {
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
func countKey(meta *bbolt.Bucket, old, new string) error {
	from, to := seal.SealedKeyID(old), seal.SealedKeyID(new)
	if from == to {
		return nil
	}
	if from != "" {
		if err := addCount(meta, keyCountPrefix+from, -1); err != nil {
			return err
		}
	}
	if to != "" {
		return addCount(meta, keyCountPrefix+to, +1)
	}
	return nil
}

// addCount adds d to the counter stored in meta under key (deleted at 0).
func addCount(meta *bbolt.Bucket, key string, d int) error {
	k := []byte(key)
	n, _ := strconv.Atoi(string(meta.Get(k)))
	if n += d; n <= 0 {
		return meta.Delete(k)
	}
	return meta.Put(k, []byte(strconv.Itoa(n)))
}

// readCount returns the counter stored in meta under key.
func readCount(meta *bbolt.Bucket, key string) int {
	n, _ := strconv.Atoi(string(meta.Get([]byte(key))))
	return n
}
