package store

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	bolt "go.etcd.io/bbolt"
)

var ctx = context.Background()

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "onbehalf.db")
	s, err := Open(path, Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func user(id string) onbehalf.ZoomUser {
	return onbehalf.ZoomUser{ID: id, AccountID: "acct", Email: id + "@example.com", FirstName: "Ada", LastName: "Lovelace"}
}

func tok(n string) onbehalf.Token {
	return onbehalf.Token{AccessToken: "at" + n, RefreshToken: "rt" + n, Expiry: time.Unix(1_900_000_000, 0).UTC(), Scope: "user:read:token"}
}

func TestUpsertKeepsIDAndReopenReadsBack(t *testing.T) {
	s, path := openTemp(t)
	c1, err := s.UpsertConnection(ctx, user("zu1"), tok("1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c1.ID) != 22 {
		t.Fatalf("ID %q: want 22 chars of base64url (128 bits)", c1.ID)
	}
	if c1.DisplayName != "Ada Lovelace" || c1.State != onbehalf.StateConnected {
		t.Fatalf("got %+v", c1)
	}
	// Disconnect, then the same Zoom user authorizes again: same ID, revived.
	if err := s.MarkDisconnected(ctx, c1.ID, "Zoom refused refreshing the token: invalid_grant."); err != nil {
		t.Fatal(err)
	}
	d, _ := s.Connection(ctx, c1.ID)
	if d.Connected() || d.Token.RefreshToken != "" || d.Token.AccessToken != "" || d.DisconnectedReason == "" {
		t.Fatalf("disconnected record still holds tokens or lacks reason: %+v", d)
	}
	c2, err := s.UpsertConnection(ctx, user("zu1"), tok("2"))
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID != c1.ID || !c2.CreatedAt.Equal(c1.CreatedAt) || !c2.Connected() || c2.DisconnectedReason != "" {
		t.Fatalf("re-authorization must keep ID and revive: %+v vs %+v", c2, c1)
	}
	other, _ := s.UpsertConnection(ctx, user("zu2"), tok("3"))
	if other.ID == c1.ID {
		t.Fatal("two Zoom users share a connection ID")
	}
	if _, err := s.SaveToken(ctx, c1.ID, tok("4")); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.Connection(ctx, c1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Token != tok("4") || got.ZoomUserID != "zu1" || got.Email != "zu1@example.com" {
		t.Fatalf("after reopen: %+v", got)
	}
	if n, _ := s2.CountConnections(ctx); n != 2 {
		t.Fatalf("count = %d, want 2", n)
	}
}

func TestMissingIsNotFound(t *testing.T) {
	s, _ := openTemp(t)
	for name, err := range map[string]error{
		"Connection":       func() error { _, err := s.Connection(ctx, "nope"); return err }(),
		"SaveToken":        func() error { _, err := s.SaveToken(ctx, "nope", tok("1")); return err }(),
		"MarkDisconnected": s.MarkDisconnected(ctx, "nope", "x"),
	} {
		if onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
			t.Errorf("%s: got %v, want ENOTFOUND", name, err)
		}
	}
}

func TestSaveTokenDoesNotReviveDisconnected(t *testing.T) {
	s, _ := openTemp(t)
	c, _ := s.UpsertConnection(ctx, user("zu1"), tok("1"))
	_ = s.MarkDisconnected(ctx, c.ID, "revoked")
	if _, err := s.SaveToken(ctx, c.ID, tok("2")); onbehalf.ErrorCode(err) != onbehalf.ECONFLICT {
		t.Fatalf("got %v, want ECONFLICT", err)
	}
}

func TestSecretGeneratedOnceAndKept(t *testing.T) {
	s, path := openTemp(t)
	calls := 0
	gen := func() (string, error) { calls++; return RandomString(32) }
	a, err := s.Secret("obf", gen)
	if err != nil || len(a) != 43 {
		t.Fatalf("secret %q err %v", a, err)
	}
	b, _ := s.Secret("obf", gen)
	if a != b || calls != 1 {
		t.Fatalf("second call generated again (%d calls)", calls)
	}
	s.Close()
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if c, _ := s2.Secret("obf", gen); c != a {
		t.Fatal("secret changed across reopen")
	}
}

func TestSecondProcessGetsClearErrorQuickly(t *testing.T) {
	_, path := openTemp(t)
	// bbolt's flock is per open file description, so a second Open in the
	// same process behaves like a second process.
	start := time.Now()
	_, err := Open(path, Options{Timeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("got %v, want a lock error", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %s", time.Since(start))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	s, path := openTemp(t)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte("99"))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("got %v", err)
	}
}

func TestConcurrentReadersAndWriter(t *testing.T) {
	s, _ := openTemp(t)
	c, _ := s.UpsertConnection(ctx, user("zu1"), tok("0"))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := s.Connection(ctx, c.ID)
				if err != nil || got.Token.RefreshToken == "" || got.ID != c.ID {
					t.Errorf("reader: %v %+v", err, got)
					return
				}
			}
		}()
	}
	for i := 0; i < 50; i++ {
		if _, err := s.SaveToken(ctx, c.ID, tok(string(rune('a'+i%26)))); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestCachedReadsFollowWrites(t *testing.T) {
	s, _ := openTemp(t)
	c, _ := s.UpsertConnection(ctx, user("zu1"), tok("1"))
	for i := 0; i < 3; i++ { // warm the cache
		got, _ := s.Connection(ctx, c.ID)
		got.Token.AccessToken = "mutated by a caller"
	}
	if got, _ := s.Connection(ctx, c.ID); got.Token != tok("1") {
		t.Fatalf("a caller's change leaked into the cache: %+v", got.Token)
	}
	s.SaveToken(ctx, c.ID, tok("2"))
	if got, _ := s.Connection(ctx, c.ID); got.Token != tok("2") {
		t.Fatalf("stale after SaveToken: %+v", got.Token)
	}
	s.MarkDisconnected(ctx, c.ID, "gone")
	if got, _ := s.Connection(ctx, c.ID); got.Connected() {
		t.Fatal("stale after MarkDisconnected")
	}
	s.DeleteConnection(ctx, c.ID)
	if _, err := s.Connection(ctx, c.ID); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("after delete: %v", err)
	}
	// A bounded cache keeps working past its size.
	small, err := Open(filepath.Join(t.TempDir(), "small.db"), Options{CacheSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	var ids []string
	for _, u := range []string{"a", "b", "c", "d"} {
		c, _ := small.UpsertConnection(ctx, user(u), tok(u))
		ids = append(ids, c.ID)
	}
	for round := 0; round < 2; round++ {
		for i, id := range ids {
			if got, err := small.Connection(ctx, id); err != nil || got.Token != tok(string("abcd"[i])) {
				t.Fatalf("small cache read %d: %v", i, err)
			}
		}
	}
	if n := len(small.cache.m); n > 2 {
		t.Fatalf("cache holds %d entries, bound 2", n)
	}
}
