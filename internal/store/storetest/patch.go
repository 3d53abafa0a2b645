package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// testUpdateConnection: a patch replaces the external user ID and the
// metadata it names and leaves the rest (the grant, other fields); an
// external user ID another connection has is ECONFLICT and changes
// nothing; bad metadata is EINVALID; no event is written.
func testUpdateConnection(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	a := grant(h, "zu1", "1")
	a.ExternalUserID, a.Metadata = "ext-a", json.RawMessage(`{"plan":"free"}`)
	c1 := connect(t, st, a)
	b := grant(h, "zu2", "2")
	b.ExternalUserID = "ext-b"
	c2 := connect(t, st, b)
	seq := lastSeq(t, st)

	str := func(s string) *string { return &s }
	raw := func(s string) *json.RawMessage { r := json.RawMessage(s); return &r }
	got, err := st.UpdateConnection(ctx, c1.ID, onbehalf.ConnectionPatch{Metadata: raw(`{"plan":"pro"}`)})
	if err != nil || got.ExternalUserID != "ext-a" || !sameJSON(got.Metadata, json.RawMessage(`{"plan":"pro"}`)) {
		t.Fatalf("metadata patch: %+v %v", got, err)
	}
	got, err = st.UpdateConnection(ctx, c1.ID, onbehalf.ConnectionPatch{ExternalUserID: str("ext-c")})
	if err != nil || got.ExternalUserID != "ext-c" || !sameJSON(got.Metadata, json.RawMessage(`{"plan":"pro"}`)) {
		t.Fatalf("external user patch: %+v %v", got, err)
	}
	stored := read(t, st, c1.ID)
	if stored.ExternalUserID != "ext-c" || !sameJSON(stored.Metadata, json.RawMessage(`{"plan":"pro"}`)) ||
		stored.Token.RefreshToken != c1.Token.RefreshToken || !stored.Connected() {
		t.Fatalf("stored after patches: %+v", stored)
	}
	if list, _, err := st.ListConnections(ctx, onbehalf.ConnectionFilter{ExternalUserID: "ext-c"}); err != nil || ids(list) != c1.ID {
		t.Fatalf("listing by the new external user: %s %v", ids(list), err)
	}
	if list, _, err := st.ListConnections(ctx, onbehalf.ConnectionFilter{ExternalUserID: "ext-a"}); err != nil || len(list) != 0 {
		t.Fatalf("listing by the old external user: %s %v", ids(list), err)
	}

	_, err = st.UpdateConnection(ctx, c1.ID, onbehalf.ConnectionPatch{ExternalUserID: str("ext-b"), Metadata: raw(`{}`)})
	wantCode(t, "taken external user", err, onbehalf.ECONFLICT)
	if got := read(t, st, c1.ID); got.ExternalUserID != "ext-c" || !sameJSON(got.Metadata, json.RawMessage(`{"plan":"pro"}`)) {
		t.Fatalf("after a refused patch: %+v", got)
	}
	_, err = st.UpdateConnection(ctx, c1.ID, onbehalf.ConnectionPatch{Metadata: raw(`[1]`)})
	wantCode(t, "metadata not an object", err, onbehalf.EINVALID)
	_, err = st.UpdateConnection(ctx, "unknown", onbehalf.ConnectionPatch{Metadata: raw(`{}`)})
	wantCode(t, "unknown connection", err, onbehalf.ENOTFOUND)

	got, err = st.UpdateConnection(ctx, c2.ID, onbehalf.ConnectionPatch{ExternalUserID: str(""), Metadata: raw(`null`)})
	if err != nil || got.ExternalUserID != "" || len(got.Metadata) != 0 {
		t.Fatalf("clearing patch: %+v %v", got, err)
	}
	noEvents(t, st, seq, "patches")
}

// testAPIKeyUse: NoteAPIKeyUsed moves LastUsedAt forward only, shows in
// both reads, and skips unknown keys.
func testAPIKeyUse(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	k := onbehalf.APIKey{ID: "key_use", Name: "n", Hash: make([]byte, 32), Prefix: "obk_abcd", CreatedAt: h.Clock.Now()}
	k.Hash[0] = 7
	if err := st.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if got, err := st.APIKeyByHash(ctx, k.Hash); err != nil || !got.LastUsedAt.IsZero() {
		t.Fatalf("a new key: %+v %v, want never used", got, err)
	}
	later := h.Clock.Advance(time.Minute)
	if err := st.NoteAPIKeyUsed(ctx, k.ID, later); err != nil {
		t.Fatal(err)
	}
	if err := st.NoteAPIKeyUsed(ctx, k.ID, later.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := st.NoteAPIKeyUsed(ctx, "key_unknown", later); err != nil {
		t.Fatalf("an unknown key: %v", err)
	}
	keys, err := st.APIKeys(ctx)
	if err != nil || len(keys) != 1 || !keys[0].LastUsedAt.Equal(later) {
		t.Fatalf("APIKeys: %+v %v, want last used %v", keys, err, later)
	}
	if got, err := st.APIKeyByHash(ctx, k.Hash); err != nil || !got.LastUsedAt.Equal(later) {
		t.Fatalf("APIKeyByHash: %+v %v", got, err)
	}
}
