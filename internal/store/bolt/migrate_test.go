package bolt

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	bbolt "go.etcd.io/bbolt"
)

// TestMigratesSchemaV1 opens a database as the first version wrote it:
// tokens and secrets in clear, no due index.
func TestMigratesSchemaV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := bbolt.Open(path, 0o600, nil)
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
	err = db.Update(func(tx *bbolt.Tx) error {
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

	s := mustOpen(t, path, Options{ReserveBytes: NoReserve})
	c, err := s.Connection(ctx, "AAAAAAAAAAAAAAAAAAAAAA")
	if err != nil || c.Token.RefreshToken != "zrt_v1" || c.Email != "v1@example.com" || !c.Token.Expiry.Equal(exp) {
		t.Fatalf("after migration: %+v %v", c, err)
	}
	if sec, _ := s.Secret(ctx, "obf_callback_secret", nil); sec != "v1-clear-secret-0123456789" {
		t.Fatalf("secret after migration: %q", sec)
	}
	due, _ := s.DueBefore(ctx, exp.Add(time.Second), 10)
	if len(due) != 1 || due[0].ConnID != c.ID {
		t.Fatalf("due index not built: %+v", due)
	}
	if n, _ := s.CountConnections(ctx); n[onbehalf.StateConnected] != 1 {
		t.Fatalf("counts after migration from schema 1: %v", n)
	}
	// Same Zoom user authorizing again keeps the ID.
	if again := connectUser(t, s, user("zu1"), tok("2")); again.ID != c.ID {
		t.Fatal("index lost in migration")
	}
	s.Close()
	mustOpen(t, path, Options{ReserveBytes: NoReserve}).Close()
}

// v2Conn is a connection as schema 2 stored it, with what the test checks
// after the migration.
type v2Conn struct {
	id, zoomUser, email, name, account string
	tok                                onbehalf.Token
	disconnected                       string // reason; "" when connected
	created, minted                    time.Time
}

// writeSchema2 writes a database exactly as the schema-2 code (before the
// outbox) wrote it: its writer, kept small here. Buckets connections,
// by_zoom_user, by_expiry and meta; records whose token and personal data
// are sealed as JSON bound to the connection ID; the due index keyed by
// big-endian expiry nanoseconds and ID; secrets sealed bare, bound to
// "meta:"+name; key use counts; the generated key in path.key.
func writeSchema2(t *testing.T, path string, conns []v2Conn, secrets map[string]string) {
	t.Helper()
	key, _ := seal.NewKey()
	if err := os.WriteFile(path+".key", []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ring, _ := seal.NewKeyring(key)
	type v2Token struct {
		AccessToken  string    `json:"access_token,omitempty"`
		RefreshToken string    `json:"refresh_token,omitempty"`
		Expiry       time.Time `json:"expiry,omitzero"`
		Scope        string    `json:"scope,omitempty"`
	}
	type v2Sealed struct {
		Token       v2Token `json:"token,omitzero"`
		Email       string  `json:"email,omitempty"`
		DisplayName string  `json:"display_name,omitempty"`
		AccountID   string  `json:"account_id,omitempty"`
	}
	type v2Record struct {
		ID                 string    `json:"id"`
		ZoomUserID         string    `json:"zoom_user_id"`
		State              string    `json:"state"`
		CreatedAt          time.Time `json:"created_at"`
		UpdatedAt          time.Time `json:"updated_at"`
		RefreshedAt        time.Time `json:"refreshed_at,omitzero"`
		MintedAt           time.Time `json:"minted_at,omitzero"`
		DisconnectedAt     time.Time `json:"disconnected_at,omitzero"`
		DisconnectedReason string    `json:"disconnected_reason,omitempty"`
		Sealed             string    `json:"sealed,omitempty"`
		Due                time.Time `json:"due,omitzero"`
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		var b [4]*bbolt.Bucket
		for i, name := range []string{"connections", "by_zoom_user", "by_expiry", "meta"} {
			b[i], _ = tx.CreateBucketIfNotExists([]byte(name))
		}
		records, byZoom, byExpiry, meta := b[0], b[1], b[2], b[3]
		meta.Put([]byte("schema_version"), []byte("2"))
		uses := 0
		for _, c := range conns {
			r := v2Record{ID: c.id, ZoomUserID: c.zoomUser, State: "connected", CreatedAt: c.created, UpdatedAt: c.created,
				RefreshedAt: c.created, MintedAt: c.minted}
			part := v2Sealed{Email: c.email, DisplayName: c.name, AccountID: c.account}
			if c.disconnected != "" {
				r.State, r.DisconnectedAt, r.DisconnectedReason = "disconnected", c.created, c.disconnected
			} else {
				part.Token = v2Token(c.tok)
				r.Due = c.tok.Expiry
				k := binary.BigEndian.AppendUint64(nil, uint64(r.Due.UnixNano()))
				byExpiry.Put(append(k, c.id...), nil)
			}
			plain, _ := json.Marshal(part)
			r.Sealed, _ = ring.Seal(plain, []byte(c.id))
			uses++
			buf, _ := json.Marshal(&r)
			records.Put([]byte(c.id), buf)
			byZoom.Put([]byte(c.zoomUser), []byte(c.id))
		}
		for name, v := range secrets {
			sealed, _ := ring.Seal([]byte(v), []byte("meta:"+name))
			meta.Put([]byte("secret:"+name), []byte(sealed))
			uses++
		}
		return meta.Put([]byte("keyuse:"+seal.KeyID(key)), []byte(strconv.Itoa(uses)))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigratesSchemaV2 opens a schema-2 database and checks that every
// connection, secret and index survives into schema 3.
func TestMigratesSchemaV2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	base := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	conns := []v2Conn{
		{id: "AAAAAAAAAAAAAAAAAAAAAA", zoomUser: "zu-a", email: "a@example.com", name: "Ada A", account: "acct-a",
			tok:     onbehalf.Token{AccessToken: "zat_a", RefreshToken: "zrt_a", Expiry: base.Add(50 * time.Minute), Scope: "user:read:token"},
			created: base, minted: base.Add(time.Minute)},
		{id: "BBBBBBBBBBBBBBBBBBBBBB", zoomUser: "zu-b", email: "b@example.com", name: "Bob B", account: "acct-b",
			tok: onbehalf.Token{AccessToken: "zat_b", RefreshToken: "zrt_b", Expiry: base.Add(10 * time.Minute)}, created: base.Add(time.Hour)},
		{id: "CCCCCCCCCCCCCCCCCCCCCC", zoomUser: "zu-c", email: "c@example.com", name: "Cy C", account: "acct-c",
			disconnected: "Zoom refused the refresh token.", created: base.Add(2 * time.Hour)},
	}
	secrets := map[string]string{"obf_callback_secret": "obf-secret-v2-0123456789", "session_secret": "session-secret-v2-0123456789"}
	writeSchema2(t, path, conns, secrets)

	s := mustOpen(t, path, Options{ReserveBytes: NoReserve, Now: func() time.Time { return base.Add(3 * time.Hour) }})
	for _, want := range conns {
		c, err := s.Connection(ctx, want.id)
		if err != nil {
			t.Fatalf("%s after migration: %v", want.id, err)
		}
		if c.ZoomUserID != want.zoomUser || c.Email != want.email || c.DisplayName != want.name || c.AccountID != want.account ||
			c.Token != want.tok || !c.CreatedAt.Equal(want.created) || !c.MintedAt.Equal(want.minted) ||
			c.DisconnectedReason != want.disconnected || c.Connected() != (want.disconnected == "") {
			t.Fatalf("%s after migration: %+v, want %+v", want.id, c, want)
		}
		if byZoom, err := s.ConnectionByZoomUser(ctx, want.zoomUser); err != nil || byZoom.ID != want.id {
			t.Fatalf("Zoom user index of %s: %v", want.id, err)
		}
	}
	for name, v := range secrets {
		if got, err := s.Secret(ctx, name, nil); err != nil || got != v {
			t.Fatalf("secret %s after migration: %q %v", name, got, err)
		}
	}
	due, _ := s.DueBefore(ctx, base.Add(time.Hour), 10)
	if len(due) != 2 || due[0].ConnID != conns[1].id || due[1].ConnID != conns[0].id {
		t.Fatalf("due index after migration: %+v", due)
	}
	all, _, err := s.ListConnections(ctx, onbehalf.ConnectionFilter{})
	if err != nil || len(all) != 3 || all[0].ID != conns[0].id || all[2].ID != conns[2].id {
		t.Fatalf("listing after migration: %d %v", len(all), err)
	}
	if n, _ := s.CountConnections(ctx); n[onbehalf.StateConnected] != 2 || n[onbehalf.StateDisconnected] != 1 {
		t.Fatalf("counts after migration: %v", n)
	}
	if _, err := s.SaveToken(ctx, conns[0].id, "zrt_a", onbehalf.Token{AccessToken: "zat_a2", RefreshToken: "zrt_a2", Expiry: base.Add(4 * time.Hour)}); err != nil {
		t.Fatalf("SaveToken over a migrated pair: %v", err)
	}
	c, created, err := s.Connect(ctx, onbehalf.Authorization{User: onbehalf.ZoomUser{ID: "zu-c"}, Token: tok("c2"), ExternalUserID: "ext-c"})
	if err != nil || created || c.ID != conns[2].id || !c.Connected() {
		t.Fatalf("reconnect of a migrated disconnected connection: %+v created=%v %v", c, created, err)
	}
	s.db.View(func(tx *bbolt.Tx) error {
		if v := string(tx.Bucket(bucketMeta).Get(keySchemaVersion)); v != "3" {
			t.Errorf("schema version %s after migration", v)
		}
		return nil
	})
	s.Close()
	// Opened again: nothing to migrate, everything still there.
	s = mustOpen(t, path, Options{ReserveBytes: NoReserve})
	if got, _, _ := s.ListConnections(ctx, onbehalf.ConnectionFilter{ExternalUserID: "ext-c"}); len(got) != 1 || got[0].ID != conns[2].id {
		t.Fatalf("after reopen: %v", got)
	}
}
