package api

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// keyStore is the part of the store the keyring reads, in memory.
type keyStore struct {
	Store // nil: only the key methods are used
	mu    sync.Mutex
	keys  map[string]onbehalf.APIKey
}

func (s *keyStore) APIKeyByHash(ctx context.Context, hash []byte) (*onbehalf.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if string(k.Hash) == string(hash) {
			return &k, nil
		}
	}
	return nil, onbehalf.Errorf(onbehalf.ENOTFOUND, "no key")
}

func (s *keyStore) RevokeAPIKey(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[id]; !ok {
		return onbehalf.Errorf(onbehalf.ENOTFOUND, "no key")
	}
	delete(s.keys, id)
	return nil
}

// TestRevokedKeyStops: a key revoked through this process's keyring is
// refused at the next request, cache or not; one revoked elsewhere (the
// CLI, another instance) is refused once keyCacheTTL has passed, and not a
// moment later.
func TestRevokedKeyStops(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))

	st := &keyStore{keys: map[string]onbehalf.APIKey{}}
	here, k1 := NewKey()
	elsewhere, k2 := NewKey()
	st.keys[k1.ID], st.keys[k2.ID] = k1, k2
	ring := newKeyring(nil, st, clock.Now)
	for _, key := range []string{here, elsewhere} {
		if _, err := ring.check(ctx, key); err != nil {
			t.Fatalf("valid key: %v", err)
		}
	}

	if err := ring.revoke(ctx, st, k1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ring.check(ctx, here); onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED {
		t.Fatalf("key revoked here, checked at once: %v, want EUNAUTHORIZED", err)
	}

	if err := st.RevokeAPIKey(ctx, k2.ID); err != nil { // another process
		t.Fatal(err)
	}
	clock.Advance(keyCacheTTL - time.Millisecond)
	if _, err := ring.check(ctx, elsewhere); err != nil {
		t.Fatalf("within keyCacheTTL the cached key still passes (the documented bound): %v", err)
	}
	clock.Advance(time.Millisecond)
	if _, err := ring.check(ctx, elsewhere); onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED {
		t.Fatalf("key revoked elsewhere, %v later: %v, want EUNAUTHORIZED", keyCacheTTL, err)
	}
	if keyCacheTTL > 2*time.Second {
		t.Fatalf("keyCacheTTL = %v: the documented bound is 2 s", keyCacheTTL)
	}
}
