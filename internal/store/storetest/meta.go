package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// testSecretAndMeta: a secret is generated once and kept; a failed
// generation stores nothing; settings read back; Ping works.
func testSecretAndMeta(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	calls := 0
	gen := func() (string, error) { calls++; return "generated-secret-value-0123456789", nil }
	a, err := st.Secret(ctx, "obf_callback_secret", gen)
	if err != nil || a != "generated-secret-value-0123456789" {
		t.Fatalf("Secret = %q %v", a, err)
	}
	if b, err := st.Secret(ctx, "obf_callback_secret", gen); err != nil || b != a || calls != 1 {
		t.Fatalf("second Secret = %q %v after %d generations, want the same from one", b, err, calls)
	}
	if other, _ := st.Secret(ctx, "session_secret", func() (string, error) { return "other", nil }); other != "other" {
		t.Fatalf("another secret: %q", other)
	}
	boom := errors.New("no randomness")
	if _, err := st.Secret(ctx, "failing", func() (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Fatalf("failed generation: %v", err)
	}
	if v, _ := st.Secret(ctx, "failing", func() (string, error) { return "second try", nil }); v != "second try" {
		t.Fatalf("after a failed generation: %q", v)
	}

	// Instances (or goroutines) generating one secret at once agree on it.
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = st.Secret(ctx, "raced", func() (string, error) { return fmt.Sprintf("candidate-%d", i), nil })
		}()
	}
	wg.Wait()
	for _, v := range got {
		if v == "" || v != got[0] {
			t.Fatalf("concurrent first Secret calls returned %q: want one value for all", got)
		}
	}

	if v, ok, err := st.Meta(ctx, "webhook_url_hash"); err != nil || ok || v != "" {
		t.Fatalf("unset Meta = %q %v %v", v, ok, err)
	}
	for _, v := range []string{"one", "two", ""} {
		if err := st.SetMeta(ctx, "webhook_url_hash", v); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := st.Meta(ctx, "webhook_url_hash"); err != nil || !ok || got != v {
			t.Fatalf("Meta after SetMeta(%q) = %q %v %v", v, got, ok, err)
		}
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Writable(ctx); err != nil {
		t.Fatalf("Writable on a healthy store: %v", err)
	}
}

// testRefreshLease: a lease has one owner until it expires by the
// store's clock; only its owner gives it back.
func testRefreshLease(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	lock := func(id, owner string, want bool) {
		t.Helper()
		ok, err := st.LockRefresh(ctx, id, owner, 30*time.Second)
		if err != nil || ok != want {
			t.Fatalf("LockRefresh(%s, %s) = %v %v, want %v", id, owner, ok, err, want)
		}
	}
	unlock := func(id, owner string) {
		t.Helper()
		if err := st.UnlockRefresh(ctx, id, owner); err != nil {
			t.Fatal(err)
		}
	}
	lock("c1", "o1", true)
	lock("c1", "o2", false)
	lock("c2", "o2", true) // leases are per connection
	h.Clock.Advance(20 * time.Second)
	lock("c1", "o1", true) // the holder extends it
	h.Clock.Advance(20 * time.Second)
	lock("c1", "o2", false) // extended: still held
	h.Clock.Advance(11 * time.Second)
	lock("c1", "o2", true) // expired: taken over
	lock("c1", "o1", false)
	unlock("c1", "o1") // not the holder: nothing happens
	lock("c1", "o1", false)
	unlock("c1", "o2")
	lock("c1", "o1", true)
	unlock("c2", "o2")
	lock("c2", "o3", true)
}
