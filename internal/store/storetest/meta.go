package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
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
// store's clock; only its owner gives it back; taking over a lease that
// ran out without being given back says so (Abandoned), taking a free or
// given-back one, or renewing one's own, does not.
func testRefreshLease(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	const held, busy, abandoned = 1, 0, 2
	lock := func(id, owner string, want int) {
		t.Helper()
		l, err := st.LockRefresh(ctx, id, owner, 30*time.Second)
		w := onbehalf.RefreshLease{Held: want != busy, Abandoned: want == abandoned}
		if err != nil || l != w {
			t.Fatalf("LockRefresh(%s, %s) = %+v %v, want %+v", id, owner, l, err, w)
		}
	}
	unlock := func(id, owner string) {
		t.Helper()
		if err := st.UnlockRefresh(ctx, id, owner); err != nil {
			t.Fatal(err)
		}
	}
	lock("c1", "o1", held)
	lock("c1", "o2", busy)
	lock("c2", "o2", held) // leases are per connection
	h.Clock.Advance(20 * time.Second)
	lock("c1", "o1", held) // the holder extends it
	h.Clock.Advance(20 * time.Second)
	lock("c1", "o2", busy) // extended: still held
	h.Clock.Advance(11 * time.Second)
	lock("c1", "o2", abandoned) // expired, never given back: taken over
	lock("c1", "o1", busy)
	unlock("c1", "o1") // not the holder: nothing happens
	lock("c1", "o1", busy)
	unlock("c1", "o2")
	lock("c1", "o1", held) // given back: no takeover
	unlock("c2", "o2")
	lock("c2", "o3", held)
	h.Clock.Advance(31 * time.Second)
	lock("c2", "o3", held) // its own lease, run out: no takeover either
}
