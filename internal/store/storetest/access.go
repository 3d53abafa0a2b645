package storetest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
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

// link is a connect link for external user u-1 with the given secret (its
// ID is derived from it, without holding it), expiring in an hour.
func link(h *Harness, secret string) onbehalf.ConnectLink {
	return onbehalf.ConnectLink{ID: fmt.Sprintf("cl_%x", sha256.Sum256([]byte(secret)))[:20], Secret: secret, ExternalUserID: "u-1", Metadata: json.RawMessage(`{"team":"blue"}`),
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
	got, err := st.ConnectLink(ctx, l.Secret)
	if err != nil || got.ID != l.ID || got.ExternalUserID != "u-1" || !sameJSON(got.Metadata, l.Metadata) ||
		got.ReturnTo != l.ReturnTo || !got.ExpiresAt.Equal(l.ExpiresAt) || !got.UsedAt.IsZero() {
		t.Fatalf("ConnectLink = %+v %v", got, err)
	}
	wantCode(t, "CreateConnectLink with an ID stored already", st.CreateConnectLink(ctx, l), onbehalf.ECONFLICT)

	now := h.Clock.Advance(time.Minute)
	used, err := st.UseConnectLink(ctx, l.Secret, now)
	if err != nil || !used.UsedAt.Equal(now) || used.ExternalUserID != "u-1" || !sameJSON(used.Metadata, l.Metadata) {
		t.Fatalf("UseConnectLink = %+v %v", used, err)
	}
	_, err = st.UseConnectLink(ctx, l.Secret, now)
	wantCode(t, "second UseConnectLink", err, onbehalf.ECONFLICT)
	if got, _ := st.ConnectLink(ctx, l.Secret); got == nil || !got.UsedAt.Equal(now) {
		t.Fatalf("used link reads %+v", got)
	}

	late := link(h, "link-two-0123456789abcdef")
	if err := st.CreateConnectLink(ctx, late); err != nil {
		t.Fatal(err)
	}
	_, err = st.UseConnectLink(ctx, late.Secret, late.ExpiresAt)
	wantCode(t, "UseConnectLink at its expiry", err, onbehalf.ECONFLICT)
	if ok, err := st.UseConnectLink(ctx, late.Secret, late.ExpiresAt.Add(-time.Second)); err != nil || ok.UsedAt.IsZero() {
		t.Fatalf("UseConnectLink a second before expiry: %+v %v", ok, err)
	}
	_, err = st.ConnectLink(ctx, "link-unknown")
	wantCode(t, "ConnectLink(unknown)", err, onbehalf.ENOTFOUND)
	_, err = st.UseConnectLink(ctx, "link-unknown", now)
	wantCode(t, "UseConnectLink(unknown)", err, onbehalf.ENOTFOUND)
}

// testConnectLinkByID: a link is named by its ID in the API (never
// handing its secret back), records the connection it made, and a revoked
// link can no longer be opened or used.
func testConnectLinkByID(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	l := link(h, "link-id-0123456789abcdef")
	must(t, st.CreateConnectLink(ctx, l))
	got, err := st.ConnectLinkByID(ctx, l.ID)
	if err != nil || got.ID != l.ID || got.Secret != "" || got.ExternalUserID != "u-1" || !sameJSON(got.Metadata, l.Metadata) ||
		!got.CreatedAt.Equal(h.Clock.Now()) || got.Status(h.Clock.Now()) != onbehalf.LinkPending {
		t.Fatalf("ConnectLinkByID = %+v %v", got, err)
	}
	if got, err := st.ConnectLink(ctx, l.Secret); err != nil || got.ID != l.ID || got.Secret != l.Secret {
		t.Fatalf("ConnectLink by secret = %+v %v", got, err)
	}
	other := link(h, "link-id-other-0123456789")
	other.ID = l.ID
	wantCode(t, "CreateConnectLink with an ID taken", st.CreateConnectLink(ctx, other), onbehalf.ECONFLICT)
	_, err = st.ConnectLinkByID(ctx, "cl_unknown")
	wantCode(t, "ConnectLinkByID(unknown)", err, onbehalf.ENOTFOUND)
	_, err = st.ConnectLinkByID(ctx, l.Secret)
	wantCode(t, "ConnectLinkByID(its secret)", err, onbehalf.ENOTFOUND)

	// Used, then the connection it made.
	now := h.Clock.Advance(time.Minute)
	if _, err := st.UseConnectLink(ctx, l.Secret, now); err != nil {
		t.Fatal(err)
	}
	must(t, st.LinkConnectLink(ctx, l.Secret, "conn-made-by-link"))
	if got, err := st.ConnectLinkByID(ctx, l.ID); err != nil || got.ConnectionID != "conn-made-by-link" ||
		!got.UsedAt.Equal(now) || got.Status(now.Add(2*time.Hour)) != onbehalf.LinkUsed {
		t.Fatalf("used link by ID = %+v %v", got, err)
	}
	wantCode(t, "LinkConnectLink(unknown)", st.LinkConnectLink(ctx, "link-unknown", "conn-x"), onbehalf.ENOTFOUND)
	wantCode(t, "LinkConnectLink without a connection", st.LinkConnectLink(ctx, l.Secret, ""), onbehalf.EINVALID)
	_, err = st.RevokeConnectLink(ctx, l.ID, now)
	wantCode(t, "RevokeConnectLink of a used link", err, onbehalf.ECONFLICT)
	if got, _ := st.ConnectLinkByID(ctx, l.ID); got == nil || !got.RevokedAt.IsZero() {
		t.Fatalf("a used link was revoked: %+v", got)
	}

	// Revoked: final, and it cannot be opened nor used.
	r := link(h, "link-revoke-0123456789abcdef")
	must(t, st.CreateConnectLink(ctx, r))
	at := h.Clock.Advance(time.Minute)
	rev, err := st.RevokeConnectLink(ctx, r.ID, at)
	if err != nil || !rev.RevokedAt.Equal(at) || rev.Status(at) != onbehalf.LinkRevoked || rev.Secret != "" {
		t.Fatalf("RevokeConnectLink = %+v %v", rev, err)
	}
	again, err := st.RevokeConnectLink(ctx, r.ID, at.Add(time.Minute))
	if err != nil || !again.RevokedAt.Equal(at) {
		t.Fatalf("second RevokeConnectLink = %+v %v (want the first revocation kept)", again, err)
	}
	_, err = st.BindConnectLink(ctx, r.Secret, []byte("browser-one-hash"), at)
	wantCode(t, "BindConnectLink of a revoked link", err, onbehalf.ECONFLICT)
	_, err = st.UseConnectLink(ctx, r.Secret, at)
	wantCode(t, "UseConnectLink of a revoked link", err, onbehalf.ECONFLICT)
	if got, err := st.ConnectLink(ctx, r.Secret); err != nil || got.Status(at) != onbehalf.LinkRevoked {
		t.Fatalf("revoked link by secret = %+v %v", got, err)
	}
	_, err = st.RevokeConnectLink(ctx, "cl_unknown", at)
	wantCode(t, "RevokeConnectLink(unknown)", err, onbehalf.ENOTFOUND)

	// Expired, then revoked: revoked wins.
	e := link(h, "link-expired-0123456789abcdef")
	must(t, st.CreateConnectLink(ctx, e))
	if got, _ := st.ConnectLinkByID(ctx, e.ID); got == nil || got.Status(e.ExpiresAt) != onbehalf.LinkExpired {
		t.Fatalf("expired link = %+v", got)
	}
	if rev, err := st.RevokeConnectLink(ctx, e.ID, e.ExpiresAt); err != nil || rev.Status(e.ExpiresAt) != onbehalf.LinkRevoked {
		t.Fatalf("RevokeConnectLink of an expired link = %+v %v", rev, err)
	}
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
	got, err := st.BindConnectLink(ctx, l.Secret, first, now)
	if err != nil || string(got.Browser) != string(first) || got.ExternalUserID != "u-1" || !sameJSON(got.Metadata, l.Metadata) {
		t.Fatalf("first BindConnectLink = %+v %v", got, err)
	}
	if got, err := st.BindConnectLink(ctx, l.Secret, first, now); err != nil || string(got.Browser) != string(first) {
		t.Fatalf("same browser again = %+v %v", got, err)
	}
	_, err = st.BindConnectLink(ctx, l.Secret, second, now)
	wantCode(t, "BindConnectLink from another browser", err, onbehalf.ECONFLICT)
	if onbehalf.ErrorMessage(err) != onbehalf.ErrorMessage(onbehalf.ErrLinkElsewhere()) {
		t.Fatalf("another browser: %v", err)
	}
	if got, _ := st.ConnectLink(ctx, l.Secret); got == nil || string(got.Browser) != string(first) {
		t.Fatalf("bound link reads %+v", got)
	}
	_, err = st.BindConnectLink(ctx, l.Secret, nil, now)
	wantCode(t, "BindConnectLink without a browser", err, onbehalf.EINVALID)
	if _, err := st.UseConnectLink(ctx, l.Secret, now); err != nil {
		t.Fatal(err)
	}
	_, err = st.BindConnectLink(ctx, l.Secret, first, now)
	wantCode(t, "BindConnectLink of a used link", err, onbehalf.ECONFLICT)
	_, err = st.BindConnectLink(ctx, "link-unknown", first, now)
	wantCode(t, "BindConnectLink(unknown)", err, onbehalf.ENOTFOUND)

	late := link(h, "link-late-0123456789abcdef")
	if err := st.CreateConnectLink(ctx, late); err != nil {
		t.Fatal(err)
	}
	_, err = st.BindConnectLink(ctx, late.Secret, first, late.ExpiresAt)
	wantCode(t, "BindConnectLink at its expiry", err, onbehalf.ECONFLICT)
}
