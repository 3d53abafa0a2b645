package postgres

import (
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
)

// TestLegacyLinkMigrated: a link written by the schema before links had
// IDs (by the hash of its secret only) still opens and is used by its
// secret after the migration, which names it store.LegacyLinkID of its key
// (the ID the bbolt store reads such links with).
func TestLegacyLinkMigrated(t *testing.T) {
	pgtest.ServerURL(t)
	clk := storetest.NewClock()
	s := instances(t, 1, clk, Options{})[0]
	p, err := newProvider(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	const secret = "legacy-secret-0123456789abcdef"
	key := store.LinkKey(secret)
	if _, err := s.pool.Exec(ctx, `INSERT INTO connect_links (key, external_user_id, return_to, expires_at) VALUES ($1, 'u-legacy', '', $2)`,
		key, clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	id := store.LegacyLinkID(key)
	got, err := s.ConnectLink(ctx, secret)
	if err != nil || got.ID != id || got.ExternalUserID != "u-legacy" || got.Status(clk.Now()) != onbehalf.LinkPending {
		t.Fatalf("legacy link by secret = %+v %v", got, err)
	}
	if _, err := s.UseConnectLink(ctx, secret, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ConnectLinkByID(ctx, id); err != nil || got.Status(clk.Now()) != onbehalf.LinkUsed {
		t.Fatalf("legacy link by ID = %+v %v", got, err)
	}
}
