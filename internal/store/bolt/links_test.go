package bolt

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// TestLegacyLinkKeepsWorking: a link stored before links had IDs (by the
// hash of its secret only, as earlier versions wrote it) still opens and
// is used by its secret, and is named by store.LegacyLinkID of its key in
// the API, the ID PostgreSQL's migration gives such links.
func TestLegacyLinkKeepsWorking(t *testing.T) {
	clk := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := mustOpen(t, filepath.Join(t.TempDir(), "l.db"), Options{Now: func() time.Time { return clk }, ReserveBytes: NoReserve})
	const secret = "legacy-secret-0123456789abcdef"
	key := store.LinkKey(secret)
	// As the earlier versions wrote it: no ID, no creation time.
	old, _ := json.Marshal(map[string]any{"external_user_id": "u-legacy", "return_to": "https://app.example.com/done",
		"expires_at": clk.Add(time.Hour)})
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketLinksByExpiry).Put(timeKey(clk.Add(time.Hour), key), nil); err != nil {
			return err
		}
		return tx.Bucket(bucketLinks).Put([]byte(key), old)
	}); err != nil {
		t.Fatal(err)
	}
	id := store.LegacyLinkID(key)
	got, err := s.ConnectLink(ctx, secret)
	if err != nil || got.ID != id || got.ExternalUserID != "u-legacy" || got.Status(clk) != onbehalf.LinkPending {
		t.Fatalf("legacy link by secret = %+v %v", got, err)
	}
	if got, err := s.ConnectLinkByID(ctx, id); err != nil || got.ID != id || got.Secret != "" {
		t.Fatalf("legacy link by ID = %+v %v", got, err)
	}
	if err := s.CreateConnectLink(ctx, onbehalf.ConnectLink{ID: id, Secret: "another", ExpiresAt: clk.Add(time.Hour)}); onbehalf.ErrorCode(err) != onbehalf.ECONFLICT {
		t.Fatalf("a new link with the legacy link's ID: %v, want ECONFLICT", err)
	}
	if _, err := s.BindConnectLink(ctx, secret, []byte("browser-hash"), clk); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseConnectLink(ctx, secret, clk); err != nil {
		t.Fatal(err)
	}
	if err := s.LinkConnectLink(ctx, secret, "conn-1"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ConnectLinkByID(ctx, id); err != nil || got.Status(clk) != onbehalf.LinkUsed || got.ConnectionID != "conn-1" {
		t.Fatalf("used legacy link = %+v %v", got, err)
	}
	// A legacy-shaped ID that names no link, or a link that has an ID.
	if _, err := s.ConnectLinkByID(ctx, "cl_"+key[1:33]); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("unknown legacy-shaped ID: %v", err)
	}
	if err := s.CreateConnectLink(ctx, onbehalf.ConnectLink{ID: "cl_new", Secret: "new-secret", ExpiresAt: clk.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConnectLinkByID(ctx, store.LegacyLinkID(store.LinkKey("new-secret"))); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("a new link by its key's legacy ID: %v, want ENOTFOUND", err)
	}
}
