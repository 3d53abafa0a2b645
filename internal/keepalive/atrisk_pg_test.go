package keepalive_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	"github.com/onbehalf/onbehalf/internal/store/postgres"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// TestWatcherAtRiskOncePG: two instances on PostgreSQL, looking at once,
// report a bot whose connection is disconnected once.
func TestWatcherAtRiskOncePG(t *testing.T) {
	ctx := context.Background()
	pgtest.ServerURL(t)
	u, _ := pgtest.Schema(t)
	key, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	fake := zoomdemo.New("cid", "csecret")
	t.Cleanup(fake.Close)
	zc := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", OAuthURL: fake.URL, APIURL: fake.APIURL(), Timeout: 5 * time.Second})
	var ws []*keepalive.Watcher
	var stores []*postgres.Store
	for _, owner := range []string{"A", "B"} {
		st, err := postgres.Open(ctx, u, postgres.Options{Keys: [][]byte{key}, Logger: discard()})
		if err != nil {
			t.Fatal(err)
		}
		m := &tokens.Manager{Store: st, Zoom: zc, Owner: owner, Logger: discard()}
		t.Cleanup(func() { m.Close(); st.Close() })
		stores = append(stores, st)
		ws = append(ws, &keepalive.Watcher{Store: st, Refresher: m, Logger: discard()})
	}
	at, rt := fake.IssueGrant(zoomdemo.DefaultUserID)
	c, _, err := stores[0].Connect(ctx, onbehalf.Authorization{User: onbehalf.ZoomUser{ID: zoomdemo.DefaultUserID, Email: "d@example.com"},
		Token: onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: time.Now().Add(time.Hour), Scope: zoomdemo.Scope}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stores[0].MarkDisconnected(ctx, c.ID, rt, "Zoom refused the refresh token."); err != nil {
		t.Fatal(err)
	}
	b := &onbehalf.Bot{ID: "bot_pg", Platform: "recall", PlatformBotID: "p_pg", ConnectionID: c.ID, MeetingID: "85012345678",
		Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, JoinAt: time.Now().Add(time.Hour).UTC().Truncate(time.Second)}
	if err := stores[1].CreateBot(ctx, b); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		var wg sync.WaitGroup
		for _, w := range ws {
			wg.Go(func() {
				if _, err := w.Check(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	evs, err := stores[0].EventsAfter(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == onbehalf.EventConnectionAtRisk {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("connection.at_risk events: %d, want 1", n)
	}
	got, err := stores[0].Bot(ctx, b.ID)
	if err != nil || !got.JoinAt.Equal(b.JoinAt) {
		t.Fatalf("stored join_at %v (%v), want %s", got.JoinAt, err, b.JoinAt)
	}
}
