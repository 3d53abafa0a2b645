package bots_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recallfake"
	"github.com/onbehalf/onbehalf/internal/store/postgres"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// Three instances on one PostgreSQL database get the same "the person
// left" report at once (Recall retries, and its deliveries reach any
// instance): one relay, one new bot, one bot.relayed.
func TestRelayOnceAcrossInstances(t *testing.T) {
	u, _ := pgtest.Schema(t)
	ctx := context.Background()
	key := []byte("relay-test-key-0123456789abcdef!")
	fake := recallfake.New(recallfake.Options{APIKey: "rkey"})
	t.Cleanup(fake.Close)
	p, err := recall.New(recall.Config{APIKey: "rkey", BaseURL: fake.URL(), Timeout: 5 * time.Second}, platform.Deps{HTTP: http.DefaultClient, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	signer := &tokenurl.Signer{Key: tokenurl.NewKey()}
	var stores []*postgres.Store
	var svcs []*bots.Service
	for range 3 {
		st, err := postgres.Open(ctx, u, postgres.Options{Keys: [][]byte{key}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
		svcs = append(svcs, &bots.Service{Store: st, Platforms: []onbehalf.Platform{p}, BaseURL: "https://onbehalf.example", Signer: signer})
	}
	var conns []string
	for _, zu := range []string{"zu_1", "zu_2"} {
		c, _, err := stores[0].Connect(ctx, onbehalf.Authorization{User: onbehalf.ZoomUser{ID: zu},
			Token: onbehalf.Token{AccessToken: "zat", RefreshToken: "zrt_" + zu, Expiry: time.Now().Add(time.Hour)}})
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c.ID)
	}
	b := &onbehalf.Bot{ID: "bot_pg_first", Platform: "recall", PlatformBotID: "recall-pg-first", ConnectionID: conns[0], ConnectionIDs: conns,
		MeetingID: "85012345678", MeetingURL: "https://zoom.us/j/85012345678", Kinds: []onbehalf.TokenKind{onbehalf.KindOBF},
		Relay: true, Status: onbehalf.BotInCall}
	if err := stores[0].CreateBot(ctx, b); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(svcs))
	for i, svc := range svcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{userLeft(b, "evt_pg")}, "")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	live := 0
	for _, fb := range fake.Bots() {
		if !fb.Removed {
			live++
		}
	}
	evs, err := stores[1].EventsAfter(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	relayed := 0
	for _, ev := range evs {
		if ev.Type == onbehalf.EventBotRelayed {
			relayed++
		}
	}
	old, err := stores[2].Bot(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if live != 1 || relayed != 1 || old.RelayedTo == "" {
		t.Fatalf("%d bots on the platform, %d bot.relayed, relayed_to %q; want one relay", live, relayed, old.RelayedTo)
	}
	if nb, err := stores[1].Bot(ctx, old.RelayedTo); err != nil || nb.RelayedFrom != b.ID || nb.ConnectionID != conns[1] {
		t.Fatalf("new bot %+v, %v", nb, err)
	}
}
