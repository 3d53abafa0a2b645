package storetest

import (
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// testDeauthorizationBeforeGrant: a deauthorization older than the
// connection's current grant (a late or replayed app_deauthorized) keeps
// it, same ID, no event; one at or after the grant deletes it. Every
// Connect records its grant's time.
func testDeauthorizationBeforeGrant(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	first := connect(t, st, grant(h, "zu1", "1"))
	if !first.GrantedAt.Equal(h.Clock.Now()) {
		t.Fatalf("GrantedAt = %v, want the Connect's time %v", first.GrantedAt, h.Clock.Now())
	}
	deauth := h.Clock.Advance(time.Minute)
	h.Clock.Advance(time.Second)
	again := connect(t, st, grant(h, "zu1", "2"))
	h.Clock.Advance(time.Minute)
	if again.ID != first.ID || !again.GrantedAt.After(deauth) {
		t.Fatalf("reconnect: %+v, want the same ID granted after %v", again, deauth)
	}
	if got, _ := st.ConnectionByZoomUser(ctx, "zu1"); got == nil || !got.GrantedAt.Equal(again.GrantedAt) {
		t.Fatalf("stored GrantedAt: %+v, want %v", got, again.GrantedAt)
	}

	seq := lastSeq(t, st)
	_, err := st.DeleteByZoomUser(ctx, "zu1", deauth)
	wantCode(t, "deauthorization before the grant", err, onbehalf.ECONFLICT)
	noEvents(t, st, seq, "a deauthorization before the grant")
	if got, err := st.Connection(ctx, first.ID); err != nil || !got.Connected() || got.Token.RefreshToken != "zrt_2" {
		t.Fatalf("after an old deauthorization: %+v %v, want the connection kept", got, err)
	}

	old, err := st.DeleteByZoomUser(ctx, "zu1", h.Clock.Now())
	if err != nil || old.ID != first.ID {
		t.Fatalf("deauthorization after the grant: %+v %v", old, err)
	}
	onlyEvent(t, st, seq, onbehalf.EventConnectionDeleted)
}

// testReplayClaims: a key is claimed once until it expires, on any
// store of the install; a released key can be claimed again; expired keys
// are claimed anew (and pruned).
func testReplayClaims(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	claim := func(key string, ttl time.Duration, want bool) {
		t.Helper()
		got, err := st.ClaimDelivery(ctx, key, h.Clock.Now().Add(ttl))
		if err != nil || got != want {
			t.Fatalf("ClaimDelivery(%q) = %v %v, want %v", key, got, err, want)
		}
	}
	claim("k1", 10*time.Minute, true)
	claim("k1", 10*time.Minute, false)
	claim("k2", time.Minute, true)
	h.Clock.Advance(5 * time.Minute)
	claim("k1", 10*time.Minute, false)
	claim("k2", 10*time.Minute, true) // expired: new again
	if err := st.ReleaseDelivery(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	claim("k2", 10*time.Minute, true)
	if err := st.ReleaseDelivery(ctx, "unknown"); err != nil {
		t.Fatalf("ReleaseDelivery of an unknown key: %v", err)
	}
	h.Clock.Advance(6 * time.Minute)
	claim("k1", time.Minute, true)
	if h.Reopen != nil {
		st = h.Reopen(t)
		if got, err := st.ClaimDelivery(ctx, "k1", h.Clock.Now().Add(time.Minute)); err != nil || got {
			t.Fatalf("after reopening: ClaimDelivery = %v %v, want the key remembered", got, err)
		}
	}
	for _, bad := range []string{"", string(make([]byte, 129))} {
		_, err := st.ClaimDelivery(ctx, bad, h.Clock.Now().Add(time.Minute))
		wantCode(t, "bad key", err, onbehalf.EINVALID)
	}
}
