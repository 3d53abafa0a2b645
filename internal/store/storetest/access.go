package storetest

import (
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// apiKey is an API key record for the key text "key-"+id.
func apiKey(id, name string) onbehalf.APIKey {
	sum := sha256.Sum256([]byte("key-" + id))
	return onbehalf.APIKey{ID: id, Name: name, Hash: sum[:], Prefix: "obk_" + id[:2]}
}

// testAPIKeys: created, listed oldest first, found by hash, revoked.
func testAPIKeys(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	k1, k2 := apiKey("k1id", "backend"), apiKey("k2id", "scheduler")
	t0 := h.Clock.Now()
	if err := st.CreateAPIKey(ctx, k1); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(time.Second)
	if err := st.CreateAPIKey(ctx, k2); err != nil {
		t.Fatal(err)
	}
	keys, err := st.APIKeys(ctx)
	if err != nil || len(keys) != 2 || keys[0].ID != "k1id" || keys[1].ID != "k2id" || keys[0].Name != "backend" ||
		keys[0].Prefix != k1.Prefix || !keys[0].CreatedAt.Equal(t0) {
		t.Fatalf("APIKeys = %+v %v", keys, err)
	}
	got, err := st.APIKeyByHash(ctx, k2.Hash)
	if err != nil || got.ID != "k2id" || string(got.Hash) != string(k2.Hash) {
		t.Fatalf("APIKeyByHash = %+v %v", got, err)
	}
	other := sha256.Sum256([]byte("not a key"))
	_, err = st.APIKeyByHash(ctx, other[:])
	wantCode(t, "APIKeyByHash(unknown)", err, onbehalf.ENOTFOUND)
	dup := apiKey("k3id", "dup")
	dup.Hash = k1.Hash
	wantCode(t, "CreateAPIKey with a hash stored already", st.CreateAPIKey(ctx, dup), onbehalf.ECONFLICT)

	if err := st.RevokeAPIKey(ctx, "k1id"); err != nil {
		t.Fatal(err)
	}
	_, err = st.APIKeyByHash(ctx, k1.Hash)
	wantCode(t, "APIKeyByHash after revoke", err, onbehalf.ENOTFOUND)
	if keys, _ := st.APIKeys(ctx); len(keys) != 1 || keys[0].ID != "k2id" {
		t.Fatalf("after revoke: %+v", keys)
	}
	wantCode(t, "second RevokeAPIKey", st.RevokeAPIKey(ctx, "k1id"), onbehalf.ENOTFOUND)
}

// link is a connect link for external user u-1, expiring in an hour.
func link(h *Harness, id string) onbehalf.ConnectLink {
	return onbehalf.ConnectLink{ID: id, ExternalUserID: "u-1", Metadata: json.RawMessage(`{"team":"blue"}`),
		ReturnTo: "https://app.example.com/zoom-done", ExpiresAt: h.Clock.Now().Add(time.Hour)}
}

// testConnectLinks: a link is kept as given and works once, within its
// lifetime.
func testConnectLinks(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	l := link(h, "link-one-0123456789abcdef")
	if err := st.CreateConnectLink(ctx, l); err != nil {
		t.Fatal(err)
	}
	got, err := st.ConnectLink(ctx, l.ID)
	if err != nil || got.ID != l.ID || got.ExternalUserID != "u-1" || !sameJSON(got.Metadata, l.Metadata) ||
		got.ReturnTo != l.ReturnTo || !got.ExpiresAt.Equal(l.ExpiresAt) || !got.UsedAt.IsZero() {
		t.Fatalf("ConnectLink = %+v %v", got, err)
	}
	wantCode(t, "CreateConnectLink with an ID stored already", st.CreateConnectLink(ctx, l), onbehalf.ECONFLICT)

	now := h.Clock.Advance(time.Minute)
	used, err := st.UseConnectLink(ctx, l.ID, now)
	if err != nil || !used.UsedAt.Equal(now) || used.ExternalUserID != "u-1" || !sameJSON(used.Metadata, l.Metadata) {
		t.Fatalf("UseConnectLink = %+v %v", used, err)
	}
	_, err = st.UseConnectLink(ctx, l.ID, now)
	wantCode(t, "second UseConnectLink", err, onbehalf.ECONFLICT)
	if got, _ := st.ConnectLink(ctx, l.ID); got == nil || !got.UsedAt.Equal(now) {
		t.Fatalf("used link reads %+v", got)
	}

	late := link(h, "link-two-0123456789abcdef")
	if err := st.CreateConnectLink(ctx, late); err != nil {
		t.Fatal(err)
	}
	_, err = st.UseConnectLink(ctx, late.ID, late.ExpiresAt)
	wantCode(t, "UseConnectLink at its expiry", err, onbehalf.ECONFLICT)
	if ok, err := st.UseConnectLink(ctx, late.ID, late.ExpiresAt.Add(-time.Second)); err != nil || ok.UsedAt.IsZero() {
		t.Fatalf("UseConnectLink a second before expiry: %+v %v", ok, err)
	}
	_, err = st.ConnectLink(ctx, "link-unknown")
	wantCode(t, "ConnectLink(unknown)", err, onbehalf.ENOTFOUND)
	_, err = st.UseConnectLink(ctx, "link-unknown", now)
	wantCode(t, "UseConnectLink(unknown)", err, onbehalf.ENOTFOUND)
}

// testBindConnectLink: a link is bound to the first browser that opens
// it; another browser is refused, the first one keeps passing.
func testBindConnectLink(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	l := link(h, "link-bind-0123456789abcdef")
	if err := st.CreateConnectLink(ctx, l); err != nil {
		t.Fatal(err)
	}
	first, second := []byte("browser-one-hash"), []byte("browser-two-hash")
	now := h.Clock.Now()
	got, err := st.BindConnectLink(ctx, l.ID, first, now)
	if err != nil || string(got.Browser) != string(first) || got.ExternalUserID != "u-1" || !sameJSON(got.Metadata, l.Metadata) {
		t.Fatalf("first BindConnectLink = %+v %v", got, err)
	}
	if got, err := st.BindConnectLink(ctx, l.ID, first, now); err != nil || string(got.Browser) != string(first) {
		t.Fatalf("same browser again = %+v %v", got, err)
	}
	_, err = st.BindConnectLink(ctx, l.ID, second, now)
	wantCode(t, "BindConnectLink from another browser", err, onbehalf.ECONFLICT)
	if onbehalf.ErrorMessage(err) != onbehalf.ErrorMessage(onbehalf.ErrLinkElsewhere()) {
		t.Fatalf("another browser: %v", err)
	}
	if got, _ := st.ConnectLink(ctx, l.ID); got == nil || string(got.Browser) != string(first) {
		t.Fatalf("bound link reads %+v", got)
	}
	_, err = st.BindConnectLink(ctx, l.ID, nil, now)
	wantCode(t, "BindConnectLink without a browser", err, onbehalf.EINVALID)
	if _, err := st.UseConnectLink(ctx, l.ID, now); err != nil {
		t.Fatal(err)
	}
	_, err = st.BindConnectLink(ctx, l.ID, first, now)
	wantCode(t, "BindConnectLink of a used link", err, onbehalf.ECONFLICT)
	_, err = st.BindConnectLink(ctx, "link-unknown", first, now)
	wantCode(t, "BindConnectLink(unknown)", err, onbehalf.ENOTFOUND)

	late := link(h, "link-late-0123456789abcdef")
	if err := st.CreateConnectLink(ctx, late); err != nil {
		t.Fatal(err)
	}
	_, err = st.BindConnectLink(ctx, late.ID, first, late.ExpiresAt)
	wantCode(t, "BindConnectLink at its expiry", err, onbehalf.ECONFLICT)
}
