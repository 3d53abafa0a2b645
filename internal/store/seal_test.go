package store

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	bolt "go.etcd.io/bbolt"
)

func TestFileHoldsNoTokenOrPersonalDataInClear(t *testing.T) {
	s, path := openTemp(t)
	secret, _ := s.Secret("obf_callback_secret", func() (string, error) { return "obf-secret-in-meta-0123456789", nil })
	u := onbehalf.ZoomUser{ID: "zu1", Email: "ada.lovelace@example.com", DisplayName: "Ada Lovelace", AccountID: "acct-XYZ"}
	tk := onbehalf.Token{AccessToken: "zat_ACCESS_0123456789", RefreshToken: "zrt_REFRESH_0123456789", Expiry: time.Now().Add(time.Hour)}
	c, err := s.UpsertConnection(ctx, u, tk)
	if err != nil {
		t.Fatal(err)
	}
	tk2 := tk
	tk2.AccessToken, tk2.RefreshToken = "zat_ROTATED_access", "zrt_ROTATED_refresh"
	if _, err := s.SaveToken(ctx, c.ID, tk2); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Connection(ctx, c.ID)
	if got.Token.RefreshToken != tk2.RefreshToken || got.Email != u.Email || got.DisplayName != u.DisplayName {
		t.Fatalf("read back %+v", got)
	}
	s.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, clear := range []string{secret, tk.AccessToken, tk.RefreshToken, tk2.AccessToken, tk2.RefreshToken, u.Email, u.DisplayName, u.AccountID} {
		if bytes.Contains(raw, []byte(clear)) {
			t.Errorf("database file holds %q in clear", clear)
		}
	}
	if fi, err := os.Stat(path + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
}

func TestKeyRotationAndMissingKeyRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.db")
	k1, _ := seal.NewKey()
	k2, _ := seal.NewKey()
	open := func(keys ...[]byte) (*Store, error) {
		return Open(path, Options{Keys: keys, Timeout: 200 * time.Millisecond})
	}
	s, err := open(k1)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.UpsertConnection(ctx, user("zu1"), tok("1"))
	b, _ := s.UpsertConnection(ctx, user("zu2"), tok("2"))
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
	if _, err := s.SaveToken(ctx, a.ID, tok("3")); err != nil {
		t.Fatal(err)
	}
	// b is still sealed with k1: k1 is still required.
	s.Close()
	if _, err := open(k2); err == nil {
		t.Fatal("opened without a key that still seals a record")
	}
	s, _ = open(k2, k1)
	if _, err := s.SaveToken(ctx, b.ID, tok("4")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Everything re-sealed: the old key can go.
	s, err = open(k2)
	if err != nil {
		t.Fatalf("after full re-seal: %v", err)
	}
	defer s.Close()
	if got, _ := s.Connection(ctx, b.ID); got.Token != tok("4") {
		t.Fatal("read back after rotation")
	}
}

func TestMissingKeyFileRefused(t *testing.T) {
	s, path := openTemp(t)
	s.UpsertConnection(ctx, user("zu1"), tok("1"))
	s.Close()
	if err := os.Rename(path+".key", path+".key.bak"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "key file") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(path + ".key"); !os.IsNotExist(err) {
		t.Fatal("a new key file was generated over sealed data")
	}
	// Moving from the key file to TOKEN_ENCRYPTION_KEY: the file's key opens old values.
	os.Rename(path+".key.bak", path+".key")
	k2, _ := seal.NewKey()
	s2, err := Open(path, Options{Keys: [][]byte{k2}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
}

// TestMigratesSchemaV1 opens a database as the first version wrote it:
// tokens and secrets in clear, no due index.
func TestMigratesSchemaV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(30 * time.Minute).UTC().Truncate(time.Second)
	v1 := map[string]any{
		"id": "AAAAAAAAAAAAAAAAAAAAAA", "zoom_user_id": "zu1", "account_id": "acct", "email": "v1@example.com",
		"display_name": "Old User", "state": "connected",
		"token":      map[string]any{"access_token": "zat_v1", "refresh_token": "zrt_v1", "expiry": exp, "scope": "user:read:token"},
		"created_at": exp, "updated_at": exp,
	}
	buf, _ := json.Marshal(v1)
	err = db.Update(func(tx *bolt.Tx) error {
		c, _ := tx.CreateBucket(bucketConnections)
		z, _ := tx.CreateBucket(bucketByZoomUser)
		m, _ := tx.CreateBucket(bucketMeta)
		c.Put([]byte("AAAAAAAAAAAAAAAAAAAAAA"), buf)
		z.Put([]byte("zu1"), []byte("AAAAAAAAAAAAAAAAAAAAAA"))
		m.Put([]byte("secret:obf_callback_secret"), []byte("v1-clear-secret-0123456789"))
		return m.Put(keySchemaVersion, []byte("1"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Connection(ctx, "AAAAAAAAAAAAAAAAAAAAAA")
	if err != nil || c.Token.RefreshToken != "zrt_v1" || c.Email != "v1@example.com" || !c.Token.Expiry.Equal(exp) {
		t.Fatalf("after migration: %+v %v", c, err)
	}
	if sec, _ := s.Secret("obf_callback_secret", nil); sec != "v1-clear-secret-0123456789" {
		t.Fatalf("secret after migration: %q", sec)
	}
	due, _ := s.DueBefore(ctx, exp.Add(time.Second), 10)
	if len(due) != 1 || due[0].ConnID != c.ID {
		t.Fatalf("due index not built: %+v", due)
	}
	// Same Zoom user authorizing again keeps the ID.
	again, _ := s.UpsertConnection(ctx, user("zu1"), tok("2"))
	if again.ID != c.ID {
		t.Fatal("index lost in migration")
	}
	s.Close()
	raw, _ := os.ReadFile(path)
	_ = raw // old pages may still hold v1 bytes until bbolt reuses them; documented
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen after migration: %v", err)
	}
	s.Close()
}

func TestDueIndexFollowsTokens(t *testing.T) {
	s, _ := openTemp(t)
	base := time.Now().UTC().Truncate(time.Second)
	mk := func(id string, in time.Duration) string {
		c, _ := s.UpsertConnection(ctx, user(id), onbehalf.Token{AccessToken: "a" + id, RefreshToken: "r" + id, Expiry: base.Add(in)})
		return c.ID
	}
	late, soon, mid := mk("late", 50*time.Minute), mk("soon", 5*time.Minute), mk("mid", 20*time.Minute)
	due, _ := s.DueBefore(ctx, base.Add(30*time.Minute), 10)
	if len(due) != 2 || due[0].ConnID != soon || due[1].ConnID != mid {
		t.Fatalf("due = %+v", due)
	}
	// Refresh moves it; disconnect and delete drop it.
	s.SaveToken(ctx, soon, onbehalf.Token{AccessToken: "x", RefreshToken: "y", Expiry: base.Add(time.Hour)})
	s.MarkDisconnected(ctx, mid, "revoked")
	if due, _ := s.DueBefore(ctx, base.Add(55*time.Minute), 10); len(due) != 1 || due[0].ConnID != late {
		t.Fatalf("after refresh+disconnect: %+v", due)
	}
	if _, err := s.DeleteConnection(ctx, late); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueBefore(ctx, base.Add(2*time.Hour), 10); len(due) != 1 || due[0].ConnID != soon {
		t.Fatalf("after delete: %+v", due)
	}
	if due, _ := s.DueBefore(ctx, base.Add(2*time.Hour), 0); len(due) != 0 {
		t.Fatal("limit 0")
	}
}

func TestDeleteByZoomUserRemovesEverything(t *testing.T) {
	s, _ := openTemp(t)
	c, _ := s.UpsertConnection(ctx, user("zu1"), tok("1"))
	id, err := s.DeleteByZoomUser(ctx, "zu1")
	if err != nil || id != c.ID {
		t.Fatalf("%q %v", id, err)
	}
	if _, err := s.Connection(ctx, c.ID); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("still readable: %v", err)
	}
	if _, err := s.DeleteByZoomUser(ctx, "zu1"); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatal("second delete")
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketByZoomUser).Get([]byte("zu1")) != nil {
			t.Error("index entry left")
		}
		if n := keyUse(tx.Bucket(bucketMeta)); len(n) != 0 {
			t.Errorf("key use counts left: %v", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A new authorization gets a new connection.
	c2, _ := s.UpsertConnection(ctx, user("zu1"), tok("2"))
	if c2.ID == c.ID {
		t.Fatal("deleted connection ID reused")
	}
}
