package bolt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/seal"
)

func TestKeyFileIsPrivate(t *testing.T) {
	_, path := openTemp(t)
	if fi, err := os.Stat(path + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("database folder: %v %v", fi, err)
	}
}

func TestKeyRotationAndMissingKeyRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.db")
	k1, _ := seal.NewKey()
	k2, _ := seal.NewKey()
	open := func(keys ...[]byte) (*Store, error) {
		return Open(path, Options{Keys: keys, Timeout: 200 * time.Millisecond, ReserveBytes: NoReserve, Logger: quiet})
	}
	s, err := open(k1)
	if err != nil {
		t.Fatal(err)
	}
	a := connectUser(t, s, user("zu1"), tok("1"))
	b := connectUser(t, s, user("zu2"), tok("2"))
	sec, _ := s.Secret(ctx, "obf", func() (string, error) { return "the-secret", nil })
	// Events are sealed too: prune them so that only records hold k1.
	if _, err := s.PruneEvents(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path + ".key"); !os.IsNotExist(err) {
		t.Fatal("a key file was generated although keys were given")
	}

	// Only the new key: refused, nothing lost.
	if _, err := open(k2); err == nil || !strings.Contains(err.Error(), seal.KeyID(k1)) || !strings.Contains(err.Error(), "Refusing to start") {
		t.Fatalf("wrong key: %v", err)
	}
	// New key first, old after: reads work; writes re-seal with the new key.
	s, err = open(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Connection(ctx, a.ID); err != nil || got.Token != tok("1") {
		t.Fatalf("read with rotated keyring: %v", err)
	}
	if _, err := s.SaveToken(ctx, a.ID, "rt1", tok("3")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Secret(ctx, "obf", nil); got != sec {
		t.Fatalf("secret with rotated keyring: %q", got)
	}
	// b is still sealed with k1: k1 is still required.
	s.Close()
	if _, err := open(k2); err == nil {
		t.Fatal("opened without a key that still seals a record")
	}
	s, _ = open(k2, k1)
	if _, err := s.SaveToken(ctx, b.ID, "rt2", tok("4")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Everything re-sealed (the secret when it was read): the old key can go.
	s, err = open(k2)
	if err != nil {
		t.Fatalf("after full re-seal: %v", err)
	}
	defer s.Close()
	if got, _ := s.Connection(ctx, b.ID); got.Token != tok("4") {
		t.Fatal("read back after rotation")
	}
	if got, _ := s.Secret(ctx, "obf", nil); got != sec {
		t.Fatalf("secret after rotation: %q", got)
	}
}

func TestMissingKeyFileRefused(t *testing.T) {
	s, path := openTemp(t)
	connectUser(t, s, user("zu1"), tok("1"))
	s.Close()
	if err := os.Rename(path+".key", path+".key.bak"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{Logger: quiet}); err == nil || !strings.Contains(err.Error(), "key file") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(path + ".key"); !os.IsNotExist(err) {
		t.Fatal("a new key file was generated over sealed data")
	}
	// Moving from the key file to TOKEN_ENCRYPTION_KEY: the file's key opens old values.
	os.Rename(path+".key.bak", path+".key")
	k2, _ := seal.NewKey()
	mustOpen(t, path, Options{Keys: [][]byte{k2}, ReserveBytes: NoReserve})
}
