// Package seal encrypts small values at rest with AES-256-GCM.
//
// A sealed value is "<key id>:<base64url(nonce || ciphertext)>". The key ID
// (8 hex characters derived from the key) lets a Keyring hold several keys:
// the first seals, every key opens, so keys can be rotated by listing the
// new key first and the old ones after it. Associated data binds a sealed
// value to its place (the connection ID), so a value copied to another
// record does not open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of a key in bytes (AES-256).
const KeySize = 32

// Keyring seals with its first key and opens with any of its keys.
type Keyring struct {
	ids   []string
	aeads map[string]cipher.AEAD
}

// NewKeyring returns a keyring; keys[0] seals. Duplicate keys are ignored.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("seal: no key")
	}
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, key := range keys {
		if len(key) != KeySize {
			return nil, fmt.Errorf("seal: key %d is %d bytes, want %d", i+1, len(key), KeySize)
		}
		id := KeyID(key)
		if _, dup := k.aeads[id]; dup {
			continue
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.ids = append(k.ids, id)
		k.aeads[id] = aead
	}
	return k, nil
}

// KeyID returns the public identifier of a key: 8 hex characters of a hash
// that reveals nothing usable about the key.
func KeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("onbehalf seal key id\x00"), key...))
	return hex.EncodeToString(sum[:4])
}

// NewKey returns a random key.
func NewKey() ([]byte, error) {
	k := make([]byte, KeySize)
	_, err := rand.Read(k)
	return k, err
}

// Current returns the ID of the sealing key.
func (k *Keyring) Current() string { return k.ids[0] }

// Has reports whether the keyring holds the key with this ID.
func (k *Keyring) Has(id string) bool {
	_, ok := k.aeads[id]
	return ok
}

// IDs returns the key IDs, sealing key first.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// Seal encrypts plaintext bound to ad with the current key.
func (k *Keyring) Seal(plaintext, ad []byte) (string, error) {
	aead := k.aeads[k.ids[0]]
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	buf = aead.Seal(buf, buf, plaintext, ad)
	return k.ids[0] + ":" + base64.RawURLEncoding.EncodeToString(buf), nil
}

// Open decrypts a sealed value bound to ad.
func (k *Keyring) Open(sealed string, ad []byte) ([]byte, error) {
	id, body, ok := strings.Cut(sealed, ":")
	if !ok {
		return nil, errors.New("seal: malformed sealed value")
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("seal: sealed with key %s, which is not configured", id)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("seal: malformed sealed value")
	}
	out, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], ad)
	if err != nil {
		return nil, fmt.Errorf("seal: value sealed with key %s does not open (wrong key, or data moved or damaged)", id)
	}
	return out, nil
}

// SealedKeyID returns the key ID of a sealed value, or "".
func SealedKeyID(sealed string) string {
	id, _, ok := strings.Cut(sealed, ":")
	if !ok {
		return ""
	}
	return id
}
